"""Contract tests for deploy jobs and hub locks: the memory twin, SQLite and PostgreSQL agree."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hubbot.adapters.memory import MemoryJobs
from hubbot.domain import HubLock, Job, JobState
from hubbot.ports import JobStore
from hubbot.store import Database, SqlJobs
from tests.conftest import new_database

T0 = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def jobs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[JobStore]:
    if request.param == "memory":
        yield MemoryJobs()
        return
    db = Database(new_database(request.param, request, tmp_path))
    db.upgrade()
    yield SqlJobs(db)
    db.dispose()


def job(hub: str = "c/h", *, by: str = "U1", at: datetime = T0, community: str = "alpha", **kw: object) -> Job:
    return Job(kind="deploy", hub=hub, community=community, state=JobState.QUEUED, requested_by=by, channel="C1",
               created_at=at, **kw)  # type: ignore[arg-type]


async def test_create_takes_the_hub_lock_and_a_second_job_gets_the_holder(jobs: JobStore) -> None:
    first = await jobs.create(job(by="U1"))
    assert isinstance(first, Job) and first.id is not None
    second = await jobs.create(job(by="U2", at=T0 + timedelta(minutes=3)))
    assert second == HubLock(hub="c/h", job_id=first.id, holder="U1", since=T0)
    other = await jobs.create(job("c/other"))
    assert isinstance(other, Job) and other.id != first.id
    assert len(await jobs.recent(communities=None, active_only=False, limit=10)) == 2


async def test_ending_a_job_frees_the_lock_and_records_the_result(jobs: JobStore) -> None:
    first = await jobs.create(job())
    assert isinstance(first, Job) and first.id is not None
    running = await jobs.update(first.id, state=JobState.RUNNING, stage="upgrade", started_at=T0, worker="h:1")
    assert running.state is JobState.RUNNING and await jobs.lock("c/h") is not None
    ended = await jobs.update(first.id, state=JobState.FAILED, result="helm failed", log="x" * 20_000,
                              finished_at=T0 + timedelta(seconds=40))
    assert ended.state is JobState.FAILED and ended.stage == "upgrade" and len(ended.log) == 16_000
    assert ended.finished_at == T0 + timedelta(seconds=40)
    assert await jobs.lock("c/h") is None
    assert await jobs.last("c/h") == ended
    again = await jobs.create(job(at=T0 + timedelta(minutes=5)))
    assert isinstance(again, Job)


async def test_cancel_only_flags_active_jobs(jobs: JobStore) -> None:
    first = await jobs.create(job())
    assert isinstance(first, Job) and first.id is not None
    assert await jobs.request_cancel(first.id)
    got = await jobs.get(first.id)
    assert got is not None and got.cancel_requested
    await jobs.update(first.id, state=JobState.CANCELLED)
    assert not await jobs.request_cancel(first.id)
    assert not await jobs.request_cancel(999)
    assert await jobs.get(999) is None


async def test_recent_filters_by_community_activity_and_batch(jobs: JobStore) -> None:
    a = await jobs.create(job("c/a", community="alpha", batch="b1"))
    b = await jobs.create(job("c/b", community="beta", batch="b1"))
    c = await jobs.create(job("c/c", community="alpha"))
    assert isinstance(a, Job) and isinstance(b, Job) and isinstance(c, Job) and a.id and b.id
    await jobs.update(a.id, state=JobState.SUCCEEDED)
    assert [j.hub for j in await jobs.recent(communities=["alpha"], active_only=False, limit=10)] == ["c/c", "c/a"]
    assert [j.hub for j in await jobs.recent(communities=None, active_only=True, limit=10)] == ["c/c", "c/b"]
    assert [j.hub for j in await jobs.recent(communities=None, active_only=False, limit=10, batch="b1")] == [
        "c/b", "c/a"]
    assert await jobs.recent(communities=[], active_only=False, limit=10) == []


async def test_orphans_are_jobs_of_dead_processes(jobs: JobStore) -> None:
    mine = await jobs.create(job("c/mine"))
    sibling = await jobs.create(job("c/sibling"))
    remote = await jobs.create(job("c/remote"))
    quiet = await jobs.create(job("c/quiet"))
    assert all(isinstance(j, Job) and j.id for j in (mine, sibling, remote, quiet))
    fresh = T0 + timedelta(minutes=9)
    for j, worker, beat in ((mine, "host-a:10", fresh), (sibling, "host-a:9", fresh),
                            (remote, "host-b:10", fresh), (quiet, "host-b:11", T0)):
        assert isinstance(j, Job) and j.id is not None
        await jobs.update(j.id, state=JobState.RUNNING, worker=worker, heartbeat_at=beat)
    found = await jobs.orphans(worker="host-a:10", stale_before=T0 + timedelta(minutes=8))
    assert sorted(j.hub for j in found) == ["c/quiet", "c/sibling"]


async def test_concurrent_creates_give_the_lock_to_exactly_one(jobs: JobStore) -> None:
    results = await asyncio.gather(*(jobs.create(job(by=f"U{i}")) for i in range(6)))
    winners = [r for r in results if isinstance(r, Job)]
    assert len(winners) == 1
    assert all(isinstance(r, HubLock) and r.job_id == winners[0].id for r in results if r is not winners[0])


async def test_unknown_fields_are_refused(jobs: JobStore) -> None:
    first = await jobs.create(job())
    assert isinstance(first, Job) and first.id is not None
    with pytest.raises(ValueError):
        await jobs.update(first.id, colour="red")
