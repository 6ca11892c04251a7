"""Sending what the outbox holds: alerts, escalated questions, tickets. Each row is claimed with
a lease before it is sent and marked sent after; a failure leaves it pending for the next try,
and one that still fails after a day is given up and reported to the engineers' channel.

Rows are claimed a few at a time, so a sender that dies holds back little until its lease ends.
A row its sender never reported on (it died between claiming and marking it) may be in the
channel already: posts carry their outbox key, and the next sender looks for it there before
posting again, so a crash delays a message but does not double it."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from hubbot.domain import Alert, Basis, Block, OutboxKind, OutboxMessage, Post, Ticket, escalated_question
from hubbot.errors import HubbotError, UpstreamError
from hubbot.fleet import Fleet
from hubbot.pipeline.contract import action_id
from hubbot.ports import Services
from hubbot.render import blocks as b

log = logging.getLogger("hubbot.alerts")
LEASE_SECONDS = 300
GIVE_UP_AFTER = timedelta(days=1)
BATCH = 5


async def deliver(
    services: Services, fleet: Fleet, *, at: datetime, worker: str, key: str | None = None,
    lease_seconds: int = LEASE_SECONDS,
) -> list[OutboxMessage]:
    """Send every pending row (or only the one with ``key``) that nobody else holds."""
    sent: list[OutboxMessage] = []
    while batch := await services.outbox.claim(worker=worker, at=at, lease_seconds=lease_seconds, limit=BATCH,
                                               key=key):
        for message in batch:
            if await _send(services, fleet, message, at=at):
                sent.append(message)
    return sent


async def _post(services: Services, message: OutboxMessage, post: Post) -> None:
    if message.channel is None:
        raise UpstreamError("it has no channel to go to")
    blocks = list(post.blocks)
    if message.alert is not None and message.alert.has_buttons:
        blocks.append(alert_buttons(str(message.id)))
    ts = await services.notifier.find(channel=message.channel, key=message.key, since=message.created_at) \
        if message.uncertain else None
    if ts is not None:
        log.warning("%s %s was posted by a sender that died before saying so; not posting it again",
                    message.kind, message.key)
    else:
        ts = await services.notifier.post(channel=message.channel, text=post.text, blocks=blocks,
                                          thread_ts=post.thread_ts, key=message.key)
    question = escalated_question(message.key) if message.kind is OutboxKind.ESCALATION else None
    if question is not None and ts and services.support is not None:
        # the support team answers in this post's thread; hubbot offers to save what they say
        await services.support.posted(question, channel=message.channel, ts=ts)


async def _open_ticket(services: Services, message: OutboxMessage, ticket: Ticket) -> None:
    desk = services.tickets.get(message.community) or services.tickets.get("")
    if desk is None:
        raise UpstreamError("no ticket desk is configured any more")
    await desk.open_ticket(subject=ticket.subject, description=ticket.description, tags=list(ticket.tags))


async def _send(services: Services, fleet: Fleet, message: OutboxMessage, *, at: datetime) -> bool:
    assert message.id is not None
    try:
        if isinstance(message.payload, Ticket):
            await _open_ticket(services, message, message.payload)
        else:
            await _post(services, message, message.payload)
    except HubbotError as exc:
        give_up = at - message.created_at >= GIVE_UP_AFTER
        log.warning("%s %s to %s not delivered%s: %s", message.kind, message.key, message.channel or "-",
                    " (giving up)" if give_up else "", exc)
        await services.outbox.failed(message.id, at=at, error=str(exc), give_up=give_up)
        services.metrics.outbox_failures.labels(message.kind.value).inc()
        engineers = fleet.config.alerts.engineers_channel
        undelivered = message.alert is not None and message.alert.basis is Basis.UNDELIVERED
        if give_up and not undelivered and engineers and engineers != message.channel:
            await services.outbox.add([undelivered_notice(message, str(exc), channel=engineers, at=at)])
        return False
    await services.outbox.delivered(message.id, at=at)
    services.metrics.alerts_delivered.labels(message.kind.value).inc()
    return True


def alert_buttons(alert_ref: str) -> Block:
    return b.actions(
        b.button("Acknowledge", action_id=action_id("alerts", "ack"), value=alert_ref),
        b.button("Mute until period end", action_id=action_id("alerts", "mute"), value=alert_ref),
    )


def undelivered_notice(message: OutboxMessage, error: str, *, channel: str, at: datetime) -> OutboxMessage:
    """Tells the engineers that ``message`` was given up on, and why."""
    head = f":warning: An alert for {message.community} could not be delivered for a day: {error[:300]}"
    context = f"alert `{message.key}` · check the channel ID and that hubbot is in the channel"
    day = message.created_at.date()
    alert = Alert(basis=Basis.UNDELIVERED, period_start=message.alert.period_start if message.alert else day,
                  period_end=message.alert.period_end if message.alert else day,
                  currency=message.alert.currency if message.alert else "")
    return OutboxMessage(key=f"undelivered:{message.id}@{channel}", kind=OutboxKind.ALERT,
                         community=message.community, channel=channel, alert=alert, created_at=at,
                         payload=Post(text=head, blocks=(b.section(head), b.context(context))))


def as_json(message: OutboxMessage) -> dict[str, object]:
    """What was sent (a line of ``hubbot alerts run --json``), and the figures of a cost alert."""
    a = message.alert

    def text(value: object) -> str | None:
        return None if value is None else str(value)

    return {"community": message.community, "channel": message.channel, "kind": message.kind.value,
            "basis": a.basis.value if a else message.kind.value, "threshold": a.threshold if a else None,
            "period": a.period_start.isoformat() if a else None, "period_end": a.period_end.isoformat() if a else None,
            "spend": text(a.spend if a else None), "budget": text(a.budget if a else None),
            "forecast": text(a.forecast if a else None), "key": message.key}
