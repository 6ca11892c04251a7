"""Answers: citations (one per page, best section first), a short extract, and the answer/abstain decision."""

from __future__ import annotations

from collections.abc import Sequence

from hubbot.domain import Answer, Citation, Verdict
from hubbot.support.faq.confidence import THRESHOLD, confidence
from hubbot.support.faq.ranker import QueryTerm, Ranker
from hubbot.support.faq.sections import Section
from hubbot.support.faq.text import analyse, sentences

__all__ = ["MAX_CITATIONS", "MAX_QUESTION_CHARS", "answer_question", "extract"]

MAX_CITATIONS = 5
MAX_QUESTION_CHARS = 2000
EXTRACT_CHARS = 400
EXTRACT_SENTENCES = 3


def extract(section: Section, terms: list[QueryTerm]) -> str:
    """The 2-3 sentences of a section that best match the query terms, in page order, about 400 characters."""
    weights = {t.term: t.idf * t.weight for t in terms if t.known}
    candidates = sentences(section.body) or [section.heading]
    scored: list[tuple[float, int]] = []
    for position, sentence in enumerate(candidates):
        matched = set(analyse(sentence)) & weights.keys()
        scored.append((sum(weights[t] for t in matched) - 0.01 * position, position))
    chosen: list[int] = []
    used = 0
    for value, position in sorted(scored, reverse=True):
        if len(chosen) >= EXTRACT_SENTENCES or (chosen and value <= 0):
            break
        length = len(candidates[position])
        if chosen and used + length > EXTRACT_CHARS:
            continue
        chosen.append(position)
        used += length + 1
    text = " ".join(candidates[i] for i in sorted(chosen))
    if len(text) > EXTRACT_CHARS:
        cut = text.rfind(" ", 0, EXTRACT_CHARS - 1)
        text = text[: cut if cut > EXTRACT_CHARS // 2 else EXTRACT_CHARS - 1].rstrip(" ,;:") + "…"
    return text


def answer_question(ranker: Ranker, question: object, *, verdicts: Sequence[Verdict] = ()) -> Answer:
    """Rank, decide and explain.  Never raises for odd input; it just yields a low confidence.
    ``verdicts`` are not used yet."""
    text = question if isinstance(question, str) else ""
    text = text[:MAX_QUESTION_CHARS]
    if not text.strip() or not ranker.sections:
        return Answer(text, False, 0.0)
    retrieval = ranker.retrieve(text)
    citations: list[Citation] = []
    pages: set[str] = set()
    for hit in retrieval.hits:
        section = ranker.sections[hit.section]
        if section.path in pages:
            continue
        pages.add(section.path)
        citations.append(Citation(section.path, section.anchor, round(hit.score, 4), section.page_title,
                                  section.breadcrumb))
        if len(citations) >= MAX_CITATIONS:
            break
    if not citations:
        return Answer(text, False, 0.0)
    conf = confidence(ranker, retrieval, text)
    best = ranker.sections[retrieval.hits[0].section]
    return Answer(text, conf >= THRESHOLD, conf, citations, extract(best, list(retrieval.terms)))
