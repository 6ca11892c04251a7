"""Contract tests: the in-memory twins and the SQL store (SQLite and PostgreSQL) behave alike."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect

from hubbot.adapters.memory import MemoryAuditLog, MemoryEventLedger, MemoryPendingActions
from hubbot.domain import AuditEntry, Outcome, PendingAction
from hubbot.ports import AuditLog, EventLedger, PendingActions
from hubbot.store import Database, SqlAuditLog, SqlEventLedger, SqlPendingActions
from tests.conftest import new_database

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[AuditLog, EventLedger]]:
    if request.param == "memory":
        yield MemoryAuditLog(), MemoryEventLedger()
        return
    db = Database(new_database(request.param, request, tmp_path))
    db.upgrade()
    yield SqlAuditLog(db), SqlEventLedger(db)
    db.dispose()


def entry(i: int, *, community: str | None = None, hub: str | None = None) -> AuditEntry:
    return AuditEntry(at=T0 + timedelta(seconds=i), user="U1", channel="C1", transport="slack", command=f"cmd{i}",
                      args=f"cmd{i} x", outcome=Outcome.OK, community=community, hub=hub, duration_ms=i,
                      reference=f"R{i}")


async def test_audit_newest_first_with_limit(stores: tuple[AuditLog, EventLedger]) -> None:
    audit, _ = stores
    for i in range(5):
        await audit.record(entry(i))
    await audit.flush()
    got = await audit.query(communities=None, hub=None, limit=3)
    assert [e.command for e in got] == ["cmd4", "cmd3", "cmd2"]
    assert got[0].outcome is Outcome.OK and got[0].reference == "R4" and got[0].duration_ms == 4
    assert got[0].at == T0 + timedelta(seconds=4)  # timezone-aware, on every backend


async def test_audit_filters_by_community_and_hub(stores: tuple[AuditLog, EventLedger]) -> None:
    audit, _ = stores
    await audit.record(entry(1, community="alpha", hub="c/a"))
    await audit.record(entry(2, community="beta", hub="c/b"))
    await audit.record(entry(3))
    await audit.flush()
    assert [e.command for e in await audit.query(communities=["alpha"], hub=None, limit=10)] == ["cmd1"]
    assert [e.command for e in await audit.query(communities=[], hub=None, limit=10)] == []
    assert [e.command for e in await audit.query(communities=None, hub="c/b", limit=10)] == ["cmd2"]
    assert len(await audit.query(communities=None, hub=None, limit=10)) == 3


async def test_audit_keeps_unicode_and_long_text(stores: tuple[AuditLog, EventLedger]) -> None:
    audit, _ = stores
    e = AuditEntry(at=T0, user="U1", channel="C1", transport="slack", command="ask", args="¿qué? 漢字 🚀" * 50,
                   outcome=Outcome.USAGE)
    await audit.record(e)
    await audit.flush()
    (got,) = await audit.query(communities=None, hub=None, limit=1)
    assert got.args == e.args and got.outcome is Outcome.USAGE


async def test_event_ledger_first_time_only(stores: tuple[AuditLog, EventLedger]) -> None:
    _, events = stores
    assert await events.first_time("slack:Ev1", at=T0) is True
    assert await events.first_time("slack:Ev1", at=T0 + timedelta(seconds=1)) is False
    assert await events.first_time("slack:Ev2", at=T0) is True


async def test_two_replicas_share_the_event_ledger(database_url: str) -> None:
    a, b = Database(database_url), Database(database_url)
    a.upgrade()
    b.upgrade()  # a second start is a no-op
    assert await SqlEventLedger(a).first_time("slack:EvX", at=T0) is True
    assert await SqlEventLedger(b).first_time("slack:EvX", at=T0) is False
    a.dispose()
    b.dispose()


def test_migrations_create_the_schema(database_url: str) -> None:
    db = Database(database_url)
    db.upgrade()
    tables = set(inspect(db.engine).get_table_names())
    assert {"audit_log", "seen_events", "alembic_version"} <= tables
    db.dispose()


def test_unreachable_database_is_a_clear_error() -> None:
    from hubbot.errors import UpstreamError

    db = Database("postgresql://nobody:pw-should-not-show@127.0.0.1:1/none")
    with pytest.raises(UpstreamError) as err:
        db.upgrade()
    assert "pw-should-not-show" not in str(err.value) and "cannot migrate" in str(err.value)


def test_bad_database_url_is_a_user_error() -> None:
    from hubbot.errors import UserError

    with pytest.raises(UserError, match="not a valid database URL"):
        Database("not a url")


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def pending(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PendingActions]:
    if request.param == "memory":
        yield MemoryPendingActions()
        return
    db = Database(new_database(request.param, request, tmp_path))
    db.upgrade()
    yield SqlPendingActions(db)
    db.dispose()


def _pending(i: str) -> PendingAction:
    return PendingAction(id=i, command="change", action="apply", payload='{"x": 1} ünïcode', summary="change it",
                         kind="approve", requested_by="U1", channel="C1", created_at=T0,
                         expires_at=T0 + timedelta(minutes=15), community="alpha", hub="c/h")


async def test_pending_round_trip(pending: PendingActions) -> None:
    await pending.create(_pending("p1"))
    assert await pending.get("p1") == _pending("p1")
    assert await pending.get("p2") is None


async def test_pending_is_decided_once(pending: PendingActions) -> None:
    await pending.create(_pending("p1"))
    assert await pending.decide("p1", state="approved", by="U2", at=T0 + timedelta(minutes=1)) is True
    assert await pending.decide("p1", state="rejected", by="U3", at=T0 + timedelta(minutes=2)) is False
    got = await pending.get("p1")
    assert got is not None and (got.state, got.decided_by, got.decided_at) == (
        "approved", "U2", T0 + timedelta(minutes=1))
    assert await pending.decide("nope", state="approved", by="U2", at=T0) is False
