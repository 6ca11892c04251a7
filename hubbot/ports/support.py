"""Support ports: the questions asked and the docs that answer them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from hubbot.domain import (
    Answer,
    SupportQuestion,
    SupportStats,
    Verdict,
)


class SupportLog(Protocol):
    async def add(self, question: SupportQuestion) -> int: ...

    async def get(self, question_id: int) -> SupportQuestion | None: ...

    async def feedback(self, question_id: int, *, helpful: bool) -> bool:
        """Record the asker's verdict; False if one was recorded already."""
        ...

    async def escalate(self, question_id: int) -> None: ...

    async def stats(self, *, communities: Sequence[str] | None, since: datetime | None) -> SupportStats: ...


class Knowledge(Protocol):
    """A searchable documentation collection (see :mod:`hubbot.support.faq`)."""

    def answer(self, question: str, *, verdicts: Sequence[Verdict] = ()) -> Answer:
        """The best answer, suggestions, or nothing; ``verdicts`` (what askers said of earlier
        answers) nudge sections within a bound."""
        ...

    def url(self, path: str, anchor: str) -> str:
        """Where a cited section is published."""
        ...

    def refresh(self) -> bool:
        """Re-read the docs if files changed; True if it did."""
        ...
