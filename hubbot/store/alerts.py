"""The alert outbox in SQL: unique keys make "at most once" hold across processes; claims with
a lease make "never lost" hold across crashes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError

from hubbot.domain import Alert
from hubbot.store.db import Database, as_utc
from hubbot.store.models import AlertRow

_FIELDS = ("key", "community", "channel", "basis", "threshold", "period_start", "period_end", "spend", "budget",
           "forecast", "currency", "text", "blocks", "state", "created_at")


def _alert(row: AlertRow) -> Alert:
    def dec(value: Any) -> Decimal | None:
        return None if value is None else Decimal(value).quantize(Decimal("0.01"))

    return Alert(
        id=row.id, key=row.key, community=row.community, channel=row.channel, basis=row.basis,
        threshold=row.threshold, period_start=row.period_start, period_end=row.period_end, spend=dec(row.spend),
        budget=dec(row.budget), forecast=dec(row.forecast), currency=row.currency, text=row.text, blocks=row.blocks,
        state=row.state, created_at=as_utc(row.created_at), sent_at=as_utc(row.sent_at) if row.sent_at else None,
        attempts=row.attempts, last_error=row.last_error, acked_by=row.acked_by,
        acked_at=as_utc(row.acked_at) if row.acked_at else None, muted_until=row.muted_until,
    )


# Built once: constructing these expressions per call cost more than running them.
_DELIVERED = (update(AlertRow).where(AlertRow.id == bindparam("aid"))
              .values(state="sent", sent_at=bindparam("at"), attempts=AlertRow.attempts + 1, last_error=None))
_FAILED = (update(AlertRow).where(AlertRow.id == bindparam("aid"))
           .values(state=bindparam("state"), attempts=AlertRow.attempts + 1, last_error=bindparam("error")))


class SqlAlertOutbox:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, alerts: Sequence[Alert]) -> list[Alert]:
        return await asyncio.to_thread(self._add, alerts)

    def _add(self, alerts: Sequence[Alert]) -> list[Alert]:
        added: list[Alert] = []
        for start in range(0, len(alerts), 500):  # bounded transactions and memory
            added += self._add_chunk(alerts[start:start + 500])
        return added

    def _add_chunk(self, alerts: Sequence[Alert]) -> list[Alert]:
        try:  # the common case: nobody else recorded these keys, so one transaction does
            with self._db.session() as session, session.begin():
                rows = [AlertRow(**{f: getattr(a, f) for f in _FIELDS}, attempts=0) for a in alerts]
                session.add_all(rows)
                session.flush()
                return [_alert(r) for r in rows]
        except IntegrityError:
            pass
        added = []
        for alert in alerts:
            # One transaction each: a key another process recorded first is simply skipped.
            try:
                with self._db.session() as session, session.begin():
                    row = AlertRow(**{f: getattr(alert, f) for f in _FIELDS}, attempts=0)
                    session.add(row)
                    session.flush()
                    added.append(_alert(row))
            except IntegrityError:
                continue
        return added

    async def keys(self, *, prefix: str) -> set[str]:
        stmt = select(AlertRow.key).where(AlertRow.key.startswith(prefix, autoescape=True))
        with self._db.engine.connect() as conn:
            return {r[0] for r in await asyncio.to_thread(lambda: conn.execute(stmt).all())}

    async def claim(
        self, *, worker: str, at: datetime, lease_seconds: int, limit: int, key: str | None = None
    ) -> list[Alert]:
        return await asyncio.to_thread(self._claim, worker, at, lease_seconds, limit, key)

    def _claim(self, worker: str, at: datetime, lease_seconds: int, limit: int, key: str | None) -> list[Alert]:
        expired = at - timedelta(seconds=lease_seconds)
        free = or_(AlertRow.claimed_at.is_(None), AlertRow.claimed_at < expired)
        if key is not None:
            free = and_(free, AlertRow.key == key)
        token = f"{worker[:48]}:{uuid.uuid4().hex[:12]}"
        with self._db.engine.begin() as conn:
            ids = list(conn.execute(select(AlertRow.id).where(AlertRow.state == "pending", free)
                                    .order_by(AlertRow.id).limit(limit)).scalars())
            if not ids:
                return []
            # The WHERE is checked again under the row locks: of two processes racing for a row,
            # only one still finds it free, so only one sends it.
            conn.execute(update(AlertRow).where(AlertRow.id.in_(ids), AlertRow.state == "pending", free)
                         .values(claimed_at=at, claimed_by=token))
        with self._db.session() as session:
            return [_alert(r) for r in session.scalars(select(AlertRow).where(AlertRow.claimed_by == token)
                                                       .order_by(AlertRow.id))]

    async def delivered(self, alert_id: int, *, at: datetime) -> None:
        await asyncio.to_thread(self._run, _DELIVERED, {"aid": alert_id, "at": at})

    async def failed(self, alert_id: int, *, at: datetime, error: str, give_up: bool) -> None:
        # The claim stays: the lease keeps this cycle from retrying at once; the next one retries.
        await asyncio.to_thread(self._run, _FAILED, {"aid": alert_id, "state": "failed" if give_up else "pending",
                                                     "error": error[:1000]})

    def _run(self, stmt: Any, params: dict[str, Any]) -> None:
        with self._db.engine.begin() as conn:
            conn.execute(stmt, params)

    async def _update(self, alert_id: int, **values: Any) -> bool:
        def run() -> bool:
            with self._db.engine.begin() as conn:
                return bool(conn.execute(update(AlertRow).where(AlertRow.id == alert_id).values(**values)).rowcount)
        return await asyncio.to_thread(run)

    async def recent(self, *, communities: Sequence[str] | None, limit: int) -> list[Alert]:
        stmt = select(AlertRow).where(AlertRow.state != "skipped").order_by(AlertRow.id.desc()).limit(limit)
        if communities is not None:
            stmt = stmt.where(AlertRow.community.in_(list(communities)))
        return await asyncio.to_thread(self._rows, stmt)

    async def get(self, alert_id: int) -> Alert | None:
        rows = await asyncio.to_thread(self._rows, select(AlertRow).where(AlertRow.id == alert_id))
        return rows[0] if rows else None

    def _rows(self, stmt: Any) -> list[Alert]:
        with self._db.session() as session:
            return [_alert(r) for r in session.scalars(stmt)]

    async def acknowledge(self, alert_id: int, *, by: str, at: datetime) -> bool:
        def run() -> bool:
            with self._db.engine.begin() as conn:
                stmt = (update(AlertRow).where(AlertRow.id == alert_id, AlertRow.acked_by.is_(None))
                        .values(acked_by=by, acked_at=at))
                return bool(conn.execute(stmt).rowcount)
        return await asyncio.to_thread(run)

    async def mute(self, alert_id: int, *, until: date) -> bool:
        return await self._update(alert_id, muted_until=until)

    async def muted(self, *, on: date) -> set[str]:
        stmt = select(AlertRow.community).where(AlertRow.muted_until > on).distinct()
        with self._db.engine.connect() as conn:
            return {r[0] for r in await asyncio.to_thread(lambda: conn.execute(stmt).all())}
