"""Pure decisions about spend: forecasts, threshold crossings, spikes. No I/O here."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from hubbot.costs.periods import Period
from hubbot.domain import CostReading

RUN_RATE_DAYS = 7
# A day's costs are complete this many days after it: Cost Explorer lags up to a day and revises
# (it marks every day of the open month Estimated), the GCP export lags hours.
SETTLE_DAYS = 2
FORECAST_AFTER_DAYS = 7
SPIKE_WINDOW = 14


def percent(spend: Decimal, budget: Decimal) -> Decimal:
    return (spend * 100 / budget).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) if budget > 0 else Decimal(0)


def run_rate_days(period: Period, today: date) -> tuple[date, date]:
    """The complete days the run rate is taken from: up to :data:`RUN_RATE_DAYS` before today,
    within the period (``start <= day < end``)."""
    return max(period.start, today - timedelta(days=RUN_RATE_DAYS)), today


def months_to_come(period: Period, today: date) -> int:
    """How many months start after ``today`` and before the period ends: each books its
    recurring fees once more."""
    end = period.end
    following = today.year * 12 + today.month  # the month after today's, counted from year 0
    last = end.year * 12 + end.month - 1 - (1 if end.day == 1 else 0)  # the last month starting before the end
    return max(last - following + 1, 0)


def projected(*, spent: Decimal, recent: Decimal, period: Period, today: date, today_so_far: Decimal,
              recurring: Decimal = Decimal(0)) -> Decimal | None:
    """Spend at the end of ``period``: ``spent`` so far, plus the mean daily usage of the run-rate
    days (``recent`` is their usage) for every day left — today counts as left, as it is not
    over — plus this month's ``recurring`` fees once for every month still to start in the
    period. Fees, credits and refunds are not a rate: a first-of-month lump multiplied by the
    days left would forecast runaway cost that is not coming. None before the first complete day."""
    start, end = run_rate_days(period, today)
    days = (end - start).days
    if days <= 0:
        return None
    left = max((period.end - today).days, 0)
    return (spent + max(recent / days * left - today_so_far, Decimal(0))
            + recurring * months_to_come(period, today))


def reading_trend(history: Iterable[CostReading], *, today: date, currency: str) -> Decimal | None:
    """How fast successive to-date readings in ``currency`` grow, in units per day: for each part
    of the latest fetch (each source's allocation whose period contains ``today``), the rise from
    its earliest reading of the last :data:`RUN_RATE_DAYS` days to its latest, over the time
    between them, summed. Parts whose readings are less than a day apart are left out; None when
    that leaves none. A reading that fell (a correction) counts as no growth."""
    since = today - timedelta(days=RUN_RATE_DAYS)
    first: dict[tuple[str, date], CostReading] = {}
    last: dict[tuple[str, date], CostReading] = {}
    for r in history:
        if r.currency != currency or not r.start <= today < r.end or r.as_of.date() < since:
            continue
        key = (r.source, r.start)
        if key not in first or r.as_of < first[key].as_of:
            first[key] = r
        if key not in last or r.as_of >= last[key].as_of:
            last[key] = r
    if not last:
        return None
    newest = max(r.as_of for r in last.values())
    rates = []
    for key, latest in last.items():
        days = Decimal((latest.as_of - first[key].as_of).total_seconds()) / 86400
        if latest.as_of == newest and days >= 1:
            rates.append(max(latest.amount - first[key].amount, Decimal(0)) / days)
    return sum(rates, Decimal(0)) if rates else None


def crossed(spend: Decimal, budget: Decimal, thresholds: Iterable[int]) -> list[int]:
    """Thresholds (percent of budget) that ``spend`` has reached, lowest first."""
    return [t for t in thresholds if budget > 0 and spend * 100 >= budget * t]


def due(spend: Decimal, budget: Decimal, thresholds: Iterable[int], already: set[int]) -> int | None:
    """The threshold to alert now: the highest one ``spend`` has reached above every one already
    alerted (``already``). Lower ones crossed at the same time, or later after a credit, never
    alert: a community told it reached 90 % does not want to hear about 75 % next."""
    done = max(already, default=0)
    new = [t for t in crossed(spend, budget, thresholds) if t > done]
    return new[-1] if new else None


def forecast_due(projected: Decimal | None, budget: Decimal, period: Period, today: date) -> bool:
    """A forecast alert only once the period is a week old: early run-rates are noise."""
    return (projected is not None and budget > 0 and projected >= budget
            and (today - period.start).days >= FORECAST_AFTER_DAYS)


@dataclass(frozen=True, slots=True)
class Spike:
    hub: str
    day: date
    amount: Decimal
    median: Decimal


def spikes(
    daily: Mapping[str, Mapping[date, tuple[Decimal, bool]]], *, day: date, factor: Decimal, minimum: Decimal
) -> list[Spike]:
    """Hubs whose cost on ``day`` is above ``factor`` × the median of the
    :data:`SPIKE_WINDOW` days before it (and above it by at least ``minimum``); hubs with under a
    week of history are skipped. A provider's ``estimated`` mark does not exclude a day: Cost
    Explorer puts it on every day of the open month, so the caller decides which days are
    complete by their age. A partial day can only be lower than it will be, so it never makes
    a spike that is not there."""
    found = []
    for hub, days in daily.items():
        today = days.get(day)
        if today is None:
            continue
        history = [a for d, (a, _) in days.items() if day - timedelta(days=SPIKE_WINDOW) <= d < day]
        if len(history) < RUN_RATE_DAYS:
            continue
        median = Decimal(statistics.median(history))
        if today[0] > median * factor and today[0] - median >= minimum:
            found.append(Spike(hub, day, today[0], median))
    return sorted(found, key=lambda s: s.amount - s.median, reverse=True)
