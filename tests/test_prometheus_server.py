"""The test Prometheus answers PromQL over samples backfilled at fixed times in the past, as a
production server answers over scraped ones; promtool's complaints reach the test."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.prometheus_server import BackfillError, Binaries, MetricsText, PrometheusServer, start

START = datetime(2026, 11, 2, tzinfo=UTC)
STEP = timedelta(minutes=5)
DAY_OF_STEPS = 288

Starter = Callable[..., PrometheusServer]


def at(step: int) -> float:
    return (START + step * STEP).timestamp()


def query(server: PrometheusServer, promql: str, when: float) -> list[dict[str, Any]]:
    answer = httpx.get(f"{server.url}/api/v1/query", params={"query": promql, "time": when}, timeout=10)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "success" and body["data"]["resultType"] == "vector", body
    return list(body["data"]["result"])


def values(server: PrometheusServer, promql: str, when: float) -> dict[str, float]:
    """The instant vector's values by their ``hub`` label."""
    return {item["metric"].get("hub", ""): float(item["value"][1]) for item in query(server, promql, when)}


def fleet() -> MetricsText:
    """A day of five-minute samples: spawns (a counter; beta's restarts at step 100) and active users."""
    steps = range(DAY_OF_STEPS + 1)
    text = MetricsText()
    text.counter("hubbot_test_spawns", {"hub": "alpha", "cluster": "c1"}, [(START + i * STEP, 10 * i) for i in steps],
                 help="Servers spawned.")
    text.counter("hubbot_test_spawns", {"hub": "beta", "cluster": "c1"},
                 [(START + i * STEP, 5 * (i if i < 100 else i - 100)) for i in steps])
    # Handed over newest first: the text puts them in time order.
    text.gauge("hubbot_test_active_users", {"hub": "alpha", "cluster": "c1"},
               [(START + i * STEP, i % 7) for i in reversed(steps)], help="Users with a running server.")
    text.gauge("hubbot_test_active_users", {"hub": "beta", "cluster": "c1"}, [(START + i * STEP, 3) for i in steps])
    return text


def test_the_text_is_openmetrics_as_promtool_reads_it() -> None:
    text = MetricsText()
    text.gauge("hub_users", {"hub": 'a "b"\\c\nd', "cluster": "x"}, [(START + STEP, 2.5), (START, 1)], help="Line\none")
    text.counter("hub_spawns", {}, [(1793491200.25, 4)])
    assert text.text() == (
        "# HELP hub_users Line\\none\n"
        "# TYPE hub_users gauge\n"
        'hub_users{cluster="x",hub="a \\"b\\"\\\\c\\nd"} 1.0 1793577600\n'
        'hub_users{cluster="x",hub="a \\"b\\"\\\\c\\nd"} 2.5 1793577900\n'
        "# TYPE hub_spawns counter\n"
        "hub_spawns_total 4.0 1793491200.250\n"
        "# EOF\n"
    )


@pytest.mark.parametrize(("build", "message"), [
    (lambda t: t.gauge("g", {}, [(60, 1), (60, 2)]), "two samples at 60"),
    (lambda t: t.counter("g_total", {}, []), "without _total"),
    (lambda t: t.gauge("g", {}, [(datetime(2026, 11, 2), 1)]), "no time zone"),
    (lambda t: t.gauge("g", {"bad-name": "x"}, []), "not a label name"),
    (lambda t: t.gauge("g", {}, []).counter("g", {}, []), "already a gauge"),
])
def test_the_text_refuses_what_promtool_would_drop_or_misread(build: Callable[[MetricsText], object],
                                                              message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build(MetricsText())


def test_instant_and_range_queries_over_backfilled_samples(start_prometheus: Starter) -> None:
    server = start_prometheus(fleet().text())

    assert values(server, "hubbot_test_active_users", at(12)) == {"alpha": 5, "beta": 3}
    # Between samples the last one answers, for as long as the 5 min lookback reaches.
    assert values(server, 'hubbot_test_active_users{hub="alpha"}', at(12) + 299) == {"alpha": 5}
    assert values(server, "hubbot_test_active_users", at(DAY_OF_STEPS) + 299) == {"alpha": 1, "beta": 3}
    assert values(server, "hubbot_test_active_users", at(DAY_OF_STEPS) + 301) == {}
    assert values(server, "hubbot_test_active_users", at(0) - 1) == {}
    assert values(server, "hubbot_test_spawns_total", at(7)) == {"alpha": 70, "beta": 35}
    assert values(server, "hubbot_test_spawns", at(7)) == {}  # a counter's samples carry _total

    answer = httpx.get(f"{server.url}/api/v1/query_range", timeout=10, params={
        "query": 'hubbot_test_active_users{hub="alpha", cluster="c1"}',
        "start": at(10), "end": at(13), "step": "150s"})
    assert answer.status_code == 200, answer.text
    [series] = answer.json()["data"]["result"]
    assert series["metric"] == {"__name__": "hubbot_test_active_users", "hub": "alpha", "cluster": "c1"}
    assert [(stamp, float(value)) for stamp, value in series["values"]] == [
        (at(10), 3), (at(10) + 150, 3), (at(11), 4), (at(11) + 150, 4), (at(12), 5), (at(12) + 150, 5), (at(13), 6)]


def test_rate_and_increase_over_the_backfilled_counter(start_prometheus: Starter) -> None:
    server = start_prometheus(fleet().text())

    # An hour that starts and ends on a sample: no extrapolation, exact numbers.
    assert values(server, "increase(hubbot_test_spawns_total[1h])", at(24)) == {"alpha": 120, "beta": 60}
    assert values(server, "rate(hubbot_test_spawns_total[1h])", at(24)) == {"alpha": 120 / 3600, "beta": 60 / 3600}
    # Beta restarts between steps 99 (495) and 100 (0): 25 before, 30 after.
    assert values(server, 'increase(hubbot_test_spawns_total{hub="beta"}[1h])', at(106)) == {"beta": 55}
    assert values(server, "sum(increase(hubbot_test_spawns_total[1d]))", at(DAY_OF_STEPS)) == {
        "": 10 * DAY_OF_STEPS + 5 * (DAY_OF_STEPS - 1)}
    assert values(server, 'max_over_time(hubbot_test_active_users{hub="alpha"}[1d])', at(DAY_OF_STEPS)) == {
        "alpha": 6}
    # Handed over newest first, every sample still arrived.
    assert values(server, "count_over_time(hubbot_test_active_users[1d])", at(DAY_OF_STEPS)) == {
        "alpha": DAY_OF_STEPS + 1, "beta": DAY_OF_STEPS + 1}


def test_hourly_samples_from_several_texts_over_two_months(start_prometheus: Starter) -> None:
    hours = range(60 * 24)
    first = MetricsText().gauge("hubbot_test_storage_bytes", {"hub": "alpha"},
                                [(START + timedelta(hours=h), 1000 + h) for h in hours]).text()
    second = MetricsText().gauge("hubbot_test_storage_bytes", {"hub": "beta"},
                                 [(START + timedelta(hours=h), 2000 + h) for h in hours]).text()
    server = start_prometheus(first, second, lookback_delta="1h")

    # Two months back from the newest sample, the first hour is still there (retention counts from it).
    half_past = (START + timedelta(minutes=30)).timestamp()
    assert values(server, "hubbot_test_storage_bytes", half_past) == {"alpha": 1000, "beta": 2000}
    last = (START + timedelta(hours=hours[-1])).timestamp()
    assert values(server, "hubbot_test_storage_bytes", last) == {"alpha": 1000 + hours[-1], "beta": 2000 + hours[-1]}
    assert values(server, "count_over_time(hubbot_test_storage_bytes[100d])", last) == {
        "alpha": len(hours), "beta": len(hours)}


def test_the_default_lookback_misses_hourly_samples(start_prometheus: Starter) -> None:
    server = start_prometheus(MetricsText().gauge("g", {}, [(START, 1), (START + timedelta(hours=1), 2)]).text())
    assert values(server, "g", (START + timedelta(minutes=4)).timestamp()) == {"": 1}
    assert values(server, "g", (START + timedelta(minutes=30)).timestamp()) == {}


def test_label_values_arrive_as_written(start_prometheus: Starter) -> None:
    hostile = 'a "b" \\c\nd, é'
    server = start_prometheus(MetricsText().gauge("g", {"hub": hostile}, [(START, 1)]).text())
    [item] = query(server, "g", at(0))
    assert item["metric"] == {"__name__": "g", "hub": hostile}


def test_promtools_complaint_reaches_the_test(prometheus_binaries: Binaries, tmp_path: Path) -> None:
    without_eof = fleet().text().removesuffix("# EOF\n")
    with pytest.raises(BackfillError, match="data does not end with # EOF"):
        start(tmp_path / "a", without_eof, bins=prometheus_binaries)
    spaced = '# TYPE g gauge\ng{a="1", b="2"} 1 1793491200\n# EOF\n'
    with pytest.raises(BackfillError, match='expected label name, got "INVALID"'):
        start(tmp_path / "b", spaced, bins=prometheus_binaries)
    assert not (tmp_path / "b" / "prometheus.log").exists()  # no server was started
