"""Scheduler leadership: which replica runs the scheduled jobs (alert cycle, outbox delivery, job
sweeps, fleet fetches).

On PostgreSQL, the leader is the process holding a session-level advisory lock on a connection of
its own. The lock lives exactly as long as that session: a leader that dies (SIGKILL included)
closes its socket, PostgreSQL ends the session and the lock is free for the next replica that asks.
A leader checks its session on every step; when the session is gone (the database restarted, the
network failed) it steps down at once and asks again later, like everyone else. TCP keepalives
(libpq's) bound how long a leader cut off from the database silently keeps the lock.

Why an advisory lock and not a Kubernetes Lease: PostgreSQL is already every replica's source of
truth (the outbox, confirmations, locks), so leadership fails together with what the scheduled
jobs need anyway, it needs no RBAC or API access, and it works the same wherever hubbot runs.

SQLite serves one replica: that process always leads.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from hubbot.store.db import Database

log = logging.getLogger("hubbot.scheduling")

# One 64-bit key for "the scheduler" (advisory locks are per database, so two fleets sharing a
# PostgreSQL server but not a database elect apart).
LOCK_KEY = int.from_bytes(hashlib.sha256(b"hubbot:scheduler-leader").digest()[:8], "big", signed=True)
# libpq: give up connecting after 5 s; a silent peer is noticed after about 5 + 3 x 2 = 11 s
CONNECT_ARGS: dict[str, Any] = {"connect_timeout": 5, "keepalives": 1, "keepalives_idle": 5,
                                "keepalives_interval": 2, "keepalives_count": 3,
                                "options": "-c statement_timeout=5000"}


class SoleLeadership:
    """SQLite: one process, always the leader."""

    async def hold(self) -> bool:
        return True

    async def release(self) -> None:
        return None


class AdvisoryLockLeadership:
    """PostgreSQL: leadership is a session-level advisory lock on a dedicated connection."""

    def __init__(self, database: Database, *, key: int = LOCK_KEY) -> None:
        self._engine: Engine = create_engine(database.url, poolclass=NullPool, connect_args=CONNECT_ARGS)
        self._key = key
        self._conn: Connection | None = None
        self._lock = asyncio.Lock()

    @property
    def engine(self) -> Engine:
        return self._engine

    async def hold(self) -> bool:
        """Take the lock, or check that this session (and so the lock) is still there."""
        async with self._lock:
            return await asyncio.to_thread(self._hold)

    def _hold(self) -> bool:
        try:
            if self._conn is not None:
                self._conn.execute(text("SELECT 1"))
                self._conn.rollback()
                return True
            conn = self._engine.connect()
            try:
                got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}).scalar())
                conn.commit()  # the lock belongs to the session, not to this transaction
            except SQLAlchemyError:
                conn.close()
                raise
            if got:
                self._conn = conn
            else:
                conn.close()
            return got
        except SQLAlchemyError as exc:
            if self._conn is not None:
                log.warning("scheduler leadership lost: the database session ended (%s)", exc.__class__.__name__)
            self._drop()
            return False

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()
                conn.close()
            except SQLAlchemyError:
                pass

    async def release(self) -> None:
        """Give the lock up (at shutdown), so another replica leads at its next step."""
        async with self._lock:
            await asyncio.to_thread(self._release)

    def _release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
                conn.commit()
                conn.close()
            except SQLAlchemyError:
                pass
        self._engine.dispose()


def leadership_for(database: Database) -> SoleLeadership | AdvisoryLockLeadership:
    if database.url.get_backend_name() == "postgresql":
        return AdvisoryLockLeadership(database)
    return SoleLeadership()
