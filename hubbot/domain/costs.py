"""Cost values: provider lines and readings, the ledger, provider status, budgets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

# What a cost line is, for forecasting: usage accrues day by day (the run rate is taken from it);
# a recurring fee is booked once a month (support, reserved-instance and Savings Plan fees, tax);
# a one-off (a credit, a refund, an upfront fee, an adjustment) happens once. All three count
# as spend; only usage is extrapolated, and recurring fees are added once per month to come.
CostKind = Literal["usage", "recurring", "one-off"]


@dataclass(frozen=True, slots=True)
class CostLine:
    """One day's cost of one hub (or of untagged, shared resources) for one service, as a
    provider reports it. ``hub_tag`` is the raw value of the provider's hub tag or label
    (``None``: untagged, shown as "shared"); ``estimated`` marks figures the provider may
    still revise (AWS ``Estimated``, today's partial day); ``kind`` says how it recurs
    (:data:`CostKind`)."""

    day: date
    hub_tag: str | None
    service: str
    amount: Decimal
    currency: str
    estimated: bool = False
    kind: CostKind = "usage"


READING_HISTORY_DAYS = 31  # how many days of successive readings the ledger keeps


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
    kind: CostKind = "usage"


@dataclass(frozen=True, slots=True)
class PeriodSpend:
    """A community's ledger figures for a budget period: spend over the whole period; usage over
    the run-rate days and on today so far (what a forecast extrapolates); and the recurring fees
    booked in today's month (what each month still to come in the period adds once)."""

    total: Decimal = Decimal(0)
    recent: Decimal = Decimal(0)
    today: Decimal = Decimal(0)
    recurring: Decimal = Decimal(0)


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


CENT = Decimal("0.01")


def main_currency(amounts: Mapping[str, Decimal], default: str = "USD") -> str:
    """The currency most of ``amounts`` (spend per currency) is in; ``default`` when there is none."""
    return max(amounts, key=lambda c: amounts[c], default=default)


def money(amount: Decimal, currency: str) -> str:
    """``$1,234.50``-style text for USD, ``1,234.50 EUR`` otherwise."""
    rounded = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    if currency == "USD":
        return f"-${-rounded:,}" if rounded < 0 else f"${rounded:,}"
    return f"{rounded:,} {currency}"
