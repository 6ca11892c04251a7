"""Answers from the docs with their citations, and the questions people asked and what they said of the answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class SupportQuestion:
    """A question hubbot answered or escalated, with what people said of the answer."""

    at: datetime
    user: str
    channel: str
    community: str | None
    question: str
    answered: bool
    confidence: float
    citation: str | None = None
    thread_ts: str | None = None
    helpful: bool | None = None
    escalated: bool = False
    id: int | None = None


@dataclass(frozen=True, slots=True)
class SupportStats:
    asked: int
    answered: int
    escalated: int
    helpful: int
    unhelpful: int
    top_escalated: list[tuple[str, int]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Citation:
    path: str
    anchor: str
    score: float
    title: str
    heading: str
    snippet: str = ""  # one line of the section, shown beside a suggestion

    @property
    def ref(self) -> str:
        return f"{self.path}#{self.anchor}"


@dataclass(frozen=True, slots=True)
class Answer:
    question: str
    answered: bool
    confidence: float
    citations: list[Citation] = field(default_factory=list)
    extract: str = ""
    # Not sure enough to answer, not so unsure as to hand over at once: the closest pages are
    # offered as suggestions (``answered`` is False).
    suggested: bool = False

    @property
    def outcome(self) -> str:
        """``answered``, ``suggested`` or ``abstained``."""
        return "answered" if self.answered else "suggested" if self.suggested else "abstained"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What an asker said of an answer: its first citation (``path#anchor``) helped, or they
    asked for a human. Verdicts on similar questions nudge that section up or down."""

    question: str
    ref: str
    helpful: bool
