"""Support questions in memory (held to :class:`hubbot.store.SqlSupportLog` by contract tests)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from hubbot.domain import SupportQuestion, SupportStats


class MemorySupportLog:
    def __init__(self) -> None:
        self.questions: dict[int, SupportQuestion] = {}

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
                            top_escalated=sorted(escalated.items(), key=lambda item: (-item[1], item[0]))[:5])
