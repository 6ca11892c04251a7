"""Confidence in [0, 1] that the best section answers the question, from signals that mean the same on any tree.

Signals (all scale-free):
- strength: the best score divided by the query's idf mass, i.e. relative to what a section matching every query
  concept (each saturated) would get.  The mass counts each concept once (a word, its typo fixes and its
  near-synonyms are one concept, worth its best alternative), and a word the docs never use carries the maximum
  idf, so a question about things the docs do not mention is weak;
- margin: how far the best page stands above the runner-up page, relative to the best score (reported only);
- coverage: share of the query's concept mass found in the best section (reported only).

``confidence = logistic(SLOPE * (strength - CENTRE))``, damped for pasted code, and the engine answers when it is
>= THRESHOLD.  The margin used to be part of the decision; measured as a separate signal it told answerable and
out-of-scope questions apart worse than strength alone (on the development questions and on questions written
for a second docs tree), so it no longer counts.  CENTRE was set once, on all labelled questions at hand taken
together (the development questions and self-written questions for both docs trees): a round value in the range
where most out-of-scope questions are left unanswered while fewer than one answerable question in ten is.  The
strengths of the two kinds overlap between about 0.3 and 0.45, so no value separates them fully.  The same value
is used for every docs tree.
"""

from __future__ import annotations

import math
from collections.abc import Container, Sequence

from hubbot.faq.ranker import QueryTerm, Ranker, Retrieval

__all__ = ["CENTRE", "THRESHOLD", "code_likeness", "concept_mass", "confidence", "signals"]

THRESHOLD = 0.5
SLOPE = 10.0
CENTRE = 0.35
CODE_PENALTY = 3.0
_CODE_CHARS = frozenset("(){}[];=<>*\\$|&^%~")


def concept_mass(terms: Sequence[QueryTerm], present: Container[str] | None = None) -> float:
    """Sum over the question's concepts of the best ``idf * weight`` among its alternatives (only those in
    ``present``, when given)."""
    best: dict[int, float] = {}
    for t in terms:
        if present is not None and not (t.known and t.term in present):
            continue
        best[t.concept] = max(best.get(t.concept, 0.0), t.idf * t.weight)
    return sum(best.values())


def signals(ranker: Ranker, retrieval: Retrieval) -> dict[str, float]:
    terms = retrieval.terms
    mass = concept_mass(terms)
    if not retrieval.hits or mass <= 0:
        return {"coverage": 0.0, "strength": 0.0, "margin": 0.0}
    best = retrieval.hits[0]
    covered = concept_mass(terms, ranker.terms_of[best.section])
    strength = min(best.score / mass, 2.0)
    best_page = ranker.page_of[best.section]
    runner_up = next((h.score for h in retrieval.hits if ranker.page_of[h.section] != best_page), 0.0)
    return {
        "coverage": covered / mass,
        "strength": strength,
        "margin": (best.score - runner_up) / best.score if best.score > 0 else 0.0,
    }


def code_likeness(question: str) -> float:
    """Share of characters typical of code rather than prose (brackets, operators), 0..1."""
    text = question.strip()
    if not text:
        return 0.0
    return sum(ch in _CODE_CHARS for ch in text) / len(text)


def confidence(ranker: Ranker, retrieval: Retrieval, question: str = "") -> float:
    s = signals(ranker, retrieval)
    if s["strength"] <= 0.0:
        return 0.0
    z = SLOPE * (s["strength"] - CENTRE)
    value = 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))
    # A pasted stack trace or snippet is not a question the docs can answer by keyword match.
    return value * max(0.0, 1.0 - CODE_PENALTY * code_likeness(question))
