"""Cost ports: provider sources and forecasts, the ledger, budgets, and budgets mirrored to,
pushed by and checked against the providers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

from hubbot.domain import (
    Budget,
    CostBatch,
    CostReading,
    LedgerLine,
    PeriodSpend,
    ProviderStatus,
)


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

    async def put_readings(self, *, provider: str, community: str | None, readings: Sequence[CostReading]) -> None:
        """Each reading becomes the latest of its provider, source and allocation start, and the
        history's last of its UTC day (``as_of``); that key's readings, earlier ones included,
        are filed under ``community``. The provider's history of days more than
        :data:`hubbot.domain.READING_HISTORY_DAYS` before its newest reading is dropped."""
        ...

    async def record_status(self, *, provider: str, at: datetime, error: str | None, requests: int) -> None: ...

    async def status(self) -> dict[str, ProviderStatus]: ...

    async def totals(
        self, *, start: date, end: date, currency: str, communities: Sequence[str] | None
    ) -> dict[str, Decimal]:
        """Spend per community over ``start <= day < end`` in ``currency``."""
        ...

    async def currencies(
        self, *, start: date, end: date, communities: Sequence[str] | None
    ) -> dict[str, dict[str, Decimal]]:
        """Per community, its spend over ``start <= day < end`` per currency (a billing account in
        another currency than the budget's must never look like $0)."""
        ...

    async def unallocated(self, *, start: date, end: date) -> dict[str, dict[str, Decimal]]:
        """Per provider and currency, the spend filed under no community: untagged lines of a
        provider several communities share (what only engineers can account for)."""
        ...

    async def period_sums(
        self, *, start: date, end: date, recent: tuple[date, date], today: date, currency: str,
        communities: Sequence[str] | None = None,
    ) -> dict[str, PeriodSpend]:
        """Per community (all, or those named), in one pass: spend over the period; usage over
        the ``recent`` run-rate days and on ``today`` so far; recurring fees booked in today's
        month (:class:`hubbot.domain.PeriodSpend`)."""
        ...

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

    async def readings(self, *, communities: Sequence[str] | None) -> list[tuple[str, CostReading]]:
        """The latest reading per provider, source and allocation start, with its community
        (readings put for no community are left out)."""
        ...

    async def reading_history(
        self, *, communities: Sequence[str] | None, since: date
    ) -> list[tuple[str, CostReading]]:
        """Successive readings of UTC days from ``since`` on, one per provider, source, allocation
        start and day (the last put that day), with their community; oldest first (by
        ``as_of``, then source and start); readings put for no community are left out."""
        ...

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


class BudgetMirror(Protocol):
    async def mirror(self, *, community: str, amount: Decimal, currency: str, period: str,
                     thresholds: list[int]) -> str:
        """Create or update the provider's own budget for ``community`` over ``period``
        (``monthly``, ``quarterly`` or ``allocation``); return its name. Raises NotMirrored,
        having changed nothing, when the provider's budgets cannot hold this one."""
        ...


class BudgetPush(Protocol):
    """Budget notifications a provider pushes to hubbot (GCP Pub/Sub)."""

    async def read(self, authorization: str | None, body: bytes, *, now: datetime) -> CostReading | None:
        """The to-date cost the push states; None for a message that is not a budget
        notification. Raises NotAllowed for a request the provider did not sign, UpstreamError
        when that cannot be checked now (the provider retries), UserError for a body no retry
        would fix."""
        ...


class BillingCheck(Protocol):
    async def check(self) -> str | None:
        """None if the project bills to the expected account, else what is wrong."""
        ...
