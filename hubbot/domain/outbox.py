"""What waits in the outbox for delivery: a kind, where it goes and what it carries. How it is
laid out for Slack is decided before it is queued (:mod:`hubbot.render`); how it is stored, by
the store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

Block = dict[str, Any]  # one Block Kit block, text still plain


class OutboxKind(StrEnum):
    ALERT = "alert"  # a cost alert, digest, billing problem or undelivered notice, posted to a channel
    ESCALATION = "escalation"  # a support question handed to people, posted to the support channel
    TICKET = "ticket"  # a support question opened on a ticket desk
    ANSWER = "answer"  # a support team member's answer, posted in the asker's thread


class Basis(StrEnum):
    """What a cost alert is about."""

    ACTUAL = "actual"  # spend reached a threshold of the budget
    FORECAST = "forecast"  # the forecast reaches the budget
    SPIKE = "spike"  # one hub's day far above its recent median
    DIGEST = "digest"  # the weekly digest
    BILLING = "billing"  # a project's billing is detached or moved
    CURRENCY = "currency"  # the providers bill in another currency than the budget, so nothing counts
    UNDELIVERED = "undelivered"  # another message could not be delivered for a day
    SCAN = "scan"  # a marker: the day was scanned for spikes (never sent)
    BACKUP = "backup"  # a hub's backups went stale, failed or have no schedule — or recovered


class DeliveryState(StrEnum):
    PENDING = "pending"
    SKIPPED = "skipped"  # recorded so it never fires later, never sent (muted, no channel, a marker)
    SENT = "sent"
    FAILED = "failed"  # given up after a day of failures


@dataclass(frozen=True, slots=True)
class Post:
    """A Slack message: hubbot's plain text and its blocks (built by :mod:`hubbot.render.blocks`,
    still plain text inside; rendered to mrkdwn when sent)."""

    text: str
    blocks: tuple[Block, ...] = ()
    thread_ts: str | None = None  # a reply in this thread of the channel


@dataclass(frozen=True, slots=True)
class Ticket:
    subject: str
    description: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Alert:
    """What a cost alert is about: its basis, the budget period and the figures it reported."""

    basis: Basis
    period_start: date
    period_end: date
    currency: str
    threshold: int | None = None
    spend: Decimal | None = None
    budget: Decimal | None = None
    forecast: Decimal | None = None

    @property
    def has_buttons(self) -> bool:
        """Budget and spike alerts carry Acknowledge and Mute buttons; they can be muted."""
        return self.basis in (Basis.ACTUAL, Basis.FORECAST, Basis.SPIKE)


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One row of the outbox. ``key`` is unique, so a message is recorded at most once;
    ``channel`` is where a post goes (None: a ticket, or a record that is never sent);
    ``alert`` says what a cost alert is about (None for escalations and tickets)."""

    key: str
    kind: OutboxKind
    community: str
    channel: str | None
    payload: Post | Ticket
    created_at: datetime
    state: DeliveryState = DeliveryState.PENDING
    alert: Alert | None = None
    id: int | None = None
    sent_at: datetime | None = None
    attempts: int = 0
    last_error: str | None = None
    acked_by: str | None = None
    acked_at: datetime | None = None
    muted_until: date | None = None
    # claimed before by a sender that never said whether it sent it (it died mid-send): it may be
    # in the channel already
    uncertain: bool = False

    @property
    def headline(self) -> str:
        """The first line of what it says."""
        text = self.payload.text if isinstance(self.payload, Post) else self.payload.subject
        return text.splitlines()[0] if text else ""
