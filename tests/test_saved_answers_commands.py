"""Saved answers through the dispatcher: who may save, edit, retire and restore them, stale answers
after a docs change, forgetting verdicts, and the export (the real CLI on a real SQLite file)."""

from __future__ import annotations

import asyncio
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from hubbot.domain import SavedAnswer
from hubbot.markup import to_mrkdwn
from hubbot.pipeline.contract import Invocation, Reply
from hubbot.pipeline.dispatch import Dispatcher
from hubbot.store import Database, SqlSavedAnswers
from hubbot.support.faq.curated import load_entries
from tests.support.fleet import DOCS, ENGINEER, FLEET_YAML, LEADER_A, LEADER_B, MEMBER_A, OUTSIDER
from tests.support.memory import click, dispatcher, run
from tests.test_cli import hubbot

ALPHA = "CALPHA001"
SUPPORT = "CSUPPORT1"


@pytest.fixture
def docs_fleet(tmp_path: Path) -> tuple[Path, Path]:
    """A fleet whose docs are a copy the test may change."""
    docs = tmp_path / "docs"
    shutil.copytree(DOCS, docs)
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(FLEET_YAML.replace(str(DOCS), str(docs)))
    return fleet, docs


async def _save(d: Dispatcher, text: str, *, question: str = "is sourdough better with rye?",
                author: str = ENGINEER) -> Reply:
    """Escalate ``question`` from alpha's channel, answer it in the support thread, save the reply."""
    asked = await run(d, f"ask {question}", user=MEMBER_A, channel=ALPHA)
    assert "I'm not sure" in asked.text
    thread = list(d.services.notifier.threads)[-1]  # type: ignore[attr-defined]  # the escalation's post
    offer = await d.run_thread_reply(Invocation(user_id=author, channel_id=SUPPORT, text=text, transport="slack",
                                                trigger="reply", thread_ts=thread, message_ts=f"{thread}9"))
    assert offer.ok and "Save this reply" in offer.text, offer.text
    return await click(d, offer, "Save as answer", user=author, channel=SUPPORT)


async def test_a_saved_answer_goes_stale_when_its_docs_page_changes(docs_fleet: tuple[Path, Path]) -> None:
    fleet, docs = docs_fleet
    d, _ = dispatcher(fleet)
    saved = await _save(d, "Rye is fine; storage rules are in https://docs.test.org/guide/storage.html.")
    assert "Saved as answer #1" in saved.text
    entry = await d.services.saved_answers.get(1)  # type: ignore[union-attr]
    assert entry is not None and [p for p, _ in entry.sources] == ["guide/storage.md"]
    assert entry.links == ("https://docs.test.org/guide/storage.html",)
    listed = await run(d, "faq entries alpha", user=LEADER_A)
    assert "#1 is sourdough better with rye?" in listed.text and "STALE" not in listed.text
    page = docs / "guide" / "storage.md"
    page.write_text(page.read_text() + "\n\nA new paragraph about quotas.\n")
    listed = await run(d, "faq entries alpha", user=LEADER_A)
    assert "STALE: guide/storage.md changed" in listed.text
    stats = await run(d, "faq stats alpha", user=LEADER_A)
    assert "Saved answers in use: 1" in stats.text and "guide/storage.md changed since it was saved" in stats.text


async def test_only_the_author_or_an_engineer_saves_and_only_the_community_changes(fleet_file: Path) -> None:
    d, audit = dispatcher(fleet_file)
    asked = await run(d, "ask is sourdough better with rye?", user=MEMBER_A, channel=ALPHA)
    assert "I'm not sure" in asked.text
    thread = list(d.services.notifier.threads)[-1]  # type: ignore[attr-defined]
    offer = await d.run_thread_reply(Invocation(user_id=LEADER_B, channel_id=SUPPORT, text="Use more rye.",
                                                transport="slack", trigger="reply", thread_ts=thread,
                                                message_ts="1.5"))
    assert (await click(d, offer, "Save as answer", user=OUTSIDER, channel=SUPPORT)).kind == "denied"
    assert "Saved as answer #1" in (await click(d, offer, "Save as answer", user=ENGINEER, channel=SUPPORT)).text
    # the entry belongs to alpha, where it was asked: beta's leader may not change it, alpha's may
    assert (await run(d, "faq retire 1", user=LEADER_B)).kind == "denied"
    assert (await run(d, "faq edit 1 something else", user=MEMBER_A)).kind == "denied"
    assert (await run(d, "faq retire 1", user=LEADER_A)).ok
    assert "retired already" in (await run(d, "faq retire 1", user=LEADER_A)).text
    assert "RETIRED" in (await run(d, "faq entries alpha --retired", user=LEADER_A)).text
    assert "No saved answers yet" in (await run(d, "faq entries alpha", user=LEADER_A)).text
    assert "answers questions again" in (await run(d, "faq restore 1", user=ENGINEER)).text
    assert (await run(d, "faq retire 99", user=ENGINEER)).kind == "not_found"
    assert (await run(d, "faq retire one", user=ENGINEER)).kind == "not_found"
    assert {"faq save", "faq retire", "faq restore"} <= {e.command for e in audit.entries}


async def test_an_edit_answers_in_its_new_words_escaped(fleet_file: Path) -> None:
    d, _ = dispatcher(fleet_file)
    await _save(d, "Use more rye.")
    edited = await run(d, "faq edit 1 Rye <!channel> makes it tangier &amp; denser", user=LEADER_A)
    assert edited.ok and "<!channel>" not in to_mrkdwn(edited.text)
    assert (await run(d, "faq edit 1", user=LEADER_A)).kind == "usage"
    assert (await run(d, "faq edit 1 " + "x" * 3100, user=LEADER_A)).kind == "usage"
    again = await run(d, "ask does rye make sourdough better?", user=OUTSIDER, channel=ALPHA)
    assert "Answered before by" in again.text and "tangier" in again.text
    assert "&lt;!channel&gt;" in to_mrkdwn(again.text) and "<!channel>" not in to_mrkdwn(again.text)


async def test_a_helpful_click_keeps_the_way_of_asking_and_unlearn_forgets_verdicts(fleet_file: Path) -> None:
    d, audit = dispatcher(fleet_file)
    await _save(d, "Use more rye for a tangier loaf.")
    again = await run(d, "ask does rye make sourdough better?", user=OUTSIDER, channel=ALPHA)
    assert "Answered before by" in again.text
    assert "Glad that helped" in (await click(d, again, "This answered it", user=OUTSIDER)).text
    entry = await d.services.saved_answers.get(1)  # type: ignore[union-attr]
    assert entry is not None and entry.questions[-1] == "does rye make sourdough better?" and entry.uses == 1
    assert len(await d.services.support.verdicts(community="alpha")) == 1  # type: ignore[union-attr]
    assert (await run(d, "faq unlearn nothing-here alpha", user=LEADER_A)).kind == "usage"
    forgot = await run(d, "faq unlearn all alpha", user=LEADER_A)
    assert "Forgot 1 verdict" in forgot.text
    assert await d.services.support.verdicts(community="alpha") == []  # type: ignore[union-attr]
    assert "faq unlearn" in {e.command for e in audit.entries}


def test_export_is_a_curated_faq_file(tmp_path: Path, fleet_file: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hubbot.db'}"
    db = Database(url)
    db.upgrade()
    store = SqlSavedAnswers(db)
    at = datetime(2026, 12, 1, tzinfo=UTC)
    asyncio.run(store.add(SavedAnswer(community="alpha", questions=("is rye good?", "does rye help?"),
                                      answer="Yes: see https://docs.test.org/a.html", author=ENGINEER, at=at,
                                      links=("https://docs.test.org/a.html",))))
    asyncio.run(store.add(SavedAnswer(community="beta", questions=("why ducks?",), answer="Because.",
                                      author=ENGINEER, at=at, links=())))
    db.dispose()
    env = {"HUBBOT_DATABASE_URL": url}
    out = hubbot("faq", "export", "--config", str(fleet_file), "--community", "alpha", cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr
    assert yaml.safe_load(out.stdout) == [{"questions": ["is rye good?", "does rye help?"],
                                           "answer": "Yes: see https://docs.test.org/a.html",
                                           "links": ["https://docs.test.org/a.html"]}]
    (tmp_path / "faq.yaml").write_text(hubbot("faq", "export", "--config", str(fleet_file), cwd=tmp_path,
                                              env=env).stdout)
    assert [e.questions[0] for e in load_entries(tmp_path / "faq.yaml")] == ["is rye good?", "why ducks?"]
    wrong = hubbot("faq", "export", "--config", str(fleet_file), "--community", "gamma", cwd=tmp_path, env=env)
    assert wrong.returncode == 2 and "no community 'gamma'" in wrong.stderr
