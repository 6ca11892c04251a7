"""Several `hubbot serve` replicas on one PostgreSQL, with the Slack Web API stand-in: the load and
fault harness behind `make soak` (benchmarks/soak.py) and its short version in the tests.

Everything runs on loopback: a private PostgreSQL that can be restarted, the stand-in (which can
hold calls in flight, answer 429/500 for a while, and keeps each channel's history with message
metadata), and replica processes started with `python -m hubbot serve`. Waiting is always for a
condition, with a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tests.support import signing
from tests.support.postgres import PostgresServer
from tests.support.server import Served, serve
from tests.support.services import free_port
from tests.support.slack_standin import BOT_TOKEN, SlackStandIn

ROOT = Path(__file__).resolve().parents[2]
ENGINEER = "UENG00001"
USERS = [f"UUSER{n:04d}" for n in range(20)]
ALERTS_CHANNEL = "COPS00001"
REDELIVERIES = 20
REDELIVERY_PAUSE = 0.5


def wait(condition: Callable[[], bool], *, timeout: float, what: str, every: float = 0.05) -> float:
    """Seconds until ``condition`` held; AssertionError naming ``what`` after ``timeout``."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)
    return time.monotonic() - start


def write_fleet(folder: Path, *, communities: int, today: datetime) -> Path:
    """A fleet of ``communities`` communities, each on a provider of its own (daily costs in a CSV
    file) with a monthly budget of 100 USD already 95 % spent: every alert cycle has 3 threshold
    alerts per community to record and send once."""
    folder.mkdir(parents=True, exist_ok=True)
    providers, clusters, members = [], [], []
    days = max(today.day, 1)
    for n in range(communities):
        name = f"c{n:03d}"
        (folder / f"{name}.csv").write_text("date,hub,amount,currency\n" + "".join(
            f"{today:%Y-%m}-{day:02d},hub,{95 / days:.4f},USD\n" for day in range(1, days + 1)))
        providers.append(f"  p{name}: {{kind: csv, path: {name}.csv}}")
        clusters.append(f"  - {{name: k{name}, provider: p{name}, hubs: [{{name: hub, community: {name}, "
                        f"domain: {name}.example.org, tier: staging}}]}}")
        members.append(f"  - {{name: {name}, channel: C{n:08d}, leaders: [ULEAD{n:04d}], "
                       f"budget: {{amount: 100, currency: USD, period: monthly, thresholds: [50, 75, 90]}}}}")
    fleet = folder / "fleet.yaml"
    fleet.write_text("providers:\n" + "\n".join(providers) + "\nclusters:\n" + "\n".join(clusters)
                     + "\ncommunities:\n" + "\n".join(members)
                     + f"\nroles:\n  engineers: [{ENGINEER}]\nalerts:\n  engineers_channel: {ALERTS_CHANNEL}\n")
    return fleet


@dataclass
class Replica:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def lines(self) -> list[str]:
        return self.log.read_text(errors="replace").splitlines() if self.log.exists() else []

    def leads(self) -> bool:
        said = [line for line in self.lines() if "the scheduler leader" in line]
        return bool(said) and "is now" in said[-1]

    def kill(self) -> None:
        """SIGKILL: no shutdown, no goodbye — the database sees the connection drop."""
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Cluster:
    """PostgreSQL, the Slack stand-in and the replicas serving one fleet."""

    base: Path
    postgres: PostgresServer
    standin: SlackStandIn
    slack: Served
    fleet: Path
    replicas: list[Replica] = field(default_factory=list)

    @property
    def database_url(self) -> str:
        return self.postgres.url.rsplit("/", 1)[0] + "/hubbot"

    def env(self) -> dict[str, str]:
        clean = {k: v for k, v in os.environ.items()
                 if not k.startswith(("HUBBOT_", "SLACK_", "AWS_", "GOOGLE_", "KUBECONFIG"))}
        return {**clean, "HUBBOT_DATABASE_URL": self.database_url, "HUBBOT_SLACK_BOT_TOKEN": BOT_TOKEN,
                "HUBBOT_SLACK_SIGNING_SECRET": signing.SECRET, "HUBBOT_SLACK_API_URL": f"{self.slack.url}/api/",
                "HUBBOT_SLACK_RESPONSE_URL_PREFIX": f"{self.slack.url}/respond/", "HUBBOT_ELECTION_SECONDS": "0.5",
                "HUBBOT_OUTBOX_LEASE_SECONDS": "10", "HUBBOT_DELIVERY_SECONDS": "1", "HUBBOT_LOG_LEVEL": "info",
                "PYTHONUNBUFFERED": "1", "HOME": str(self.base)}

    def start(self, name: str) -> Replica:
        port = free_port()
        log = self.base / f"{name}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "hubbot", "serve", "--config", str(self.fleet), "--port", str(port)],
            cwd=self.base, env=self.env(), stdout=subprocess.DEVNULL, stderr=log.open("wb"))
        replica = Replica(name, port, process, log)
        self.replicas.append(replica)

        def ready() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"replica {name} exited: {log.read_text(errors='replace')[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                return httpx.get(f"{replica.url}/readyz", timeout=1).status_code == 200
            return False

        wait(ready, timeout=60, what=f"replica {name} to be ready")
        return replica

    def leader(self, *, timeout: float = 30) -> Replica:
        found: list[Replica] = []

        def one() -> bool:
            found[:] = [r for r in self.replicas if r.process.poll() is None and r.leads()]
            return len(found) == 1
        wait(one, timeout=timeout, what="exactly one scheduler leader")
        return found[0]

    def restart_database(self, *, down: float) -> threading.Thread:
        """Stop PostgreSQL (every session ends), keep it down ``down`` seconds, start it again — in
        the background, while requests keep coming. Join the thread to wait for it."""
        def run() -> None:
            self.postgres.stop("fast")
            threading.Event().wait(down)  # the outage lasts this long
            self.postgres.start()
        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.database_url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
            return list(conn.execute(sql).fetchall())

    def outbox(self) -> dict[str, str]:
        """Every outbox row's key and state."""
        return {str(k): str(s) for k, s in self.query("SELECT key, state FROM alerts")}

    def posted_keys(self) -> Counter[str]:
        """How many messages the stand-in holds for each outbox key (message metadata)."""
        counts: Counter[str] = Counter()
        for messages in list(self.standin.history.values()):
            for m in list(messages):
                key = ((m.get("metadata") or {}).get("event_payload") or {}).get("key")
                if key:
                    counts[str(key)] += 1
        return counts


@contextlib.contextmanager
def cluster(base: Path, *, communities: int = 30) -> Iterator[Cluster]:
    # not under pytest's tmp dir: that is private to root, and the server runs as postgres
    pg_base = Path(tempfile.mkdtemp(prefix="hubbot-pg-"))
    postgres = PostgresServer(pg_base / "pg")
    postgres.start()
    try:
        with psycopg.connect(postgres.url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE hubbot")
        standin = SlackStandIn(bot_token=BOT_TOKEN)
        with serve(standin.app) as slack:
            standin.base_url = slack.url
            fleet = write_fleet(base / "fleet", communities=communities, today=datetime.now(UTC))
            c = Cluster(base=base, postgres=postgres, standin=standin, slack=slack, fleet=fleet)
            try:
                yield c
            finally:
                standin.release()
                for replica in c.replicas:
                    replica.stop()
    finally:
        postgres.stop("immediate")
        shutil.rmtree(pg_base, ignore_errors=True)


# -- load ----------------------------------------------------------------------------------------


@dataclass
class LoadReport:
    sent: int = 0
    answered: int = 0
    lost: list[str] = field(default_factory=list)
    retry_answers: int = 0  # answers (not acks) to Slack's redeliveries: should be none
    try_again: int = 0  # answered with a clear "try again" (the database was away)
    redelivered: int = 0  # event deliveries answered 503 (or not at all) and delivered again
    seconds: float = 0.0
    events: list[str] = field(default_factory=list)  # event ts values sent (each to be answered once)

    @property
    def per_second(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0


def _slash(text: str, user: str, channel: str, response_url: str) -> tuple[bytes, dict[str, str]]:
    body = signing.slash_body(text, user=user, channel=channel, response_url=response_url)
    return body, signing.headers(body, content_type="application/x-www-form-urlencoded")


def _event(n: int, ts: str, *, user: str, channel: str) -> tuple[bytes, dict[str, str]]:
    event = {"type": "app_mention", "user": user, "text": "<@UBOT> whoami", "ts": ts, "channel": channel,
             "event_ts": ts}
    body = signing.event_body(event, event_id=f"EvLoad{n:07d}")
    return body, signing.headers(body, content_type="application/json")


async def load(c: Cluster, *, requests: int, concurrency: int = 50, event_every: int = 10,
               start: int = 0, during: Callable[[int], None] | None = None) -> LoadReport:
    """Signed requests across the live replicas, round robin: slash commands (`/hub whoami`, answered
    in the ack) and, every ``event_every``-th, an @mention event that is also redelivered to another
    replica with ``X-Slack-Retry-Num`` (as Slack does when it thinks an ack was late). ``during`` is
    called with each request number (to inject a fault part-way)."""
    report = LoadReport()
    live = [r for r in c.replicas if r.process.poll() is None]
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(start, start + requests):
        queue.put_nowait(n)
    hook = c.standin.response_url("load")
    began = time.monotonic()

    async def worker(client: httpx.AsyncClient) -> None:
        while True:
            try:
                n = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            if during is not None:
                during(n)
            first = live[n % len(live)]
            user = USERS[n % len(USERS)]
            if n % event_every == event_every - 1:
                ts = f"1800000000.{n:06d}"
                body, headers = _event(n, ts, user=user, channel=f"C{n % 30:08d}")
                report.events.append(ts)
                # Slack delivers it, redelivers it to the other replica (it thought the ack was late),
                # and keeps redelivering any delivery that was not answered 200, on a compressed schedule
                for attempt, replica in enumerate((first, live[(n + 1) % len(live)])):
                    extra = {"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": "http_timeout"} \
                        if attempt else {}
                    for retry in range(REDELIVERIES):
                        target = replica if retry % 2 == 0 else live[(n + retry) % len(live)]
                        try:
                            got = await client.post(f"{target.url}/slack/events", content=body,
                                                    headers={**headers, **extra})
                        except httpx.HTTPError:
                            got = None
                        if got is not None and got.status_code == 200:
                            break
                        report.redelivered += 1
                        await asyncio.sleep(REDELIVERY_PAUSE)  # Slack's schedule, shortened
                    else:
                        report.lost.append(f"event {n} attempt {attempt}: never answered 200")
                report.sent += 1
                continue
            body, headers = _slash("whoami", user, f"C{n % 30:08d}", hook)
            try:
                got = await client.post(f"{first.url}/slack/events", content=body, headers=headers)
            except httpx.HTTPError as exc:
                report.lost.append(f"slash {n}: {exc.__class__.__name__}")
                continue
            report.sent += 1
            text = got.json().get("text", "") if got.status_code == 200 and got.content else ""
            if user in text:
                report.answered += 1
            elif "try again" in text.lower():
                report.try_again += 1
            else:
                report.lost.append(f"slash {n}: HTTP {got.status_code} {text[:120]!r}")

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    report.seconds = time.monotonic() - began
    return report


def event_answers(c: Cluster, events: list[str]) -> Counter[str]:
    """How many replies each event got (replies are posted in the event's thread)."""
    wanted = set(events)
    counts: Counter[str] = Counter()
    for call in c.standin.of("chat.postMessage"):
        thread = str(call.args.get("thread_ts") or "")
        if thread in wanted:
            counts[thread] += 1
    return counts

