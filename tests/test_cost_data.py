"""Cost figures and alerts with the providers' real data shapes, through the real adapters and the
real alert cycle: Cost Explorer days that are all ``Estimated``, late days, a raised budget, a
period that closed before its last costs arrived."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from alerts import run_cycle
from hubbot.adapters.aws import AwsCostSource
from hubbot.adapters.memory import FrozenClock, RecordingNotifier
from hubbot.costs.summary import summarize
from hubbot.fleet import AwsProvider, load_fleet
from hubbot.main import Runtime, build
from hubbot.settings import DatabaseSettings, Settings
from tests.support.aws import (
    ACCOUNT,
    TAG_KEY,
    Day,
    MotoCostExplorer,
    cost_response,
    fake_credentials,
    moto_cost_explorer,
)
from tests.support.costs import basis

FLEET = f"""
providers:
  aws-a: {{kind: aws, account_id: "{ACCOUNT}", cost_tag_key: "{TAG_KEY}", endpoint_url: "ENDPOINT"}}
clusters:
  - name: c1
    provider: aws-a
    hubs:
      - {{name: staging, community: alpha, domain: s.alpha.test}}
      - {{name: prod, community: alpha, domain: alpha.test, tier: prod}}
communities:
  - name: alpha
    display_name: Alpha
    channel: CALPHA001
    leaders: [ULEADA001]
    budget: {{amount: 100000, currency: USD, period: monthly}}
roles:
  engineers: [UENG00001]
"""


def at(day: date, hour: int = 6) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoCostExplorer]:
    fake_credentials(monkeypatch)
    with moto_cost_explorer() as server:
        server.reset()
        yield server


def aws_runtime(tmp: Path, moto: MotoCostExplorer, clock: FrozenClock) -> Runtime:
    (tmp / "fleet.yaml").write_text(FLEET.replace("ENDPOINT", moto.url))
    fleet = load_fleet(tmp / "fleet.yaml")
    provider = fleet.config.providers["aws-a"]
    assert isinstance(provider, AwsProvider)
    return build(Settings(database=DatabaseSettings(url=f"sqlite:///{tmp / 'db.sqlite3'}")), fleet, clock=clock,
                 notifier=RecordingNotifier(), sources={"aws-a": AwsCostSource(provider=provider)}, mirrors={},
                 billing={})


def days(first: date, amounts: dict[date, str]) -> list[Day]:
    """Cost Explorer's daily answer as it really comes for the open month: every day Estimated."""
    return [Day(d.isoformat(), (d + timedelta(days=1)).isoformat(), {("prod", "Amazon EC2"): amount}, estimated=True)
            for d, amount in sorted(amounts.items()) if d >= first]


async def test_an_aws_spike_fires_once_its_day_arrives_though_every_day_is_estimated(
    tmp_path: Path, moto: MotoCostExplorer,
) -> None:
    march = date(2026, 3, 1)
    steady = {march + timedelta(days=i): "10" for i in range(14)}  # March 1-14
    spike_day = date(2026, 3, 15)
    clock = FrozenClock(at(date(2026, 3, 16)))
    rt = aws_runtime(tmp_path, moto, clock)
    # The cycle on the 16th: Cost Explorer has not booked the 15th yet.
    moto.queue(cost_response(*days(march, steady)))
    first = await run_cycle(rt.services, rt.fleet, at=at(date(2026, 3, 16)), worker="w")
    assert [a for a in first.sent if basis(a) == "spike"] == []
    # The cycle on the 17th: the 15th arrived with ten times the usual spend (still Estimated).
    moto.queue(cost_response(*days(march, {**steady, spike_day: "100", date(2026, 3, 16): "10"})))
    second = await run_cycle(rt.services, rt.fleet, at=at(date(2026, 3, 17)), worker="w")
    spikes = [a for a in second.sent if basis(a) == "spike"]
    assert [(a.channel, a.key.split("@")[0]) for a in spikes] == [("CALPHA001", "spike:2026-03-15:c1/prod")]
    assert spikes[0].alert is not None and spikes[0].alert.spend == Decimal("100.00")
    # Later the same day, the same figures: nothing is sent twice.
    moto.queue(cost_response(*days(march, {**steady, spike_day: "100", date(2026, 3, 16): "10"})))
    third = await run_cycle(rt.services, rt.fleet, at=at(date(2026, 3, 17), 12), worker="w")
    assert [a for a in third.sent if basis(a) == "spike"] == []
    await rt.aclose()


async def test_a_day_that_arrives_late_is_still_scanned_for_spikes(tmp_path: Path, database_url: str) -> None:
    """Final figures (CSV) that land a day late: the first cycle after midnight sees no row for the
    day, the next one does, and the spike is reported then."""
    from tests.support.costs import runtime, write_costs, write_fleet

    fleet = write_fleet(tmp_path)
    start = date(2026, 3, 1)
    write_costs(tmp_path / "costs-b.csv", start, 20, lambda d: {"lab": Decimal("10")})
    write_costs(tmp_path / "costs-a.csv", start, 14, lambda d: {"prod": Decimal("50")})  # up to the 14th
    rt = runtime(fleet, database_url, clock=FrozenClock(at(date(2026, 3, 16))))
    first = await run_cycle(rt.services, rt.fleet, at=at(date(2026, 3, 16), 1), worker="w")
    assert [a for a in first.sent if basis(a) == "spike"] == []
    write_costs(tmp_path / "costs-a.csv", start, 16,
                lambda d: {"prod": Decimal("900") if d == date(2026, 3, 15) else Decimal("50")})
    later = await run_cycle(rt.services, rt.fleet, at=at(date(2026, 3, 16), 13), worker="w")
    assert [a.key for a in later.sent if basis(a) == "spike"] == ["spike:2026-03-15:c1/prod@CALPHA001",
                                                                  "spike:2026-03-15:c1/prod@COPS00001"]
    await rt.aclose()


async def test_raising_a_budget_mid_period_re_arms_its_thresholds(tmp_path: Path, database_url: str) -> None:
    from hubbot.domain import Budget
    from tests.support.costs import runtime, setup_costs

    rt = runtime(setup_costs(tmp_path, daily="50"), database_url, clock=FrozenClock(at(date(2026, 3, 15))))
    first = await run_cycle(rt.services, rt.fleet, at=at(date(2026, 3, 15), 12), worker="w")  # 750 of 1000
    assert [a.alert.threshold for a in first.sent if a.channel == "CALPHA001" and a.alert
            and basis(a) == "actual"] == [75]
    await rt.services.budgets.set("alpha", Budget(amount=Decimal("2000"), currency="USD", period="monthly",
                                                  thresholds=(50, 75, 90, 100), set_by="ULEADA001",
                                                  set_at=at(date(2026, 3, 15), 13)))
    later = await run_cycle(rt.services, rt.fleet, at=at(date(2026, 3, 25), 12), worker="w")  # 1250 of 2000
    assert [a.alert.threshold for a in later.sent if a.channel == "CALPHA001" and a.alert
            and basis(a) == "actual"] == [50]
    again = await run_cycle(rt.services, rt.fleet, at=at(date(2026, 3, 26), 12), worker="w")  # 1300: nothing new
    assert [a for a in again.sent if basis(a) == "actual"] == []
    await rt.aclose()


async def test_an_overrun_booked_after_the_period_closed_still_alerts_once(tmp_path: Path, database_url: str) -> None:
    from tests.support.costs import runtime, text, write_costs, write_fleet

    fleet = write_fleet(tmp_path)
    start = date(2026, 3, 1)
    write_costs(tmp_path / "costs-b.csv", start, 33, lambda d: {"lab": Decimal("10")})
    write_costs(tmp_path / "costs-a.csv", start, 30, lambda d: {"prod": Decimal("30")})  # to March 30: 900 of 1000
    rt = runtime(fleet, database_url, clock=FrozenClock(at(date(2026, 3, 31))))
    march = await run_cycle(rt.services, rt.fleet, at=at(date(2026, 3, 31), 23), worker="w")
    assert [a.alert.threshold for a in march.sent if a.channel == "CALPHA001" and a.alert
            and basis(a) == "actual"] == [90]
    # March 31 is booked on April 1: 1,100 of 1,000, after the period ended
    write_costs(tmp_path / "costs-a.csv", start, 32,
                lambda d: {"prod": Decimal("200") if d == date(2026, 3, 31) else Decimal("30")})
    april = await run_cycle(rt.services, rt.fleet, at=at(date(2026, 4, 1)), worker="w")
    closed = [a for a in april.sent if a.channel == "CALPHA001" and basis(a) == "actual"]
    assert [(a.alert.threshold, a.alert.period_start) for a in closed if a.alert] == [(100, date(2026, 3, 1))]
    assert "March 2026, which has closed" in text(closed[0]) and "$1,100.00" in text(closed[0])
    again = await run_cycle(rt.services, rt.fleet, at=at(date(2026, 4, 2)), worker="w")
    assert [a for a in again.sent if basis(a) == "actual"] == []
    await rt.aclose()


async def test_later_refreshes_of_a_day_read_only_the_days_a_provider_may_still_revise(
    tmp_path: Path, database_url: str,
) -> None:
    from hubbot.adapters.csv_costs import CsvCostSource
    from hubbot.domain import CostBatch
    from tests.support.costs import setup_costs

    class Recording:
        def __init__(self, path: Path) -> None:
            self._csv = CsvCostSource(path)
            self.asked: list[tuple[date, date]] = []

        async def fetch(self, *, start: date, end: date) -> CostBatch:
            self.asked.append((start, end))
            return await self._csv.fetch(start=start, end=end)

    fleet = setup_costs(tmp_path, daily="50")
    source = Recording(tmp_path / "costs-a.csv")
    rt = build(Settings(database=DatabaseSettings(url=database_url)), load_fleet(fleet),
               clock=FrozenClock(at(date(2026, 3, 15))), notifier=RecordingNotifier(), mirrors={}, billing={},
               sources={"aws-a": source, "csv-b": CsvCostSource(tmp_path / "costs-b.csv")})
    for hour in (1, 7, 13):
        await run_cycle(rt.services, rt.fleet, at=at(date(2026, 3, 15), hour), worker="w")
    await run_cycle(rt.services, rt.fleet, at=at(date(2026, 3, 16), 1), worker="w")
    whole, recent = (date(2026, 1, 1), date(2026, 3, 16)), (date(2026, 3, 13), date(2026, 3, 16))
    assert source.asked == [whole, recent, recent, (date(2026, 1, 1), date(2026, 3, 17))]
    from hubbot.costs.summary import summarize

    # nothing lost or counted twice by the partial re-reads: 16 days of 50
    assert (await summarize(rt.services, rt.fleet, "alpha", at=at(date(2026, 3, 16), 2))).spend == Decimal("800")
    await rt.aclose()


async def test_costs_billed_in_another_currency_than_the_budget_never_look_like_zero(tmp_path: Path) -> None:
    from hubbot.pipeline.contract import Invocation
    from tests.support.costs import runtime, write_costs, write_fleet

    fleet = write_fleet(tmp_path)  # alpha's budget: 1,000 USD
    start = date(2026, 3, 1)
    write_costs(tmp_path / "costs-b.csv", start, 14, lambda d: {"lab": Decimal("10")})
    (tmp_path / "costs-a.csv").write_text("date,hub,amount,currency,service\n" + "".join(
        f"2026-03-{d:02d},prod,40,EUR,compute\n" for d in range(1, 15)))  # the account bills in euros
    rt = runtime(fleet, f"sqlite:///{tmp_path / 'db.sqlite3'}", clock=FrozenClock(at(date(2026, 3, 15), 12)))
    await run_cycle(rt.services, rt.fleet, at=at(date(2026, 3, 15), 12), worker="w")

    async def run(text: str) -> str:
        reply = await rt.dispatcher.run(Invocation(user_id="UENG00001", channel_id="COPS00001", text=text))
        return reply.text

    shown = await run("cost alpha")
    assert "Spend: $0.00" in shown and "Also 560.00 EUR in EUR, not counted against this USD budget" in shown
    assert "Also 560.00 EUR" in await run("budget show alpha")
    refused = await run("budget set alpha 800 --currency USD")
    assert "alpha's providers bill in EUR (560.00 EUR in the last 31 days)" in refused and "--currency EUR" in refused
    asked = await run("budget set alpha 800")  # the currency defaults to what the providers bill in
    assert "800.00 EUR monthly" in asked
    await rt.aclose()


def test_config_check_refuses_a_budget_in_another_currency_than_its_providers(tmp_path: Path) -> None:
    from hubbot.fleet import FleetError, parse_fleet

    def fleet(kind: dict[str, object], currency: str) -> dict[str, object]:
        return {"providers": {"p": kind},
                "clusters": [{"name": "c1", "provider": "p",
                              "hubs": [{"name": "prod", "community": "alpha", "domain": "alpha.test"}]}],
                "communities": [{"name": "alpha", "budget": {"amount": 1000, "currency": currency,
                                                             "period": "monthly"}}]}

    js2 = {"kind": "openstack", "auth_url": "https://js2.example:5000/v3", "project": "TRA000000"}
    with pytest.raises(FleetError, match=r"budget is in USD but alpha's providers bill in SU"):
        parse_fleet(fleet(js2, "USD"))
    with pytest.raises(FleetError, match=r"budget is in SU but none of alpha's providers bills in service units"):
        parse_fleet(fleet({"kind": "csv", "path": "costs.csv"}, "SU"))
    assert parse_fleet(fleet(js2, "SU")).community("alpha").budget is not None
    assert parse_fleet(fleet({"kind": "csv", "path": "costs.csv"}, "EUR")).community("alpha").budget is not None


async def test_a_mute_lasts_to_the_end_of_the_communitys_own_period(tmp_path: Path, database_url: str) -> None:
    """Los Angeles: 03:00 UTC on 1 April is still 31 March there, so March's mute still holds."""
    from tests.support.costs import runtime, write_costs, write_fleet

    fleet = write_fleet(tmp_path, alpha_extra=", timezone: America/Los_Angeles")
    start = date(2026, 3, 1)
    write_costs(tmp_path / "costs-b.csv", start, 31, lambda d: {"lab": Decimal("10")})
    write_costs(tmp_path / "costs-a.csv", start, 29, lambda d: {"prod": Decimal("30")})  # 870 of 1000
    rt = runtime(fleet, database_url, clock=FrozenClock(at(date(2026, 3, 29), 20)))
    first = await run_cycle(rt.services, rt.fleet, at=at(date(2026, 3, 29), 20), worker="w")
    [alert] = [a for a in first.sent if a.channel == "CALPHA001" and basis(a) == "actual"]
    assert alert.id is not None and alert.alert is not None and alert.alert.threshold == 75
    assert await rt.services.outbox.mute(alert.id, until=alert.alert.period_end)  # until 1 April, local
    write_costs(tmp_path / "costs-a.csv", start, 31,
                lambda d: {"prod": Decimal("30") if d.day < 30 else Decimal("100")})
    late = await run_cycle(rt.services, rt.fleet, at=datetime(2026, 4, 1, 3, tzinfo=UTC), worker="w")  # 1,070
    assert [a for a in late.sent if a.community == "alpha" and basis(a) == "actual"] == []
    await rt.aclose()


async def test_a_spike_on_an_account_billed_in_euros_says_euros(tmp_path: Path, database_url: str) -> None:
    from tests.support.costs import runtime, text, write_fleet

    fleet = write_fleet(tmp_path, alpha_extra=", currency: EUR")
    (tmp_path / "costs-b.csv").write_text("date,hub,amount,currency,service\n")
    (tmp_path / "costs-a.csv").write_text("date,hub,amount,currency,service\n" + "".join(
        f"2026-03-{d:02d},prod,{400 if d == 15 else 40},EUR,compute\n" for d in range(1, 17)))
    rt = runtime(fleet, database_url, clock=FrozenClock(at(date(2026, 3, 17))))
    report = await run_cycle(rt.services, rt.fleet, at=at(date(2026, 3, 17)), worker="w")
    [spike] = [a for a in report.sent if a.channel == "CALPHA001" and basis(a) == "spike"]
    assert spike.alert is not None and spike.alert.currency == "EUR"
    assert "400.00 EUR on 2026-03-15, against a recent median of 40.00 EUR a day" in text(spike)
    await rt.aclose()


async def test_a_budget_in_another_currency_than_the_bills_alerts_once_a_period(
    tmp_path: Path, database_url: str,
) -> None:
    from tests.support.costs import runtime, text, write_costs, write_fleet

    fleet = write_fleet(tmp_path)  # alpha's budget: 1,000 USD; its account bills in euros
    start = date(2026, 3, 1)
    write_costs(tmp_path / "costs-b.csv", start, 14, lambda d: {"lab": Decimal("10")})
    (tmp_path / "costs-a.csv").write_text("date,hub,amount,currency,service\n" + "".join(
        f"2026-03-{d:02d},prod,90,EUR,compute\n" for d in range(1, 15)))  # 1,260 EUR: over any threshold
    rt = runtime(fleet, database_url, clock=FrozenClock(at(date(2026, 3, 15), 12)))
    first = await run_cycle(rt.services, rt.fleet, at=at(date(2026, 3, 15), 12), worker="w")
    flagged = [a for a in first.sent if a.community == "alpha"]
    assert [(basis(a), a.channel) for a in flagged] == [("currency", "CALPHA001"), ("currency", "COPS00001")]
    assert "billed in EUR (1,260.00 EUR), but its budget is in USD" in text(flagged[0])
    assert "--currency EUR" in text(flagged[0])
    again = await run_cycle(rt.services, rt.fleet, at=at(date(2026, 3, 16), 12), worker="w")
    assert [a for a in again.sent if a.community == "alpha"] == []
    await rt.aclose()


async def test_first_of_month_fees_and_credits_are_not_taken_for_a_rate_of_spend(
    tmp_path: Path, moto: MotoCostExplorer,
) -> None:
    """Cost Explorer books the month's support and reserved-instance fees on its first day and a
    credit as one day. A quarter spending $30 a day with $600 of fees a month heads to $4,460;
    extrapolating the first week's $770 as a rate forecast $9,900 and a false forecast alert."""
    jan = date(2026, 1, 1)
    clock = FrozenClock(at(date(2026, 1, 8)))
    (tmp_path / "fleet.yaml").write_text(FLEET.replace("ENDPOINT", moto.url).replace(
        "{amount: 100000, currency: USD, period: monthly}", "{amount: 5000, currency: USD, period: quarterly}"))
    fleet = load_fleet(tmp_path / "fleet.yaml")
    provider = fleet.config.providers["aws-a"]
    assert isinstance(provider, AwsProvider)
    rt = build(Settings(database=DatabaseSettings(url=f"sqlite:///{tmp_path / 'db.sqlite3'}")), fleet, clock=clock,
               notifier=RecordingNotifier(), sources={"aws-a": AwsCostSource(provider=provider)}, mirrors={},
               billing={})
    week = [jan + timedelta(days=i) for i in range(7)]
    moto.queue(
        cost_response(*days(jan, {d: "30" for d in week})),  # usage, by service
        cost_response(  # everything else, by record type
            Day("2026-01-01", "2026-01-02", {("", "Support"): "400", ("prod", "RIFee"): "200"}, estimated=True),
            Day("2026-01-04", "2026-01-05", {("", "Credit"): "-40"}, estimated=True)),
    )
    outcome = await run_cycle(rt.services, rt.fleet, at=at(date(2026, 1, 8)), worker="w")

    assert [a.key for a in outcome.sent if basis(a) in {"forecast", "actual"}] == []
    summary = await summarize(rt.services, rt.fleet, "alpha", at=at(date(2026, 1, 8)))
    assert summary.spend == Decimal("770")
    # 770 spent + $30 a day for the 83 days left + $600 of fees on Feb 1 and Mar 1
    assert summary.forecast == Decimal("4460")
    await rt.aclose()
