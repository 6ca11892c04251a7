"""The alert cycle over a simulated month, with an injected clock: every threshold once, at the
right time; restarts change nothing; nothing lost when delivery fails; no false "$0"."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from alerts import run_cycle
from hubbot.adapters.memory import FrozenClock, RecordingNotifier
from tests.support.costs import basis, runtime, write_costs, write_fleet
from tests.support.costs import text as text_of

MARCH = date(2026, 3, 1)


def setup(tmp_path: Path, *, daily: str = "50", days: int = 62, start: date = MARCH, **fleet: str) -> Path:
    path = write_fleet(tmp_path, **fleet)
    write_costs(tmp_path / "costs-a.csv", start, days, lambda d: {"prod": Decimal(daily)})
    write_costs(tmp_path / "costs-b.csv", start, days, lambda d: {"lab": Decimal("10")})
    return path


def at(day: int, hour: int = 12, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


async def _walk(tmp_path: Path, database_url: str, days: range, *, month: int = 3,
                notifier: RecordingNotifier | None = None) -> RecordingNotifier:
    notifier = notifier or RecordingNotifier()
    fleet_path = tmp_path / "fleet.yaml"
    for day in days:
        for hour in (0, 6, 12, 18):
            # each cycle sees costs up to yesterday (the CSV is rewritten as a provider would report)
            when = at(day, hour, month)
            rt = runtime(fleet_path, database_url, clock=FrozenClock(when), notifier=notifier)
            write_costs(tmp_path / "costs-a.csv", MARCH, (when.date() - MARCH).days,
                        lambda d: {"prod": Decimal("50")})
            await run_cycle(rt.services, rt.fleet, at=when, worker="w1")
            await rt.aclose()
    return notifier


def _sent(notifier: RecordingNotifier, channel: str) -> list[str]:
    return [text.splitlines()[0] for ch, text in notifier.posts if ch == channel]


async def test_a_month_fires_every_threshold_once_in_order(tmp_path: Path, database_url: str) -> None:
    setup(tmp_path)
    notifier = await _walk(tmp_path, database_url, range(1, 32))
    alpha = _sent(notifier, "CALPHA001")
    thresholds = [line for line in alpha if "threshold" in line]
    assert [t.split("(")[1].split("%")[0] for t in thresholds] == ["50", "75", "90", "100", "120"]
    assert len([line for line in alpha if "forecast" in line]) == 1
    assert _sent(notifier, "COPS00001") == alpha  # the engineers' copy, one each
    assert _sent(notifier, "CBETA0001") == []  # beta spends 10/day of 5000


async def test_thresholds_fire_on_the_day_they_are_crossed(tmp_path: Path, database_url: str) -> None:
    setup(tmp_path)
    notifier = RecordingNotifier()
    seen: dict[str, int] = {}
    for day in range(1, 32):
        before = len(notifier.posts)
        await _walk(tmp_path, database_url, range(day, day + 1), notifier=notifier)
        for _, text in notifier.posts[before:]:
            seen.setdefault(text.splitlines()[0], day)
    by_threshold = {line.split("(")[1].split("%")[0]: d for line, d in seen.items() if "threshold" in line}
    # 50/day against 1000: costs through day N-1 are visible on day N
    assert by_threshold == {"50": 11, "75": 16, "90": 19, "100": 21, "120": 25}
    forecast_day = next(d for line, d in seen.items() if "forecast" in line)
    assert forecast_day == 8  # forecast alerts wait until the period is a week old


async def test_a_new_month_re_arms_everything(tmp_path: Path, database_url: str) -> None:
    setup(tmp_path)
    notifier = await _walk(tmp_path, database_url, range(30, 32))
    first = len(_sent(notifier, "CALPHA001"))
    write_costs(tmp_path / "costs-a.csv", MARCH, 62, lambda d: {"prod": Decimal("50")})
    fleet_path = tmp_path / "fleet.yaml"
    rt = runtime(fleet_path, database_url, clock=FrozenClock(at(28, 12, 4)), notifier=notifier)
    await run_cycle(rt.services, rt.fleet, at=at(28, 12, 4), worker="w1")
    await rt.aclose()
    assert any("April 2026" in text for ch, text in notifier.posts[first:] if ch == "CALPHA001")


async def test_restarts_and_repeated_cycles_change_nothing(tmp_path: Path, database_url: str) -> None:
    setup(tmp_path)
    notifier = await _walk(tmp_path, database_url, range(20, 22))
    count = len(notifier.posts)
    for _ in range(3):  # a restart is a new runtime on the same database
        rt = runtime(tmp_path / "fleet.yaml", database_url, clock=FrozenClock(at(21, 18)), notifier=notifier)
        report = await run_cycle(rt.services, rt.fleet, at=at(21, 18), worker="w2")
        await rt.aclose()
        assert report.sent == [] and report.recorded == []
    assert len(notifier.posts) == count


async def test_crossing_several_thresholds_at_once_sends_the_highest(tmp_path: Path, database_url: str) -> None:
    setup(tmp_path, daily="100", days=14)  # the provider reports up to yesterday
    rt = runtime(tmp_path / "fleet.yaml", database_url, clock=FrozenClock(at(15)))
    report = await run_cycle(rt.services, rt.fleet, at=at(15), worker="w1")  # 1400 of 1000 spent
    await rt.aclose()
    lines = [a.headline for a in report.sent if a.channel == "CALPHA001"]
    assert [line for line in lines if "threshold" in line] == [
        "🚨 Alpha has used 140.0% of its budget (120% threshold)".replace("🚨", ":rotating_light:")]


async def test_a_lower_threshold_never_follows_a_higher_one(tmp_path: Path, database_url: str) -> None:
    """After 120 %, a credit takes the spend back to 70 % and new usage over 75 % and 90 % again:
    nothing is said twice, nor anything lower than what the community already heard, and no
    record of the thresholds passed over is needed for that."""
    setup(tmp_path, daily="100", days=14)
    rt = runtime(tmp_path / "fleet.yaml", database_url, clock=FrozenClock(at(15)))
    first = await run_cycle(rt.services, rt.fleet, at=at(15), worker="w1")
    assert [a.alert.threshold for a in first.sent if a.alert and a.channel == "CALPHA001"
            and basis(a) == "actual"] == [120]
    assert {a.key.split(":")[4] for a in first.recorded if a.key.startswith("budget:") and basis(a) == "actual"} == {
        "120"}
    amounts = {MARCH.replace(day=d): Decimal(100) for d in range(1, 15)}
    amounts[MARCH.replace(day=15)] = Decimal(-700)  # a credit: 700 of 1000
    amounts |= {MARCH.replace(day=d): Decimal(120) for d in (16, 17)}  # 940 of 1000
    write_costs(tmp_path / "costs-a.csv", MARCH, 17, lambda d: {"prod": amounts[d]})
    for day in (16, 17, 18):
        report = await run_cycle(rt.services, rt.fleet, at=at(day), worker="w1")
        assert [a.key for a in report.sent if a.key.startswith("budget:")] == [], day
    await rt.aclose()


async def test_a_failed_delivery_is_retried_then_reported_to_engineers(tmp_path: Path, database_url: str) -> None:
    setup(tmp_path)
    notifier = RecordingNotifier()
    notifier.failing.add("CALPHA001")
    rt = runtime(tmp_path / "fleet.yaml", database_url, clock=FrozenClock(at(12)), notifier=notifier)
    await run_cycle(rt.services, rt.fleet, at=at(12), worker="w1")
    assert _sent(notifier, "CALPHA001") == []
    # six hours later, still failing: retried, not given up
    await run_cycle(rt.services, rt.fleet, at=at(12, 18), worker="w1")
    assert not any("could not be delivered" in text for _, text in notifier.posts)
    # the next day each is given up and the engineers hear about it, once
    failed = [a for a in await rt.services.outbox.recent(communities=["alpha"], limit=50) if a.channel == "CALPHA001"]
    await run_cycle(rt.services, rt.fleet, at=at(13, 13), worker="w1")
    await run_cycle(rt.services, rt.fleet, at=at(13, 19), worker="w1")
    reports = [t for ch, t in notifier.posts if "could not be delivered" in t]
    assert len(reports) == len(failed) >= 1 and {ch for ch, t in notifier.posts if t in reports} == {"COPS00001"}
    states = {a.state for a in await rt.services.outbox.recent(communities=["alpha"], limit=50)
              if a.channel == "CALPHA001" and a.id in {f.id for f in failed}}
    assert states == {"failed"}
    await rt.aclose()


async def test_recovered_channel_gets_the_alert_on_the_next_cycle(tmp_path: Path, database_url: str) -> None:
    setup(tmp_path)
    notifier = RecordingNotifier()
    notifier.failing.add("CALPHA001")
    rt = runtime(tmp_path / "fleet.yaml", database_url, clock=FrozenClock(at(12)), notifier=notifier)
    await run_cycle(rt.services, rt.fleet, at=at(12), worker="w1")
    notifier.failing.clear()
    await run_cycle(rt.services, rt.fleet, at=at(12, 18), worker="w1")
    await rt.aclose()
    assert len([line for line in _sent(notifier, "CALPHA001") if "50% threshold" in line]) == 1


async def test_a_crash_after_recording_resends_on_the_next_cycle(tmp_path: Path, database_url: str) -> None:
    from alerts.evaluate import budget_alerts

    setup(tmp_path)
    notifier = RecordingNotifier()
    rt = runtime(tmp_path / "fleet.yaml", database_url, clock=FrozenClock(at(12)), notifier=notifier)
    from alerts.refresh import refresh

    await refresh(rt.services, rt.fleet, at=at(12))
    recorded = await rt.services.outbox.add(await budget_alerts(rt.services, rt.fleet, at=at(12)))
    assert recorded and notifier.posts == []  # the process dies here, before sending
    # ...and one that died holding a claim: the lease runs out before the next cycle
    await rt.services.outbox.claim(worker="dead", at=at(12), lease_seconds=300, limit=1)
    await rt.aclose()
    rt = runtime(tmp_path / "fleet.yaml", database_url, clock=FrozenClock(at(12, 18)), notifier=notifier)
    await run_cycle(rt.services, rt.fleet, at=at(12, 18), worker="w2")
    await rt.aclose()
    assert sorted(ch for ch, _ in notifier.posts) == sorted(a.channel or "" for a in recorded if a.state == "pending")


async def test_a_failing_provider_marks_data_stale_and_never_reports_zero(tmp_path: Path, database_url: str) -> None:
    setup(tmp_path, days=11)
    rt = runtime(tmp_path / "fleet.yaml", database_url, clock=FrozenClock(at(12)))
    await run_cycle(rt.services, rt.fleet, at=at(12), worker="w1")
    (tmp_path / "costs-a.csv").write_text("date,hub,amount,currency\nnot-a-date,prod,5,USD\n")
    report = await run_cycle(rt.services, rt.fleet, at=at(13), worker="w1")
    assert "aws-a" in report.refresh.errors
    from hubbot.costs.summary import summarize

    s = await summarize(rt.services, rt.fleet, "alpha", at=at(13))
    assert s.spend == Decimal("550") and s.stale == ["aws-a"]  # last good figures, flagged
    await rt.aclose()


async def test_spend_spike_alert(tmp_path: Path, database_url: str) -> None:
    path = write_fleet(tmp_path)
    write_costs(tmp_path / "costs-a.csv", MARCH, 20,
                lambda d: {"prod": Decimal("400") if d == date(2026, 3, 19) else Decimal("20")})
    write_costs(tmp_path / "costs-b.csv", MARCH, 20, lambda d: {"lab": Decimal("10")})
    rt = runtime(path, database_url, clock=FrozenClock(at(20)))
    report = await run_cycle(rt.services, rt.fleet, at=at(20), worker="w1")
    again = await run_cycle(rt.services, rt.fleet, at=at(20, 18), worker="w1")
    await rt.aclose()
    spikes = [a for a in report.sent if basis(a) == "spike"]
    assert {a.channel for a in spikes} == {"CALPHA001", "COPS00001"}
    assert "c1/prod" in text_of(spikes[0]) and "$400.00" in text_of(spikes[0])
    assert [a for a in again.sent if basis(a) == "spike"] == []


async def test_weekly_digest(tmp_path: Path, database_url: str) -> None:
    path = setup(tmp_path, beta_digest="    digest: {day: monday, hour: 9}")
    rt = runtime(path, database_url, clock=FrozenClock(at(16, 8)))
    early = await run_cycle(rt.services, rt.fleet, at=at(16, 8), worker="w1")  # Monday 08:00
    on_time = await run_cycle(rt.services, rt.fleet, at=at(16, 10), worker="w1")
    later = await run_cycle(rt.services, rt.fleet, at=at(16, 16), worker="w1")
    await rt.aclose()
    assert [a for a in early.sent if basis(a) == "digest"] == []
    digests = [a for a in on_time.sent if basis(a) == "digest"]
    assert [a.channel for a in digests] == ["CBETA0001"] and "Last 7 days: $70.00" in text_of(digests[0])
    assert [a for a in later.sent if basis(a) == "digest"] == []


async def test_the_weekly_digest_carries_each_hubs_use_as_totals(tmp_path: Path, database_url: str) -> None:
    from datetime import timedelta

    from hubbot.adapters.memory import MemoryHubApi, MemoryUsageMetrics, ServerRun

    path = setup(tmp_path, beta_digest="    digest: {day: monday, hour: 9}")
    when = at(16, 10)
    rt = runtime(path, database_url, clock=FrozenClock(when))
    runs = [ServerRun(user=u, pod=f"jupyter-{u}", start=when - timedelta(days=d, hours=5),
                      end=when - timedelta(days=d), cpu=2, memory=4 * 1024**3) for u, d in (("ana", 1), ("bo", 3))]
    api = MemoryHubApi("c2/lab", users=["ana", "bo", "cy"],
                       activity={"ana": when - timedelta(days=1), "bo": when - timedelta(days=3)})
    services = dataclasses.replace(rt.services, hub_apis={"c2/lab": api},
                                   usage={"c2": MemoryUsageMetrics(runs={"lab": runs})})
    report = await run_cycle(services, rt.fleet, at=when, worker="w1")
    await rt.aclose()
    digest = text_of(next(a for a in report.sent if basis(a) == "digest"))
    assert "Use in the last 7 days:" in digest
    assert "c2/lab: 2 of 3 users active, 20 CPU-hours, 40 memory GiB-hours" in digest  # 2 × 5 h × 2 cores
    assert "ana" not in digest  # the channel sees totals, not people


async def test_time_zone_decides_the_period(tmp_path: Path, database_url: str) -> None:
    path = setup(tmp_path, daily="100", alpha_extra=", timezone: Pacific/Auckland")
    rt = runtime(path, database_url, clock=FrozenClock(datetime(2026, 3, 31, 13, tzinfo=UTC)))
    report = await run_cycle(rt.services, rt.fleet, at=datetime(2026, 3, 31, 13, tzinfo=UTC), worker="w1")
    await rt.aclose()
    # 13:00 UTC on 31 March is already 1 April in Auckland: a new, empty period; what is sent is
    # about March, which has just closed there (its last costs may still arrive)
    sent = [a for a in report.sent if a.community == "alpha" and a.alert and basis(a) == "actual"]
    assert sent and {a.alert.period_start for a in sent if a.alert} == {date(2026, 3, 1)}
    assert all("which has closed" in text_of(a) for a in sent)


def test_two_processes_against_postgres_send_each_alert_once(tmp_path: Path, postgres_url: str) -> None:
    import psycopg

    name = "concurrent_cycle"
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    url = postgres_url.rsplit("/", 1)[0] + f"/{name}"
    path = setup(tmp_path, daily="100")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBBOT_", "SLACK_"))}
    env["HUBBOT_DATABASE_URL"] = url
    subprocess.run([sys.executable, "-m", "hubbot", "db", "upgrade"], env=env, check=True, capture_output=True,
                   cwd=tmp_path)

    def one(_: int) -> list[dict[str, object]]:
        out = subprocess.run([sys.executable, "-m", "hubbot", "alerts", "run", "--config", str(path), "--at",
                              "2026-03-15T12:00:00+00:00", "--json"], env=env, capture_output=True, text=True,
                             timeout=120, check=False, cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(one, range(4)))
    keys = [a["key"] for result in results for a in result]
    assert len(keys) == len(set(keys)) and len(keys) >= 4  # alpha 120% and forecast, to two channels
    assert {k.split("@")[0] for k in keys} >= {"budget:2026-03-01:alpha:actual:120:1000.00USD",
                                              "budget:2026-03-01:alpha:forecast:100:1000.00USD"}
    # four refreshes at once replaced the ledger without double counting (15 days to date × 100)
    command = [sys.executable, "-m", "hubbot", "run", "--config", str(path), "--as", "UENG00001",
               "/hub cost alpha --month 2026-03"]
    shown = subprocess.run(command, env=env, capture_output=True, text=True, check=True, cwd=tmp_path).stdout
    assert "Spend: $1,500.00 in March 2026" in shown


class _Detached:
    async def check(self) -> str | None:
        return "billing is detached from project p1"


async def test_detached_billing_alerts_once_a_day(tmp_path: Path, database_url: str) -> None:
    setup(tmp_path, days=2)
    rt = runtime(tmp_path / "fleet.yaml", database_url, clock=FrozenClock(at(3)), billing={"csv-b": _Detached()})
    first = await run_cycle(rt.services, rt.fleet, at=at(3), worker="w1")
    again = await run_cycle(rt.services, rt.fleet, at=at(3, 18), worker="w1")
    tomorrow = await run_cycle(rt.services, rt.fleet, at=at(4), worker="w1")
    await rt.aclose()
    sent = [(a.channel, a.community) for a in first.sent if basis(a) == "billing"]
    assert sorted(sent) == [("CBETA0001", "beta"), ("COPS00001", "beta")]
    assert "detached" in next(text_of(a) for a in first.sent if basis(a) == "billing")
    assert [a for a in again.sent if basis(a) == "billing"] == []
    assert len([a for a in tomorrow.sent if basis(a) == "billing"]) == 2


class _ForecastingCsv:
    """A cost source with its own forecast, as Cost Explorer has (the real adapter is tested against
    Stubber in test_aws_costs.py); costs come from the CSV file."""

    def __init__(self, path: Path, remaining: Decimal | None) -> None:
        from hubbot.adapters.csv_costs import CsvCostSource

        self._csv = CsvCostSource(path)
        self.remaining = remaining
        self.asked: list[tuple[date, date]] = []

    async def fetch(self, *, start: date, end: date) -> object:
        return await self._csv.fetch(start=start, end=end)

    async def forecast(self, *, start: date, end: date) -> Decimal | None:
        self.asked.append((start, end))
        return self.remaining


@pytest.mark.parametrize("remaining,expect_forecast_alert", [(Decimal("100"), False), (None, True)])
async def test_the_providers_own_forecast_is_used_when_it_has_one(
    tmp_path: Path, database_url: str, remaining: Decimal | None, expect_forecast_alert: bool
) -> None:
    from hubbot.adapters.csv_costs import CsvCostSource
    from hubbot.costs.summary import summarize
    from hubbot.fleet import load_fleet
    from hubbot.main import build
    from hubbot.settings import DatabaseSettings, Settings

    path = setup(tmp_path, days=10)
    source = _ForecastingCsv(tmp_path / "costs-a.csv", remaining)
    rt = build(Settings(database=DatabaseSettings(url=database_url)), load_fleet(path), clock=FrozenClock(at(10)),
               notifier=RecordingNotifier(), mirrors={},
               sources={"aws-a": source, "csv-b": CsvCostSource(tmp_path / "costs-b.csv")})  # type: ignore[dict-item]
    report = await run_cycle(rt.services, rt.fleet, at=at(10), worker="w1")
    assert source.asked == [(date(2026, 3, 10), date(2026, 4, 1))]
    forecasts = [a for a in report.sent if basis(a) == "forecast"]
    assert bool(forecasts) is expect_forecast_alert
    s = await summarize(rt.services, rt.fleet, "alpha", at=at(10))
    # 10 days × 50 spent; AWS says 100 more (today's 50 counted once) — or hubbot's run rate: 50 a day
    assert s.forecast == (Decimal("550") if remaining is not None else Decimal("1550"))
    await rt.aclose()
