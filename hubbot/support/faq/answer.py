"""Answers: citations (one per page, best section first), a short extract, a one-line snippet for each of the
first pages, and the decision: answer (confidence >= THRESHOLD), suggest the closest pages (>= SUGGEST), or hand
over to a human at once."""

from __future__ import annotations

from collections.abc import Sequence

from hubbot.domain import Answer, Citation, Verdict
from hubbot.support.faq.confidence import SUGGEST, THRESHOLD, confidence
from hubbot.support.faq.feedback import nudge
from hubbot.support.faq.ranker import CANDIDATES, HITS, QueryTerm, Ranker, Retrieval
from hubbot.support.faq.sections import Section
from hubbot.support.faq.text import analyse, sentences

__all__ = ["MAX_CITATIONS", "MAX_QUESTION_CHARS", "SNIPPETS", "answer_question", "extract", "snippet"]

MAX_CITATIONS = 5
MAX_QUESTION_CHARS = 2000
EXTRACT_CHARS = 400
EXTRACT_SENTENCES = 3
SNIPPETS = 3  # citations that carry a one-line snippet (the pages a suggestion shows)
SNIPPET_CHARS = 160


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


def snippet(section: Section, terms: list[QueryTerm]) -> str:
    """One line of the section: its sentence that best matches the query terms (the first on a tie), at most about
    160 characters; the heading when the section has no prose."""
    weights = {t.term: t.idf * t.weight for t in terms if t.known}
    candidates = sentences(section.body)
    if not candidates:
        return section.heading
    best = max(range(len(candidates)),
               key=lambda i: (sum(weights[t] for t in set(analyse(candidates[i])) & weights.keys()), -i))
    line = candidates[best]
    if len(line) > SNIPPET_CHARS:
        cut = line.rfind(" ", 0, SNIPPET_CHARS - 1)
        line = line[: cut if cut > SNIPPET_CHARS // 2 else SNIPPET_CHARS - 1].rstrip(" ,;:") + "…"
    return line


def answer_question(ranker: Ranker, question: object, *, verdicts: Sequence[Verdict] = ()) -> Answer:
    """Rank, decide and explain.  Never raises for odd input; it just yields a low confidence.  ``verdicts`` (what
    askers said of earlier answers) nudge the sections they name for similar questions (see ``feedback``)."""
    text = question if isinstance(question, str) else ""
    text = text[:MAX_QUESTION_CHARS]
    if not text.strip() or not ranker.sections:
        return Answer(text, False, 0.0)
    if verdicts:  # a section askers vouched for may rank below the usual cut; look deeper, then cut
        retrieval = nudge(ranker, ranker.retrieve(text, limit=CANDIDATES), text, verdicts)
        retrieval = Retrieval(retrieval.terms, retrieval.hits[:HITS])
    else:
        retrieval = ranker.retrieve(text)
    terms = list(retrieval.terms)
    citations: list[Citation] = []
    pages: set[str] = set()
    for hit in retrieval.hits:
        section = ranker.sections[hit.section]
        if section.path in pages:
            continue
        pages.add(section.path)
        line = snippet(section, terms) if len(citations) < SNIPPETS else ""
        citations.append(Citation(section.path, section.anchor, round(hit.score, 4), section.page_title,
                                  section.breadcrumb, line))
        if len(citations) >= MAX_CITATIONS:
            break
    if not citations:
        return Answer(text, False, 0.0)
    conf = confidence(ranker, retrieval, text)
    best = ranker.sections[retrieval.hits[0].section]
    answered = conf >= THRESHOLD
    return Answer(text, answered, conf, citations, extract(best, terms), suggested=not answered and conf >= SUGGEST)
