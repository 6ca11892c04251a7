"""The audit log in SQL, written in batches off the request path."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import insert, select

from hubbot.domain import AuditEntry, Outcome
from hubbot.store.db import Database, as_utc
from hubbot.store.models import AuditRow

log = logging.getLogger("hubbot.audit")


_COLUMNS = ("at", "user", "channel", "transport", "command", "args", "outcome", "community", "hub", "detail",
            "duration_ms", "reference")
WINDOW = 0.05  # seconds an entry may wait to share a transaction with others
BATCH = 500


class SqlAuditLog:
    """Entries are queued by :meth:`record` and inserted by one background task, many per
    transaction (up to ``window`` seconds apart), so a burst of commands costs one commit.
    :meth:`flush` writes everything queued before it returns."""

    def __init__(self, db: Database, *, window: float = WINDOW) -> None:
        self._db = db
        self._window = window
        # The INSERT is compiled once and run straight on the driver's executemany: per row,
        # SQLAlchemy's generic parameter handling cost more than SQLite's own insert, and it runs
        # holding the GIL that the event loop answering Slack needs.
        table = AuditRow.__table__
        compiled = insert(AuditRow).compile(dialect=db.engine.dialect, column_keys=list(_COLUMNS))
        self._sql = str(compiled)
        self._order = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
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

    def _insert(self, batch: list[AuditEntry]) -> None:
        at = self._at
        rows: list[Any] = [
            {"at": at(e.at) if at else e.at, "user": e.user, "channel": e.channel, "transport": e.transport,
             "command": e.command, "args": e.args, "outcome": e.outcome.value, "community": e.community, "hub": e.hub,
             "detail": e.detail, "duration_ms": e.duration_ms, "reference": e.reference}
            for e in batch
        ]
        if self._order is not None:
            rows = [tuple(row[key] for key in self._order) for row in rows]
        with self._db.engine.begin() as conn:
            conn.exec_driver_sql(self._sql, rows)

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
