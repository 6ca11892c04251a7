"""Support ports: the questions asked and the docs that answer them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from hubbot.domain import (
    Answer,
    SavedAnswer,
    SupportQuestion,
    SupportStats,
    ThreadReply,
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

    async def posted(self, question_id: int, *, channel: str, ts: str) -> None:
        """Where the escalated question was posted in the support channel (its thread is where
        the support team answers)."""
        ...

    async def by_post(self, channel: str, ts: str) -> SupportQuestion | None:
        """The escalated question posted as message ``ts`` of ``channel``."""
        ...

    async def add_reply(self, reply: ThreadReply) -> int:
        """Keep a reply in an escalated question's thread (the same message twice is kept once:
        its ID is returned again)."""
        ...

    async def get_reply(self, reply_id: int) -> ThreadReply | None: ...

    async def reply_saved(self, reply_id: int, *, entry_id: int) -> bool:
        """Mark the reply saved as answer ``entry_id``; False if it was saved already."""
        ...

    async def verdicts(self, *, community: str | None, limit: int = 2000) -> list[Verdict]:
        """The newest verdicts on answers given in ``community`` (None: asked outside every
        community) that still count."""
        ...

    async def unlearn(self, *, community: str | None, ref: str | None) -> int:
        """Stop counting the verdicts on section ``ref`` (None: on every section); how many."""
        ...


class SavedAnswers(Protocol):
    """Answers the support team saved from Slack threads, searchable beside the docs."""

    async def add(self, entry: SavedAnswer) -> int: ...

    async def get(self, entry_id: int) -> SavedAnswer | None: ...

    async def list(self, *, communities: Sequence[str | None] | None, retired: bool = False) -> list[SavedAnswer]:
        """Entries of these communities (None inside: entries of no community; None: all), oldest
        first; retired ones only with ``retired``."""
        ...

    async def edit(self, entry_id: int, *, answer: str, links: tuple[str, ...],
                   sources: tuple[tuple[str, str], ...], by: str, at: datetime) -> bool: ...

    async def retire(self, entry_id: int, *, by: str, at: datetime, retired: bool = True) -> bool:
        """Retire (or, with ``retired=False``, restore) an entry; False if it already was."""
        ...

    async def used(self, entry_id: int) -> None:
        """Count that it answered a question."""
        ...

    async def asked_as(self, entry_id: int, question: str) -> None:
        """A way of asking that it answered (the asker said so) joins its questions."""
        ...


class Knowledge(Protocol):
    """A searchable documentation collection (see :mod:`hubbot.support.faq`)."""

    def answer(
        self, question: str, *, verdicts: Sequence[Verdict] = (), saved: Sequence[SavedAnswer] = ()
    ) -> Answer:
        """The best answer, suggestions, or nothing; ``verdicts`` (what askers said of earlier
        answers) nudge sections within a bound; ``saved`` answers are ranked beside the docs (a
        citation ``saved/<id>`` is one of them)."""
        ...

    def url(self, path: str, anchor: str) -> str:
        """Where a cited section is published."""
        ...

    def refresh(self) -> bool:
        """Re-read the docs if files changed; True if it did."""
        ...

    def page_of(self, url: str) -> str | None:
        """The docs page (``path``) published at ``url``, if it is one of these docs."""
        ...

    def fingerprint(self, path: str) -> str | None:
        """A digest of a docs page's text as it is now (None: the page is gone)."""
        ...
