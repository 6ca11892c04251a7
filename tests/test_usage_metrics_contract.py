"""A cluster's Prometheus: the in-memory twin and hubbot's adapter on a real Prometheus (Debian's
package, filled by promtool with the series a z2jh cluster publishes for the same server runs)
agree on compute per user, home directories and daily active users.

The twin's figures are exact; Prometheus' ``increase`` extrapolates a counter to the edges of
its samples and memory is sampled at a step, so the real figures may differ by a little
(:data:`CLOSE`). Users are joined through the username annotation, not the pod name: ``ana.b``'s
pod name is a slug that could belong to someone else."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from hubbot.adapters.memory import MemoryUsageMetrics, ServerRun
from hubbot.adapters.prometheus import PrometheusMetrics
from hubbot.domain import DailyActive, HomeUse, home_folder
from hubbot.errors import UpstreamError
from hubbot.ports import UsageMetrics
from tests.support.usage_series import openmetrics

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
GIB = 1024**3
CLOSE = 0.03  # relative


def _run(user: str, pod: str, days_ago: float, hours: float, *, cpu: float, gib: float,
         request: float = 1.0) -> ServerRun:
    start = NOW - timedelta(days=days_ago)
    return ServerRun(user=user, pod=pod, start=start, end=start + timedelta(hours=hours), cpu=cpu,
                     memory=int(gib * GIB), cpu_request=request, memory_request=int(2 * request * GIB))


RUNS = [
    _run("ana", "jupyter-ana", 2, 10, cpu=1.0, gib=2),
    _run("ana", "jupyter-ana", 20, 5, cpu=0.5, gib=1),  # in 30 days, not in 7
    _run("ana", "jupyter-ana", 50, 30, cpu=4.0, gib=8),  # older than 30 days
    _run("bo", "jupyter-bo", 4, 6, cpu=2.0, gib=3, request=0.5),
    _run("ana.b@uni.edu", "jupyter-ana-b-uni-edu---1c2f", 1, 3, cpu=1.5, gib=4),
]
HOMES = [HomeUse(home_folder("ana"), 3 * GIB, 10 * GIB), HomeUse(home_folder("ana.b@uni.edu"), GIB // 3, 10 * GIB),
         HomeUse("_shared", 20 * GIB)]
ACTIVE = [DailyActive(date(2026, 11, d), users=d % 4) for d in range(1, 30)]


@dataclass
class Source:
    metrics: UsageMetrics
    exact: bool


@pytest.fixture(params=["memory", "prometheus"])
def source(request: pytest.FixtureRequest) -> Source:
    if request.param == "memory":
        return Source(MemoryUsageMetrics(runs={"prod": RUNS}, homes={"prod": HOMES}, active={"prod": ACTIVE}), True)
    start: Callable[..., object] = request.getfixturevalue("start_prometheus")
    other_hub = openmetrics("staging", [_run("ana", "jupyter-ana", 2, 10, cpu=8.0, gib=16)])
    server = start(openmetrics("prod", RUNS, homes=HOMES, active=ACTIVE, at=NOW), other_hub)
    return Source(PrometheusMetrics(server.url, cluster="c1"), False)  # type: ignore[attr-defined]


def _near(found: float, expected: float, exact: bool) -> bool:
    return found == pytest.approx(expected, rel=1e-9 if exact else CLOSE, abs=1e-6 if exact else 0.02)


@pytest.mark.parametrize("days,expected", [
    (30, {"ana": (10 * 1.0 + 5 * 0.5, 10 * 2 + 5 * 1), "bo": (6 * 2.0, 6 * 3), "ana.b@uni.edu": (3 * 1.5, 3 * 4)}),
    (7, {"ana": (10.0, 20), "bo": (12.0, 18), "ana.b@uni.edu": (4.5, 12)}),
])
def test_compute_used_per_user(source: Source, days: int, expected: dict[str, tuple[float, float]]) -> None:
    found = asyncio.run(source.metrics.compute("prod", end=NOW, days=days))
    assert set(found) == set(expected)
    for user, (cpu_hours, gib_hours) in expected.items():
        assert _near(found[user].cpu_hours, cpu_hours, source.exact), (user, found[user].cpu_hours)
        assert _near(found[user].memory_gib_hours, gib_hours, source.exact), (user, found[user].memory_gib_hours)


def test_compute_requested_per_user(source: Source) -> None:
    found = asyncio.run(source.metrics.compute("prod", end=NOW, days=30, requested=True))
    expected = {"ana": (15 * 1.0, 15 * 2), "bo": (6 * 0.5, 6 * 1), "ana.b@uni.edu": (3.0, 6)}
    for user, (cpu_hours, gib_hours) in expected.items():
        assert _near(found[user].cpu_hours, cpu_hours, source.exact), (user, found[user].cpu_hours)
        assert _near(found[user].memory_gib_hours, gib_hours, source.exact), (user, found[user].memory_gib_hours)


def test_a_namespace_without_series_is_empty_not_an_error(source: Source) -> None:
    assert asyncio.run(source.metrics.compute("nowhere", end=NOW, days=30)) == {}
    assert asyncio.run(source.metrics.homes("nowhere", at=NOW)) == []
    assert asyncio.run(source.metrics.daily_active("nowhere", end=NOW, days=7)) == []


def test_home_directories_by_folder(source: Source) -> None:
    found = asyncio.run(source.metrics.homes("prod", at=NOW))
    assert found == sorted(HOMES, key=lambda h: h.directory)


def test_daily_active_users_of_the_last_whole_days(source: Source) -> None:
    found = asyncio.run(source.metrics.daily_active("prod", end=NOW, days=7))
    assert [(d.day.day, d.users) for d in found] == [(d, d % 4) for d in range(23, 30)]


def test_an_unreachable_prometheus_says_so_without_the_credential() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = PrometheusMetrics(f"http://127.0.0.1:{port}", cluster="c1", auth=("hubbot", "s3cret-pass"), timeout=2)
    with pytest.raises(UpstreamError, match="could not reach c1's Prometheus") as caught:
        asyncio.run(down.compute("prod", end=NOW, days=7))
    assert "s3cret-pass" not in str(caught.value)


def test_basic_auth_is_sent_and_a_refusal_names_the_credential_not_its_value(
        start_prometheus: Callable[..., object]) -> None:
    server = start_prometheus(openmetrics("prod", RUNS, homes=HOMES, at=NOW), basic_auth=("hubbot", "right-pass"))
    url = server.url  # type: ignore[attr-defined]
    allowed = PrometheusMetrics(url, cluster="c1", auth=("hubbot", "right-pass"))
    assert asyncio.run(allowed.homes("prod", at=NOW)) == sorted(HOMES, key=lambda h: h.directory)
    for auth in (("hubbot", "wrong-pass"), None):
        refused = PrometheusMetrics(url, cluster="c1", auth=auth)
        with pytest.raises(UpstreamError, match="refused hubbot's credentials \\(401\\): check the credential named "
                                                "for this cluster in HUBBOT_PROMETHEUS_CREDENTIALS") as caught:
            asyncio.run(refused.compute("prod", end=NOW, days=7))
        assert "wrong-pass" not in str(caught.value) and "right-pass" not in str(caught.value)
