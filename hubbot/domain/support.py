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
