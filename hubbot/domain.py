"""Plain values shared by the core, the store and the transports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class Outcome(StrEnum):
    OK = "ok"
    USAGE = "usage"
    NOT_FOUND = "not_found"
    DENIED = "denied"
    UPSTREAM = "upstream"
    ERROR = "error"
    CONFIRMED = "confirmed"
    CHANGED = "changed"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the audit log. ``args`` is already redacted."""

    at: datetime
    user: str
    channel: str
    transport: str
    command: str
    args: str
    outcome: Outcome
    community: str | None = None
    hub: str | None = None
    detail: str = ""
    duration_ms: int = 0
    reference: str | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class PendingAction:
    """A change waiting for its requester's confirmation, or for a second engineer's approval.

    ``kind`` is ``confirm`` or ``approve``; ``state`` moves once from ``pending`` to one of
    ``confirmed``, ``approved``, ``cancelled``, ``rejected`` or ``expired``.
    """

    id: str
    command: str
    action: str
    payload: str
    summary: str
    kind: str
    requested_by: str
    channel: str
    created_at: datetime
    expires_at: datetime
    community: str | None = None
    hub: str | None = None
    state: str = "pending"
    decided_by: str | None = None
    decided_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CostLine:
    """One day's cost of one hub (or of untagged, shared resources) for one service, as a
    provider reports it. ``hub_tag`` is the raw value of the provider's hub tag or label
    (``None``: untagged, shown as "shared"); ``estimated`` marks figures the provider may
    still revise (AWS ``Estimated``, today's partial day)."""

    day: date
    hub_tag: str | None
    service: str
    amount: Decimal
    currency: str
    estimated: bool = False


@dataclass(frozen=True, slots=True)
class CostReading:
    """A to-date total the provider states directly, rather than daily lines: a JetStream2
    allocation's service units used, or a GCP budget notification's ``costAmount``.
    ``allocated`` is the provider's own budget for the period, when it has one."""

    start: date
    end: date
    amount: Decimal
    currency: str
    as_of: datetime
    allocated: Decimal | None = None
    source: str = ""


@dataclass(frozen=True, slots=True)
class CostBatch:
    """What one fetch from one provider returned, and how many API requests it took."""

    lines: list[CostLine] = field(default_factory=list)
    readings: list[CostReading] = field(default_factory=list)
    requests: int = 0


@dataclass(frozen=True, slots=True)
class LedgerLine:
    """A cost line attributed to a hub (``cluster/hub``; None: shared) and its community."""

    day: date
    provider: str
    hub: str | None
    community: str | None
    service: str
    amount: Decimal
    currency: str
    estimated: bool = False


@dataclass(frozen=True, slots=True)
class ProviderStatus:
    provider: str
    ok_at: datetime | None
    error_at: datetime | None
    error: str | None
    requests: int = 0

    @property
    def stale(self) -> bool:
        """The last attempt failed (or none succeeded yet): figures are older than they look."""
        return self.ok_at is None or (self.error_at is not None and self.error_at >= self.ok_at)


@dataclass(frozen=True, slots=True)
class Budget:
    amount: Decimal
    currency: str
    period: str
    thresholds: tuple[int, ...]
    forecast: bool = True
    timezone: str = "UTC"
    set_by: str | None = None
    set_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert in the outbox. ``basis``: actual, forecast, spike, digest, billing, undelivered."""

    key: str
    community: str
    channel: str | None
    basis: str
    period_start: date
    period_end: date
    currency: str
    text: str
    blocks: str  # Block Kit JSON
    state: str
    created_at: datetime
    threshold: int | None = None
    spend: Decimal | None = None
    budget: Decimal | None = None
    forecast: Decimal | None = None
    id: int | None = None
    sent_at: datetime | None = None
    attempts: int = 0
    last_error: str | None = None
    acked_by: str | None = None
    acked_at: datetime | None = None
    muted_until: date | None = None


@dataclass(frozen=True, slots=True)
class SupportQuestion:
    """A question hubbot answered or escalated, with what people said of the answer."""

    at: datetime
    user: str
    channel: str
    community: str | None
    question: str
    answered: bool
    confidence: float
    citation: str | None = None
    thread_ts: str | None = None
    helpful: bool | None = None
    escalated: bool = False
    id: int | None = None


@dataclass(frozen=True, slots=True)
class SupportStats:
    asked: int
    answered: int
    escalated: int
    helpful: int
    unhelpful: int
    top_escalated: list[tuple[str, int]] = field(default_factory=list)
