"""Which deploy jobs a starting or sweeping process may mark interrupted: never a live sibling
replica's (several may share a host), always its own predecessor's (a restarted container may get
the same pid) and those of processes that are gone."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hubbot.adapters.providers import pid_alive, worker_name
from hubbot.deploys.engine import STALE_AFTER, Engine, gone
from hubbot.domain import Job, JobState
from tests.support.memory import dispatcher

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ME = "node-1:4242:aaaa1111"


def job(worker: str, *, beat: datetime = T0, hub: str = "c/h") -> Job:
    return Job(kind="deploy", hub=hub, community="alpha", state=JobState.RUNNING, requested_by="U1", channel="C1",
               created_at=T0 - timedelta(minutes=1), worker=worker, heartbeat_at=beat)


@pytest.mark.parametrize(("worker", "beat", "alive", "expected"), [
    ("node-1:4243:bbbb2222", T0, True, False),       # a live sibling on this host
    ("node-1:4243:bbbb2222", T0, False, True),       # a sibling that died
    ("node-1:4242:cccc3333", T0, True, True),        # this pid, another instance: the previous container
    ("node-1:4242", T0, True, True),                 # named the old way by the previous process
    ("node-2:4243:bbbb2222", T0, False, False),      # another host: only its heartbeat tells
    ("node-2:4243:bbbb2222", T0 - STALE_AFTER - timedelta(seconds=1), True, True),  # ... and it stopped
    (ME, T0, True, False),                           # this very process
    ("node-1:not-a-pid:x", T0, False, False),
])
def test_whose_jobs_are_gone(worker: str, beat: datetime, alive: bool, expected: bool) -> None:
    assert gone(job(worker, beat=beat), worker=ME, alive=lambda _: alive, stale_before=T0 - STALE_AFTER) is expected


def test_this_process_is_named_by_host_pid_and_instance_and_is_alive() -> None:
    host, pid, instance = worker_name().split(":")
    assert host and int(pid) > 0 and len(instance) == 8
    assert pid_alive(int(pid)) and not pid_alive(0)


async def test_a_starting_replica_leaves_its_live_siblings_jobs_alone(fleet_file: Path) -> None:
    d, _ = dispatcher(fleet_file)
    assert d.services.deploys is not None
    ports = dataclasses.replace(d.services.deploys, worker=ME, alive=lambda pid: pid == 4243)
    services = dataclasses.replace(d.services, deploys=ports)
    sibling = await ports.jobs.create(dataclasses.replace(job("x"), hub="c/one", state=JobState.QUEUED))
    dead = await ports.jobs.create(dataclasses.replace(job("x"), hub="c/two", state=JobState.QUEUED))
    assert isinstance(sibling, Job) and isinstance(dead, Job) and sibling.id and dead.id
    now = services.clock.now()
    await ports.jobs.update(sibling.id, state=JobState.RUNNING, worker="node-1:4243:bbbb2222", heartbeat_at=now)
    await ports.jobs.update(dead.id, state=JobState.RUNNING, worker="node-1:4244:dddd4444", heartbeat_at=now)
    ended = await Engine(services, d.fleet).sweep()
    assert [j.hub for j in ended] == ["c/two"]
    assert [j.state for j in await ports.jobs.recent(communities=None, active_only=True, limit=10)] == [
        JobState.RUNNING]
