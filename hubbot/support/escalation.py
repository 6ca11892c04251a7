"""What an escalated support question becomes: a post in the support channel that links to the
conversation, and a ticket when a desk is configured. Queued in the outbox by the caller, so
nothing is lost when Slack or the desk is down."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hubbot import markup as m
from hubbot.domain import OutboxKind, OutboxMessage, Post, Ticket, escalation_key
from hubbot.pipeline.contract import PREFIX
from hubbot.render import blocks as b

QUOTE_CHARS = 1500
SUBJECT_CHARS = 80


@dataclass(frozen=True, slots=True)
class Asked:
    """A question hubbot could not answer confidently, and where it was asked."""

    qid: int
    question: str
    community: str | None
    user: str
    channel: str
    thread_ts: str | None = None


def escalation(asked: Asked, *, support_channel: str, ticket: bool, at: datetime) -> list[OutboxMessage]:
    """The support channel's post (keyed by question and channel, so it is queued once) and,
    with ``ticket``, the desk's ticket."""
    where = m.channel(asked.channel)
    if asked.thread_ts:  # a link straight to the conversation, so the team can answer in place
        permalink = f"https://slack.com/archives/{asked.channel}/p{asked.thread_ts.replace('.', '')}"
        where += f" ({m.link(permalink, 'thread')})"
    head = f":raising_hand: Question from {m.mention(asked.user)} in {where} that hubbot could not answer confidently"
    text = f"{head}:\n>{asked.question[:QUOTE_CHARS]}"
    community = asked.community or ""
    post = Post(text=text, blocks=(b.section(text), b.context(f"question #{asked.qid} · `{PREFIX} faq stats`")))
    rows = [OutboxMessage(key=escalation_key(asked.qid, support_channel), kind=OutboxKind.ESCALATION,
                          community=community, channel=support_channel, payload=post, created_at=at)]
    if ticket:
        desk = Ticket(subject=f"Support question from {asked.community or 'the fleet'}: "
                              f"{asked.question[:SUBJECT_CHARS]}",
                      description=f"{asked.question}\n\nAsked in Slack by {asked.user} in {asked.channel}.",
                      tags=("hubbot", asked.community or "fleet"))
        rows.append(OutboxMessage(key=f"ticket:{asked.qid}", kind=OutboxKind.TICKET, community=community,
                                  channel=None, payload=desk, created_at=at))
    return rows
