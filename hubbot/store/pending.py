"""Pending confirmations and approvals in SQL; deciding is one conditional UPDATE."""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import insert, select, update

from hubbot.domain import PendingAction
from hubbot.store.db import Database, as_utc
from hubbot.store.models import PendingRow

_FIELDS = ("id", "command", "action", "payload", "summary", "kind", "requested_by", "channel", "community", "hub",
           "created_at", "expires_at", "state", "decided_by", "decided_at")


class SqlPendingActions:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, action: PendingAction) -> None:
        await asyncio.to_thread(self._create, action)

    def _create(self, action: PendingAction) -> None:
        with self._db.engine.begin() as conn:
            conn.execute(insert(PendingRow), [{f: getattr(action, f) for f in _FIELDS}])

    async def get(self, action_id: str) -> PendingAction | None:
        return await asyncio.to_thread(self._get, action_id)

    def _get(self, action_id: str) -> PendingAction | None:
        with self._db.session() as session:
            row = session.scalar(select(PendingRow).where(PendingRow.id == action_id[:32]))
            if row is None:
                return None
            values = {f: getattr(row, f) for f in _FIELDS}
        for key in ("created_at", "expires_at", "decided_at"):
            if values[key] is not None:
                values[key] = as_utc(values[key])
        return PendingAction(**values)

    async def decide(self, action_id: str, *, state: str, by: str, at: datetime) -> bool:
        return await asyncio.to_thread(self._decide, action_id, state, by, at)

    def _decide(self, action_id: str, state: str, by: str, at: datetime) -> bool:
        stmt = (update(PendingRow)
                .where(PendingRow.id == action_id[:32], PendingRow.state == "pending")
                .values(state=state, decided_by=by, decided_at=at))
        with self._db.engine.begin() as conn:
            return conn.execute(stmt).rowcount == 1
