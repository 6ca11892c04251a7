"""Support questions, answers and feedback in SQL; replies in escalation threads; saved answers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, Integer, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from hubbot.domain import SAVED_REF, SavedAnswer, SupportQuestion, SupportStats, ThreadReply, Verdict
from hubbot.store.db import Database, as_utc
from hubbot.store.models import SavedAnswerRow, SupportReplyRow, SupportRow

MAX_PARAPHRASES = 20


def _question(r: SupportRow) -> SupportQuestion:
    return SupportQuestion(id=r.id, at=as_utc(r.at), user=r.user, channel=r.channel, community=r.community,
                           question=r.question, answered=r.answered, confidence=float(r.confidence),
                           citation=r.citation, thread_ts=r.thread_ts, helpful=r.helpful, escalated=r.escalated,
                           suggested=r.suggested)


def _asked_in(community: str | None) -> ColumnElement[bool]:
    return SupportRow.community.is_(None) if community is None else SupportRow.community == community


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
                    citation=question.citation, escalated=question.escalated, suggested=question.suggested))
                key = result.inserted_primary_key
                assert key is not None
                return int(key[0])
        return await asyncio.to_thread(run)

    async def get(self, question_id: int) -> SupportQuestion | None:
        def run() -> SupportQuestion | None:
            with self._db.session() as session:
                r = session.get(SupportRow, question_id)
                return None if r is None else _question(r)
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
                    func.sum(func.cast(SupportRow.helpful.is_(False), Integer)),
                    func.sum(func.cast(SupportRow.suggested, Integer)),
                    func.sum(func.cast(SupportRow.citation.startswith(SAVED_REF), Integer))).where(*where)).one()
                top = conn.execute(select(func.lower(SupportRow.question), func.count())
                                   .where(*where, SupportRow.escalated.is_(True))
                                   .group_by(func.lower(SupportRow.question))
                                   .order_by(func.count().desc()).limit(5)).all()
            return SupportStats(asked=int(row[0] or 0), answered=int(row[1] or 0), escalated=int(row[2] or 0),
                                helpful=int(row[3] or 0), unhelpful=int(row[4] or 0),
                                suggested=int(row[5] or 0), saved=int(row[6] or 0),
                                top_escalated=[(str(q), int(n)) for q, n in top])
        return await asyncio.to_thread(run)

    async def posted(self, question_id: int, *, channel: str, ts: str) -> None:
        def run() -> None:
            with self._db.engine.begin() as conn:
                conn.execute(update(SupportRow).where(SupportRow.id == question_id)
                             .values(post_channel=channel[:32], post_ts=ts[:32]))
        await asyncio.to_thread(run)

    async def by_post(self, channel: str, ts: str) -> SupportQuestion | None:
        def run() -> SupportQuestion | None:
            with self._db.session() as session:
                r = session.scalars(select(SupportRow).where(SupportRow.post_channel == channel,
                                                             SupportRow.post_ts == ts).limit(1)).first()
                return None if r is None else _question(r)
        return await asyncio.to_thread(run)

    async def add_reply(self, reply: ThreadReply) -> int:
        def run() -> int:
            try:
                with self._db.engine.begin() as conn:
                    key = conn.execute(insert(SupportReplyRow).values(
                        question_id=reply.question_id, user=reply.user[:32], text=reply.text, channel=reply.channel,
                        ts=reply.ts, at=reply.at)).inserted_primary_key
                    assert key is not None
                    return int(key[0])
            except IntegrityError:  # the same message again (Slack redelivers events)
                with self._db.engine.connect() as conn:
                    return int(conn.execute(select(SupportReplyRow.id).where(
                        SupportReplyRow.channel == reply.channel, SupportReplyRow.ts == reply.ts)).scalar_one())
        return await asyncio.to_thread(run)

    async def get_reply(self, reply_id: int) -> ThreadReply | None:
        def run() -> ThreadReply | None:
            with self._db.session() as session:
                r = session.get(SupportReplyRow, reply_id)
                return None if r is None else ThreadReply(
                    id=r.id, question_id=r.question_id, user=r.user, text=r.text, channel=r.channel, ts=r.ts,
                    at=as_utc(r.at), entry_id=r.entry_id)
        return await asyncio.to_thread(run)

    async def reply_saved(self, reply_id: int, *, entry_id: int) -> bool:
        def run() -> bool:
            with self._db.engine.begin() as conn:
                return bool(conn.execute(update(SupportReplyRow).where(
                    SupportReplyRow.id == reply_id, SupportReplyRow.entry_id.is_(None)).values(entry_id=entry_id)
                ).rowcount)
        return await asyncio.to_thread(run)

    async def verdicts(self, *, community: str | None, limit: int = 2000) -> list[Verdict]:
        def run() -> list[Verdict]:
            with self._db.engine.connect() as conn:
                rows = conn.execute(select(SupportRow.question, SupportRow.citation, SupportRow.helpful).where(
                    _asked_in(community), SupportRow.helpful.is_not(None),
                    SupportRow.citation.is_not(None), SupportRow.unlearned.is_(False),
                ).order_by(SupportRow.id.desc()).limit(limit)).all()
            return [Verdict(question=q, ref=str(c), helpful=bool(h)) for q, c, h in rows]
        return await asyncio.to_thread(run)

    async def unlearn(self, *, community: str | None, ref: str | None) -> int:
        def run() -> int:
            where = [_asked_in(community), SupportRow.helpful.is_not(None), SupportRow.citation.is_not(None),
                     SupportRow.unlearned.is_(False)]
            if ref is not None:
                where.append(SupportRow.citation == ref)
            with self._db.engine.begin() as conn:
                return int(conn.execute(update(SupportRow).where(*where).values(unlearned=True)).rowcount)
        return await asyncio.to_thread(run)


def _saved(r: SavedAnswerRow) -> SavedAnswer:
    return SavedAnswer(
        id=r.id, community=r.community, questions=tuple(json.loads(r.questions)), answer=r.answer,
        links=tuple(json.loads(r.links)), sources=tuple((str(p), str(f)) for p, f in json.loads(r.sources)),
        author=r.author, at=as_utc(r.at), question_id=r.question_id, edited_by=r.edited_by,
        edited_at=as_utc(r.edited_at) if r.edited_at else None, retired=r.retired, uses=r.uses)


class SqlSavedAnswers:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, entry: SavedAnswer) -> int:
        def run() -> int:
            with self._db.engine.begin() as conn:
                key = conn.execute(insert(SavedAnswerRow).values(
                    community=entry.community, questions=json.dumps(list(entry.questions)), answer=entry.answer,
                    links=json.dumps(list(entry.links)), sources=json.dumps([list(s) for s in entry.sources]),
                    author=entry.author[:32], at=entry.at, question_id=entry.question_id, retired=entry.retired,
                    uses=entry.uses)).inserted_primary_key
                assert key is not None
                return int(key[0])
        return await asyncio.to_thread(run)

    async def get(self, entry_id: int) -> SavedAnswer | None:
        def run() -> SavedAnswer | None:
            with self._db.session() as session:
                r = session.get(SavedAnswerRow, entry_id)
                return None if r is None else _saved(r)
        return await asyncio.to_thread(run)

    async def list(self, *, communities: Sequence[str | None] | None, retired: bool = False) -> list[SavedAnswer]:
        def run() -> list[SavedAnswer]:
            stmt = select(SavedAnswerRow).order_by(SavedAnswerRow.id)
            if not retired:
                stmt = stmt.where(SavedAnswerRow.retired.is_(False))
            if communities is not None:
                named = [c for c in communities if c is not None]
                either = [SavedAnswerRow.community.in_(named)]
                if None in communities:
                    either.append(SavedAnswerRow.community.is_(None))
                stmt = stmt.where(or_(*either))
            with self._db.session() as session:
                return [_saved(r) for r in session.scalars(stmt)]
        return await asyncio.to_thread(run)

    async def edit(self, entry_id: int, *, answer: str, links: tuple[str, ...],
                   sources: tuple[tuple[str, str], ...], by: str, at: datetime) -> bool:
        def run() -> bool:
            with self._db.engine.begin() as conn:
                return bool(conn.execute(update(SavedAnswerRow).where(SavedAnswerRow.id == entry_id).values(
                    answer=answer, links=json.dumps(list(links)), sources=json.dumps([list(s) for s in sources]),
                    edited_by=by[:32], edited_at=at)).rowcount)
        return await asyncio.to_thread(run)

    async def retire(self, entry_id: int, *, by: str, at: datetime, retired: bool = True) -> bool:
        def run() -> bool:
            with self._db.engine.begin() as conn:
                return bool(conn.execute(update(SavedAnswerRow).where(
                    SavedAnswerRow.id == entry_id, SavedAnswerRow.retired.is_(not retired)).values(
                    retired=retired, edited_by=by[:32], edited_at=at)).rowcount)
        return await asyncio.to_thread(run)

    async def used(self, entry_id: int) -> None:
        def run() -> None:
            with self._db.engine.begin() as conn:
                conn.execute(update(SavedAnswerRow).where(SavedAnswerRow.id == entry_id)
                             .values(uses=SavedAnswerRow.uses + 1))
        await asyncio.to_thread(run)

    async def asked_as(self, entry_id: int, question: str) -> None:
        def run() -> None:
            with self._db.session() as session, session.begin():
                row = session.get(SavedAnswerRow, entry_id, with_for_update=True)
                if row is None:
                    return
                asked = json.loads(row.questions)
                if question.casefold() not in {q.casefold() for q in asked} and len(asked) < MAX_PARAPHRASES:
                    row.questions = json.dumps([*asked, question])
        await asyncio.to_thread(run)
