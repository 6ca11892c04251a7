"""Learning from askers' verdicts: bounded, needing agreement, only for similar questions, undone by dropping them."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubbot.domain import Verdict
from hubbot.support.faq import Index, SectionLearning, summarise
from hubbot.support.faq.feedback import BOUND, factor, nudge, similarity

CORPUS = Path(__file__).parent / "data" / "faq-corpora" / "corpus"
QUESTION = "how do I add a user to the hub"
PARAPHRASES = ["how do I add a user to the hub", "can I add users to our hub?", "how to add new users on the hub",
               "how do I add new users to my hub", "could I add a new user to the hub",
               "add a new user to the hub please"]
NEW = "how can I add a new user to my hub"  # a paraphrase no verdict was given on


@pytest.fixture(scope="module")
def index() -> Index:
    return Index.build([CORPUS])


def test_no_verdicts_and_unrelated_verdicts_change_nothing(index: Index) -> None:
    plain = index.answer(QUESTION)
    assert index.answer(QUESTION, verdicts=()) == plain
    unrelated = [Verdict("how long will my binder session last", plain.citations[0].ref, False)] * 20
    assert index.answer(QUESTION, verdicts=unrelated) == plain
    # nor does a verdict on a question that shares only the tree's common words
    assert index.answer(QUESTION, verdicts=[Verdict("how do I remove a user from the hub",
                                                    plain.citations[0].ref, False)] * 20) == plain


def _order(index: Index, question: str, verdicts: list[Verdict]) -> list[str]:
    ranker = index.ranker
    retrieval = nudge(ranker, ranker.retrieve(question), question, verdicts)
    return [f"{ranker.sections[h.section].path}#{ranker.sections[h.section].anchor}" for h in retrieval.hits]


def test_the_runner_up_is_within_reach(index: Index) -> None:
    hits = index.ranker.retrieve(NEW).hits
    # six agreeing paraphrases move a score by about a fifth (at most a quarter): enough to swap these two
    assert hits[1].score < hits[0].score < hits[1].score * 1.25


def test_repeated_ask_a_human_on_paraphrases_demotes_the_section(index: Index) -> None:
    first, runner_up = _order(index, NEW, [])[:2]
    verdicts = [Verdict(q, first, False) for q in PARAPHRASES]
    order = _order(index, NEW, verdicts)
    assert order.index(first) > order.index(runner_up)
    answer = index.answer(NEW, verdicts=verdicts)
    assert answer.citations[0].ref == runner_up


def test_repeated_helped_on_paraphrases_promotes_the_section(index: Index) -> None:
    first, runner_up = _order(index, NEW, [])[:2]
    verdicts = [Verdict(q, runner_up, True) for q in PARAPHRASES]
    order = _order(index, NEW, verdicts)
    assert order.index(runner_up) < order.index(first)
    plain, nudged = index.answer(NEW), index.answer(NEW, verdicts=verdicts)
    assert nudged.citations[0].ref == runner_up
    assert nudged.confidence >= plain.confidence * 0.9  # read from the promoted section's own, bounded, score


def test_one_stray_click_moves_little(index: Index) -> None:
    plain = index.answer(NEW)
    first = plain.citations[0]
    nudged = index.answer(NEW, verdicts=[Verdict(NEW, first.ref, False)])
    assert nudged.citations[0].ref == first.ref
    assert nudged.citations[0].score == pytest.approx(first.score * factor(-1.0), abs=1e-3)
    assert factor(-1.0) > 0.9


def test_a_flood_of_verdicts_stays_within_the_bound(index: Index) -> None:
    ranker = index.ranker
    plain = ranker.retrieve(NEW)
    first = ranker.sections[plain.hits[0].section]
    ref = f"{first.path}#{first.anchor}"
    for helpful, bound in ((False, 1 - BOUND), (True, 1 + BOUND)):
        flood = [Verdict(NEW, ref, helpful)] * 5000
        moved = nudge(ranker, plain, NEW, flood)
        score = next(h.score for h in moved.hits if h.section == plain.hits[0].section)
        assert score == pytest.approx(plain.hits[0].score * bound, rel=1e-3)
        assert min(bound, 1.0) * plain.hits[0].score - 1e-9 <= score <= max(bound, 1.0) * plain.hits[0].score + 1e-9
    answer = index.answer(NEW, verdicts=[Verdict(NEW, ref, True)] * 5000)
    assert answer.citations[0].score <= plain.hits[0].score * (1 + BOUND) + 1e-3
    assert factor(-1e9) >= 1 - BOUND and factor(1e9) <= 1 + BOUND


def test_similarity_weighs_rare_words() -> None:
    idf = {"add": 2.0, "user": 1.0, "hub": 0.5, "dask": 4.0}.get

    def weight(term: str) -> float:
        return idf(term) or 5.0

    assert similarity(["add", "user", "hub"], ["add", "user", "hub"], weight) == 1.0
    assert similarity(["add", "user"], ["dask", "user"], weight) == pytest.approx(1.0 / 7.0)
    assert similarity([], [], weight) == 0.0


def test_summarise_counts_and_bounds() -> None:
    verdicts = [Verdict("q", "a.md#x", False)] * 4 + [Verdict("q", "a.md#x", True), Verdict("r", "b.md#y", True)]
    learned = summarise(verdicts)
    assert learned[0] == SectionLearning("a.md#x", 1, 4, round(factor(-3.0), 4))
    assert learned[1].ref == "b.md#y" and learned[1].helped == 1 and learned[1].failed == 0
    assert learned[1].factor > 1.0
    assert all(1 - BOUND <= s.factor <= 1 + BOUND for s in summarise([Verdict("q", "c.md#z", True)] * 1000))
    assert summarise([]) == []
