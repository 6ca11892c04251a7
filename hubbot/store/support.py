"""Support questions, answers and feedback in SQL."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, Integer, func, insert, select, update

from hubbot.domain import SupportQuestion, SupportStats
from hubbot.store.db import Database, as_utc
from hubbot.store.models import SupportRow


class SqlSupportLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, question: SupportQuestion) -> int:
        def run() -> int:
            with self._db.engine.begin() as conn:
                result = conn.execute(insert(SupportRow).values(
                    at=question.at, user=question.user[:32], channel=question.channel[:32],
                    thread_ts=question.thread_ts, community=question.community, question=question.question[:4000],
                    answered=question.answered, confidence=Decimal(str(round(question.confidence, 4))),
                    citation=question.citation, escalated=question.escalated))
                key = result.inserted_primary_key
                assert key is not None
                return int(key[0])
        return await asyncio.to_thread(run)

    async def get(self, question_id: int) -> SupportQuestion | None:
        def run() -> SupportQuestion | None:
            with self._db.session() as session:
                r = session.get(SupportRow, question_id)
                if r is None:
                    return None
                return SupportQuestion(id=r.id, at=as_utc(r.at), user=r.user, channel=r.channel,
                                       community=r.community, question=r.question, answered=r.answered,
                                       confidence=float(r.confidence), citation=r.citation, thread_ts=r.thread_ts,
                                       helpful=r.helpful, escalated=r.escalated)
        return await asyncio.to_thread(run)

    async def feedback(self, question_id: int, *, helpful: bool) -> bool:
        def run() -> bool:
            with self._db.engine.begin() as conn:
                stmt = (update(SupportRow).where(SupportRow.id == question_id, SupportRow.helpful.is_(None))
                        .values(helpful=helpful))
                return bool(conn.execute(stmt).rowcount)
        return await asyncio.to_thread(run)

    async def escalate(self, question_id: int) -> None:
        def run() -> None:
            with self._db.engine.begin() as conn:
                conn.execute(update(SupportRow).where(SupportRow.id == question_id).values(escalated=True))
        await asyncio.to_thread(run)

    async def stats(self, *, communities: Sequence[str] | None, since: datetime | None) -> SupportStats:
        def run() -> SupportStats:
            where: list[ColumnElement[bool]] = []
            if communities is not None:
                where.append(SupportRow.community.in_(list(communities)))
            if since is not None:
                where.append(SupportRow.at >= since)
            with self._db.engine.connect() as conn:
                row = conn.execute(select(
                    func.count(), func.sum(func.cast(SupportRow.answered, Integer)),
                    func.sum(func.cast(SupportRow.escalated, Integer)),
                    func.sum(func.cast(SupportRow.helpful.is_(True), Integer)),
                    func.sum(func.cast(SupportRow.helpful.is_(False), Integer))).where(*where)).one()
                top = conn.execute(select(func.lower(SupportRow.question), func.count())
                                   .where(*where, SupportRow.escalated.is_(True))
                                   .group_by(func.lower(SupportRow.question))
                                   .order_by(func.count().desc()).limit(5)).all()
            return SupportStats(asked=int(row[0] or 0), answered=int(row[1] or 0), escalated=int(row[2] or 0),
                                helpful=int(row[3] or 0), unhelpful=int(row[4] or 0),
                                top_escalated=[(str(q), int(n)) for q, n in top])
        return await asyncio.to_thread(run)
