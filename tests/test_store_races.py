"""The store's exactly-once guarantees under overlap that is forced, not hoped for.

Two sessions are interleaved step by step: a hook on the first one's statement runs the second
one's whole operation at the worst moment, or, where the second must block, waits until
PostgreSQL reports it waiting on a lock. Then the outcome is checked: one claim per alert, one
set of ledger rows, one row per alert key.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from hubbot.domain import Alert, Basis, LedgerLine, OutboxKind, OutboxMessage, Post
from hubbot.store import Database, SqlCostLedger, SqlOutbox
from hubbot.store.models import AlertRow, CostRow
from tests.conftest import new_database

AT = datetime(2026, 3, 15, 12, tzinfo=UTC)


def _alert(key: str) -> OutboxMessage:
    alert = Alert(basis=Basis.ACTUAL, threshold=50, period_start=date(2026, 3, 1), period_end=date(2026, 4, 1),
                  spend=Decimal("60"), budget=Decimal("100"), currency="USD")
    return OutboxMessage(key=key, kind=OutboxKind.ALERT, community="alpha", channel="CALPHA001", alert=alert,
                         payload=Post(text="t"), created_at=AT)


@contextmanager
def _before(db: Database, matches: Callable[[str], bool], action: Callable[[], None]) -> Iterator[None]:
    """Run ``action`` (once) just before the first statement on ``db`` that ``matches``."""
    fired = threading.Event()

    def hook(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not fired.is_set() and matches(statement):
            fired.set()
            action()

    event.listen(db.engine, "before_cursor_execute", hook)
    try:
        yield
    finally:
        event.remove(db.engine, "before_cursor_execute", hook)
    assert fired.is_set(), "the interleaving never happened"


def _waiting_on_a_lock(db: Database, backends_before: int) -> Callable[[], bool]:
    def check() -> bool:
        with db.engine.connect() as conn:
            waiting = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                        "AND datname = current_database()")).scalar_one()
        return bool(waiting > backends_before)
    return check


def _until(condition: Callable[[], bool], done: threading.Event, limit: float = 30.0) -> None:
    """Wait until ``condition`` holds or the other session finished (polling the database for
    a state, not sleeping for a time)."""
    deadline = threading.Event()
    timer = threading.Timer(limit, deadline.set)
    timer.start()
    try:
        while not (condition() or done.is_set()):
            if deadline.wait(0.005):
                raise AssertionError("the second session neither blocked nor finished")
    finally:
        timer.cancel()


@pytest.fixture
def pg(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    db = Database(new_database("postgresql", request, tmp_path))
    db.upgrade()
    yield db
    db.dispose()


def test_two_workers_claiming_the_same_alerts_at_the_worst_moment_claim_each_once(pg: Database) -> None:
    outbox, rival = SqlOutbox(pg), SqlOutbox(Database(str(pg.url.render_as_string(hide_password=False))))
    asyncio.run(outbox.add([_alert(f"k{i}") for i in range(5)]))
    theirs: list[Alert] = []

    def rival_claims() -> None:  # between our SELECT of free rows and our UPDATE claiming them
        theirs.extend(asyncio.run(rival.claim(worker="b", at=AT, lease_seconds=300, limit=10)))

    with _before(pg, lambda s: s.lstrip().upper().startswith("UPDATE ALERTS"), rival_claims):
        ours = asyncio.run(outbox.claim(worker="a", at=AT, lease_seconds=300, limit=10))
    assert len(theirs) == 5
    assert ours == []  # every row was taken in between: none is claimed twice


def test_two_ledger_refreshes_at_once_never_double_count(pg: Database) -> None:
    ledger = SqlCostLedger(pg)
    other_db = Database(str(pg.url.render_as_string(hide_password=False)))
    other = SqlCostLedger(other_db)
    days = [date(2026, 3, d) for d in range(1, 11)]
    lines = [LedgerLine(day=d, provider="aws", hub="c/h", community="alpha", service="EC2", amount=Decimal("10"),
                        currency="USD") for d in days]
    asyncio.run(ledger.replace(provider="aws", start=days[0], end=days[-1] + timedelta(days=1), lines=lines, at=AT))
    done = threading.Event()
    before = 0

    def second_refresh() -> None:
        asyncio.run(other.replace(provider="aws", start=days[0], end=days[-1] + timedelta(days=1), lines=lines,
                                  at=AT))
        done.set()

    thread = threading.Thread(target=second_refresh)

    def start_the_other_and_let_it_block() -> None:  # ours has deleted; theirs must now wait for us
        thread.start()
        _until(_waiting_on_a_lock(pg, before), done)

    inserting = f"INSERT INTO {CostRow.__tablename__.upper()}"
    with _before(pg, lambda s: s.lstrip().upper().startswith(inserting), start_the_other_and_let_it_block):
        asyncio.run(ledger.replace(provider="aws", start=days[0], end=days[-1] + timedelta(days=1), lines=lines,
                                   at=AT))
    thread.join(timeout=60)
    other_db.dispose()
    with pg.engine.connect() as conn:
        rows, total = conn.execute(select(func.count(), func.sum(CostRow.amount)).select_from(CostRow)).one()
    assert (rows, Decimal(total)) == (10, Decimal("100"))


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_database_itself_refuses_a_second_row_with_an_alert_key(
        kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    db = Database(new_database(kind, request, tmp_path))
    db.upgrade()
    row = {"key": "budget:2026-03-01:alpha:actual:50@C1", "community": "alpha", "basis": "actual",
           "period_start": date(2026, 3, 1), "period_end": date(2026, 4, 1), "currency": "USD", "text": "t",
           "blocks": "[]", "state": "pending", "created_at": AT, "attempts": 0}
    with db.engine.begin() as conn:
        conn.execute(insert(AlertRow), row)
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(insert(AlertRow), row)  # past the adapter: the constraint, not the code, says no
    db.dispose()
