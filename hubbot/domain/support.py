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
    suggested: bool = False  # close pages were offered instead of an answer
    id: int | None = None


@dataclass(frozen=True, slots=True)
class SupportStats:
    asked: int
    answered: int
    escalated: int
    helpful: int
    unhelpful: int
    suggested: int = 0
    saved: int = 0  # questions a human's saved answer answered
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


# Saved answers are searched beside the docs as pages ``saved/<id>``; a SupportQuestion.citation
# of ``saved/<id>#`` was answered from one.
SAVED_REF = "saved/"


def escalation_key(question_id: int, channel: str) -> str:
    """The outbox key of an escalated question's post in a support channel."""
    return f"support:{question_id}@{channel}"


def escalated_question(key: str) -> int | None:
    """The question an outbox key posts to the support channel, if it is such a key."""
    head, _, rest = key.partition(":")
    number = rest.partition("@")[0]
    return int(number) if head == "support" and number.isdigit() else None


@dataclass(frozen=True, slots=True)
class ThreadReply:
    """Someone's reply in the thread of an escalated question's post in the support channel:
    the answer hubbot offers to save."""

    question_id: int
    user: str
    text: str
    channel: str
    ts: str
    at: datetime
    entry_id: int | None = None  # the saved answer it became
    id: int | None = None


@dataclass(frozen=True, slots=True)
class SavedAnswer:
    """A human's answer, kept to answer the next person who asks the same thing.

    ``questions`` starts with the question as first asked; later ways of asking it are added
    when they were answered by it. ``sources`` are the docs pages its links point to, each with
    the page's fingerprint when the answer was saved: a page that changed makes the answer stale.
    """

    community: str | None
    questions: tuple[str, ...]
    answer: str
    links: tuple[str, ...]
    author: str
    at: datetime
    sources: tuple[tuple[str, str], ...] = ()
    question_id: int | None = None
    edited_by: str | None = None
    edited_at: datetime | None = None
    retired: bool = False
    uses: int = 0
    id: int | None = None

    @property
    def path(self) -> str:
        return f"{SAVED_REF}{self.id}"

    @property
    def ref(self) -> str:
        return f"{self.path}#"


def saved_entry(path: str) -> int | None:
    """The saved answer a citation path names (``saved/<id>``), if it names one."""
    number = path.removeprefix(SAVED_REF) if path.startswith(SAVED_REF) else ""
    return int(number) if number.isdigit() and len(number) < 12 else None
