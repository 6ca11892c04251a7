"""Support questions, thread replies and saved answers in memory (held to
:class:`hubbot.store.SqlSupportLog` and :class:`hubbot.store.SqlSavedAnswers` by contract tests)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from hubbot.domain import SAVED_REF, SavedAnswer, SupportQuestion, SupportStats, ThreadReply, Verdict

MAX_PARAPHRASES = 20


class MemorySupportLog:
    def __init__(self) -> None:
        self.questions: dict[int, SupportQuestion] = {}
        self.posts: dict[tuple[str, str], int] = {}
        self.replies: dict[int, ThreadReply] = {}
        self.unlearned: set[int] = set()

    async def add(self, question: SupportQuestion) -> int:
        question_id = len(self.questions) + 1
        # as the SQL columns keep it: cut to their sizes, confidence to four places, no verdict yet
        self.questions[question_id] = dataclasses.replace(
            question, id=question_id, user=question.user[:32], channel=question.channel[:32],
            question=question.question[:4000], confidence=round(question.confidence, 4), helpful=None)
        return question_id

    async def get(self, question_id: int) -> SupportQuestion | None:
        return self.questions.get(question_id)

    async def feedback(self, question_id: int, *, helpful: bool) -> bool:
        q = self.questions.get(question_id)
        if q is None or q.helpful is not None:
            return False
        self.questions[question_id] = dataclasses.replace(q, helpful=helpful)
        return True

    async def escalate(self, question_id: int) -> None:
        if (q := self.questions.get(question_id)) is not None:
            self.questions[question_id] = dataclasses.replace(q, escalated=True)

    async def stats(self, *, communities: Sequence[str] | None, since: datetime | None) -> SupportStats:
        rows = [q for q in self.questions.values()
                if (communities is None or q.community in communities) and (since is None or q.at >= since)]
        # the same question in other case is the same question (SQLite's lower() folds only ASCII)
        escalated = Counter(q.question.lower() for q in rows if q.escalated)
        return SupportStats(asked=len(rows), answered=sum(q.answered for q in rows),
                            escalated=sum(q.escalated for q in rows), helpful=sum(q.helpful is True for q in rows),
                            unhelpful=sum(q.helpful is False for q in rows),
                            suggested=sum(q.suggested for q in rows),
                            saved=sum((q.citation or "").startswith(SAVED_REF) for q in rows),
                            top_escalated=sorted(escalated.items(), key=lambda item: (-item[1], item[0]))[:5])

    async def posted(self, question_id: int, *, channel: str, ts: str) -> None:
        if question_id in self.questions:
            self.posts[(channel[:32], ts[:32])] = question_id

    async def by_post(self, channel: str, ts: str) -> SupportQuestion | None:
        question_id = self.posts.get((channel, ts))
        return None if question_id is None else self.questions.get(question_id)

    async def add_reply(self, reply: ThreadReply) -> int:
        for known in self.replies.values():
            if (known.channel, known.ts) == (reply.channel, reply.ts):
                assert known.id is not None
                return known.id
        reply_id = len(self.replies) + 1
        self.replies[reply_id] = dataclasses.replace(reply, id=reply_id, user=reply.user[:32], entry_id=None)
        return reply_id

    async def get_reply(self, reply_id: int) -> ThreadReply | None:
        return self.replies.get(reply_id)

    async def reply_saved(self, reply_id: int, *, entry_id: int) -> bool:
        reply = self.replies.get(reply_id)
        if reply is None or reply.entry_id is not None:
            return False
        self.replies[reply_id] = dataclasses.replace(reply, entry_id=entry_id)
        return True

    def _judged(self, community: str | None) -> list[SupportQuestion]:
        return [q for q in self.questions.values() if q.community == community and q.helpful is not None
                and q.citation is not None and q.id not in self.unlearned]

    async def verdicts(self, *, community: str | None, limit: int = 2000) -> list[Verdict]:
        newest = sorted(self._judged(community), key=lambda q: -(q.id or 0))[:limit]
        return [Verdict(question=q.question, ref=q.citation or "", helpful=bool(q.helpful)) for q in newest]

    async def unlearn(self, *, community: str | None, ref: str | None) -> int:
        dropped = {q.id for q in self._judged(community) if ref is None or q.citation == ref}
        self.unlearned |= {i for i in dropped if i is not None}
        return len(dropped)


class MemorySavedAnswers:
    def __init__(self) -> None:
        self.entries: dict[int, SavedAnswer] = {}

    async def add(self, entry: SavedAnswer) -> int:
        entry_id = len(self.entries) + 1
        self.entries[entry_id] = dataclasses.replace(entry, id=entry_id, author=entry.author[:32])
        return entry_id

    async def get(self, entry_id: int) -> SavedAnswer | None:
        return self.entries.get(entry_id)

    async def list(self, *, communities: Sequence[str | None] | None, retired: bool = False) -> list[SavedAnswer]:
        return [e for _, e in sorted(self.entries.items()) if (retired or not e.retired)
                and (communities is None or e.community in communities)]

    async def edit(self, entry_id: int, *, answer: str, links: tuple[str, ...],
                   sources: tuple[tuple[str, str], ...], by: str, at: datetime) -> bool:
        entry = self.entries.get(entry_id)
        if entry is None:
            return False
        self.entries[entry_id] = dataclasses.replace(entry, answer=answer, links=links, sources=sources,
                                                     edited_by=by[:32], edited_at=at)
        return True

    async def retire(self, entry_id: int, *, by: str, at: datetime, retired: bool = True) -> bool:
        entry = self.entries.get(entry_id)
        if entry is None or entry.retired == retired:
            return False
        self.entries[entry_id] = dataclasses.replace(entry, retired=retired, edited_by=by[:32], edited_at=at)
        return True

    async def used(self, entry_id: int) -> None:
        if (entry := self.entries.get(entry_id)) is not None:
            self.entries[entry_id] = dataclasses.replace(entry, uses=entry.uses + 1)

    async def asked_as(self, entry_id: int, question: str) -> None:
        entry = self.entries.get(entry_id)
        if entry is None or question.casefold() in {q.casefold() for q in entry.questions} \
                or len(entry.questions) >= MAX_PARAPHRASES:
            return
        self.entries[entry_id] = dataclasses.replace(entry, questions=(*entry.questions, question))
