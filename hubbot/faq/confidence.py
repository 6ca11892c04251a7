"""Confidence in [0, 1] that the best section answers the question, from signals that mean the same on any tree.

Signals (all scale-free):
- strength: the best score divided by the query's idf mass, i.e. relative to what a section matching every query
  term (each saturated) would get; a term the docs never use carries the maximum idf, so a question about things
  the docs do not mention is weak;
- margin: how far the best page stands above the runner-up page, relative to the best score;
- coverage: share of the query's idf mass found in the best section (reported, not used in the decision).

``confidence = logistic(SLOPE * (strength + MARGIN_WEIGHT * margin - CENTRE))`` and the engine answers when it
is >= THRESHOLD.  CENTRE was set once, on the development questions; the same value is used for every docs tree.
"""

from __future__ import annotations

import math

from hubbot.faq.ranker import Ranker, Retrieval

__all__ = ["THRESHOLD", "code_likeness", "confidence", "signals"]

THRESHOLD = 0.5
SLOPE = 10.0
MARGIN_WEIGHT = 0.5
CENTRE = 0.31
CODE_PENALTY = 3.0
_CODE_CHARS = frozenset("(){}[];=<>*\\$|&^%~")


def signals(ranker: Ranker, retrieval: Retrieval) -> dict[str, float]:
    terms = retrieval.terms
    mass = sum(t.idf * t.weight for t in terms)
    if not retrieval.hits or mass <= 0:
        return {"coverage": 0.0, "strength": 0.0, "margin": 0.0}
    best = retrieval.hits[0]
    present = ranker.terms_of[best.section]
    covered = sum(t.idf * t.weight for t in terms if t.known and t.term in present)
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
    # A margin over the runner-up means little when the best match itself is weak (a tiny tree
    # has no runner-up at all): it counts in proportion to the strength, up to the centre.
    margin = s["margin"] * min(1.0, s["strength"] / CENTRE)
    z = SLOPE * (s["strength"] + MARGIN_WEIGHT * margin - CENTRE)
    value = 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))
    # A pasted stack trace or snippet is not a question the docs can answer by keyword match.
    return value * max(0.0, 1.0 - CODE_PENALTY * code_likeness(question))
