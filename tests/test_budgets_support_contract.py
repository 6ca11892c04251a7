"""Contract tests for budgets, the support log and saved answers: the memory twins, SQLite and PostgreSQL
agree."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from hubbot.adapters.memory import MemoryBudgets, MemorySavedAnswers, MemorySupportLog
from hubbot.domain import Budget, SavedAnswer, SupportQuestion, SupportStats, ThreadReply, Verdict
from hubbot.ports import Budgets, SavedAnswers, SupportLog
from hubbot.store import Database, SqlBudgets, SqlSavedAnswers, SqlSupportLog
from tests.conftest import new_database

T0 = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def _database(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    db = Database(new_database(request.param, request, tmp_path))
    db.upgrade()
    return db


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def budgets(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Budgets]:
    if request.param == "memory":
        yield MemoryBudgets()
        return
    db = _database(request, tmp_path)
    yield SqlBudgets(db)
    db.dispose()


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def support(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SupportLog]:
    if request.param == "memory":
        yield MemorySupportLog()
        return
    db = _database(request, tmp_path)
    yield SqlSupportLog(db)
    db.dispose()


def budget(amount: str = "1234.5", **changes: object) -> Budget:
    b = Budget(amount=Decimal(amount), currency="USD", period="monthly", thresholds=(50, 75, 90, 100, 120),
               forecast=False, timezone="America/Los_Angeles", set_by="ULEADA001", set_at=T0)
    return dataclasses.replace(b, **changes)  # type: ignore[arg-type]


async def test_a_budget_comes_back_as_it_was_set(budgets: Budgets) -> None:
    assert await budgets.get("alpha") is None
    assert await budgets.all() == {}
    await budgets.set("alpha", budget())
    assert await budgets.get("alpha") == budget("1234.50")
    assert await budgets.all() == {"alpha": budget()}


async def test_setting_a_budget_again_replaces_it_and_communities_stay_apart(budgets: Budgets) -> None:
    await budgets.set("alpha", budget("100"))
    await budgets.set("beta", budget("200", currency="EUR", period="allocation", forecast=True, timezone="UTC"))
    later = budget("300", thresholds=(80,), set_by="UENG00001", set_at=T0 + timedelta(days=1))
    await budgets.set("alpha", later)
    assert await budgets.all() == {
        "alpha": later, "beta": budget("200", currency="EUR", period="allocation", forecast=True, timezone="UTC")}
    assert await budgets.get("gamma") is None


async def test_budget_amounts_are_kept_in_cents(budgets: Budgets) -> None:
    amounts = {"a": "10.005", "b": "10.015", "c": "99.999", "d": "0.1234567", "e": "10.0149996", "f": "1000000"}
    for community, amount in amounts.items():
        await budgets.set(community, budget(amount))
    kept = {community: b.amount for community, b in (await budgets.all()).items()}
    assert kept == {"a": Decimal("10.00"), "b": Decimal("10.02"), "c": Decimal("100.00"), "d": Decimal("0.12"),
                    "e": Decimal("10.02"), "f": Decimal("1000000.00")}
    assert all(amount.as_tuple().exponent == -2 for amount in kept.values())


async def test_a_budget_without_thresholds_or_a_setter_and_one_without_a_time(budgets: Budgets) -> None:
    await budgets.set("alpha", budget(thresholds=(), set_by=None))
    assert await budgets.get("alpha") == budget("1234.50", thresholds=(), set_by="")
    with pytest.raises((ValueError, IntegrityError)):
        await budgets.set("beta", budget(set_at=None))
    assert await budgets.get("beta") is None


def question(text: str = "How do I add a user?", *, community: str | None = "alpha", at: datetime = T0,
             answered: bool = True, escalated: bool = False, **changes: object) -> SupportQuestion:
    q = SupportQuestion(at=at, user="UASKER001", channel="CALPHA001", community=community, question=text,
                        answered=answered, confidence=0.75, citation="users.md#adding-users" if answered else None,
                        thread_ts="1710504000.000100", escalated=escalated)
    return dataclasses.replace(q, **changes)  # type: ignore[arg-type]


async def test_a_question_comes_back_with_its_id(support: SupportLog) -> None:
    first = question("¿Cómo añado un usuario? 漢字 🚀", community=None, citation=None, thread_ts=None)
    second = question("Hub is down", answered=False, escalated=True, confidence=0.0)
    one, two = await support.add(first), await support.add(second)
    assert one < two
    assert await support.get(one) == dataclasses.replace(first, id=one)
    assert await support.get(two) == dataclasses.replace(second, id=two)
    assert await support.get(two + 1000) is None


async def test_a_question_is_kept_within_its_columns(support: SupportLog) -> None:
    long = question("¿" + "é漢" * 3000, user="U" * 40, channel="C" * 40, confidence=0.87654321, helpful=True)
    got = await support.get(await support.add(long))
    assert got is not None
    assert (got.user, got.channel, got.question) == ("U" * 32, "C" * 32, long.question[:4000])
    assert got.confidence == 0.8765
    assert got.helpful is None  # a verdict comes from feedback, never with the question


async def test_feedback_is_recorded_once(support: SupportLog) -> None:
    qid = await support.add(question())
    assert await support.feedback(qid, helpful=False) is True
    assert await support.feedback(qid, helpful=True) is False
    got = await support.get(qid)
    assert got is not None and got.helpful is False
    assert await support.feedback(qid + 1000, helpful=True) is False


async def test_escalating_marks_the_question(support: SupportLog) -> None:
    qid = await support.add(question(answered=False))
    await support.escalate(qid)
    await support.escalate(qid)
    await support.escalate(qid + 1000)
    got = await support.get(qid)
    assert got is not None and got.escalated and not got.answered


async def test_stats_count_questions_answers_escalations_and_verdicts(support: SupportLog) -> None:
    yesterday = T0 - timedelta(days=1)
    helpful = await support.add(question(at=yesterday))
    unhelpful = await support.add(question(at=T0))
    await support.add(question(community="beta", answered=False, escalated=True, at=T0 + timedelta(hours=1)))
    await support.add(question(community=None, at=T0))
    await support.feedback(helpful, helpful=True)
    await support.feedback(unhelpful, helpful=False)
    assert await support.stats(communities=None, since=None) == SupportStats(
        asked=4, answered=3, escalated=1, helpful=1, unhelpful=1, top_escalated=[("how do i add a user?", 1)])
    assert await support.stats(communities=["alpha"], since=None) == SupportStats(
        asked=2, answered=2, escalated=0, helpful=1, unhelpful=1)
    assert await support.stats(communities=None, since=T0) == SupportStats(
        asked=3, answered=2, escalated=1, helpful=0, unhelpful=1, top_escalated=[("how do i add a user?", 1)])
    assert await support.stats(communities=["beta", "nobody"], since=T0 + timedelta(hours=2)) == SupportStats(
        asked=0, answered=0, escalated=0, helpful=0, unhelpful=0)
    assert await support.stats(communities=[], since=None) == SupportStats(
        asked=0, answered=0, escalated=0, helpful=0, unhelpful=0)


async def test_stats_name_the_five_most_escalated_questions(support: SupportLog) -> None:
    asked = {"How do I add a user?": 7, "Hub is down": 6, "¿Dónde está 漢字?": 5, "quota exceeded": 4,
             "my server won't start": 3, "what is binder": 1}
    for text, times in asked.items():
        for i in range(times):
            # the same question, shouted (only in ASCII: SQLite lowers no other letters)
            spelled = text.upper() if i % 2 and text.isascii() else text
            await support.add(question(spelled, answered=False, escalated=True))
    await support.add(question("what is binder", answered=True))  # answered, not escalated: not counted
    later = await support.add(question("what is binder", answered=False, at=T0 + timedelta(minutes=5)))
    await support.escalate(later)
    await support.add(question("Hub is down", community="beta", escalated=True))
    stats = await support.stats(communities=["alpha"], since=None)
    assert stats.top_escalated == [("how do i add a user?", 7), ("hub is down", 6), ("¿dónde está 漢字?", 5),
                                   ("quota exceeded", 4), ("my server won't start", 3)]
    assert (stats.asked, stats.escalated) == (28, 27)
    beta = await support.stats(communities=["beta"], since=None)
    assert beta.top_escalated == [("hub is down", 1)]
    recent = await support.stats(communities=None, since=T0 + timedelta(minutes=1))
    assert recent.top_escalated == [("what is binder", 1)]


# -- escalation threads, replies, verdicts and saved answers ------------------------------------------


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def saved(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SavedAnswers]:
    if request.param == "memory":
        yield MemorySavedAnswers()
        return
    db = _database(request, tmp_path)
    yield SqlSavedAnswers(db)
    db.dispose()


async def test_an_escalation_post_finds_its_question(support: SupportLog) -> None:
    qid = await support.add(question("is rye better?"))
    assert await support.by_post("CSUPPORT1", "1700000000.000100") is None
    await support.posted(qid, channel="CSUPPORT1", ts="1700000000.000100")
    found = await support.by_post("CSUPPORT1", "1700000000.000100")
    assert found is not None and found.id == qid and found.question == "is rye better?"
    assert await support.by_post("CSUPPORT1", "1700000000.000200") is None
    assert await support.by_post("COTHER001", "1700000000.000100") is None


async def test_a_reply_is_kept_once_and_saved_once(support: SupportLog) -> None:
    qid = await support.add(question("is rye better?"))
    reply = ThreadReply(question_id=qid, user="UENG00001", text="Yes.", channel="CSUPPORT1", ts="1.2", at=T0)
    first = await support.add_reply(reply)
    assert await support.add_reply(dataclasses.replace(reply, text="Yes (redelivered).")) == first
    other = await support.add_reply(dataclasses.replace(reply, ts="1.3"))
    assert other != first
    assert await support.get_reply(first) == dataclasses.replace(reply, id=first)
    assert await support.get_reply(9999) is None
    assert await support.reply_saved(first, entry_id=7)
    assert not await support.reply_saved(first, entry_id=8)
    got = await support.get_reply(first)
    assert got is not None and got.entry_id == 7


async def test_verdicts_are_newest_first_per_community_and_can_be_forgotten(support: SupportLog) -> None:
    ids = []
    for text, community, cite in [("a", "alpha", "p.md#x"), ("b", "alpha", "p.md#y"), ("c", "beta", "p.md#x"),
                                  ("d", None, "p.md#x"), ("e", "alpha", None), ("f", "alpha", "p.md#x")]:
        ids.append(await support.add(question(text, community=community, citation=cite)))
    for qid, helpful in zip(ids, [True, False, True, False, True], strict=False):
        await support.feedback(qid, helpful=helpful)
    alpha = await support.verdicts(community="alpha")
    assert alpha == [Verdict("b", "p.md#y", False), Verdict("a", "p.md#x", True)]  # f has none, e no citation
    assert await support.verdicts(community=None) == [Verdict("d", "p.md#x", False)]
    assert await support.verdicts(community="alpha", limit=1) == [Verdict("b", "p.md#y", False)]
    assert await support.unlearn(community="alpha", ref="p.md#x") == 1
    assert await support.verdicts(community="alpha") == [Verdict("b", "p.md#y", False)]
    assert await support.verdicts(community="beta") == [Verdict("c", "p.md#x", True)]
    assert await support.unlearn(community="alpha", ref=None) == 1
    assert await support.verdicts(community="alpha") == []


async def test_stats_count_suggestions_and_saved_answers(support: SupportLog) -> None:
    await support.add(question("a", suggested=True))
    await support.add(question("b", answered=True, citation="saved/3#"))
    await support.add(question("c", answered=True, citation="guide.md#x"))
    s = await support.stats(communities=None, since=None)
    assert (s.asked, s.suggested, s.saved) == (3, 1, 1)


def entry(first: str = "is rye better?", community: str | None = "alpha", **changes: object) -> SavedAnswer:
    e = SavedAnswer(community=community, questions=(first,), answer="Yes, for taste.", links=("https://x.org/a",),
                    author="UENG00001", at=T0, sources=(("guide/a.md", "abc123"),), question_id=4)
    return dataclasses.replace(e, **changes)  # type: ignore[arg-type]


async def test_saved_answers_come_back_as_saved(saved: SavedAnswers) -> None:
    first = await saved.add(entry())
    assert await saved.get(first) == entry(id=first)
    assert await saved.get(9999) is None
    second = await saved.add(entry("why ducks?", community=None))
    third = await saved.add(entry("beta's", community="beta"))
    assert [e.id for e in await saved.list(communities=None)] == [first, second, third]
    assert [e.id for e in await saved.list(communities=["alpha"])] == [first]
    assert [e.id for e in await saved.list(communities=["alpha", None])] == [first, second]
    assert await saved.list(communities=[]) == []


async def test_saved_answers_retire_restore_edit_and_count(saved: SavedAnswers) -> None:
    first = await saved.add(entry())
    later = T0 + timedelta(days=1)
    assert await saved.retire(first, by="ULEADA001", at=later)
    assert not await saved.retire(first, by="ULEADA001", at=later)
    assert await saved.list(communities=None) == []
    assert [e.retired for e in await saved.list(communities=None, retired=True)] == [True]
    assert await saved.retire(first, by="UENG00001", at=later, retired=False)
    assert not await saved.retire(first, by="UENG00001", at=later, retired=False)
    assert await saved.edit(first, answer="No.", links=(), sources=(), by="ULEADA001", at=later)
    assert not await saved.edit(9999, answer="No.", links=(), sources=(), by="ULEADA001", at=later)
    await saved.used(first)
    await saved.used(first)
    await saved.asked_as(first, "does rye help?")
    await saved.asked_as(first, "DOES RYE HELP?")  # the same way of asking, once
    await saved.asked_as(first, "is rye better?")
    got = await saved.get(first)
    assert got is not None and (got.answer, got.links, got.sources, got.uses) == ("No.", (), (), 2)
    assert got.questions == ("is rye better?", "does rye help?") and got.edited_by == "ULEADA001"
    assert got.edited_at == later and not got.retired
