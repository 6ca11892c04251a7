"""The audit log in SQL, written in batches off the request path.

What that means for durability: a command's entry is queued when its reply is ready and
written by a background task within :data:`WINDOW` (50 ms), many entries per transaction, so
the ack does not wait for the database. A clean shutdown (SIGTERM, SIGINT: the app's shutdown
calls :meth:`SqlAuditLog.flush`) writes everything queued first, so nothing acknowledged is
lost; a process killed outright (SIGKILL, a crash, the node gone) loses what was queued and not
yet written — normally the last window's entries and a batch in flight, more if the database
was slow or unreachable just then: a failed write keeps its entries for the next attempt (logged)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, insert, select

from hubbot.domain import AuditEntry, Outcome
from hubbot.store.db import Database, as_utc
from hubbot.store.models import AuditRow

log = logging.getLogger("hubbot.audit")


_COLUMNS = ("at", "user", "channel", "transport", "command", "args", "outcome", "community", "hub", "detail",
            "duration_ms", "reference")
WINDOW = 0.05  # seconds an entry may wait to share a transaction with others
BATCH = 500
# Rows per INSERT statement, largest first: a batch goes in as a few multi-row INSERTs of these
# sizes (at most 256 x 12 parameters, within SQLite's and PostgreSQL's limits), so there are only
# a handful of distinct statements for the driver to prepare and cache.
CHUNKS = (256, 64, 16, 4, 1)


class SqlAuditLog:
    """Entries are queued by :meth:`record` and inserted by one background task, many per
    transaction (up to ``window`` seconds apart), so a burst of commands costs one commit.
    :meth:`flush` writes everything queued before it returns."""

    def __init__(self, db: Database, *, window: float = WINDOW) -> None:
        self._db = db
        self._window = window
        # Each INSERT is compiled once (one per size in CHUNKS) and run straight on the driver,
        # many rows per statement: per row, SQLAlchemy's generic parameter handling cost more than
        # SQLite's own insert, and a driver's executemany steps once per row, releasing and taking
        # back the GIL each time — a hand-off that, with the event loop busy answering Slack,
        # cost the loop several times the insert itself.
        table = AuditRow.__table__
        self._statements = {size: self._compile(size) for size in CHUNKS}
        self._at: Callable[[Any], Any] | None = table.c.at.type.bind_processor(db.engine.dialect)
        self._pending: list[AuditEntry] = []
        self._task: asyncio.Task[None] | None = None
        self._now = asyncio.Event()

    async def record(self, entry: AuditEntry) -> None:
        self._pending.append(entry)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        while self._pending:
            if len(self._pending) < BATCH and not self._now.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._now.wait(), self._window)
            batch, self._pending = self._pending, []
            try:
                await asyncio.to_thread(self._insert, batch)
            except Exception:
                # Keep the entries for the next attempt rather than losing them.
                self._pending[:0] = batch
                log.exception("audit write failed; %d entries kept for retry", len(batch))
                return

    async def flush(self) -> None:
        self._now.set()
        try:
            if self._task is not None and not self._task.done():
                await asyncio.shield(self._task)
            if self._pending:
                await self._drain()
        finally:
            self._now.clear()

    def _compile(self, size: int) -> tuple[str, tuple[tuple[int, int], ...] | None]:
        """An INSERT of ``size`` rows and, when the driver's parameters are positional, the (row,
        column) each one takes its value from (else they are named ``<column>_<row>``)."""
        rows: list[dict[str, Any]] = [{c: bindparam(f"{c}_{i}") for c in _COLUMNS} for i in range(size)]
        compiled = insert(AuditRow).values(rows).compile(dialect=self._db.engine.dialect)
        if not (compiled.positional and compiled.positiontup):
            return str(compiled), None
        where = {f"{c}_{i}": (i, k) for i in range(size) for k, c in enumerate(_COLUMNS)}
        return str(compiled), tuple(where[name] for name in compiled.positiontup)

    def _insert(self, batch: list[AuditEntry]) -> None:
        at = self._at
        values = [
            (at(e.at) if at else e.at, e.user, e.channel, e.transport, e.command, e.args, e.outcome.value,
             e.community, e.hub, e.detail, e.duration_ms, e.reference)
            for e in batch
        ]
        with self._db.engine.begin() as conn:
            start = 0
            for size in CHUNKS:
                sql, order = self._statements[size]
                while len(values) - start >= size:
                    chunk = values[start:start + size]
                    start += size
                    if order is not None:
                        conn.exec_driver_sql(sql, tuple(chunk[i][k] for i, k in order))
                    else:
                        conn.exec_driver_sql(sql, {f"{c}_{i}": v for i, row in enumerate(chunk)
                                                   for c, v in zip(_COLUMNS, row, strict=True)})

    async def query(
        self, *, communities: list[str] | None, hub: str | None, limit: int
    ) -> list[AuditEntry]:
        return await asyncio.to_thread(self._select, communities, hub, limit)

    def _select(self, communities: list[str] | None, hub: str | None, limit: int) -> list[AuditEntry]:
        stmt = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        if communities is not None:
            stmt = stmt.where(AuditRow.community.in_(communities))
        if hub is not None:
            stmt = stmt.where(AuditRow.hub == hub)
        with self._db.session() as session:
            return [
                AuditEntry(
                    id=r.id, at=as_utc(r.at), user=r.user, channel=r.channel, transport=r.transport, command=r.command,
                    args=r.args, outcome=Outcome(r.outcome), community=r.community, hub=r.hub, detail=r.detail,
                    duration_ms=r.duration_ms, reference=r.reference,
                )
                for r in session.scalars(stmt)
            ]
