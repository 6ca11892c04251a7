"""The seams the core calls out through. Each has a real adapter and an in-memory twin."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

from hubbot.domain import (
    Alert,
    AuditEntry,
    Budget,
    CostBatch,
    CostReading,
    LedgerLine,
    PendingAction,
    ProviderStatus,
    SupportQuestion,
    SupportStats,
)
from hubbot.faq import Answer


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


class AuditLog(Protocol):
    async def record(self, entry: AuditEntry) -> None:
        """Append an entry. May buffer; :meth:`query` and :meth:`flush` see everything recorded."""
        ...

    async def flush(self) -> None: ...

    async def query(
        self, *, communities: list[str] | None, hub: str | None, limit: int
    ) -> list[AuditEntry]:
        """Newest first. ``communities=None`` means all; ``[]`` matches only fleet-wide entries."""
        ...


class EventLedger(Protocol):
    async def first_time(self, key: str, *, at: datetime) -> bool:
        """Record ``key``; True the first time it is seen by any replica, False afterwards."""
        ...


class CostSource(Protocol):
    """One provider account/project. ``fetch`` returns every hub's daily cost for
    ``start <= day < end`` in as few API requests as the provider allows (never one per hub),
    and raises :class:`hubbot.errors.UpstreamError` (with ``retry_after`` when throttled) rather
    than returning partial or empty data."""

    async def fetch(self, *, start: date, end: date) -> CostBatch: ...


@runtime_checkable
class ForecastSource(Protocol):
    """A cost source that can also forecast (AWS Cost Explorer's get_cost_forecast)."""

    async def forecast(self, *, start: date, end: date) -> Decimal | None:
        """The provider's forecast of the account's cost for ``start <= day < end`` (start today or
        later), or None when it has too little history."""
        ...


class CostLedger(Protocol):
    """Daily costs per hub, to-date readings, and each provider's freshness."""

    async def replace(
        self, *, provider: str, start: date, end: date, lines: Sequence[LedgerLine], at: datetime
    ) -> None:
        """Replace ``provider``'s lines for ``start <= day < end`` in one transaction."""
        ...

    async def put_readings(self, *, provider: str, community: str | None, readings: Sequence[CostReading]) -> None: ...

    async def record_status(self, *, provider: str, at: datetime, error: str | None, requests: int) -> None: ...

    async def status(self) -> dict[str, ProviderStatus]: ...

    async def totals(
        self, *, start: date, end: date, currency: str, communities: Sequence[str] | None
    ) -> dict[str, Decimal]:
        """Spend per community over ``start <= day < end`` in ``currency``."""
        ...

    async def period_sums(
        self, *, start: date, end: date, recent: tuple[date, date], today: date, currency: str
    ) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
        """Per community, in one pass: spend over the period, over the ``recent`` run-rate
        days, and on ``today`` so far."""
        ...

    async def daily(
        self, *, start: date, end: date, currency: str, communities: Sequence[str] | None
    ) -> dict[str, dict[date, Decimal]]: ...

    async def hub_daily(
        self, *, start: date, end: date, communities: Sequence[str] | None
    ) -> dict[str, dict[date, tuple[Decimal, bool]]]:
        """Per hub and day: (amount, whether any of it is estimated)."""
        ...

    async def breakdown(
        self, *, community: str, start: date, end: date, currency: str, by: str, hub: str | None = None
    ) -> list[tuple[str, Decimal]]:
        """Spend by ``hub``, ``service`` or ``day``, largest first (by day: in date order)."""
        ...

    async def readings(self, *, communities: Sequence[str] | None) -> list[tuple[str, CostReading]]: ...

    async def put_forecast(self, *, provider: str, start: date, end: date, amount: Decimal, at: datetime) -> None:
        """Record a provider's own forecast of its remaining cost for ``start <= day < end``."""
        ...

    async def forecasts(self) -> dict[str, tuple[date, date, Decimal]]:
        """The latest forecast per provider: (start, end, amount)."""
        ...

    async def hub_totals(self, *, start: date, end: date, currency: str) -> dict[str, list[tuple[str, Decimal]]]:
        """Per community, its hubs' spend over the span, largest first."""
        ...


class Budgets(Protocol):
    async def get(self, community: str) -> Budget | None: ...

    async def set(self, community: str, budget: Budget) -> None: ...

    async def all(self) -> dict[str, Budget]: ...


class AlertOutbox(Protocol):
    async def add(self, alerts: Sequence[Alert]) -> list[Alert]:
        """Record alerts whose key is new; return those (with ids) that this call added."""
        ...

    async def keys(self, *, prefix: str) -> set[str]: ...

    async def claim(
        self, *, worker: str, at: datetime, lease_seconds: int, limit: int, key: str | None = None
    ) -> list[Alert]:
        """Take pending alerts (only the one with ``key``, if given) not claimed by anyone else within the lease."""
        ...

    async def delivered(self, alert_id: int, *, at: datetime) -> None: ...

    async def failed(self, alert_id: int, *, at: datetime, error: str, give_up: bool) -> None: ...

    async def recent(self, *, communities: Sequence[str] | None, limit: int) -> list[Alert]: ...

    async def get(self, alert_id: int) -> Alert | None: ...

    async def acknowledge(self, alert_id: int, *, by: str, at: datetime) -> bool: ...

    async def mute(self, alert_id: int, *, until: date) -> bool: ...

    async def muted(self, *, on: date) -> set[str]:
        """Communities with an alert muted past ``on``."""
        ...


class Notifier(Protocol):
    async def post(self, *, channel: str, text: str, blocks: Sequence[dict[str, object]]) -> None:
        """Post a message; raise :class:`hubbot.errors.UpstreamError` if it could not be delivered."""
        ...


class BudgetMirror(Protocol):
    async def mirror(self, *, community: str, amount: Decimal, currency: str, thresholds: list[int]) -> str:
        """Create or update the provider's own budget for ``community``; return its name."""
        ...


class BillingCheck(Protocol):
    async def check(self) -> str | None:
        """None if the project bills to the expected account, else what is wrong."""
        ...


class SupportLog(Protocol):
    async def add(self, question: SupportQuestion) -> int: ...

    async def get(self, question_id: int) -> SupportQuestion | None: ...

    async def feedback(self, question_id: int, *, helpful: bool) -> bool:
        """Record the asker's verdict; False if one was recorded already."""
        ...

    async def escalate(self, question_id: int) -> None: ...

    async def stats(self, *, communities: Sequence[str] | None, since: datetime | None) -> SupportStats: ...


class Ticketing(Protocol):
    async def open_ticket(self, *, subject: str, description: str, tags: list[str]) -> str:
        """Open a ticket; return its ID. Raise :class:`hubbot.errors.UpstreamError` if the desk is unavailable."""
        ...


class Knowledge(Protocol):
    """A searchable documentation collection (see :mod:`hubbot.faq`)."""

    def answer(self, question: str) -> Answer: ...

    def url(self, path: str, anchor: str) -> str:
        """Where a cited section is published."""
        ...

    def refresh(self) -> bool:
        """Re-read the docs if files changed; True if it did."""
        ...


class Directory(Protocol):
    async def groups_of(self, user_id: str) -> frozenset[str]:
        """The chat user-group IDs the user belongs to (for roles granted to a group)."""
        ...


class PendingActions(Protocol):
    async def create(self, action: PendingAction) -> None: ...

    async def get(self, action_id: str) -> PendingAction | None: ...

    async def decide(self, action_id: str, *, state: str, by: str, at: datetime) -> bool:
        """Move a pending action to ``state``; False if it was no longer pending (someone,
        on any replica, decided first). This is what makes a double click run nothing twice."""
        ...


@dataclass(frozen=True, slots=True)
class Services:
    """The ports a command or alert may use, bundled so handlers take one parameter."""

    audit: AuditLog
    clock: Clock
    events: EventLedger
    directory: Directory
    pending: PendingActions
    ledger: CostLedger
    budgets: Budgets
    outbox: AlertOutbox
    notifier: Notifier
    sources: Mapping[str, CostSource] = field(default_factory=dict)
    mirrors: Mapping[str, BudgetMirror] = field(default_factory=dict)
    billing: Mapping[str, BillingCheck] = field(default_factory=dict)
    support: SupportLog | None = None
    knowledge: Mapping[str, Knowledge] = field(default_factory=dict)  # by community; "" for the whole fleet
    tickets: Mapping[str, Ticketing] = field(default_factory=dict)  # by community; "" for the whole fleet
