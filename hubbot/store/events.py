"""Which chat events were already handled, shared by every replica through the database."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from hubbot.store.db import Database
from hubbot.store.models import SeenEvent

KEEP = timedelta(hours=2)  # Slack retries within minutes; keep keys well past that


class SqlEventLedger:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def first_time(self, key: str, *, at: datetime) -> bool:
        return await asyncio.to_thread(self._insert, key[:128], at)

    def _insert(self, key: str, at: datetime) -> bool:
        try:
            with self._db.session() as session, session.begin():
                session.add(SeenEvent(key=key, at=at))
        except IntegrityError:
            return False
        with self._db.session() as session, session.begin():
            session.execute(delete(SeenEvent).where(SeenEvent.at < at - KEEP))
        return True
