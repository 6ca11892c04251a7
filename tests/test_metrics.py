"""Metrics at GET /metrics and request ids in the logs, through the real app: signed Slack
requests, the Slack stand-in (with a 429), deploy jobs, an alert cycle, a cloud call to moto."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from alerts import run_cycle
from hubbot.adapters.memory import FrozenClock, RecordingNotifier
from hubbot.domain import Alert, Basis, JobState, OutboxKind, OutboxMessage, Post
from hubbot.logs import JsonFormatter, redactor_for
from hubbot.metrics import OUTBOX_CACHE_SECONDS, Metrics
from hubbot.redact import RedactingFilter
from tests.support import signing
from tests.support.costs import runtime, write_costs, write_fleet
from tests.support.fleet import CHANNEL_A, CHANNEL_OPS, ENGINEER, LEADER_A
from tests.support.harness import Harness, fleet_harness
from tests.support.slack_standin import BOT_TOKEN

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def scrape(bot: Harness, **headers: str) -> Samples:
    resp = bot.http.get(f"{bot.served.url}/metrics", headers=headers)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
    assert BOT_TOKEN not in resp.text and signing.SECRET not in resp.text
    return parse(resp.text)


@pytest.fixture
def bot(tmp_path: Path) -> Iterator[Harness]:
    with fleet_harness(tmp_path) as h:
        yield h


def _mention(text: str, *, ts: str) -> dict[str, object]:
    return {"type": "app_mention", "user": ENGINEER, "text": f"<@UBOT> {text}", "ts": ts, "channel": CHANNEL_OPS,
            "event_ts": ts}


def test_commands_denials_buttons_acks_and_slack_calls_are_counted(bot: Harness) -> None:
    assert bot.slash("help", user=ENGINEER, channel=CHANNEL_OPS).status_code == 200
    assert ":no_entry:" in bot.slash("hubs beta", user=LEADER_A, channel=CHANNEL_A).json()["text"]
    bot.slash("frobnicate sk-secret-looking-text", user=ENGINEER, channel=CHANNEL_OPS)
    bot.click(user=ENGINEER, channel=CHANNEL_OPS, action_id="hubbot:alerts:ack", value="999")
    bot.standin.fail("chat.postMessage", 429, headers={"Retry-After": "3"})
    bot.event(_mention("whoami", ts="1700000500.000100"), event_id="EvMetrics429")
    bot.standin.wait_for("chat.postMessage")
    bot.settle()

    samples = scrape(bot)
    assert value(samples, "hubbot_requests_total", command="help", outcome="ok", transport="slack") == 1
    assert value(samples, "hubbot_requests_total", command="hubs", outcome="denied", transport="slack") == 1
    assert value(samples, "hubbot_denials_total", command="hubs") == 1
    # text that names no command is counted as "unknown", never as what was typed
    assert value(samples, "hubbot_requests_total", command="unknown", outcome="not_found", transport="slack") == 1
    assert not any("frobnicate" in str(labels) for _, labels in samples)
    assert value(samples, "hubbot_requests_total", command="alerts", outcome="not_found", transport="slack") == 1
    assert value(samples, "hubbot_requests_total", command="whoami", outcome="ok", transport="slack") == 1
    assert value(samples, "hubbot_ack_seconds_count", command="help", outcome="ok") == 1
    assert value(samples, "hubbot_ack_seconds_count", command="hubs", outcome="denied") == 1
    assert value(samples, "hubbot_ack_seconds_count", command="button", outcome="deferred") == 1
    assert value(samples, "hubbot_ack_seconds_count", command="event", outcome="deferred") == 1
    assert value(samples, "hubbot_ack_seconds_bucket", command="help", outcome="ok", le="3.0") == 1
    assert value(samples, "hubbot_slack_rate_limited_total", method="chat.postMessage") == 1
    assert value(samples, "hubbot_slack_api_calls_total", method="chat.postMessage", outcome="ok") == 1
    assert value(samples, "hubbot_outbox_depth") == 0
    assert ("process_cpu_seconds_total", frozenset()) in samples
    assert value(samples, "hubbot_scheduler_leader") == 0  # defined here; the scheduler sets it


def test_slack_errors_are_counted_by_their_code(bot: Harness) -> None:
    bot.standin.fail("chat.postMessage", 429, headers={"Retry-After": "1"}, times=10)
    bot.event(_mention("whoami", ts="1700000600.000100"), event_id="EvMetricsGiveUp")
    bot.settle()
    samples = scrape(bot)
    assert value(samples, "hubbot_slack_api_calls_total", method="chat.postMessage", outcome="ratelimited") == 1
    assert value(samples, "hubbot_slack_api_errors_total", method="chat.postMessage", error="ratelimited") == 1
    assert value(samples, "hubbot_slack_rate_limited_total", method="chat.postMessage") == 4  # 1 + 3 retries


def test_outbox_gauges_read_pending_rows_at_scrape_time(bot: Harness) -> None:
    now = bot.runtime.services.clock.now()
    about = Alert(basis=Basis.ACTUAL, period_start=date(2026, 3, 1), period_end=date(2026, 4, 1), currency="USD")
    rows = [OutboxMessage(key=f"k{i}", kind=OutboxKind.ALERT, community="alpha", channel=CHANNEL_A, alert=about,
                          payload=Post(text="t"), created_at=now - timedelta(minutes=10 * i)) for i in (1, 3)]
    bot.served.call(bot.runtime.services.outbox.add(rows))
    samples = scrape(bot)
    assert value(samples, "hubbot_outbox_depth") == 2
    assert 30 * 60 <= value(samples, "hubbot_outbox_oldest_age_seconds") < 31 * 60


async def test_outbox_figures_are_read_at_most_once_per_cache_period() -> None:
    reads: list[int] = []
    clock = [100.0]

    async def summary() -> tuple[int, datetime | None]:
        reads.append(1)
        return len(reads), None

    metrics = Metrics(process=False, monotonic=lambda: clock[0])
    metrics.watch_outbox(summary, now=lambda: datetime.now(UTC))
    await metrics.refresh()
    await metrics.refresh()
    assert len(reads) == 1 and parse(metrics.exposition().decode())[("hubbot_outbox_depth", frozenset())] == 1
    clock[0] += OUTBOX_CACHE_SECONDS
    await metrics.refresh()
    assert len(reads) == 2


def test_the_metrics_token_when_set_is_required(bot: Harness) -> None:
    bot.runtime.services.metrics.scrape_token = "scrape-me"
    assert bot.http.get(f"{bot.served.url}/metrics").status_code == 401
    assert bot.http.get(f"{bot.served.url}/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert scrape(bot, Authorization="Bearer scrape-me")


def test_the_log_line_of_an_unexpected_error_carries_the_reference_the_user_saw(bot: Harness) -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactingFilter(redactor_for(bot.runtime.settings)))
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("hubbot")
    logger.addHandler(handler)
    try:
        text = bot.slash("crash", user=ENGINEER, channel=CHANNEL_OPS).json()["text"]
        bot.settle()
    finally:
        logger.removeHandler(handler)
    reference = text.split("(reference ", 1)[1].split(")", 1)[0]
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    crash = [line for line in lines if line["message"].startswith("unexpected error")]
    assert len(crash) == 1 and crash[0]["request_id"] == reference and reference in crash[0]["message"]
    assert datetime.fromisoformat(crash[0]["ts"]).tzinfo is not None and crash[0]["ts"].endswith("Z")
    assert BOT_TOKEN not in out.getvalue() and signing.SECRET not in out.getvalue()


def test_a_deploy_job_is_counted_when_it_ends(tmp_path: Path) -> None:
    from tests.support.deploy_env import STAGING, Clockwork, deploy_env, finish
    from tests.test_deploys import ready_after_first_poll, start

    with deploy_env(tmp_path) as env:
        for ns in ("staging", "prod", "binder", "extra0", "extra1", "extra2"):
            env.kube.add_deployment(ns, "hub")
            env.kube.add_deployment(ns, "proxy")
        clockwork = Clockwork(FrozenClock())
        clockwork.hook = ready_after_first_poll(env)
        with start(env, clockwork) as bot:
            bot.slash(f"deploy {STAGING}", user=ENGINEER, channel=CHANNEL_A)
            assert finish(bot) == [JobState.SUCCEEDED]
            samples = scrape(bot)
    assert value(samples, "hubbot_deploy_jobs_total", kind="deploy", state="succeeded") == 1
    assert value(samples, "hubbot_deploy_job_seconds_count", kind="deploy", state="succeeded") == 1
    assert value(samples, "hubbot_deploy_jobs_running") == 0
    assert value(samples, "hubbot_requests_total", command="deploy", outcome="ok", transport="slack") == 1


async def test_an_alert_cycle_counts_what_it_recorded_and_delivered(tmp_path: Path, database_url: str) -> None:
    fleet = write_fleet(tmp_path)
    when = datetime(2026, 3, 20, 12, tzinfo=UTC)
    write_costs(tmp_path / "costs-a.csv", date(2026, 3, 1), 19, lambda d: {"prod": Decimal("50")})
    write_costs(tmp_path / "costs-b.csv", date(2026, 3, 1), 19, lambda d: {"lab": Decimal("10")})
    rt = runtime(fleet, database_url, clock=FrozenClock(when), notifier=RecordingNotifier())
    try:
        report = await run_cycle(rt.services, rt.fleet, at=when, worker="w1")
    finally:
        await rt.aclose()
    samples = parse(rt.services.metrics.exposition().decode())
    recorded = sum(v for (name, _), v in samples.items() if name == "hubbot_alerts_recorded_total")
    assert report.recorded and recorded == len(report.recorded)
    assert value(samples, "hubbot_alerts_recorded_total", basis="actual") >= 1
    assert value(samples, "hubbot_alerts_delivered_total", kind="alert") == len(report.sent) > 0


async def test_cloud_calls_through_boto3_are_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    from hubbot.adapters.aws import AwsCostSource
    from hubbot.fleet import AwsProvider
    from tests.support.aws import cost_response, fake_credentials, moto_cost_explorer

    fake_credentials(monkeypatch)
    metrics = Metrics(process=False)

    def calls(outcome: str) -> float:
        return value(parse(metrics.exposition().decode()), "hubbot_cloud_api_calls_total", provider="aws",
                     service="cost-explorer", outcome=outcome)

    before, errors = calls("ok"), calls("error")  # the tally is the process's: other tests add to it
    with moto_cost_explorer() as moto:
        moto.queue(cost_response())
        source = AwsCostSource(provider=AwsProvider(kind="aws", account_id="123456789012", endpoint_url=moto.url))
        await source.fetch(start=date(2024, 3, 1), end=date(2024, 3, 3))
    assert calls("ok") > before and calls("error") == errors
