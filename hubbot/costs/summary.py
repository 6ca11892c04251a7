"""A community's spend as people see it: budget, period, spend, forecast, top hubs and how fresh
the figures are. `/hub cost`, `/hub budget show` and every alert message build their
:class:`Summary` through :func:`compose`, so they can never disagree about spend, forecast or
freshness; they differ only in how they read the ledger (one community, or every community of a
period in one aggregate)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cached_property

from hubbot.costs.periods import Period, local_day, period_of
from hubbot.costs.spend import RUN_RATE_DAYS, percent, projected, reading_trend, run_rate_days
from hubbot.domain import Block, Budget, CostReading, PeriodSpend, ProviderStatus, money
from hubbot.fleet import BudgetConfig, Fleet
from hubbot.pipeline.contract import PREFIX
from hubbot.ports import Services
from hubbot.render import blocks as b


def configured_budget(conf: BudgetConfig) -> Budget:
    """The budget the fleet config gives a community."""
    return Budget(amount=conf.amount, currency=conf.currency, period=conf.period, thresholds=tuple(conf.thresholds),
                  forecast=conf.forecast, timezone=conf.timezone)


def effective_budget(stored: Budget | None, conf: BudgetConfig | None) -> Budget | None:
    """The budget set from chat, else the fleet config's, else None."""
    if stored is not None:
        return stored
    return configured_budget(conf) if conf is not None else None


async def budget_of(services: Services, fleet: Fleet, community: str) -> Budget | None:
    return effective_budget(await services.budgets.get(community), fleet.community(community).budget)


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
    """The provider's own to-date figure for ``today``: the readings of the latest fetch whose
    period contains today, summed — a JetStream2 project's CPU, GPU and large-memory SUs come as
    one reading each, named by resource; their sum spans the earliest start to the latest end
    and names them all. None when no reading covers today."""
    current = [r for r in readings if r.start <= today < r.end]
    if not current:
        return None
    latest = max(current, key=lambda r: r.as_of)
    parts: dict[str, CostReading] = {}  # per source, its latest allocation
    for r in current:
        same_fetch = r.as_of == latest.as_of and r.currency == latest.currency
        if same_fetch and (r.source not in parts or r.start > parts[r.source].start):
            parts[r.source] = r
    found = sorted(parts.values(), key=lambda r: r.source)
    if len(found) == 1:
        return found[0]
    allocated = [r.allocated for r in found if r.allocated is not None]
    return CostReading(start=min(r.start for r in found), end=max(r.end for r in found),
                       amount=sum((r.amount for r in found), Decimal(0)), currency=latest.currency,
                       as_of=latest.as_of, source=" + ".join(r.source for r in found),
                       allocated=sum(allocated, Decimal(0)) if len(allocated) == len(found) else None)


def allocation_trend(budget: Budget | None, history: Iterable[CostReading], today: date) -> Decimal | None:
    """For an allocation budget, whose spend comes from the provider's readings, how fast the
    readings grow (:func:`hubbot.costs.spend.reading_trend`); None for any other budget."""
    if budget is None or budget.period != "allocation":
        return None
    return reading_trend(history, today=today, currency=budget.currency)


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
    elsewhere: dict[str, Decimal] = field(default_factory=dict)  # spend in other currencies, not counted
    days: tuple[str, ...] = ()  # how each of its providers' figures are dated (:data:`DAY_RULES`)

    @cached_property
    def parts(self) -> list[tuple[str, str, str]]:
        """:func:`summary_parts`, computed once: a summary's alerts share it."""
        return summary_parts(self)

    @cached_property
    def body(self) -> str:
        """:func:`summary_lines` as one text."""
        return "\n".join(summary_lines(self))

    @cached_property
    def plain_body(self) -> str:
        """:attr:`body` without its bold labels, for a message's fallback text."""
        return "\n".join(before + bold + after for before, bold, after in self.parts)

    @cached_property
    def fresh(self) -> str:
        """:func:`freshness` of these figures, computed once: a summary's alerts share it."""
        return freshness(self.as_of, self.stale, days=self.days)

    @property
    def limit(self) -> Decimal | None:
        return self.budget.amount if self.budget else None

    @property
    def used(self) -> Decimal | None:
        return percent(self.spend, self.budget.amount) if self.budget else None

    @property
    def days_left(self) -> int:
        return max((self.period.end - self.today).days, 0)


def spend_and_forecast(
    ledger: PeriodSpend, *, currency: str, period: Period, today: date, reading: CostReading | None,
    theirs: Decimal | None, trend: Decimal | None = None,
) -> tuple[Decimal, Decimal | None]:
    """Spend so far (the ledger, or the provider's own to-date reading when that is higher) and
    the forecast for the period. When the spend is the reading and ``trend`` says how fast the
    readings grow (:func:`allocation_trend`, per day), the forecast is the spend plus that growth
    for every day left (today included: a reading covers the days before); else the providers'
    own forecast when they made one (:func:`provider_forecast`), else the ledger's run rate. No
    forecast for a period that does not contain today."""
    spend = ledger.total
    from_reading = (reading is not None and reading.currency == currency and period.contains(reading.start)
                    and reading.amount >= spend)
    if reading is not None and from_reading:
        spend = reading.amount
    if not period.contains(today):
        return spend, None
    if from_reading and trend is not None:
        return spend, spend + trend * max((period.end - today).days, 0)
    if theirs is not None:
        return spend, spend - ledger.today + theirs
    return spend, projected(spent=spend, recent=ledger.recent, period=period, today=today, today_so_far=ledger.today,
                            recurring=ledger.recurring)


def data_freshness(fleet: Fleet, community: str, statuses: dict[str, ProviderStatus]
                   ) -> tuple[datetime | None, list[str]]:
    """When the community's figures were last fetched (the oldest of its providers' last
    success), and which of its providers are stale or were never fetched."""
    providers = fleet.providers_of(community)
    mine = [statuses[p] for p in providers if p in statuses]
    as_of = min((s.ok_at for s in mine if s.ok_at), default=None)
    return as_of, sorted({s.provider for s in mine if s.stale} | {p for p in providers if p not in statuses})


def compose(
    fleet: Fleet, community: str, *, budget: Budget | None, period: Period, today: date, currency: str,
    ledger: PeriodSpend, reading: CostReading | None, forecasts: dict[str, tuple[date, date, Decimal]],
    top: list[tuple[str, Decimal]], statuses: dict[str, ProviderStatus], trend: Decimal | None = None,
    currencies: dict[str, Decimal] | None = None, figures: tuple[Decimal, Decimal | None] | None = None,
) -> Summary:
    """The one way a :class:`Summary` is made, from what was read. ``figures``: the spend and
    forecast :func:`spend_and_forecast` gave the caller for these same inputs (not computed twice)."""
    if figures is None:
        theirs = provider_forecast(fleet, community, forecasts, period, today)
        figures = spend_and_forecast(ledger, currency=currency, period=period, today=today, reading=reading,
                                     theirs=theirs, trend=trend)
    spend, forecast = figures
    as_of, stale = data_freshness(fleet, community, statuses)
    return Summary(community=community, title=fleet.community(community).title, period=period, today=today,
                   currency=currency, spend=spend, budget=budget, forecast=forecast, top=top[:3], as_of=as_of,
                   stale=stale, rate=su_rate(fleet, community, currency),
                   elsewhere={c: a for c, a in (currencies or {}).items() if c != currency and a},
                   days=day_rules(fleet, community))


# How each kind of provider dates its figures: the one rule per provider the ledger keeps to.
DAY_RULES = {
    "aws": "AWS days are UTC days",
    "gcp": "GCP days are US Pacific days, as its invoice months",
    "openstack": "JetStream2 is the allocation's use to date",
    "csv": "CSV days are as written",
}


_RULES_OF: dict[frozenset[str], tuple[str, ...]] = {}


def day_rules(fleet: Fleet, community: str) -> tuple[str, ...]:
    kinds = fleet.provider_kinds(community)
    found = _RULES_OF.get(kinds)
    if found is None:  # a handful of combinations, whatever the number of communities
        found = _RULES_OF[kinds] = tuple(rule for kind, rule in DAY_RULES.items() if kind in kinds)
    return found


def freshness(as_of: datetime | None, stale: list[str], statuses: dict[str, ProviderStatus] | None = None,
              days: tuple[str, ...] = ()) -> str:
    when = f"data as of {as_of:%Y-%m-%d %H:%M} UTC" if as_of else "no cost data fetched yet"
    if days:
        when += " (" + "; ".join(days) + ")"
    if not stale:
        return when
    why = []
    for name in stale:
        st = (statuses or {}).get(name)
        why.append(f"{name} ({st.error})" if st and st.error else name)
    return f"{when} · :warning: stale: could not refresh {', '.join(why)[:300]}"


async def summarize(services: Services, fleet: Fleet, community: str, *, at: datetime,
                    period: Period | None = None) -> Summary:
    """One community's summary for ``period`` (default: its current budget period)."""
    budget = await budget_of(services, fleet, community)
    today = local_day(at, budget.timezone if budget else "UTC")
    current = allocation([r for c, r in await services.ledger.readings(communities=[community]) if c == community],
                         today)
    kind = budget.period if budget else "monthly"
    if period is None:
        span = (current.start, current.end) if current else None
        period = period_of(kind if kind != "allocation" or span else "monthly", today, allocation=span)
    currency = budget.currency if budget else (current.currency if current else "USD")
    sums = await services.ledger.period_sums(start=period.start, end=period.end, recent=run_rate_days(period, today),
                                             today=today, currency=currency, communities=[community])
    top = await services.ledger.breakdown(community=community, start=period.start, end=period.end,
                                          currency=currency, by="hub")
    trend = None
    if budget is not None and budget.period == "allocation":
        since = today - timedelta(days=RUN_RATE_DAYS)
        history = await services.ledger.reading_history(communities=[community], since=since)
        trend = allocation_trend(budget, [r for c, r in history if c == community], today)
    return compose(fleet, community, budget=budget, period=period, today=today, currency=currency,
                   ledger=sums.get(community, PeriodSpend()), reading=current,
                   forecasts=await services.ledger.forecasts(), top=top, statuses=await services.ledger.status(),
                   trend=trend, currencies=(await services.ledger.currencies(start=period.start, end=period.end,
                                                                             communities=[community])).get(community))


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


def summary_parts(s: Summary) -> list[tuple[str, str, str]]:
    """The summary's lines as (before, bold, after): styled, the middle is bold; plain, it is not
    (both forms are built from the parts, with no pattern matching over the text)."""
    worth = f" (≈ {money(s.spend * s.rate[0], s.rate[1])})" if s.rate else ""
    lines = [("", "Spend:", f" {money(s.spend, s.currency)}{worth} in {s.period.label()}")]
    if s.budget is not None:
        lines.append(("", "Budget:", f" {money(s.budget.amount, s.currency)} ({s.budget.period}) — {s.used}% used"))
    if s.forecast is not None:
        over = ""
        if s.budget is not None and s.forecast >= s.budget.amount:
            over = f" — {percent(s.forecast, s.budget.amount)}% of budget"
        lines.append(("", "Forecast for the period:", f" {money(s.forecast, s.currency)}{over}"))
    lines.append(("", "Days left:", f" {s.days_left}"))
    for other, amount in sorted(s.elsewhere.items()):
        lines.append((":warning: ", f"Also {money(amount, other)}", f" in {other}, not counted against this "
                      f"{s.currency} budget: its providers bill in {other} (set the budget in {other})"))
    if s.top:
        lines.append(("", "Costliest hubs:", " " + ", ".join(f"{h} {money(a, s.currency)}" for h, a in s.top)))
    return lines


def summary_lines(s: Summary) -> list[str]:
    return [f"{before}*{bold}*{after}" for before, bold, after in s.parts]


def summary_text(s: Summary) -> str:
    """:func:`summary_lines` without their bold labels, for a message's fallback text."""
    return s.plain_body


def summary_blocks(s: Summary, *, headline: str, hint: str | None = None) -> list[Block]:
    more = hint or f"{PREFIX} cost {s.community}"
    return [b.header(headline), b.section(s.body),
            b.context(freshness(s.as_of, s.stale, days=s.days) + f" · more: `{more}`")]
