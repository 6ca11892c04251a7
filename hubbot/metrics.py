"""hubbot's Prometheus metrics, in a registry of each app's own (never the client library's global
one, so a process or a test can build several apps), served at ``GET /metrics``.

Labels hold only names hubbot chose: a command's registry name (``unknown`` for text that names
none), a reply kind, a job kind, a Slack API method, a bounded set of Slack error codes. Never
user text, never a secret. What each metric counts, and where it is recorded:

``hubbot_requests_total{command,outcome,transport}``, ``hubbot_denials_total{command}``
    each command and button run by the dispatcher (outcome: the reply's kind).
``hubbot_ack_seconds{command,outcome}``
    from an HTTP request's receipt to its ack being sent (outcome ``deferred``: acked before the
    answer was known — buttons, events, slow commands).
``hubbot_deploy_jobs_total{kind,state}``, ``hubbot_deploy_job_seconds{kind,state}``, ``hubbot_deploy_jobs_running``
    deploy jobs as they start and end.
``hubbot_alerts_recorded_total{basis}``, ``hubbot_alerts_delivered_total{kind}``, ``hubbot_outbox_failures_total{kind}``
    alert cycles and outbox deliveries.
``hubbot_outbox_depth``, ``hubbot_outbox_oldest_age_seconds``
    pending outbox rows, read at scrape time (at most once per :data:`OUTBOX_CACHE_SECONDS`).
``hubbot_slack_api_calls_total{method,outcome}``, ``hubbot_slack_api_errors_total{method,error}``,
``hubbot_slack_rate_limited_total{method}``
    every Slack Web API call (outcome ok, error or ratelimited) and each 429 answer, retried or not.
``hubbot_cloud_api_calls_total{provider,service,outcome}``
    calls the cloud SDKs send (see :class:`CloudCalls`).
``hubbot_scheduler_leader``, ``hubbot_scheduler_leadership_changes_total``
    1 while this replica runs the scheduled jobs; how often that changed (set by the scheduler).
"""

from __future__ import annotations

import logging
import threading
import time
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

# Slack wants an ack within 3 s; most of hubbot's take a few milliseconds.
ACK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0)
JOB_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600)
OUTBOX_CACHE_SECONDS = 5.0
UNKNOWN = "unknown"
OUTCOMES = frozenset({"ok", "usage", "not_found", "denied", "upstream", "error", "silent"})
# The Slack error codes worth telling apart on a dashboard; any other is counted as "other".
SLACK_ERRORS = frozenset({
    "ratelimited", "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
    "missing_scope", "channel_not_found", "not_in_channel", "is_archived", "msg_too_long", "no_text",
    "invalid_blocks", "message_not_found", "cant_update_message", "user_not_found", "restricted_action",
    "fatal_error", "internal_error", "request_timeout", "service_unavailable", "invalid_arguments",
    "unreachable",
})
CONTENT_TYPE = CONTENT_TYPE_LATEST
log = logging.getLogger("hubbot.metrics")
PendingSummary = Callable[[], Awaitable[tuple[int, datetime | None]]]


class CloudCalls(Collector):
    """Calls sent through the cloud SDKs, by provider, service and outcome. The SDK clients are
    built deep inside the adapters, lazily and in worker threads, so their hooks count into one
    tally per process (:data:`CLOUD_CALLS`), which every app's registry exposes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str, str], int] = {}

    def record(self, provider: str, service: str, outcome: str) -> None:
        key = (provider[:32], service[:48], outcome if outcome in ("ok", "error", "throttled") else "error")
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1

    def collect(self) -> Iterable[Metric]:
        family = CounterMetricFamily("hubbot_cloud_api_calls", "Calls sent to cloud provider APIs",
                                     labels=["provider", "service", "outcome"])
        with self._lock:
            counts = sorted(self._counts.items())
        for labels, value in counts:
            family.add_metric(list(labels), value)
        yield family


CLOUD_CALLS = CloudCalls()


class _AckPath(Collector):
    """``hubbot_requests_total`` and ``hubbot_ack_seconds``, recorded on every request: kept as
    plain counts under one lock and turned into metric families only when scraped (the client
    library's Counter and Histogram cost a few calls and locks each, several microseconds an ack)."""

    _BOUNDS = (*ACK_BUCKETS, float("inf"))
    _LE = (*(repr(float(b)) for b in ACK_BUCKETS), "+Inf")  # as the client library writes them

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, str], list[float]] = {}  # key -> [count, created]
        self._acks: dict[tuple[str, str], list[float]] = {}  # key -> [per bucket..., sum, created]

    def request(self, key: tuple[str, str, str]) -> None:
        with self._lock:
            entry = self._requests.get(key)
            if entry is None:
                self._requests[key] = [1, time.time()]
            else:
                entry[0] += 1

    def ack(self, key: tuple[str, str], seconds: float) -> None:
        bucket = bisect_left(ACK_BUCKETS, seconds)  # the first bound >= seconds, as `le` reads
        with self._lock:
            entry = self._acks.get(key)
            if entry is None:
                entry = self._acks[key] = [0] * len(self._BOUNDS) + [0.0, time.time()]
            entry[bucket] += 1
            entry[-2] += seconds

    def collect(self) -> Iterable[Metric]:
        with self._lock:
            requests = {k: list(v) for k, v in self._requests.items()}
            acks = {k: list(v) for k, v in self._acks.items()}
        family = CounterMetricFamily("hubbot_requests", "Commands and buttons run, by reply kind",
                                     labels=["command", "outcome", "transport"])
        for key, (count, created) in sorted(requests.items()):
            family.add_metric(list(key), count, created=created)
        yield family
        histogram = HistogramMetricFamily("hubbot_ack_seconds", "From an HTTP request's receipt to its ack being sent",
                                          labels=["command", "outcome"])
        for (command, outcome), entry in sorted(acks.items()):
            cumulative, buckets = 0.0, []
            for le, count in zip(self._LE, entry, strict=False):
                cumulative += count
                buckets.append((le, cumulative))
            histogram.add_metric([command, outcome], buckets, entry[-2])
            histogram.samples.append(Sample("hubbot_ack_seconds_created", {"command": command, "outcome": outcome},
                                            entry[-1]))
        yield histogram


class _OutboxGauges(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterable[Metric]:
        depth, oldest = self._metrics.outbox_summary
        yield GaugeMetricFamily("hubbot_outbox_depth", "Outbox messages waiting to be delivered", value=depth)
        age = max(0.0, (self._metrics.now() - oldest).total_seconds()) if oldest is not None else 0.0
        yield GaugeMetricFamily("hubbot_outbox_oldest_age_seconds",
                                "Age of the oldest outbox message waiting to be delivered (0: none)", value=age)


class Metrics:
    """The metrics of one app. ``monotonic`` decides when the outbox figures are read again."""

    def __init__(self, *, process: bool = True, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.outbox_summary: tuple[int, datetime | None] = (0, None)
        self._pending: PendingSummary | None = None
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)
        self._monotonic = monotonic
        self._read_at: float | None = None
        self.scrape_token: str | None = None  # when set, a scrape must send it as a bearer token
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self._ack_path = _AckPath()
        r.register(self._ack_path)
        self.denials = Counter("hubbot_denials", "Commands and buttons refused for lack of permission",
                               ["command"], registry=r)
        self.deploy_jobs = Counter("hubbot_deploy_jobs", "Deploy jobs ended, by kind and final state",
                                   ["kind", "state"], registry=r)
        self.deploy_job_seconds = Histogram("hubbot_deploy_job_seconds", "How long deploy jobs ran",
                                            ["kind", "state"], buckets=JOB_BUCKETS, registry=r)
        self.deploy_jobs_running = Gauge("hubbot_deploy_jobs_running", "Deploy jobs running in this process",
                                         registry=r)
        self.alerts_recorded = Counter("hubbot_alerts_recorded", "Alerts recorded in the outbox, by basis",
                                       ["basis"], registry=r)
        self.alerts_delivered = Counter("hubbot_alerts_delivered", "Outbox messages delivered, by kind",
                                        ["kind"], registry=r)
        self.outbox_failures = Counter("hubbot_outbox_failures", "Outbox deliveries that failed, by kind",
                                       ["kind"], registry=r)
        self.slack_calls = Counter("hubbot_slack_api_calls", "Slack Web API calls, by outcome",
                                   ["method", "outcome"], registry=r)
        self.slack_errors = Counter("hubbot_slack_api_errors", "Slack Web API errors, by error code",
                                    ["method", "error"], registry=r)
        self.slack_rate_limited = Counter("hubbot_slack_rate_limited",
                                          "Slack answers of 429 (each one, whether retried or not)",
                                          ["method"], registry=r)
        self.scheduler_leader = Gauge("hubbot_scheduler_leader", "1 while this replica runs the scheduled jobs",
                                      registry=r)
        self.scheduler_leadership_changes = Counter("hubbot_scheduler_leadership_changes",
                                                    "Times this replica took or gave up running the scheduled jobs",
                                                    registry=r)
        r.register(CLOUD_CALLS)
        r.register(_OutboxGauges(self))
        if process:
            ProcessCollector(registry=r)

    # -- recording -------------------------------------------------------------------------

    def request(self, *, command: str, outcome: str, transport: str) -> None:
        outcome = outcome if outcome in OUTCOMES else "error"
        self._ack_path.request((command, outcome, transport))
        if outcome == "denied":
            self.denials.labels(command).inc()

    def ack(self, *, command: str, outcome: str, seconds: float) -> None:
        self._ack_path.ack((command, outcome), seconds)

    def slack_call(self, *, method: str, error: str | None) -> None:
        """One Slack Web API call as it ended (``error``: Slack's error code, None when ok)."""
        method = method[:64]
        if error is None:
            self.slack_calls.labels(method, "ok").inc()
            return
        self.slack_calls.labels(method, "ratelimited" if error == "ratelimited" else "error").inc()
        self.slack_errors.labels(method, error if error in SLACK_ERRORS else "other").inc()

    def job_ended(self, *, kind: str, state: str, seconds: float) -> None:
        self.deploy_jobs.labels(kind, state).inc()
        self.deploy_job_seconds.labels(kind, state).observe(max(0.0, seconds))

    # -- exposition ------------------------------------------------------------------------

    def watch_outbox(self, pending: PendingSummary, *, now: Callable[[], datetime]) -> None:
        """Where :meth:`refresh` reads the outbox figures from (the outbox port's ``pending_summary``),
        and the clock the oldest message's age is taken by."""
        self._pending, self.now = pending, now

    async def refresh(self) -> None:
        """Read the outbox figures again if the last read is older than :data:`OUTBOX_CACHE_SECONDS`
        (scrapes from several Prometheus servers never add up to more than one query per period)."""
        if self._pending is None:
            return
        now = self._monotonic()
        if self._read_at is not None and now - self._read_at < OUTBOX_CACHE_SECONDS:
            return
        self._read_at = now
        try:
            self.outbox_summary = await self._pending()
        except Exception as exc:  # a scrape still answers while the database is away; readiness says why
            log.warning("could not read the outbox for /metrics: %s", exc.__class__.__name__)

    def exposition(self) -> bytes:
        """The registry in Prometheus text format (:data:`CONTENT_TYPE`)."""
        return generate_latest(self.registry)
