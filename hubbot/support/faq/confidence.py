"""Confidence in [0, 1] that the best section answers the question, from signals that mean the same on any tree.

Signals (all scale-free):
- strength: the best score divided by the weight of the question's KEY_CONCEPTS most informative concepts (a
  concept is a question word with its typo fixes and near-synonyms, worth its best alternative's idf; a word the
  docs never use carries the maximum idf).  A strength near 1 means the best section matches about as well as a
  section holding the question's key words would; a question about things the docs do not mention is weak,
  because its rarest words are the ones no section holds.  A question of a single concept is divided by no less
  than the maximum idf: "python?" or "what is 2i2c" is too vague to answer from the section that happens to say
  the word most, unless the word is rare in the tree (no labelled question had a single concept, so this changed
  none of them);
- coverage: share of the question's whole concept mass found in the best section.  For a question of two or more
  concepts, none of them common in the tree (idf at least SPECIFIC of the tree's largest), the strength is at
  least the coverage: a section holding every word of such a question is a match even where the tree is so small
  that idf values, and so scores, stay low;
- margin: how far the best page stands above the runner-up page, relative to the best score (reported only).

``confidence = logistic(SLOPE * (strength - CENTRE))``, damped for pasted code, and the engine answers when it is
>= THRESHOLD.

Why the key concepts and not all of them: people write context around their question ("our IT dept handed us a
.crt and .key ..."), and dividing by the mass of every word made long questions look weak on one docs tree and
not on another.  Measured on three labelled question sets over two docs trees (the development questions and two
sets written apart from the engine, ``benchmarks/faq_questions``), the key-concept strength tells answerable from
out-of-scope questions apart about as well or better (ROC AUC 0.98 / 0.89 / 0.85 against 0.88 / 0.90 / 0.81 for
the whole-question strength), and one cut-off leaves a similar share of each kind unanswered on every set, where
the whole-question strength needed a different cut-off per tree (at the cut-off that left four out-of-scope
questions in five unanswered on the second tree, nearly a third of its answerable questions were too).  Margin,
coverage, the share of unknown words, and whether the rarest words are in the best section were each tried as a
second signal in a logistic fit on two sets, checked on the third: none helped on all three, so none counts beyond
the coverage floor above.  CENTRE is a round value set once on the three sets pooled: 0.9 and 1.0 told the kinds
apart equally well there (about four out-of-scope questions in five left unanswered, about one answerable
question in six or seven); the lower one was taken because it keeps wrong abstentions on the development
questions under one in ten.  The two kinds overlap between about 0.6 and 1.2, so no value separates them fully.
The same value is used for every docs tree.

The middle band.  Between "sure" (confidence >= THRESHOLD: answered) and "no idea" the engine offers the three
closest pages as suggestions, with an "ask a human" way out; below SUGGEST it hands over at once.  SUGGEST was
chosen on the three tuning sets pooled (the development questions, ``corpus.jsonl`` and
``zero-to-jupyterhub.jsonl``: 99 answerable and 31 out-of-scope questions), among round values, as the one that
gives most answerable questions that fall short of an answer a useful list without turning the band into the
fate of most out-of-scope questions.  12 answerable questions fall under THRESHOLD there::

    SUGGEST  answerable in band (right page in the 3 shown)  out-of-scope in band  escalated at once (ans. / oos)
    0.10     10 (0.80)                                        19                    2 / 5
    0.15      9 (0.89)                                        15                    3 / 9
    0.20      8 (0.88)                                        11                    4 / 13
    0.25      7 (0.86)                                         8                    5 / 16
    0.30      4 (1.00)                                         6                    8 / 18

0.2 keeps two thirds of those answerable questions in the band with their page shown seven times in eight, while
more out-of-scope questions are still handed over at once than offered suggestions; 0.15 adds one answerable
question for four more out-of-scope ones, 0.25 and above drop answerable questions faster than out-of-scope ones.
"""

from __future__ import annotations

import math
from collections.abc import Container, Sequence

from hubbot.support.faq.ranker import QueryTerm, Ranker, Retrieval

__all__ = ["CENTRE", "KEY_CONCEPTS", "SUGGEST", "THRESHOLD", "code_likeness", "concept_mass", "concept_weights",
           "confidence", "signals"]

THRESHOLD = 0.5
SUGGEST = 0.2  # the middle band: below THRESHOLD and at least this, the closest pages are offered (see above)
SLOPE = 6.0
CENTRE = 0.9
KEY_CONCEPTS = 2
SPECIFIC = 0.5  # share of the tree's largest idf a concept needs for the coverage floor
CODE_PENALTY = 3.0
_CODE_CHARS = frozenset("(){}[];=<>*\\$|&^%~")


def concept_weights(terms: Sequence[QueryTerm], present: Container[str] | None = None) -> dict[int, float]:
    """Each question concept's weight: the best ``idf * weight`` among its alternatives (only those in
    ``present``, when given)."""
    best: dict[int, float] = {}
    for t in terms:
        if present is not None and not (t.known and t.term in present):
            continue
        best[t.concept] = max(best.get(t.concept, 0.0), t.idf * t.weight)
    return best


def concept_mass(terms: Sequence[QueryTerm], present: Container[str] | None = None) -> float:
    """Sum of the concept weights (see ``concept_weights``)."""
    return sum(concept_weights(terms, present).values())


def signals(ranker: Ranker, retrieval: Retrieval) -> dict[str, float]:
    weights = concept_weights(retrieval.terms)
    mass = sum(weights.values())
    key = sum(sorted(weights.values(), reverse=True)[:KEY_CONCEPTS])
    if len(weights) == 1:  # a one-word question ("python?") weighs what a word rare in the tree does
        key = max(key, ranker.max_idf)
    if not retrieval.hits or mass <= 0:
        return {"coverage": 0.0, "strength": 0.0, "margin": 0.0}
    best = retrieval.hits[0]
    covered = concept_mass(retrieval.terms, ranker.terms_of[best.section])
    best_page = ranker.page_of[best.section]
    runner_up = next((h.score for h in retrieval.hits if ranker.page_of[h.section] != best_page), 0.0)
    strength = min(best.score / key, 3.0)
    # Every concept of the question found in one section is as sure as a strong key match, when the question
    # has two or more concepts and none of them is a common word of the tree: in a small tree low idf values
    # keep even a full match's score under the key mass ("who can read my home directory"), while "is the hub
    # down" meets "hub" and "down" together by chance.
    specific = len(weights) >= 2 and min(weights.values()) >= SPECIFIC * ranker.max_idf
    if specific:
        strength = max(strength, covered / mass)
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
