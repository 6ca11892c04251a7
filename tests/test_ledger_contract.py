"""Contract tests for the cost ledger: the memory twin, SQLite and PostgreSQL agree."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hubbot.adapters.memory import MemoryCostLedger
from hubbot.domain import READING_HISTORY_DAYS, CostKind, CostReading, LedgerLine, PeriodSpend, ProviderStatus
from hubbot.ports import CostLedger
from hubbot.store import Database, SqlCostLedger
from tests.conftest import new_database

T0 = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CostLedger]:
    if request.param == "memory":
        yield MemoryCostLedger()
        return
    db = Database(new_database(request.param, request, tmp_path))
    db.upgrade()
    yield SqlCostLedger(db)
    db.dispose()


def day(n: int) -> date:
    """The ``n``th of March 2026 (0: the last of February)."""
    return MARCH + timedelta(days=n - 1)


def line(n: int, amount: str, *, hub: str | None = "c1/prod", community: str | None = "alpha", service: str = "EC2",
         currency: str = "USD", estimated: bool = False, provider: str = "aws", kind: CostKind = "usage") -> LedgerLine:
    return LedgerLine(day=day(n), provider=provider, hub=hub, community=community, service=service,
                      amount=Decimal(amount), currency=currency, estimated=estimated, kind=kind)


async def put(ledger: CostLedger, *lines: LedgerLine, provider: str = "aws") -> None:
    await ledger.replace(provider=provider, start=MARCH, end=APRIL, lines=lines, at=T0)


async def by_day(ledger: CostLedger, community: str) -> dict[date, Decimal]:
    found = await ledger.breakdown(community=community, start=MARCH, end=APRIL, currency="USD", by="day")
    return {date.fromisoformat(d): amount for d, amount in found}


async def march_totals(ledger: CostLedger, currency: str = "USD") -> dict[str, Decimal]:
    return await ledger.totals(start=MARCH, end=APRIL, currency=currency, communities=None)


async def test_an_empty_ledger_answers_with_nothing(ledger: CostLedger) -> None:
    assert await march_totals(ledger) == {}
    assert await ledger.period_sums(start=MARCH, end=APRIL, recent=(day(1), day(8)), today=day(8),
                                    currency="USD") == {}
    assert await ledger.hub_daily(start=MARCH, end=APRIL, communities=None) == {}
    assert await ledger.breakdown(community="alpha", start=MARCH, end=APRIL, currency="USD", by="hub") == []
    assert await ledger.hub_totals(start=MARCH, end=APRIL, currency="USD") == {}
    assert await ledger.unallocated(start=MARCH, end=APRIL) == {}
    assert await ledger.readings(communities=None) == []
    assert await ledger.reading_history(communities=None, since=MARCH) == []
    assert await ledger.forecasts() == {}
    assert await ledger.status() == {}


async def test_replace_swaps_a_providers_lines_for_the_day_range_only(ledger: CostLedger) -> None:
    await put(ledger, *(line(n, "10") for n in range(1, 6)))
    await put(ledger, *(line(n, "1", community="beta", hub="c2/lab") for n in range(1, 6)), provider="gcp")
    await ledger.replace(provider="aws", start=day(3), end=day(5), at=T0, lines=[
        line(2, "1000"), line(3, "100"), line(4, "60"), line(4, "40", service="S3"), line(5, "1000")])
    assert await by_day(ledger, "alpha") == {
        day(1): Decimal("10"), day(2): Decimal("10"), day(3): Decimal("100"), day(4): Decimal("100"),
        day(5): Decimal("10")}
    assert await march_totals(ledger) == {"alpha": Decimal("230"), "beta": Decimal("5")}
    await ledger.replace(provider="aws", start=day(1), end=day(6), lines=[], at=T0)
    assert await march_totals(ledger) == {"beta": Decimal("5")}


async def test_replace_files_lines_under_the_provider_it_is_called_for(ledger: CostLedger) -> None:
    await put(ledger, line(1, "10", provider="someone-else"))
    assert await march_totals(ledger) == {"alpha": Decimal("10")}
    await put(ledger, provider="someone-else")
    assert await march_totals(ledger) == {"alpha": Decimal("10")}
    await put(ledger)
    assert await march_totals(ledger) == {}


async def test_amounts_keep_six_decimal_places_and_sum_exactly(ledger: CostLedger) -> None:
    await put(ledger, line(1, "0.1"), line(1, "0.2", service="S3"), line(2, "1.2345678"),
              line(3, "123456.789012", community="beta"), line(4, "123456.789012", community="beta"),
              line(5, "123456.789012", community="beta"), line(6, "-2.5", community="gamma"))
    assert await march_totals(ledger) == {"alpha": Decimal("1.534568"), "beta": Decimal("370370.367036"),
                                          "gamma": Decimal("-2.5")}
    assert await ledger.breakdown(community="alpha", start=MARCH, end=APRIL, currency="USD", by="day") == [
        ("2026-03-01", Decimal("0.3")), ("2026-03-02", Decimal("1.234568"))]


async def test_totals_filter_by_range_currency_and_communities(ledger: CostLedger) -> None:
    await ledger.replace(provider="aws", start=day(0), end=APRIL, at=T0, lines=[
        line(0, "1000"), line(1, "10"), line(1, "7", currency="EUR"), line(2, "3", community="beta"),
        line(2, "99", community=None, hub=None)])
    await ledger.replace(provider="aws", start=APRIL, end=APRIL + timedelta(days=1), lines=[
        LedgerLine(day=APRIL, provider="aws", hub="c1/prod", community="alpha", service="EC2",
                   amount=Decimal("500"), currency="USD")], at=T0)
    assert await march_totals(ledger) == {"alpha": Decimal("10"), "beta": Decimal("3")}
    assert await march_totals(ledger, "EUR") == {"alpha": Decimal("7")}
    assert await march_totals(ledger, "GBP") == {}
    assert await ledger.totals(start=MARCH, end=APRIL, currency="USD", communities=["beta", "nobody"]) == {
        "beta": Decimal("3")}
    assert await ledger.totals(start=MARCH, end=APRIL, currency="USD", communities=[]) == {}
    assert await ledger.totals(start=day(2), end=day(2), currency="USD", communities=None) == {}
    assert await ledger.totals(start=day(0), end=day(2), currency="USD", communities=None) == {
        "alpha": Decimal("1010")}
    assert await ledger.totals(start=APRIL, end=APRIL + timedelta(days=30), currency="USD", communities=None) == {
        "alpha": Decimal("500")}


async def test_currencies_sum_a_communitys_spend_per_currency(ledger: CostLedger) -> None:
    await ledger.replace(provider="aws", start=day(0), end=APRIL, at=T0, lines=[
        line(0, "10"), line(1, "2.5"), line(1, "7", currency="EUR"), line(2, "3", community="beta"),
        line(2, "99", community=None, hub=None)])
    assert await ledger.currencies(start=day(0), end=APRIL, communities=["alpha"]) == {
        "alpha": {"USD": Decimal("12.5"), "EUR": Decimal("7")}}
    assert await ledger.currencies(start=MARCH, end=day(2), communities=None) == {
        "alpha": {"USD": Decimal("2.5"), "EUR": Decimal("7")}}
    assert await ledger.currencies(start=MARCH, end=APRIL, communities=None) == {
        "alpha": {"USD": Decimal("2.5"), "EUR": Decimal("7")}, "beta": {"USD": Decimal("3")}}
    assert await ledger.currencies(start=MARCH, end=APRIL, communities=["beta", "nobody"]) == {
        "beta": {"USD": Decimal("3")}}
    assert await ledger.currencies(start=MARCH, end=APRIL, communities=[]) == {}


async def test_unallocated_is_what_no_community_is_charged_per_provider_and_currency(ledger: CostLedger) -> None:
    await put(ledger, line(1, "10"), line(1, "4", community=None, hub=None), line(2, "1.5", community=None, hub=None),
              line(2, "3", community=None, hub=None, currency="EUR"), line(0, "99", community=None, hub=None))
    await put(ledger, line(3, "7", community=None, hub=None), provider="gcp")
    assert await ledger.unallocated(start=MARCH, end=APRIL) == {
        "aws": {"USD": Decimal("5.5"), "EUR": Decimal("3")}, "gcp": {"USD": Decimal("7")}}
    assert await ledger.unallocated(start=day(3), end=APRIL) == {"gcp": {"USD": Decimal("7")}}


async def test_period_sums_split_the_period_the_recent_days_and_today(ledger: CostLedger) -> None:
    await ledger.replace(provider="aws", start=day(0), end=APRIL, at=T0, lines=[
        line(0, "1000"), *(line(n, str(n)) for n in range(1, 11)), line(9, "0.5", service="S3"),
        line(10, "77", currency="EUR"), line(2, "4", community="beta"), line(10, "5", community=None)])
    sums = await ledger.period_sums(start=MARCH, end=APRIL, recent=(day(8), day(10)), today=day(10), currency="USD")
    assert sums == {"alpha": PeriodSpend(Decimal("55.5"), Decimal("17.5"), Decimal("10")),
                    "beta": PeriodSpend(Decimal("4"))}
    # only lines of the period count, whatever the recent days and today say
    early = await ledger.period_sums(start=MARCH, end=day(3), recent=(day(0), day(2)), today=day(0), currency="USD")
    assert early == {"alpha": PeriodSpend(Decimal("3"), Decimal("1")), "beta": PeriodSpend(Decimal("4"))}
    assert await ledger.period_sums(start=MARCH, end=APRIL, recent=(day(8), day(10)), today=day(10),
                                    currency="EUR") == {"alpha": PeriodSpend(Decimal("77"), today=Decimal("77"))}
    assert await ledger.period_sums(start=MARCH, end=APRIL, recent=(day(8), day(10)), today=day(10),
                                    currency="USD", communities=["beta", "nobody"]) == {
        "beta": PeriodSpend(Decimal("4"))}
    assert await ledger.period_sums(start=MARCH, end=APRIL, recent=(day(8), day(10)), today=day(10),
                                    currency="USD", communities=[]) == {}


async def test_period_sums_take_the_run_rate_from_usage_and_fees_from_this_month(ledger: CostLedger) -> None:
    """Fees, credits and refunds count as spend but not as a rate; recurring fees are summed from
    the first of today's month, so a quarter's forecast can add them once per month to come."""
    await ledger.replace(provider="aws", start=day(0), end=APRIL + timedelta(days=3), at=T0, lines=[
        line(0, "300", service="Support", kind="recurring"),  # February's fee
        line(1, "100", service="Support", kind="recurring"), line(1, "20", service="Tax", kind="recurring"),
        *(line(n, "10") for n in range(1, 11)),
        line(9, "-50", service="Credit", kind="one-off"), line(10, "4", service="Refund", kind="one-off"),
        LedgerLine(day=APRIL, provider="aws", hub="c1/prod", community="alpha", service="Support",
                   amount=Decimal("999"), currency="USD", kind="recurring")])
    sums = await ledger.period_sums(start=day(0), end=APRIL + timedelta(days=3), recent=(day(3), day(10)),
                                    today=day(10), currency="USD")
    assert sums == {"alpha": PeriodSpend(total=Decimal("1473"), recent=Decimal("70"), today=Decimal("10"),
                                         recurring=Decimal("120"))}


async def test_hub_daily_sums_every_currency_and_flags_estimates(ledger: CostLedger) -> None:
    await put(ledger, line(1, "2", currency="EUR", estimated=True), line(1, "10"), line(2, "5"),
              line(2, "0.000001", service="S3"), line(1, "3", hub=None), line(1, "7", hub="c9/orphan", community=None),
              line(3, "1", community="beta", hub="c2/lab", estimated=True))
    assert await ledger.hub_daily(start=MARCH, end=APRIL, communities=None) == {
        "c1/prod": {day(1): (Decimal("12"), True), day(2): (Decimal("5.000001"), False)},
        "c9/orphan": {day(1): (Decimal("7"), False)},
        "c2/lab": {day(3): (Decimal("1"), True)}}
    assert await ledger.hub_daily(start=day(2), end=day(3), communities=["alpha", "beta"]) == {
        "c1/prod": {day(2): (Decimal("5.000001"), False)}}
    assert await ledger.hub_daily(start=MARCH, end=APRIL, communities=[]) == {}


async def test_breakdown_by_hub_service_and_day(ledger: CostLedger) -> None:
    long_service = "Compute Engine — 漢字 " * 10
    await put(ledger, line(1, "30"), line(2, "5", service="S3"), line(1, "12", hub="c1/staging"),
              line(3, "40", hub=None), line(2, "1000", currency="EUR"), line(1, "600", community="beta"),
              line(4, "0.75", service=long_service))

    async def by(what: str, hub: str | None = None) -> list[tuple[str, Decimal]]:
        return await ledger.breakdown(community="alpha", start=MARCH, end=APRIL, currency="USD", by=what, hub=hub)

    assert await by("hub") == [("shared", Decimal("40")), ("c1/prod", Decimal("35.75")),
                               ("c1/staging", Decimal("12"))]
    assert await by("service") == [("EC2", Decimal("82")), ("S3", Decimal("5")),
                                   (long_service[:128], Decimal("0.75"))]
    assert await by("day") == [("2026-03-01", Decimal("42")), ("2026-03-02", Decimal("5")),
                               ("2026-03-03", Decimal("40")), ("2026-03-04", Decimal("0.75"))]
    assert await by("service", hub="c1/prod") == [("EC2", Decimal("30")), ("S3", Decimal("5")),
                                                  (long_service[:128], Decimal("0.75"))]
    assert await by("day", hub="c1/staging") == [("2026-03-01", Decimal("12"))]
    assert await by("hub", hub="shared") == []  # shared lines have no hub to match
    assert await ledger.breakdown(community="nobody", start=MARCH, end=APRIL, currency="USD", by="hub") == []
    assert await ledger.breakdown(community="alpha", start=MARCH, end=APRIL, currency="EUR", by="hub") == [
        ("c1/prod", Decimal("1000"))]


async def test_readings_are_kept_per_provider_source_and_start(ledger: CostLedger) -> None:
    def reading(source: str, amount: str, *, start: date = MARCH, allocated: str | None = None) -> CostReading:
        return CostReading(start=start, end=start + timedelta(days=30), amount=Decimal(amount), currency="SU",
                           as_of=T0, allocated=None if allocated is None else Decimal(allocated), source=source)

    long_source = "allocation « 漢字 » " * 10
    await ledger.put_readings(provider="js2", community="alpha", readings=[
        reading("alloc-1", "100", allocated="1000"), reading("alloc-2", "5"), reading(long_source, "1")])
    await ledger.put_readings(provider="js2", community="alpha", readings=[
        reading("alloc-1", "150.1234567", allocated="1000.0000001"), reading("alloc-1", "20", start=APRIL),
        reading(long_source + "another tail", "2")])
    await ledger.put_readings(provider="gcp", community="beta", readings=[reading("alloc-1", "7")])
    await ledger.put_readings(provider="unowned", community=None, readings=[reading("alloc-9", "9")])
    got = sorted(await ledger.readings(communities=None), key=lambda r: (r[0], r[1].source, r[1].start))
    assert got == [
        ("alpha", reading("alloc-1", "150.123457", allocated="1000")),
        ("alpha", reading("alloc-1", "20", start=APRIL)),
        ("alpha", reading("alloc-2", "5")),
        ("alpha", reading(long_source[:128], "2")),
        ("beta", reading("alloc-1", "7")),
    ]
    assert await ledger.readings(communities=["beta"]) == [("beta", reading("alloc-1", "7"))]
    assert await ledger.readings(communities=[]) == []
    # the same reading put for another community moves there
    await ledger.put_readings(provider="gcp", community="gamma", readings=[reading("alloc-1", "8")])
    assert await ledger.readings(communities=["beta", "gamma"]) == [("gamma", reading("alloc-1", "8"))]


async def test_reading_history_keeps_the_last_reading_of_each_utc_day(ledger: CostLedger) -> None:
    def reading(source: str, amount: str, at: datetime, *, start: date = MARCH) -> CostReading:
        return CostReading(start=start, end=start + timedelta(days=365), amount=Decimal(amount), currency="SU",
                           as_of=at, allocated=Decimal(1000), source=source)

    evening = datetime(2026, 3, 11, 1, 30, tzinfo=timezone(timedelta(hours=5)))  # the 10th, 20:30 UTC
    next_day = T0 + timedelta(days=1)
    await ledger.put_readings(provider="js2", community="alpha", readings=[reading("cpu", "100", T0)])
    await ledger.put_readings(provider="js2", community="alpha", readings=[reading("cpu", "110.1234567", evening)])
    await ledger.put_readings(provider="js2", community="alpha", readings=[
        reading("cpu", "150", next_day), reading("gpu", "5", next_day)])
    await ledger.put_readings(provider="gcp", community="beta", readings=[reading("budget", "7", T0)])
    await ledger.put_readings(provider="unowned", community=None, readings=[reading("cpu", "9", T0)])

    assert await ledger.reading_history(communities=None, since=day(10)) == [
        ("beta", reading("budget", "7", T0)),
        ("alpha", reading("cpu", "110.123457", evening)),
        ("alpha", reading("cpu", "150", next_day)),
        ("alpha", reading("gpu", "5", next_day)),
    ]
    assert await ledger.reading_history(communities=["alpha"], since=day(11)) == [
        ("alpha", reading("cpu", "150", next_day)), ("alpha", reading("gpu", "5", next_day))]
    assert await ledger.reading_history(communities=[], since=MARCH) == []
    # the latest readings are kept as before
    assert sorted(await ledger.readings(communities=["alpha"]), key=lambda r: r[1].source) == [
        ("alpha", reading("cpu", "150", next_day)), ("alpha", reading("gpu", "5", next_day))]

    # a reading put for another community takes its history along
    await ledger.put_readings(provider="js2", community="gamma", readings=[reading("cpu", "160", next_day)])
    assert [(c, r.source, r.amount) for c, r in await ledger.reading_history(communities=None, since=day(10))] == [
        ("beta", "budget", Decimal("7")), ("gamma", "cpu", Decimal("110.123457")), ("gamma", "cpu", Decimal("160")),
        ("alpha", "gpu", Decimal("5"))]

    # days older than READING_HISTORY_DAYS before a provider's newest reading are dropped, for that provider only
    later = T0 + timedelta(days=READING_HISTORY_DAYS + 1)
    await ledger.put_readings(provider="js2", community="gamma", readings=[reading("cpu", "900", later)])
    assert [(c, r.source, r.as_of) for c, r in await ledger.reading_history(communities=None, since=MARCH)] == [
        ("beta", "budget", T0), ("gamma", "cpu", next_day), ("alpha", "gpu", next_day), ("gamma", "cpu", later)]


async def test_status_counts_requests_and_keeps_the_last_success_and_error(ledger: CostLedger) -> None:
    t1, t2, t3 = T0 + timedelta(hours=1), T0 + timedelta(hours=2), T0 + timedelta(hours=3)
    await ledger.record_status(provider="aws", at=T0, error=None, requests=3)
    await ledger.record_status(provider="gcp", at=T0, error="réseau indisponible ⚠ " + "x" * 2000, requests=0)
    assert await ledger.status() == {
        "aws": ProviderStatus(provider="aws", ok_at=T0, error_at=None, error=None, requests=3),
        "gcp": ProviderStatus(provider="gcp", ok_at=None, error_at=T0,
                              error=("réseau indisponible ⚠ " + "x" * 2000)[:1000], requests=0)}
    await ledger.record_status(provider="aws", at=t1, error="throttled", requests=1)
    after_error = (await ledger.status())["aws"]
    assert after_error == ProviderStatus(provider="aws", ok_at=T0, error_at=t1, error="throttled", requests=4)
    assert after_error.stale
    await ledger.record_status(provider="aws", at=t2, error=None, requests=2)
    recovered = (await ledger.status())["aws"]
    assert recovered == ProviderStatus(provider="aws", ok_at=t2, error_at=t1, error="throttled", requests=6)
    assert not recovered.stale
    await ledger.record_status(provider="aws", at=t3, error="", requests=0)  # an empty error is no error
    assert (await ledger.status())["aws"].ok_at == t3


async def test_forecasts_keep_the_last_one_put_per_provider(ledger: CostLedger) -> None:
    await ledger.put_forecast(provider="aws", start=day(15), end=APRIL, amount=Decimal("100.5"), at=T0)
    await ledger.put_forecast(provider="aws", start=day(16), end=APRIL, amount=Decimal("90.1234567"),
                              at=T0 - timedelta(days=1))
    await ledger.put_forecast(provider="gcp", start=day(16), end=APRIL, amount=Decimal("0"), at=T0)
    assert await ledger.forecasts() == {"aws": (day(16), APRIL, Decimal("90.123457")),
                                        "gcp": (day(16), APRIL, Decimal("0"))}


async def test_hub_totals_per_community_largest_first(ledger: CostLedger) -> None:
    await put(ledger, line(1, "30"), line(2, "20", service="S3"), line(1, "70", hub="c1/staging"),
              line(3, "5", hub=None), line(1, "1000", currency="EUR"), line(2, "3", community="beta", hub="c2/lab"),
              line(2, "400", community=None, hub="c9/orphan"))
    await ledger.replace(provider="aws", start=APRIL, end=APRIL + timedelta(days=1), at=T0, lines=[
        LedgerLine(day=APRIL, provider="aws", hub="c1/prod", community="alpha", service="EC2",
                   amount=Decimal("500"), currency="USD")])
    assert await ledger.hub_totals(start=MARCH, end=APRIL, currency="USD") == {
        "alpha": [("c1/staging", Decimal("70")), ("c1/prod", Decimal("50")), ("shared", Decimal("5"))],
        "beta": [("c2/lab", Decimal("3"))]}
    assert await ledger.hub_totals(start=MARCH, end=APRIL, currency="EUR") == {
        "alpha": [("c1/prod", Decimal("1000"))]}
    assert await ledger.hub_totals(start=day(3), end=day(3), currency="USD") == {}


async def test_a_hub_named_shared_is_merged_with_shared_lines_by_breakdown_but_not_by_hub_totals(
        ledger: CostLedger) -> None:
    await put(ledger, line(1, "5", hub=None), line(1, "2", hub="shared"))
    assert await ledger.breakdown(community="alpha", start=MARCH, end=APRIL, currency="USD", by="hub") == [
        ("shared", Decimal("7"))]
    totals = await ledger.hub_totals(start=MARCH, end=APRIL, currency="USD")
    assert totals == {"alpha": [("shared", Decimal("5")), ("shared", Decimal("2"))]}


async def test_sums_over_whole_months_stay_right_as_windows_are_replaced(ledger: CostLedger) -> None:
    """Whole months may be read from running monthly sums: they must follow every replace, of
    any window, by any provider, as the lines themselves do."""
    feb = date(2026, 2, 1)

    def spread(provider: str, first: date, days: int, amount: str, **kw: Any) -> list[LedgerLine]:
        return [LedgerLine(day=first + timedelta(days=i), provider=provider, hub=kw.get("hub", "c1/prod"),
                           community=kw.get("community", "alpha"), service="EC2", amount=Decimal(amount),
                           currency="USD", kind=kw.get("kind", "usage")) for i in range(days)]

    everything = {"aws": spread("aws", feb, 100, "10") + spread("aws", feb, 100, "1", hub="c1/lab"),
                  "gcp": spread("gcp", feb, 100, "3", community="beta", hub="c2/x")}
    for provider, lines in everything.items():
        await ledger.replace(provider=provider, start=feb, end=feb + timedelta(days=100), lines=lines, at=T0)
    # a refresh rewrites 20 days across the end of March: lower figures, one hub gone, a fee
    window = (date(2026, 3, 20), date(2026, 4, 9))
    redone = spread("aws", window[0], 20, "4") + spread("aws", date(2026, 4, 1), 1, "50", hub=None,
                                                                        kind="recurring")
    await ledger.replace(provider="aws", start=window[0], end=window[1], lines=redone, at=T0)
    everything["aws"] = [ln for ln in everything["aws"] if not window[0] <= ln.day < window[1]] + redone

    def expect(start: date, end: date) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for ln in (ln for lines in everything.values() for ln in lines if start <= ln.day < end):
            out[str(ln.community)] = out.get(str(ln.community), Decimal(0)) + ln.amount
        return out

    today = date(2026, 4, 15)
    for start, end in [(MARCH, APRIL), (date(2026, 3, 1), date(2026, 6, 1)), (date(2026, 2, 15), date(2026, 5, 10)),
                       (date(2026, 3, 25), date(2026, 4, 5)), (APRIL, date(2026, 5, 1))]:
        sums = await ledger.period_sums(start=start, end=end, recent=(today - timedelta(days=7), today), today=today,
                                        currency="USD")
        assert {c: s.total for c, s in sums.items()} == expect(start, end), (start, end)
        tops = await ledger.hub_totals(start=start, end=end, currency="USD")
        assert {c: sum(a for _, a in hubs) for c, hubs in tops.items()} == expect(start, end), (start, end)
    april = await ledger.period_sums(start=APRIL, end=date(2026, 5, 1), recent=(date(2026, 4, 8), today),
                                     today=today, currency="USD")
    assert april["alpha"].recurring == Decimal(50)
    # the 8th was rewritten (4, the lab hub gone); the 9th to the 14th are as first written
    assert april["alpha"].recent == Decimal(4 + 6 * 11) and april["alpha"].today == Decimal(11)
