"""Curated FAQ files: entries a support team writes by hand, each with the ways people ask it, a
short answer and links. They are searched with the same ranker and confidence rule as the docs,
and an entry that is at least as sure as the best docs section answers instead of it.

A file is YAML, a list of entries::

    - questions: ["How do I get more memory?", "my server runs out of RAM"]
      answer: Pick a larger server size on the spawn page; ask us for sizes above 16 GB.
      links: ["https://docs.example.org/howto/memory.html"]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hubbot.domain import Answer
from hubbot.errors import UserError
from hubbot.support.faq.answer import answer_question
from hubbot.support.faq.ranker import Ranker
from hubbot.support.faq.sections import Section, slugify, unique_slug

__all__ = ["Curated", "Entry", "load_entries"]

MAX_ENTRIES = 2000


@dataclass(frozen=True, slots=True)
class Entry:
    questions: tuple[str, ...]
    answer: str
    links: tuple[str, ...]
    path: str
    anchor: str


def _strings(value: Any, what: str, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise UserError(f"{where}: `{what}` must be a list of texts")
    return tuple(v.strip() for v in value)


def load_entries(file: Path) -> list[Entry]:
    """Read and check one FAQ file; every problem names the entry it is in."""
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"FAQ file not found: {file}") from None
    except (OSError, UnicodeDecodeError):
        raise UserError(f"cannot read the FAQ file {file}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise UserError(f"the FAQ file {file.name} is not valid YAML{where}") from None
    if data is None:
        return []
    if not isinstance(data, list) or len(data) > MAX_ENTRIES:
        raise UserError(f"the FAQ file {file.name} must be a list of at most {MAX_ENTRIES} entries "
                        "(questions, answer, links)")
    slugs: set[str] = set()
    entries = []
    for number, item in enumerate(data, start=1):
        where = f"{file.name}, entry {number}"
        if not isinstance(item, dict) or set(item) - {"questions", "answer", "links"}:
            raise UserError(f"{where}: give `questions`, `answer` and optionally `links`, nothing else")
        questions = _strings(item.get("questions"), "questions", where)
        answer = item.get("answer")
        if not isinstance(answer, str) or not answer.strip():
            raise UserError(f"{where}: `answer` must be a text")
        links = _strings(item.get("links", []), "links", where) if item.get("links") else ()
        if any(not link.startswith(("https://", "http://")) for link in links):
            raise UserError(f"{where}: links must be http(s) URLs")
        entries.append(Entry(questions=questions, answer=answer.strip(), links=links, path=file.name,
                             anchor=unique_slug(slugify(questions[0]) or f"entry-{number}", slugs)))
    return entries


class Curated:
    """The entries of one or more FAQ files, searchable like docs sections: an entry's first
    question is its heading, its answer its body, and every way of asking it is searchable."""

    def __init__(self, files: list[Path]) -> None:
        self.files = files
        self._stamps = _stamps(files)
        self.entries = [entry for file in files for entry in load_entries(file)]
        self._by_ref = {(e.path, e.anchor): e for e in self.entries}
        self._ranker = Ranker([
            Section(path=e.path, page_title="FAQ", heading=e.questions[0], heading_path=("FAQ", e.questions[0]),
                    level=1, anchor=e.anchor, label=None, body=e.answer, code=" ".join(e.questions[1:]))
            for e in self.entries])

    def answer(self, question: str) -> Answer:
        answer = answer_question(self._ranker, question)
        if not answer.citations:
            return answer
        entry = self._by_ref[(answer.citations[0].path, answer.citations[0].anchor)]
        # a curated answer is short and written to be read whole
        return Answer(answer.question, answer.answered, answer.confidence, answer.citations[:1], entry.answer)

    def link(self, path: str, anchor: str) -> str | None:
        """Where an entry points readers (its first link), or None if it names none."""
        entry = self._by_ref.get((path, anchor))
        return entry.links[0] if entry and entry.links else None

    def knows(self, path: str, anchor: str) -> bool:
        return (path, anchor) in self._by_ref

    def changed(self) -> bool:
        """Whether a file changed since it was read (the owner then reads them again)."""
        return _stamps(self.files) != self._stamps


def _stamps(files: list[Path]) -> list[tuple[int, int] | None]:
    out: list[tuple[int, int] | None] = []
    for file in files:
        try:
            st = file.stat()
        except OSError:
            out.append(None)
            continue
        out.append((st.st_mtime_ns, st.st_size))
    return out
