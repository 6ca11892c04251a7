"""A community's spend as people see it: budget, period, spend, forecast, top hubs and how fresh
the figures are. Shared by `/hub cost`, `/hub budget` and the alert messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from hubbot.costs.periods import Period, local_day, period_of
from hubbot.costs.spend import forecast, percent
from hubbot.domain import Budget, CostReading, ProviderStatus, money
from hubbot.fleet import Fleet
from hubbot.pipeline.contract import PREFIX, Block
from hubbot.ports import Services
from hubbot.render import blocks as b


async def budget_of(services: Services, fleet: Fleet, community: str) -> Budget | None:
    """The budget set from chat, else the fleet config's, else None."""
    stored = await services.budgets.get(community)
    if stored is not None:
        return stored
    conf = fleet.community(community).budget
    if conf is None:
        return None
    return Budget(amount=conf.amount, currency=conf.currency, period=conf.period, thresholds=tuple(conf.thresholds),
                  forecast=conf.forecast, timezone=conf.timezone)


def providers_of(fleet: Fleet, community: str) -> list[str]:
    return fleet.providers_of(community)


def provider_forecast(
    fleet: Fleet, community: str, forecasts: dict[str, tuple[date, date, Decimal]], period: Period, today: date
) -> Decimal | None:
    """The rest of ``period`` as the providers themselves forecast it: only when the community owns
    every provider it uses and each forecast was made today for exactly the rest of the period."""
    providers = fleet.providers_of(community)
    if not providers:
        return None
    total = Decimal(0)
    for name in providers:
        found = forecasts.get(name)
        if found is None or fleet.owner_of(name) != community or found[0] != today or found[1] != period.end:
            return None
        total += found[2]
    return total


def allocation(readings: list[CostReading], today: date) -> CostReading | None:
    current = [r for r in readings if r.start <= today < r.end]
    return max(current, key=lambda r: r.as_of) if current else None


@dataclass(frozen=True)
class Summary:
    community: str
    title: str
    period: Period
    today: date
    currency: str
    spend: Decimal
    budget: Budget | None
    forecast: Decimal | None
    top: list[tuple[str, Decimal]] = field(default_factory=list)
    as_of: datetime | None = None
    stale: list[str] = field(default_factory=list)
    rate: tuple[Decimal, str] | None = None  # money per unit, when spend is in service units

    @property
    def limit(self) -> Decimal | None:
        return self.budget.amount if self.budget else None

    @property
    def used(self) -> Decimal | None:
        return percent(self.spend, self.budget.amount) if self.budget else None

    @property
    def days_left(self) -> int:
        return max((self.period.end - self.today).days, 0)


def freshness(as_of: datetime | None, stale: list[str], statuses: dict[str, ProviderStatus] | None = None) -> str:
    when = f"data as of {as_of:%Y-%m-%d %H:%M} UTC" if as_of else "no cost data fetched yet"
    if not stale:
        return when
    why = []
    for name in stale:
        st = (statuses or {}).get(name)
        why.append(f"{name} ({st.error})" if st and st.error else name)
    return f"{when} · :warning: stale: could not refresh {', '.join(why)[:300]}"


async def summarize(services: Services, fleet: Fleet, community: str, *, at: datetime,
                    period: Period | None = None) -> Summary:
    budget = await budget_of(services, fleet, community)
    tz = budget.timezone if budget else "UTC"
    today = local_day(at, tz)
    readings = [r for c, r in await services.ledger.readings(communities=[community]) if c == community]
    current = allocation(readings, today)
    kind = budget.period if budget else "monthly"
    if period is None:
        span = (current.start, current.end) if current else None
        period = period_of(kind if kind != "allocation" or span else "monthly", today, allocation=span)
    currency = budget.currency if budget else (current.currency if current else "USD")
    daily = (await services.ledger.daily(start=period.start, end=period.end, currency=currency,
                                         communities=[community])).get(community, {})
    spend = sum(daily.values(), Decimal(0))
    if current is not None and current.currency == currency and period.contains(current.start):
        spend = max(spend, current.amount)
    in_period = today if period.contains(today) else period.end - timedelta(days=1)
    projected = forecast(daily, period, in_period) if period.contains(today) else None
    theirs = provider_forecast(fleet, community, await services.ledger.forecasts(), period, today)
    if theirs is not None and period.contains(today):
        projected = spend - daily.get(today, Decimal(0)) + theirs
    top = (await services.ledger.breakdown(community=community, start=period.start, end=period.end,
                                           currency=currency, by="hub"))[:3]
    statuses = await services.ledger.status()
    mine = [statuses[p] for p in providers_of(fleet, community) if p in statuses]
    as_of = min((s.ok_at for s in mine if s.ok_at), default=None)
    stale = [s.provider for s in mine if s.stale] + [p for p in providers_of(fleet, community) if p not in statuses]
    return Summary(community=community, title=fleet.community(community).title, period=period, today=today,
                   currency=currency, spend=spend, budget=budget, forecast=projected, top=top, as_of=as_of,
                   stale=sorted(set(stale)), rate=su_rate(fleet, community, currency))


def su_rate(fleet: Fleet, community: str, currency: str) -> tuple[Decimal, str] | None:
    """How to show service units as money: the configured rate of the community's OpenStack provider."""
    if currency != "SU":
        return None
    for name in fleet.providers_of(community):
        provider = fleet.config.providers.get(name)
        rate = getattr(provider, "su_rate", None)
        if isinstance(rate, Decimal):
            return rate, str(getattr(provider, "su_rate_currency", "USD"))
    return None


def summary_lines(s: Summary) -> list[str]:
    worth = f" (≈ {money(s.spend * s.rate[0], s.rate[1])})" if s.rate else ""
    lines = [f"*Spend:* {money(s.spend, s.currency)}{worth} in {s.period.label()}"]
    if s.budget is not None:
        lines.append(f"*Budget:* {money(s.budget.amount, s.currency)} ({s.budget.period}) — {s.used}% used")
    if s.forecast is not None:
        over = ""
        if s.budget is not None and s.forecast >= s.budget.amount:
            over = f" — {percent(s.forecast, s.budget.amount)}% of budget"
        lines.append(f"*Forecast for the period:* {money(s.forecast, s.currency)}{over}")
    lines.append(f"*Days left:* {s.days_left}")
    if s.top:
        lines.append("*Costliest hubs:* " + ", ".join(f"{h} {money(a, s.currency)}" for h, a in s.top))
    return lines


def summary_blocks(s: Summary, *, headline: str, hint: str | None = None) -> list[Block]:
    blocks = [b.header(headline), b.section("\n".join(summary_lines(s))),
              b.context(freshness(s.as_of, s.stale) + f" · more: `{hint or f'{PREFIX} cost {s.community}'}`")]
    return blocks
