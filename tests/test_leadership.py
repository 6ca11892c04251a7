"""Scheduler leadership: at most one replica leads; a dead leader's lock is free at once; a leader
that loses its database steps down; SQLite's one process always leads. The PostgreSQL advisory lock
and its memory twin are held to the same contract; the election is driven step by step."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from hubbot.adapters.memory import LeaderLock, MemoryLeadership
from hubbot.ports import Leadership
from hubbot.scheduling import Election
from hubbot.store import Database
from hubbot.store.leadership import LOCK_KEY, AdvisoryLockLeadership, SoleLeadership, leadership_for
from tests.conftest import new_database


@dataclass
class Group:
    """Replicas of one deployment: make members, kill one, take the database away and back."""

    member: Callable[[], Leadership]
    crash: Callable[[Leadership], None]
    outage: Callable[[bool], None]


@pytest.fixture(params=["memory", "postgresql"])
def group(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Group]:
    if request.param == "memory":
        lock = LeaderLock()

        def crash_memory(member: Leadership) -> None:
            assert isinstance(member, MemoryLeadership)
            member.crash()

        def outage_memory(down: bool) -> None:
            lock.down = down

        yield Group(member=lock.member, crash=crash_memory, outage=outage_memory)
        return
    url = new_database("postgresql", request, tmp_path)
    db = Database(url)
    made: list[AdvisoryLockLeadership] = []
    name = db.url.database
    # administration from another database of the server (a database cannot close itself to connections)
    admin_url = db.url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)

    def member() -> Leadership:
        made.append(AdvisoryLockLeadership(db))
        return made[-1]

    def backends(where: str) -> None:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          f"WHERE datname = '{name}' AND {where}")

    def crash_pg(member: Leadership) -> None:
        # the process died: its socket closes and PostgreSQL ends its session, whatever it held
        assert isinstance(member, AdvisoryLockLeadership)
        backends(f"pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = {LOCK_KEY & 0xFFFFFFFF})")


    def outage_pg(down: bool) -> None:
        # a restart ends every session; while "down", members' new connections are refused
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f"ALTER DATABASE {name} WITH ALLOW_CONNECTIONS {'false' if down else 'true'}")
        backends("true")

    yield Group(member=member, crash=crash_pg, outage=outage_pg)
    for m in made:
        m.engine.dispose()
    db.dispose()


async def test_exactly_one_replica_leads(group: Group) -> None:
    a, b, c = group.member(), group.member(), group.member()
    assert [await a.hold(), await b.hold(), await c.hold()] == [True, False, False]
    assert [await a.hold(), await b.hold(), await c.hold()] == [True, False, False]  # and keeps it


async def test_a_dead_leaders_lock_is_free_for_the_next_to_ask(group: Group) -> None:
    a, b = group.member(), group.member()
    assert await a.hold() and not await b.hold()
    group.crash(a)
    assert await b.hold()
    assert not await a.hold()  # the dead one's session is gone; it must not think it leads


async def test_releasing_hands_leadership_over(group: Group) -> None:
    a, b = group.member(), group.member()
    assert await a.hold()
    await a.release()
    assert await b.hold()


async def test_a_leader_that_loses_its_database_steps_down_and_someone_leads_after(group: Group) -> None:
    a, b = group.member(), group.member()
    assert await a.hold()
    group.outage(True)
    assert not await a.hold() and not await b.hold()
    group.outage(False)
    assert sorted([await a.hold(), await b.hold()]) == [False, True]


async def test_sqlite_has_one_process_and_it_always_leads(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    sole = leadership_for(db)
    assert isinstance(sole, SoleLeadership) and await sole.hold() and await sole.hold()
    await sole.release()
    assert await sole.hold()


class Jobs:
    def __init__(self) -> None:
        self.running = False
        self.starts = 0

    def start(self) -> None:
        assert not self.running
        self.running, self.starts = True, self.starts + 1

    def stop(self) -> None:
        assert self.running
        self.running = False


async def test_the_election_runs_the_jobs_on_one_replica_and_moves_them_when_it_dies() -> None:
    lock = LeaderLock()
    members = [lock.member() for _ in range(3)]
    jobs = [Jobs() for _ in members]
    elections = [Election(m, on_gain=j.start, on_lose=j.stop) for m, j in zip(members, jobs, strict=True)]
    for election in elections:
        await election.step()
    assert [j.running for j in jobs] == [True, False, False]
    members[0].crash()  # SIGKILL: nothing runs its on_lose, but its lock is gone
    for election in elections[1:]:
        await election.step()
    assert [j.running for j in jobs[1:]] == [True, False]
    lock.down = True  # the database restarts: the leader steps down at its next step
    for election in elections[1:]:
        await election.step()
    assert not any(j.running for j in jobs[1:])
    lock.down = False
    for election in elections[1:]:
        await election.step()
    assert [j.running for j in jobs[1:]] == [True, False] and jobs[1].starts == 2
    await elections[1].resign()  # shutdown hands it over
    assert not jobs[1].running
    await elections[2].step()
    assert jobs[2].running


async def test_an_election_that_fails_unexpectedly_steps_down() -> None:
    class Broken:
        async def hold(self) -> bool:
            raise RuntimeError("boom")

        async def release(self) -> None:
            return None

    jobs = Jobs()
    election = Election(Broken(), on_gain=jobs.start, on_lose=jobs.stop)
    assert not await election.step() and not jobs.running
