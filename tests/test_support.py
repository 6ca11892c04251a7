"""`/hub ask` and `/hub faq stats` through the dispatcher, and the `hubbot faq` CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.fleet import DOCS, ENGINEER, LEADER_A, MEMBER_A, OUTSIDER
from tests.support.memory import dispatcher, run
from tests.test_cli import hubbot


async def test_ask_answers_with_link_extract_and_more_links(fleet_file: Path) -> None:
    d, _ = dispatcher(fleet_file)
    reply = await run(d, "ask how do I delete a file permanently?", user=OUTSIDER)
    assert reply.ok and "https://docs.test.org/guide/storage.html#delete-a-file" in reply.text
    assert any(blk["type"] == "actions" for blk in reply.blocks)


async def test_a_question_without_the_ask_command(fleet_file: Path) -> None:
    d, _ = dispatcher(fleet_file)
    assert "#delete-a-file" in (await run(d, "how do I delete a file permanently?", user=OUTSIDER)).text
    assert "did you mean" in (await run(d, "hbus", user=OUTSIDER)).text  # a typo stays a typo
    assert "did you mean" in (await run(d, "audti beta --limit 5", user=ENGINEER)).text


@pytest.mark.parametrize("question", ["", "   "])
async def test_empty_question_says_how_to_ask(fleet_file: Path, question: str) -> None:
    d, _ = dispatcher(fleet_file)
    reply = await run(d, f"ask {question}", user=OUTSIDER)
    assert reply.kind == "usage" and "missing <question>" in reply.text


@pytest.mark.parametrize("question", [
    "x" * 3900,
    "def f(x): return {k: v for k, v in x.items() if v[0] > 3}",
    "¿Dónde están mis archivos del directorio personal?",
    "🙂🙂🙂 ???",
    "<script>alert(1)</script> &amp; <@U123>",
])
async def test_odd_questions_get_a_clear_answer_or_go_to_a_human(fleet_file: Path, question: str) -> None:
    d, _ = dispatcher(fleet_file)
    reply = await run(d, f"ask {question}", user=OUTSIDER)
    assert reply.kind == "ok", reply.text
    assert "<script>" not in json.dumps(list(reply.blocks))  # escaped, never rendered as markup


async def test_no_docs_configured_is_a_clear_message(tmp_path: Path) -> None:
    from tests.support.fleet import FLEET_YAML

    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(FLEET_YAML.split("support:")[0])
    d, _ = dispatcher(fleet)
    reply = await run(d, "ask where are my files?", user=OUTSIDER)
    assert reply.kind == "usage" and "support.docs" in reply.text


async def test_faq_stats(fleet_file: Path) -> None:
    d, _ = dispatcher(fleet_file)
    await run(d, "ask how do I delete a file permanently?", user=MEMBER_A, channel="CALPHA001")
    await run(d, "ask is sourdough better with rye?", user=MEMBER_A, channel="CALPHA001")
    await run(d, "ask is sourdough better with rye?", user=MEMBER_A, channel="CALPHA001")
    stats = await run(d, "faq stats", user=ENGINEER)
    assert "Questions in the last 30 days: 3" in stats.text and "Escalated to a human: 2 (66%)" in stats.text
    assert "2× is sourdough better with rye?" in stats.text
    assert (await run(d, "faq stats", user=LEADER_A)).ok
    assert (await run(d, "faq stats", user=OUTSIDER)).kind == "denied"


def test_cli_faq_index_answer_and_eval(tmp_path: Path) -> None:
    out = hubbot("faq", "index", "--docs", str(DOCS), cwd=tmp_path)
    assert out.returncode == 0 and "4 pages, 15 sections" in out.stdout
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps({"id": "a", "question": "how do I delete a file permanently?",
                    "expected": ["guide/storage.md#delete-a-file"], "kind": "answerable"}) + "\n"
        + json.dumps({"id": "b", "question": "is sourdough better with rye?", "expected": [],
                      "kind": "out_of_scope"}) + "\nnot json\n")
    answers = hubbot("faq", "answer", "--docs", str(DOCS), "--jsonl", cwd=tmp_path, stdin=questions.read_text())
    assert answers.returncode == 0, answers.stderr
    lines = [json.loads(line) for line in answers.stdout.splitlines()]
    assert [(r["id"], r["answered"]) for r in lines[:2]] == [("a", True), ("b", False)]
    assert lines[0]["citations"][0] == {"path": "guide/storage.md", "anchor": "delete-a-file",
                                        "score": lines[0]["citations"][0]["score"]}
    assert {"id", "answered", "citations", "text"} <= set(lines[0])
    (tmp_path / "a.jsonl").write_text("\n".join(answers.stdout.splitlines()[:2]) + "\n")
    bad = hubbot("faq", "eval", "--answers", str(tmp_path / "a.jsonl"), "--questions", str(questions), cwd=tmp_path)
    assert bad.returncode == 2 and "not a JSON object" in bad.stderr  # the "not json" line
    questions.write_text("\n".join(questions.read_text().splitlines()[:2]) + "\n")
    scores = json.loads(hubbot("faq", "eval", "--answers", str(tmp_path / "a.jsonl"), "--questions", str(questions),
                               cwd=tmp_path).stdout)
    assert scores["strict@1"] == 1.0 and scores["abstention"] == 1.0


@pytest.mark.parametrize("args,message", [
    (["faq", "answer"], "give at least one --docs DIR"),
    (["faq", "answer", "--docs", "nowhere"], "docs folder not found"),
    (["faq", "index", "--docs", "nowhere"], "docs folder not found"),
    (["faq", "eval", "--answers", "a.jsonl", "--questions", "q.jsonl"], "file not found"),
])
def test_cli_faq_bad_arguments(tmp_path: Path, args: list[str], message: str) -> None:
    out = hubbot(*args, cwd=tmp_path, stdin="")
    assert out.returncode == 2 and message in out.stderr


def test_demo_answers_from_its_own_guide(tmp_path: Path) -> None:
    out = hubbot("run", "--demo", "/hub ask how do I install a python package for myself?", cwd=tmp_path)
    assert out.returncode == 0 and "docs.demo.hubbot.org/user/packages.html" in out.stdout


async def test_a_question_about_something_else_entirely_is_not_answered(fleet_file: Path) -> None:
    # Words the docs never use, one of them a near-miss of a docs word: no confident answer.
    d, _ = dispatcher(fleet_file)
    reply = await run(d, "ask what is the best recipe for sourdough bread with rye flour?", user=OUTSIDER)
    assert "I'm not sure" in reply.text


@pytest.mark.parametrize("make", ["missing", "empty", "broken"])
async def test_docs_trees_that_are_missing_empty_or_broken(tmp_path: Path, make: str) -> None:
    from tests.support.fleet import FLEET_YAML

    docs = tmp_path / "docs"
    if make != "missing":
        docs.mkdir()
    if make == "broken":
        (docs / "a.md").write_text("# Title\n```python\nunclosed fence\n:::{note\n## Heading ``bad``\n")
        (docs / "b.rst").write_bytes(b"\xff\xfe not utf-8 \x00\x01")
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(FLEET_YAML.replace(str(DOCS), str(docs)))
    d, _ = dispatcher(fleet)
    reply = await run(d, "ask how do I delete a file?", user=OUTSIDER)
    if make == "missing":
        assert reply.kind == "usage" and "docs folder not found" in reply.text
    else:
        assert reply.kind == "ok" and "I'm not sure" in reply.text  # nothing to answer from: a human answers
