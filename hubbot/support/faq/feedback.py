"""Learning from askers' verdicts: pure, bounded and reversible.

A verdict says of an answer's first citation (``path#anchor``) that it helped, or that the asker wanted a human.
Verdicts given on questions *similar* to the one being answered nudge the score of the section they name:

- similarity of two questions is the idf-weighted overlap (weighted Jaccard) of their analysed terms (folded,
  stemmed, stop words dropped, known expressions joined), with the idf of the docs tree being answered from::

      sim(a, b) = sum of idf(t) for t in a & b  /  sum of idf(t) for t in a | b

  A word the tree never uses weighs the maximum idf, so two questions that share only common words of the tree
  ("hub", "user") are not similar, and two that share their rare words are ("how do I add a user to the hub" and
  "how do I remove a user from the hub" are 0.17 alike on the 2i2c docs).  Verdicts below ``SIMILAR`` count for
  nothing; from it on, each counts its similarity (1 for the same question asked again);
- a section's evidence is the weighted count of "helped" minus that of "asked for a human";
- its score is multiplied by ``1 + BOUND * tanh(evidence / AGREEMENT)``: always inside
  ``[1 - BOUND, 1 + BOUND]`` = [0.75, 1.25] however many verdicts there are, and it takes agreement to move far
  (one click on the same question moves a score by 8%, three agreeing clicks by 19%; clicks that disagree cancel).

Nothing is stored here: the verdicts are passed in with each question, so dropping them (the store forgets old or
withdrawn ones) undoes their effect exactly, and with no verdicts the ranking is untouched.

Whether the nudge feeds the confidence: it does, through the nudged best score, so the effect on the confidence is
bounded by the same factor (the strength, best score over key-concept weight, moves by at most 25% either way).  A
section askers keep turning away from loses its place, and the answer's confidence is then that of the section now
in first place, read from its own score, so repeated "ask a human" on an answer makes the engine less sure, never
more sure of a section nobody vouched for; repeated "helped" can lift a borderline answer into the answered band,
which is what those askers said.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from hubbot.domain import Verdict
from hubbot.support.faq.ranker import Hit, Ranker, Retrieval
from hubbot.support.faq.text import analyse

__all__ = ["AGREEMENT", "BOUND", "SIMILAR", "SectionLearning", "factor", "nudge", "similarity", "summarise"]

BOUND = 0.25
AGREEMENT = 3.0
SIMILAR = 0.5


@dataclass(frozen=True, slots=True)
class SectionLearning:
    """What askers said of one section, and the factor its score gets for a question identical to theirs."""

    ref: str
    helped: int
    failed: int
    factor: float


def factor(evidence: float) -> float:
    """The score multiplier for a section's net evidence (helped minus failed, weighted by similarity)."""
    return 1.0 + BOUND * math.tanh(evidence / AGREEMENT)


def similarity(a: Iterable[str], b: Iterable[str], idf: Callable[[str], float]) -> float:
    """idf-weighted Jaccard overlap of two sets of analysed terms, 0..1."""
    first, second = set(a), set(b)
    union = sum(idf(t) for t in first | second)
    if union <= 0.0:
        return 0.0
    return sum(idf(t) for t in first & second) / union


def evidence(question: str, verdicts: Sequence[Verdict], idf: Callable[[str], float]) -> dict[str, float]:
    """Net weighted evidence per section ref from the verdicts on questions similar to ``question``."""
    terms = analyse(question)
    found: dict[str, float] = defaultdict(float)
    for verdict in verdicts:
        sim = similarity(terms, analyse(verdict.question), idf)
        if sim < SIMILAR:
            continue
        found[verdict.ref] += sim if verdict.helpful else -sim
    return {ref: value for ref, value in found.items() if value != 0.0}


def nudge(ranker: Ranker, retrieval: Retrieval, question: str, verdicts: Sequence[Verdict]) -> Retrieval:
    """The retrieval with each hit's score multiplied by its section's factor, best first again; unchanged when no
    verdict is on a similar question."""
    if not verdicts or not retrieval.hits:
        return retrieval
    per_ref = evidence(question, verdicts, ranker.idf)
    if not per_ref:
        return retrieval
    hits: list[Hit] = []
    for hit in retrieval.hits:
        section = ranker.sections[hit.section]
        net = per_ref.get(f"{section.path}#{section.anchor}")
        hits.append(hit if net is None else Hit(hit.section, hit.score * factor(net)))
    hits.sort(key=lambda hit: (-hit.score, hit.section))
    return Retrieval(retrieval.terms, tuple(hits))


def summarise(verdicts: Iterable[Verdict]) -> list[SectionLearning]:
    """Per section ref: verdicts that helped and failed, and the factor for an identical question; the sections
    moved most first (then by ref)."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for verdict in verdicts:
        counts[verdict.ref][0 if verdict.helpful else 1] += 1
    learned = [SectionLearning(ref, helped, failed, round(factor(helped - failed), 4))
               for ref, (helped, failed) in counts.items()]
    return sorted(learned, key=lambda s: (-abs(s.factor - 1.0), s.ref))
