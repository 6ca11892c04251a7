"""Two `hubbot serve` replicas on one PostgreSQL with the Slack stand-in (the short version of
`make soak`): the scheduler leader is killed mid-send during a Slack outage, requests with Slack's
redeliveries go to both replicas, PostgreSQL restarts under load — nothing is lost or doubled."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.replicas import Cluster, Replica, cluster, event_answers, load, wait


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory, postgres_url: str) -> Iterator[Cluster]:
    del postgres_url  # PostgreSQL must be installed (the fixture fails in CI when it is not)
    with cluster(tmp_path_factory.mktemp("replicas"), communities=10) as c:
        yield c


def test_a_killed_leader_is_replaced_and_every_alert_is_sent_once_through_a_slack_outage(two: Cluster) -> None:
    two.standin.hold("chat.postMessage", after=4)  # the 5th alert will be in flight when the leader dies
    a = two.start("a")
    b = two.start("b")
    assert two.leader() is a
    wait(lambda: two.standin.waiting() >= 1, timeout=60, what="an alert in flight")
    a.kill()
    # Slack rate limits, then fails, for a while; the post in flight meets it too
    outage = time.monotonic() + 4
    two.standin.fail_until("chat.postMessage", 429, until=outage - 2, headers={"Retry-After": "1"})
    two.standin.fail_until("chat.postMessage", 500, until=outage)
    two.standin.release()
    assert two.leader(timeout=30) is b  # (how fast is measured by make soak, not asserted)
    assert _leader_gauge(b) == 1.0
    # a question during the outage: its answer waits in the outbox, and is posted once Slack is back
    during = asyncio.run(load(two, requests=10, event_every=1, start=900_000))
    assert during.lost == []
    wait(lambda: "pending" not in two.outbox().values(), timeout=90, what="every outbox row to be sent")
    sent = {k for k, state in two.outbox().items() if state == "sent"}
    alerts = {k for k in sent if not k.startswith("reply:")}
    assert len(alerts) >= 10  # a budget alert per community at least
    posted = two.posted_keys()
    assert {k: n for k, n in posted.items() if n != 1} == {}  # nothing twice
    assert set(posted) == sent  # nothing lost, nothing posted that is not recorded as sent
    answers = event_answers(two, during.events)
    assert sorted(answers.values()) == [1] * 10


def test_requests_across_both_replicas_with_redeliveries_and_a_database_restart(two: Cluster) -> None:
    if len([r for r in two.replicas if r.process.poll() is None]) < 2:
        two.start("a2")
    restarted: list[threading.Thread] = []

    def restart_database(n: int) -> None:
        if n == 150 and not restarted:
            restarted.append(two.restart_database(down=2))

    report = asyncio.run(load(two, requests=400, start=0, during=restart_database))
    restarted[0].join()
    assert report.lost == [], report.lost[:5]
    assert report.answered + report.try_again == report.sent - len(report.events)
    wait(lambda: len(event_answers(two, report.events)) == len(report.events), timeout=60,
         what="every mention to be answered")
    answers = event_answers(two, report.events)
    assert {ts: n for ts, n in answers.items() if n != 1} == {}
    leader = two.leader()  # a leader again after the restart, and only one says so
    assert sorted(_leader_gauge(r) for r in two.replicas if r.process.poll() is None) == [0.0, 1.0]
    assert leader.process.poll() is None


def _leader_gauge(replica: Replica) -> float:
    text = httpx.get(f"{replica.url}/metrics", timeout=5).text
    (family,) = [f for f in text_string_to_metric_families(text) if f.name == "hubbot_scheduler_leader"]
    return float(family.samples[0].value)
