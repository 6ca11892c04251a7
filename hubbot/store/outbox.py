"""The outbox in SQL (cost alerts, escalations, tickets): unique keys make "at most once" hold
across processes; claims with a lease make "never lost" hold across crashes. The table keeps its
first name, ``alerts``."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from hubbot.domain import Alert, Basis, DeliveryState, OutboxKind, OutboxMessage, Post, Ticket
from hubbot.store.db import Database, as_utc
from hubbot.store.models import AlertRow

_NO_CURRENCY = ""  # currency of rows that are not cost alerts


def _message(row: AlertRow) -> OutboxMessage:
    """A row as an outbox message. The ``basis`` column holds the alert basis, or the kind of a
    message that is not a cost alert (``escalation``, ``ticket``)."""
    def dec(value: Any) -> Decimal | None:
        return None if value is None else Decimal(value).quantize(Decimal("0.01"))

    kind = OutboxKind(row.basis) if row.basis in _OTHER_KINDS else OutboxKind.ALERT
    payload: Post | Ticket
    if kind is OutboxKind.TICKET:
        body = json.loads(row.text)
        payload = Ticket(subject=body["subject"], description=body["description"], tags=tuple(body["tags"]))
    else:
        payload = Post(text=row.text, blocks=tuple(json.loads(row.blocks)), thread_ts=row.thread_ts)
    alert = None if kind is not OutboxKind.ALERT else Alert(
        basis=Basis(row.basis), period_start=row.period_start, period_end=row.period_end, currency=row.currency,
        threshold=row.threshold, spend=dec(row.spend), budget=dec(row.budget), forecast=dec(row.forecast))
    return OutboxMessage(
        id=row.id, key=row.key, kind=kind, community=row.community, channel=row.channel, payload=payload,
        alert=alert, state=DeliveryState(row.state), created_at=as_utc(row.created_at),
        sent_at=as_utc(row.sent_at) if row.sent_at else None, attempts=row.attempts, last_error=row.last_error,
        acked_by=row.acked_by, acked_at=as_utc(row.acked_at) if row.acked_at else None, muted_until=row.muted_until,
    )


_OTHER_KINDS = frozenset({OutboxKind.ESCALATION.value, OutboxKind.TICKET.value, OutboxKind.ANSWER.value})


def _row(message: OutboxMessage) -> AlertRow:
    alert = message.alert
    day = message.created_at.date()
    if isinstance(message.payload, Ticket):
        t = message.payload
        text = json.dumps({"subject": t.subject, "description": t.description, "tags": list(t.tags)})
        blocks, thread = "[]", None
    else:
        text, blocks = message.payload.text, json.dumps(list(message.payload.blocks))
        thread = message.payload.thread_ts
    return AlertRow(
        key=message.key, community=message.community, channel=message.channel,
        basis=alert.basis.value if alert else message.kind.value, threshold=alert.threshold if alert else None,
        period_start=alert.period_start if alert else day, period_end=alert.period_end if alert else day,
        spend=alert.spend if alert else None, budget=alert.budget if alert else None,
        forecast=alert.forecast if alert else None, currency=alert.currency if alert else _NO_CURRENCY,
        text=text, blocks=blocks, thread_ts=thread, state=message.state.value, created_at=message.created_at,
        attempts=0,
    )


# Built once: constructing these expressions per call cost more than running them.
_DELIVERED = (update(AlertRow).where(AlertRow.id == bindparam("aid"))
              .values(state="sent", sent_at=bindparam("at"), attempts=AlertRow.attempts + 1, last_error=None))
_FAILED = (update(AlertRow).where(AlertRow.id == bindparam("aid"))
           .values(state=bindparam("state"), attempts=AlertRow.attempts + 1, last_error=bindparam("error")))


class SqlOutbox:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, alerts: Sequence[OutboxMessage]) -> list[OutboxMessage]:
        return await asyncio.to_thread(self._add, alerts)

    def _add(self, alerts: Sequence[OutboxMessage]) -> list[OutboxMessage]:
        added: list[OutboxMessage] = []
        for start in range(0, len(alerts), 500):  # bounded transactions and memory
            added += self._add_chunk(alerts[start:start + 500])
        return added

    def _add_chunk(self, alerts: Sequence[OutboxMessage]) -> list[OutboxMessage]:
        try:  # the common case: nobody else recorded these keys, so one transaction does
            with self._db.session() as session, session.begin():
                rows = [_row(a) for a in alerts]
                session.add_all(rows)
                session.flush()
                return [_message(r) for r in rows]
        except IntegrityError:
            pass
        added = []
        for alert in alerts:
            # One transaction each: a key another process recorded first is simply skipped.
            try:
                with self._db.session() as session, session.begin():
                    row = _row(alert)
                    session.add(row)
                    session.flush()
                    added.append(_message(row))
            except IntegrityError:
                continue
        return added

    async def keys(self, *, prefix: str) -> set[str]:
        # LIKE narrows the search (an index on PostgreSQL); SQLite's LIKE ignores the case of ASCII
        # letters, so the exact comparison of the first characters decides.
        stmt = select(AlertRow.key).where(AlertRow.key.startswith(prefix, autoescape=True),
                                          func.substr(AlertRow.key, 1, len(prefix)) == prefix)
        with self._db.engine.connect() as conn:
            return {r[0] for r in await asyncio.to_thread(lambda: conn.execute(stmt).all())}

    async def pending_summary(self) -> tuple[int, datetime | None]:
        stmt = select(func.count(), func.min(AlertRow.created_at)).where(AlertRow.state == "pending")

        def run() -> tuple[int, datetime | None]:
            with self._db.engine.connect() as conn:
                count, oldest = conn.execute(stmt).one()
            return int(count), None if oldest is None else as_utc(oldest)

        return await asyncio.to_thread(run)

    async def claim(
        self, *, worker: str, at: datetime, lease_seconds: int, limit: int, key: str | None = None
    ) -> list[OutboxMessage]:
        return await asyncio.to_thread(self._claim, worker, at, lease_seconds, limit, key)

    def _claim(self, worker: str, at: datetime, lease_seconds: int, limit: int, key: str | None) -> list[OutboxMessage]:
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
                         .values(claimed_at=at, claimed_by=token, claims=AlertRow.claims + 1))
        with self._db.session() as session:
            return [dataclasses.replace(_message(r), uncertain=r.claims - 1 > r.attempts)
                    for r in session.scalars(select(AlertRow).where(AlertRow.claimed_by == token)
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

    async def recent(self, *, communities: Sequence[str] | None, limit: int) -> list[OutboxMessage]:
        stmt = select(AlertRow).where(AlertRow.state != "skipped").order_by(AlertRow.id.desc()).limit(limit)
        if communities is not None:
            stmt = stmt.where(AlertRow.community.in_(list(communities)))
        return await asyncio.to_thread(self._rows, stmt)

    async def get(self, alert_id: int) -> OutboxMessage | None:
        rows = await asyncio.to_thread(self._rows, select(AlertRow).where(AlertRow.id == alert_id))
        return rows[0] if rows else None

    def _rows(self, stmt: Any) -> list[OutboxMessage]:
        with self._db.session() as session:
            return [_message(r) for r in session.scalars(stmt)]

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
