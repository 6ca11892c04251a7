"""Sending what the outbox holds: alerts, escalated questions, tickets. Each row is claimed with
a lease before it is sent and marked sent after; a failure leaves it pending for the next try,
and one that still fails after a day is given up and reported to the engineers' channel."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

from hubbot.domain import Alert
from hubbot.errors import HubbotError, UpstreamError
from hubbot.fleet import Fleet
from hubbot.pipeline.contract import Block, action_id
from hubbot.ports import Services
from hubbot.render import blocks as b

log = logging.getLogger("hubbot.alerts")
LEASE_SECONDS = 300
GIVE_UP_AFTER = timedelta(days=1)
BATCH = 100
WITH_BUTTONS = frozenset({"actual", "forecast", "spike"})


async def deliver(
    services: Services, fleet: Fleet, *, at: datetime, worker: str, key: str | None = None
) -> list[Alert]:
    """Send every pending row (or only the one with ``key``) that nobody else holds."""
    sent: list[Alert] = []
    while batch := await services.outbox.claim(worker=worker, at=at, lease_seconds=LEASE_SECONDS, limit=BATCH,
                                               key=key):
        for alert in batch:
            if await _send(services, fleet, alert, at=at):
                sent.append(alert)
    return sent


async def _send(services: Services, fleet: Fleet, alert: Alert, *, at: datetime) -> bool:
    assert alert.id is not None and alert.channel is not None
    blocks = json.loads(alert.blocks)
    if alert.basis in WITH_BUTTONS:
        blocks.append(alert_buttons(str(alert.id)))
    try:
        if alert.basis == "ticket":
            desk = services.tickets.get(alert.community) or services.tickets.get("")
            if desk is None:
                raise UpstreamError("no ticket desk is configured any more")
            body = json.loads(alert.text)
            await desk.open_ticket(subject=body["subject"], description=body["description"], tags=body["tags"])
        else:
            await services.notifier.post(channel=alert.channel, text=alert.text, blocks=blocks)
    except HubbotError as exc:
        give_up = at - alert.created_at >= GIVE_UP_AFTER
        log.warning("alert %s to %s not delivered%s: %s", alert.key, alert.channel,
                    " (giving up)" if give_up else "", exc)
        await services.outbox.failed(alert.id, at=at, error=str(exc), give_up=give_up)
        engineers = fleet.config.alerts.engineers_channel
        if give_up and alert.basis != "undelivered" and engineers and engineers != alert.channel:
            text, body = undelivered_message(alert.community, alert.key, str(exc))
            await services.outbox.add([Alert(
                key=f"undelivered:{alert.id}@{engineers}", community=alert.community, channel=engineers,
                basis="undelivered", period_start=alert.period_start, period_end=alert.period_end,
                currency=alert.currency, text=text, blocks=body, state="pending", created_at=at)])
        return False
    await services.outbox.delivered(alert.id, at=at)
    return True


def alert_buttons(alert_ref: str) -> Block:
    return b.actions(
        b.button("Acknowledge", action_id=action_id("alerts", "ack"), value=alert_ref),
        b.button("Mute until period end", action_id=action_id("alerts", "mute"), value=alert_ref),
    )


def undelivered_message(community: str, key: str, error: str) -> tuple[str, str]:
    head = f":warning: An alert for {community} could not be delivered for a day: {error[:300]}"
    blocks = [b.section(head), b.context(f"alert `{key}` · check the channel ID and that hubbot is in the channel")]
    return head, json.dumps(blocks)
