"""Spend and forecast from a provider's own to-date readings (JetStream2 SUs): how one fetch's
readings add up, how fast successive readings grow, and the forecast that follows. Pure."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hubbot.costs.periods import Period
from hubbot.costs.spend import reading_trend
from hubbot.costs.summary import allocation, allocation_trend, spend_and_forecast
from hubbot.domain import Budget, CostReading, PeriodSpend

START, END = date(2025, 9, 1), date(2026, 9, 1)
YEAR = Period(START, END)
TODAY = date(2026, 1, 16)
NOON = datetime(2026, 1, 16, 12, tzinfo=UTC)


def su(source: str, amount: str, at: datetime = NOON, *, start: date = START, end: date = END,
       allocated: str | None = "1000", currency: str = "SU") -> CostReading:
    return CostReading(start=start, end=end, amount=Decimal(amount), currency=currency, as_of=at,
                       allocated=None if allocated is None else Decimal(allocated), source=source)


def days_ago(n: float) -> datetime:
    return NOON - timedelta(days=n)


def test_one_fetchs_readings_add_up_to_the_allocations_spend() -> None:
    cpu, gpu, lm = su("cpu", "100"), su("gpu", "20.5", start=date(2025, 10, 1)), su("lm", "0", allocated="10")
    total = allocation([cpu, gpu, lm], TODAY)
    assert total == CostReading(start=START, end=END, amount=Decimal("120.5"), currency="SU", as_of=NOON,
                                allocated=Decimal(2010), source="cpu + gpu + lm")
    assert allocation([cpu], TODAY) == cpu
    assert allocation([cpu, su("gpu", "5", allocated=None)], TODAY) == CostReading(
        start=START, end=END, amount=Decimal(105), currency="SU", as_of=NOON, allocated=None, source="cpu + gpu")


def test_only_the_latest_fetch_and_each_sources_latest_allocation_count() -> None:
    readings = [
        su("cpu", "100"), su("gpu", "20"),
        su("lm", "999", days_ago(3)),  # no longer listed by the latest fetch
        su("cpu", "7", start=date(2025, 12, 1)),  # a later cpu allocation overlapping the first
        su("cpu", "50", start=date(2024, 9, 1), end=START),  # last year's: today is not in it
        su("budget", "5", currency="USD"),
    ]
    total = allocation(readings, TODAY)
    assert total is not None and (total.amount, total.source) == (Decimal(27), "cpu + gpu")
    assert allocation(readings, date(2026, 9, 1)) is None


def test_the_trend_is_each_parts_growth_per_day_over_the_last_week() -> None:
    history = [
        su("cpu", "0", days_ago(9)),  # before the week: not counted
        su("cpu", "100", days_ago(6)), su("cpu", "400", days_ago(3)), su("cpu", "700"),
        su("gpu", "50", days_ago(2)), su("gpu", "90"),
        su("lm", "10", days_ago(0.5)), su("lm", "30"),  # less than a day apart: left out
        su("old", "0", days_ago(5)), su("old", "500", days_ago(1)),  # not in the latest fetch
        su("budget", "0", days_ago(5), currency="USD"), su("budget", "900", currency="USD"),
        su("cpu", "0", days_ago(6), start=date(2024, 9, 1), end=START),  # last year's allocation
        su("cpu", "10", start=date(2024, 9, 1), end=START),
    ]
    assert reading_trend(history, today=TODAY, currency="SU") == Decimal(100) + Decimal(20)
    assert reading_trend(history, today=TODAY, currency="USD") == Decimal(180)


def test_no_trend_without_readings_a_day_apart_and_none_downwards() -> None:
    assert reading_trend([], today=TODAY, currency="SU") is None
    assert reading_trend([su("cpu", "100")], today=TODAY, currency="SU") is None
    assert reading_trend([su("cpu", "100", days_ago(0.75)), su("cpu", "150")], today=TODAY, currency="SU") is None
    assert reading_trend([su("cpu", "100", days_ago(2)), su("cpu", "90")], today=TODAY, currency="SU") == 0


def test_an_allocation_budget_forecasts_from_the_readings_trend() -> None:
    reading = su("cpu + gpu", "45000")
    ledger = PeriodSpend()
    spend, forecast = spend_and_forecast(ledger, currency="SU", period=YEAR, today=TODAY, reading=reading,
                                         theirs=None, trend=Decimal(500))
    assert (spend, forecast) == (Decimal(45000), Decimal(45000 + 500 * 228))  # 16 January to 1 September
    # without a trend, the ledger's run rate (nothing in SUs) leaves the spend as it is
    assert spend_and_forecast(ledger, currency="SU", period=YEAR, today=TODAY, reading=reading,
                              theirs=None) == (Decimal(45000), Decimal(45000))
    # the trend is the reading's: it does not apply when the ledger is ahead, or outside the period
    ahead = PeriodSpend(total=Decimal(50000))
    assert spend_and_forecast(ahead, currency="SU", period=YEAR, today=TODAY, reading=reading, theirs=None,
                              trend=Decimal(500)) == (Decimal(50000), Decimal(50000))
    past = Period(date(2024, 9, 1), START)
    assert spend_and_forecast(ledger, currency="SU", period=past, today=TODAY, reading=reading, theirs=None,
                              trend=Decimal(500)) == (Decimal(0), None)


def test_only_allocation_budgets_take_the_trend() -> None:
    history = [su("cpu", "100", days_ago(2)), su("cpu", "300")]
    allocated = Budget(amount=Decimal(100000), currency="SU", period="allocation", thresholds=(50,))
    monthly = Budget(amount=Decimal(100000), currency="SU", period="monthly", thresholds=(50,))
    assert allocation_trend(allocated, history, TODAY) == Decimal(100)
    assert allocation_trend(monthly, history, TODAY) is None
    assert allocation_trend(None, history, TODAY) is None
