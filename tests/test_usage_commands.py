"""``/hub usage`` through the dispatcher: who sees per-user figures, what a member sees, the chart,
and what is said when Prometheus is missing, down or empty (the figures of the hub's API stay)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from hubbot.adapters.memory import MemoryHubApi, MemoryUsageMetrics, ServerRun
from hubbot.adapters.prometheus import PrometheusMetrics
from hubbot.domain import DailyActive, HomeUse
from hubbot.markup import to_mrkdwn
from hubbot.pipeline.dispatch import Dispatcher
from tests.support.fleet import ENGINEER, LEADER_A, LEADER_B, MEMBER_A
from tests.support.memory import dispatcher, run

HUB = "aws-cluster/prod"
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def _hours(user: str, start: datetime, hours: float, *, cpu: float = 1.0, gib: float = 2.0) -> ServerRun:
    return ServerRun(user=user, pod=f"jupyter-{user}", start=start, end=start + timedelta(hours=hours), cpu=cpu,
                     memory=int(gib * 1024**3), cpu_request=cpu, memory_request=int(gib * 1024**3))


def _bot(fleet_file: Path) -> Dispatcher:
    d, _ = dispatcher(fleet_file)
    now = d.services.clock.now()
    api = MemoryHubApi(HUB, users=["ana", "bo", "cy", "<!channel>"], groups={"students": ["ana", "bo"]},
                       activity={"ana": now - timedelta(hours=2), "bo": now - timedelta(days=3),
                                 "cy": now - timedelta(days=40)}, running=["ana"])
    metrics = MemoryUsageMetrics(
        runs={"prod": [_hours("ana", now - timedelta(days=2), 10), _hours("bo", now - timedelta(days=5), 4, cpu=0.5),
                       _hours("ana", now - timedelta(days=45), 100)]},
        homes={"prod": [HomeUse("ana", 3 * 1024**3, 10 * 1024**3), HomeUse("bo", 512 * 1024**2),
                        HomeUse("_shared", 1024**3)]},
        active={"prod": [DailyActive(now.date() - timedelta(days=n), 2 - n % 2) for n in range(1, 8)]})
    d.services = dataclasses.replace(d.services, hub_apis={**d.services.hub_apis, HUB: api},
                                     usage={**d.services.usage, "aws-cluster": metrics})
    return d


async def test_a_leader_sees_each_users_compute_and_home(fleet_file: Path) -> None:
    reply = await run(_bot(fleet_file), f"usage {HUB}", user=LEADER_A)
    assert reply.ok, reply.text
    assert "4 users · 1 with a server running now · active in the last day 1, week 2, month 2" in reply.text
    # ana: 10 h at 1 core within 30 days (the 100 h run is older); bo: 4 h at half a core
    assert "In the last 30 days: 12.0 CPU-hours, 28.0 memory GiB-hours, 2 users active" in reply.text
    table = reply.text.split("By user:")[1]
    assert table.index("ana") < table.index("bo") < table.index("cy")
    assert "10.0" in table.split("ana")[1].splitlines()[0] and "3 GiB" in table.split("ana")[1].splitlines()[0]
    assert reply.files and reply.files[0].mimetype == "image/png" and reply.files[0].content.startswith(b"\x89PNG")
    assert "Top users of aws-cluster/prod by CPU-hours" in reply.files[0].alt


async def test_a_member_sees_the_hubs_totals_only(fleet_file: Path) -> None:
    reply = await run(_bot(fleet_file), f"usage {HUB}", user=MEMBER_A)
    assert reply.ok, reply.text
    assert "12.0 CPU-hours" in reply.text and "Per-user figures are shown to" in reply.text
    for name in ("ana", "bo", "cy"):
        assert name not in reply.text.replace("channel", "")
    assert reply.files and "daily active users" in reply.files[0].alt.lower()  # not the top users


async def test_by_group_and_a_shorter_period(fleet_file: Path) -> None:
    reply = await run(_bot(fleet_file), f"usage {HUB} --by group --period 7d", user=ENGINEER)
    assert reply.ok, reply.text
    assert "last 7 days" in reply.text
    row = next(line for line in reply.text.splitlines() if line.startswith("students"))
    assert row.split()[1:5] == ["2", "2", "12.0", "28.0"]  # members, active, CPU-h, memory GiB-h


async def test_an_outside_name_is_escaped_before_it_reaches_slack(fleet_file: Path) -> None:
    reply = await run(_bot(fleet_file), f"usage {HUB}", user=ENGINEER)
    assert "<!channel>" in reply.text  # plain text until the transport renders it...
    assert "&lt;!channel&gt;" in to_mrkdwn(reply.text) and "<!channel>" not in to_mrkdwn(reply.text)


async def test_another_communitys_leader_is_refused(fleet_file: Path) -> None:
    reply = await run(_bot(fleet_file), f"usage {HUB}", user=LEADER_B)
    assert reply.kind == "denied"
    assert "ana" not in reply.text


async def test_a_bad_period_says_which_are_accepted(fleet_file: Path) -> None:
    reply = await run(_bot(fleet_file), f"usage {HUB} --period 12d", user=ENGINEER)
    assert reply.kind == "usage" and "7d" in reply.text and "90d" in reply.text


async def test_without_prometheus_the_hubs_own_figures_stay_and_the_fix_is_named(fleet_file: Path) -> None:
    d = _bot(fleet_file)
    d.services = dataclasses.replace(d.services, usage={})
    reply = await run(d, f"usage {HUB}", user=ENGINEER)
    assert reply.ok and "4 users · 1 with a server running now" in reply.text
    assert "cluster aws-cluster has no Prometheus in the fleet config (add `prometheus: {url: ...}`" in reply.text
    assert "CPU-hours" not in reply.text


async def test_a_prometheus_that_is_down_is_said_and_the_rest_still_answers(fleet_file: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    d = _bot(fleet_file)
    d.services = dataclasses.replace(d.services, usage={"aws-cluster": PrometheusMetrics(
        f"http://127.0.0.1:{port}", cluster="aws-cluster", timeout=2)})
    reply = await run(d, f"usage {HUB}", user=ENGINEER)
    assert reply.ok, reply.text
    assert f"could not reach aws-cluster's Prometheus at http://127.0.0.1:{port} (ConnectError)" in reply.text
    assert "compute and home figures are missing" in reply.text
    assert "4 users" in reply.text


async def test_a_prometheus_without_the_hubs_series_is_said(fleet_file: Path) -> None:
    d = _bot(fleet_file)
    d.services = dataclasses.replace(d.services, usage={"aws-cluster": MemoryUsageMetrics()})
    reply = await run(d, f"usage {HUB}", user=ENGINEER)
    assert "Prometheus has no series for namespace prod" in reply.text
    assert "hub.jupyter.org/username pod annotation" in reply.text


async def test_a_hub_without_api_access_says_what_to_set_up(fleet_file: Path) -> None:
    d = _bot(fleet_file)
    d.services = dataclasses.replace(d.services, hub_apis={})
    reply = await run(d, f"usage {HUB}", user=ENGINEER)
    assert reply.kind == "usage" or not reply.ok
    assert "has no API access set up: give the hub `api_token: <name>`" in reply.text


def test_daily_active_users_end_with_the_last_whole_day() -> None:
    import asyncio

    metrics = MemoryUsageMetrics(active={"prod": [DailyActive(date(2026, 11, d), d) for d in range(1, 31)]})
    days = asyncio.run(metrics.daily_active("prod", end=NOW, days=7))
    assert [d.day.day for d in days] == [23, 24, 25, 26, 27, 28, 29]
