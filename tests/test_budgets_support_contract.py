"""Contract tests for budgets and the support log: the memory twins, SQLite and PostgreSQL agree."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from hubbot.adapters.memory import MemoryBudgets, MemorySupportLog
from hubbot.domain import Budget, SupportQuestion, SupportStats
from hubbot.ports import Budgets, SupportLog
from hubbot.store import Database, SqlBudgets, SqlSupportLog
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
