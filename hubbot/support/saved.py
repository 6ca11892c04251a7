"""Answers the support team wrote in Slack, kept to answer the next person who asks.

A reply in the thread of an escalated question becomes a :class:`SavedAnswer`: the question as
asked (and, later, the other ways people asked it), the reply's text and links, who wrote it and
when. Saved answers are ranked beside the docs sections (:func:`sections`), export as a curated FAQ file
(``hubbot faq export``), and go stale when a docs page they link to changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime

import yaml

from hubbot.domain import SavedAnswer, ThreadReply
from hubbot.support.faq.sections import Section

__all__ = ["MAX_ANSWER", "export_yaml", "links_in", "saved_answer", "sections", "sources", "stale_pages"]

MAX_ANSWER = 3000
MAX_LINKS = 10
_URL = re.compile(r"https?://[^\s<>\"'`|]+")
_TRAILING = ".,;:!?)]}*_~"


def links_in(text: str) -> tuple[str, ...]:
    """The http(s) links a reply names, in order, each once (sentence punctuation trimmed)."""
    found: dict[str, None] = {}
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        if len(url) > len("https://") and len(url) <= 2000:
            found.setdefault(url, None)
    return tuple(found)[:MAX_LINKS]


def saved_answer(
    question: str, reply: ThreadReply, *, community: str | None, at: datetime,
    source_of: Callable[[str], tuple[str, str] | None],
) -> SavedAnswer:
    """The entry a reply becomes; ``source_of`` maps a link to the docs page it shows and that
    page's fingerprint (None for links outside the docs)."""
    links = links_in(reply.text)
    return SavedAnswer(community=community, questions=(question,), answer=reply.text.strip()[:MAX_ANSWER],
                       links=links, author=reply.user, at=at, sources=sources(links, source_of),
                       question_id=reply.question_id)


def sources(
    links: Sequence[str], source_of: Callable[[str], tuple[str, str] | None]
) -> tuple[tuple[str, str], ...]:
    """The docs pages (with their fingerprints) that ``links`` show, each once."""
    return tuple(dict.fromkeys(s for s in map(source_of, links) if s is not None))


def stale_pages(entry: SavedAnswer, fingerprint: Callable[[str], str | None]) -> list[str]:
    """The docs pages an entry links to that changed (or went away) since it was saved."""
    return [path for path, seen in entry.sources if fingerprint(path) != seen]


def sections(entries: Sequence[SavedAnswer]) -> tuple[Section, ...]:
    """Live entries as sections to rank beside the docs' own (page ``saved/<id>``): every way of
    asking is a heading, so a paraphrase meets its entry where a docs heading would, and the
    confidence rule judges both on the docs tree's word statistics."""
    out = []
    for e in entries:
        if e.retired or e.id is None:
            continue
        first, *more = e.questions
        out.append(Section(path=e.path, page_title=first, heading=" · ".join((first, *more)),
                           heading_path=(first,), level=1, anchor="", label=None, body=e.answer, code=""))
    return tuple(out)


def export_yaml(entries: Sequence[SavedAnswer]) -> str:
    """Entries in the curated FAQ file format (``questions``, ``answer``, ``links``), so a team can
    keep them in its own repository and list the file under ``support.faq``."""
    rows: list[dict[str, object]] = []
    for e in entries:
        row: dict[str, object] = {"questions": list(e.questions), "answer": e.answer}
        if e.links:
            row["links"] = list(e.links)
        rows.append(row)
    return yaml.safe_dump(rows, sort_keys=False, allow_unicode=True, width=100) if rows else "[]\n"
