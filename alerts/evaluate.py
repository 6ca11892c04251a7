"""Deciding which alerts are due. Everything is read in bulk (one aggregate per budget period),
so a cycle over thousands of communities costs a handful of queries, not thousands."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from alerts.messages import billing_message, budget_message, currency_message, digest_message, spike_message
from hubbot.costs.periods import Period, local_day, period_of
from hubbot.costs.spend import RUN_RATE_DAYS, SETTLE_DAYS, SPIKE_WINDOW, due, forecast_due, run_rate_days, spikes
from hubbot.costs.summary import (
    Summary,
    allocation,
    allocation_trend,
    compose,
    effective_budget,
    provider_forecast,
    spend_and_forecast,
    summarize,
)
from hubbot.domain import (
    CENT,
    Alert,
    Basis,
    Budget,
    CostReading,
    DeliveryState,
    OutboxKind,
    OutboxMessage,
    PeriodSpend,
    Post,
    main_currency,
    money,
)
from hubbot.errors import HubbotError
from hubbot.fleet import Fleet
from hubbot.ports import Services
from hubbot.usage.report import gather

log = logging.getLogger("hubbot.alerts")
# A period that has just closed is evaluated for this many days more: its last days' costs
# arrive after it ends (same keys as before it closed, so nothing is sent twice).
CLOSED_GRACE_DAYS = 3
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True, slots=True)
class _Plan:
    community: str
    budget: Budget
    today: date
    period: Period
    reading: CostReading | None
    closed: bool = False  # a period that has ended, still evaluated while its last costs arrive


def destinations(fleet: Fleet, community: str) -> list[str | None]:
    """Where a community's alerts go: its channel and, if configured, the engineers' channel."""
    out: list[str | None] = [fleet.community(community).channel]
    extra = fleet.config.alerts.engineers_channel
    if extra and extra not in out:
        out.append(extra)
    return out if any(out) else [None]


def _message(key: str, community: str, alert: Alert, post: Post, at: datetime) -> OutboxMessage:
    return OutboxMessage(key=key, kind=OutboxKind.ALERT, community=community, channel=None, payload=post,
                         alert=alert, created_at=at)


def _rows(fleet: Fleet, base: OutboxMessage, *, send: bool) -> list[OutboxMessage]:
    """One outbox row per destination (each is delivered, retried and acknowledged alone)."""
    def row(channel: str | None, state: DeliveryState) -> OutboxMessage:
        # built directly: thousands of rows in a cycle where every community crosses a threshold
        return OutboxMessage(key=f"{base.key}@{channel or '-'}", kind=base.kind, community=base.community,
                             channel=channel, payload=base.payload, created_at=base.created_at, state=state,
                             alert=base.alert)

    if not send:
        return [row(None, DeliveryState.SKIPPED)]
    return [row(ch, DeliveryState.PENDING if ch else DeliveryState.SKIPPED)
            for ch in destinations(fleet, base.community)]


def budget_version(budget: Budget) -> str:
    """What makes a budget another budget for its thresholds: its amount and currency. Raising
    $1,000 to $2,000 re-arms every threshold; going back to $1,000 does not fire the same ones twice."""
    return f"{budget.amount.quantize(CENT)}{budget.currency}"


_Already = dict[tuple[str, str, str], set[int]]


def _already(keys: set[str]) -> _Already:
    """(community, basis, budget version) -> thresholds already recorded, from keys
    ``budget:<period>:<c>:<basis>:<t>:<version>@<dest>``. Keys written before budgets had a
    version (five parts) count for every version, so an upgrade never repeats an alert."""
    out: _Already = defaultdict(set)
    for key in keys:
        parts = key.split("@", 1)[0].split(":")
        if len(parts) in (5, 6):
            out[(parts[2], parts[3], parts[5] if len(parts) == 6 else "")].add(int(parts[4]))
    return out


def _recorded(already: _Already, community: str, basis: Basis, version: str) -> set[int]:
    return already.get((community, basis, version), set()) | already.get((community, basis, ""), set())


async def budget_alerts(services: Services, fleet: Fleet, *, at: datetime) -> list[OutboxMessage]:
    stored = await services.budgets.all()
    readings: dict[str, list[CostReading]] = defaultdict(list)
    for community, found in await services.ledger.readings(communities=None):
        readings[community].append(found)
    plans: dict[tuple[Period, str, date], list[_Plan]] = defaultdict(list)
    days: dict[str, date] = {}  # per time zone: thousands of communities share a handful
    periods: dict[tuple[str, date, tuple[date, date] | None], Period] = {}
    for conf in fleet.config.communities:
        budget = effective_budget(stored.get(conf.name), conf.budget)
        if budget is None:
            continue
        today = days.get(budget.timezone) or days.setdefault(budget.timezone, local_day(at, budget.timezone))
        reading = allocation(readings[conf.name], today) if conf.name in readings else None
        if budget.period == "allocation" and reading is None:
            continue  # no allocation dates known yet
        span = (reading.start, reading.end) if reading else None
        key = (budget.period, today, span)
        period = periods.get(key) or periods.setdefault(key, period_of(budget.period, today, allocation=span))
        plans[(period, budget.currency, today)].append(_Plan(conf.name, budget, today, period, reading))
        if budget.period != "allocation" and (today - period.start).days < CLOSED_GRACE_DAYS:
            last = period.start - timedelta(days=1)
            key = (budget.period, last, None)
            closed = periods.get(key) or periods.setdefault(key, period_of(budget.period, last))
            # "today" past the period's end: no forecast, no days left, every day of it counted
            plans[(closed, budget.currency, closed.end)].append(
                _Plan(conf.name, budget, closed.end, closed, None, closed=True))
    statuses = await services.ledger.status()
    muted: dict[date, set[str]] = {}  # mutes end with a period, so they are read on the community's own date
    provider_forecasts = await services.ledger.forecasts()
    history: dict[str, list[CostReading]] = defaultdict(list)  # successive readings, for allocation budgets
    if any(p.budget.period == "allocation" for group in plans.values() for p in group):
        since = min(days.values()) - timedelta(days=RUN_RATE_DAYS)
        for community, found in await services.ledger.reading_history(communities=None, since=since):
            history[community].append(found)
    out: list[OutboxMessage] = []
    for (period, currency, today), group in plans.items():
        # one aggregate per period, whatever the number of communities
        sums = await services.ledger.period_sums(start=period.start, end=period.end, today=today, currency=currency,
                                                 recent=run_rate_days(period, today))
        already = _already(await services.outbox.keys(prefix=f"budget:{period.key}:"))
        tops: dict[str, list[tuple[str, Decimal]]] | None = None
        # nothing spent in the budget's currency: billed in another? (one read for all of them)
        unbilled = [p for p in group if p.community not in sums and not p.closed and p.budget.currency != "SU"]
        if unbilled:
            out += await _currency_mismatches(services, fleet, unbilled, period, at=at)
        for plan in group:
            ledger = sums.get(plan.community, PeriodSpend())
            trend = allocation_trend(plan.budget, history.get(plan.community, []), today)
            spend, forecast = spend_and_forecast(
                ledger, currency=currency, period=period, today=today, reading=plan.reading,
                theirs=provider_forecast(fleet, plan.community, provider_forecasts, period, today), trend=trend)
            version = budget_version(plan.budget)
            decision = due(spend, plan.budget.amount, plan.budget.thresholds,
                           _recorded(already, plan.community, Basis.ACTUAL, version))
            forecasting = (plan.budget.forecast and not plan.closed
                           and 100 not in _recorded(already, plan.community, Basis.FORECAST, version)
                           and forecast_due(forecast, plan.budget.amount, period, today))
            if decision is None and not forecasting:
                continue
            # the message's summary (and the top hubs) only for the few communities that get an alert
            if tops is None:
                tops = await services.ledger.hub_totals(start=period.start, end=period.end, currency=currency)
            summary = compose(fleet, plan.community, budget=plan.budget, period=period, today=today,
                              currency=currency, ledger=ledger, reading=plan.reading, forecasts=provider_forecasts,
                              top=tops.get(plan.community, []), statuses=statuses, trend=trend,
                              figures=(spend, forecast))
            # a closed period's alerts stay muted as they were on its last day
            day = plan.period.end - timedelta(days=1) if plan.closed else plan.today
            if day not in muted:
                muted[day] = await services.outbox.muted(on=day)
            quiet = plan.community in muted[day]
            if decision is not None:
                out += _rows(fleet, _budget_alert(plan, summary, Basis.ACTUAL, decision, at, version), send=not quiet)
            if forecasting:
                out += _rows(fleet, _budget_alert(plan, summary, Basis.FORECAST, 100, at, version), send=not quiet)
    return out


async def _currency_mismatches(services: Services, fleet: Fleet, plans: list[_Plan], period: Period, *,
                               at: datetime) -> list[OutboxMessage]:
    """Communities with nothing spent in their budget's currency whose providers bill in another
    one: said once a period (nothing else would: every figure is read in the budget's currency)."""
    flagged = await services.outbox.keys(prefix=f"currency:{period.key}:")
    billed = await services.ledger.currencies(start=period.start, end=period.end,
                                              communities=[p.community for p in plans])
    out: list[OutboxMessage] = []
    for plan in plans:
        key = f"currency:{period.key}:{plan.community}"
        other = {c: a for c, a in billed.get(plan.community, {}).items() if c != plan.budget.currency and a > 0}
        if not other or any(k.startswith(key + "@") for k in flagged):
            continue
        alert = Alert(basis=Basis.CURRENCY, period_start=period.start, period_end=period.end,
                      currency=plan.budget.currency)
        post = currency_message(fleet.community(plan.community).title, plan.community, plan.budget.currency, other)
        out += _rows(fleet, _message(key, plan.community, alert, post, at), send=True)
    return out


def _budget_alert(plan: _Plan, s: Summary, basis: Basis, threshold: int, at: datetime, version: str) -> OutboxMessage:
    post = budget_message(s, basis=basis, threshold=threshold, closed=plan.closed)
    alert = Alert(basis=basis, threshold=threshold, period_start=plan.period.start, period_end=plan.period.end,
                  spend=s.spend, budget=plan.budget.amount, forecast=s.forecast, currency=plan.budget.currency)
    key = f"budget:{plan.period.key}:{plan.community}:{basis}:{threshold}:{version}"
    return _message(key, plan.community, alert, post, at)


async def spike_alerts(services: Services, fleet: Fleet, *, at: datetime) -> list[OutboxMessage]:
    """Spikes per hub on the last :data:`SETTLE_DAYS` UTC days. Providers report a day late and
    revise it (Cost Explorer marks every day of the open month ``Estimated``), so a day is
    scanned again whenever new figures have been fetched, until it is complete; the first cycle
    that sees it complete records that it did, and later cycles skip it. Each (day, hub) alerts
    once, whenever it is found."""
    today = at.date()
    fetched = max((s.ok_at for s in (await services.ledger.status()).values() if s.ok_at), default=None)
    out: list[OutboxMessage] = []
    for back in range(SETTLE_DAYS, 0, -1):
        day = today - timedelta(days=back)
        if await services.outbox.keys(prefix=f"spike-scan:{day.isoformat()}@"):
            continue  # complete, and scanned
        complete = back >= SETTLE_DAYS
        # an incomplete day is scanned once per fetch: nothing new, nothing to look at again
        version = f"{fetched:%Y%m%dT%H%M%S%f}" if fetched else "unfetched"
        marker = f"spike-scan:{day.isoformat()}@-" if complete else f"spike-seen:{day.isoformat()}:{version}@-"
        if not complete and await services.outbox.keys(prefix=marker):
            continue
        out += await _spikes_on(services, fleet, day, at=at)
        out.append(replace(_message(marker, "", Alert(basis=Basis.SCAN, period_start=day,
                                                      period_end=day + timedelta(days=1), currency=""),
                                    Post(text="spike scan"), at), state=DeliveryState.SKIPPED))
    return out


async def _spikes_on(services: Services, fleet: Fleet, day: date, *, at: datetime) -> list[OutboxMessage]:
    daily = await services.ledger.hub_daily(start=day - timedelta(days=SPIKE_WINDOW), end=day + timedelta(days=1),
                                            communities=None)
    conf = fleet.config.alerts
    found = spikes(daily, day=day, factor=conf.spike_factor, minimum=conf.spike_minimum)
    if not found:
        return []
    known = await services.outbox.keys(prefix=f"spike:{day.isoformat()}:")
    refs = {h.qualified: h for h in fleet.hubs}
    out: list[OutboxMessage] = []
    for spike in found:
        ref = refs.get(spike.hub)
        if ref is None or any(k.startswith(f"spike:{day.isoformat()}:{spike.hub}@") for k in known):
            continue
        community = ref.hub.community
        if community is None:  # a hub of no community has no budget or channel to measure a spike against
            continue
        # the currency the community is billed in around that day (its providers', not always USD)
        billed = await services.ledger.currencies(start=day - timedelta(days=SPIKE_WINDOW),
                                                  end=day + timedelta(days=1), communities=[community])
        currency = main_currency(billed.get(community, {}))
        alert = Alert(basis=Basis.SPIKE, period_start=day, period_end=day + timedelta(days=1), currency=currency,
                      spend=spike.amount)
        base = _message(f"spike:{day.isoformat()}:{spike.hub}", community, alert,
                        spike_message(fleet.community(community).title, spike, currency), at)
        out += _rows(fleet, base, send=True)
    return out


async def digests(services: Services, fleet: Fleet, *, at: datetime) -> list[OutboxMessage]:
    """Weekly digests, on the configured local day from the configured hour."""
    out: list[OutboxMessage] = []
    for conf in fleet.config.communities:
        if conf.digest is None:
            continue
        tz = conf.budget.timezone if conf.budget else "UTC"
        local = at.astimezone(ZoneInfo(tz))
        if WEEKDAYS[local.weekday()] != conf.digest.day or local.hour < conf.digest.hour:
            continue
        week_start = local.date() - timedelta(days=7)
        key = f"digest:{local.date().isoformat()}:{conf.name}"
        if await services.outbox.keys(prefix=key + "@"):
            continue
        s = await summarize(services, fleet, conf.name, at=at)
        week = await services.ledger.totals(start=week_start, end=local.date(), currency=s.currency,
                                            communities=[conf.name])
        line = f"*Last 7 days:* {money(week.get(conf.name, Decimal(0)), s.currency)}"
        alert = Alert(basis=Basis.DIGEST, period_start=s.period.start, period_end=s.period.end, currency=s.currency,
                      spend=s.spend, budget=s.limit, forecast=s.forecast)
        usage = await usage_lines(services, fleet, conf.name, at=at)
        base = _message(key, conf.name, alert, digest_message(s, line, usage), at)
        out += [a for a in _rows(fleet, base, send=True) if a.channel == conf.channel or a.channel is None]
    return out


async def usage_lines(services: Services, fleet: Fleet, community: str, *, at: datetime) -> list[str]:
    """The week's use of each of the community's hubs that hubbot can read, as totals (the digest
    goes to the whole channel); a hub whose figures cannot be read says so."""
    lines: list[str] = []
    for ref in fleet.hubs:
        api = services.hub_apis.get(ref.qualified)
        if ref.hub.community != community or api is None:
            continue
        try:
            r = await gather(hub=ref.qualified, api=api, metrics=services.usage.get(ref.cluster),
                             namespace=ref.hub.name, end=at, days=7)
        except HubbotError as exc:
            log.warning("usage of %s for the digest failed: %s", ref.qualified, exc)
            lines.append(f"{ref.qualified}: usage unavailable this week ({str(exc)[:120]})")
            continue
        line = f"{ref.qualified}: {r.active['7d']} of {r.users} users active"
        if r.metrics:
            line += f", {r.cpu_hours:,.0f} CPU-hours, {r.memory_gib_hours:,.0f} memory GiB-hours"
        lines.append(line)
    return lines


async def billing_alerts(services: Services, fleet: Fleet, *, at: datetime) -> list[OutboxMessage]:
    """A GCP project whose billing is detached (or moved to another account) is an alert of its
    own, once a day, to each community on that provider and the engineers."""
    out: list[OutboxMessage] = []
    day = at.date()
    for provider, check in services.billing.items():
        try:
            problem = await check.check()
        except HubbotError as exc:
            log.warning("billing check of %s failed: %s", provider, exc)
            continue
        if problem is None:
            continue
        key = f"billing:{day.isoformat()}:{provider}"
        if await services.outbox.keys(prefix=key + ":"):
            continue
        post = billing_message(provider, problem)
        alert = Alert(basis=Basis.BILLING, period_start=day, period_end=day + timedelta(days=1), currency="USD")
        for community in sorted({h.hub.community for h in fleet.hubs
                                 if h.provider == provider and h.hub.community is not None}):
            base = _message(f"{key}:{community}", community, alert, post, at)
            out += _rows(fleet, base, send=True)
    return out
