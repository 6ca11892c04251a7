"""Curated FAQ files: checked on load, searched like the docs, and preferred when at least as sure."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubbot.adapters.docs import DocsKnowledge
from hubbot.errors import UserError
from hubbot.fleet import DocsConfig
from hubbot.support.faq.curated import Curated, load_entries
from tests.support.fleet import DOCS, MEMBER_A
from tests.support.memory import dispatcher, run

FAQ = """
- questions: ["Can I get a GPU for my class?", "is there GPU support", "how do I request GPUs"]
  answer: GPUs are given on request. Email the support desk with your course name and how many students
    need one, two weeks before the course starts.
  links: ["https://support.example.org/gpus"]
- questions: ["Why is my server slow?"]
  answer: Servers share their node; a slow server is usually one at its CPU limit.
"""


@pytest.fixture
def faq(tmp_path: Path) -> Path:
    path = tmp_path / "faq.yaml"
    path.write_text(FAQ)
    return path


def test_entries_load_with_anchors_from_their_first_question(faq: Path) -> None:
    first, second = load_entries(faq)
    assert first.anchor == "can-i-get-a-gpu-for-my-class" and first.path == "faq.yaml"
    assert first.questions[1] == "is there GPU support" and first.links == ("https://support.example.org/gpus",)
    assert second.links == () and second.answer.startswith("Servers share")


@pytest.mark.parametrize(("content", "says"), [
    ("- questions: [a\n", "not valid YAML at line"),
    ("questions: [a]\n", "must be a list"),
    ("- {questions: [a], answer: b, colour: red}\n", "entry 1: give `questions`, `answer`"),
    ("- {questions: [a]}\n", "entry 1: `answer` must be a text"),
    ("- {questions: [], answer: b}\n", "`questions` must be a list of texts"),
    ("- {questions: [a], answer: b}\n- {questions: [c], answer: d, links: ['javascript:alert(1)']}\n",
     "entry 2: links must be http(s) URLs"),
])
def test_a_broken_file_says_what_and_where(tmp_path: Path, content: str, says: str) -> None:
    path = tmp_path / "faq.yaml"
    path.write_text(content)
    with pytest.raises(UserError, match=None) as caught:
        load_entries(path)
    assert says in str(caught.value)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="FAQ file not found"):
        Curated([tmp_path / "nope.yaml"])


def test_a_curated_entry_answers_its_question_with_its_own_words_and_link(faq: Path) -> None:
    knowledge = DocsKnowledge([(DOCS, DocsConfig(path=str(DOCS), base_url="https://docs.test.org"))], [faq])
    answer = knowledge.answer("how can I request a GPU for my course?")
    assert answer.answered and answer.citations[0].path == "faq.yaml"
    assert answer.extract.startswith("GPUs are given on request")
    assert knowledge.url(answer.citations[0].path, answer.citations[0].anchor) == "https://support.example.org/gpus"
    entry = load_entries(faq)[1]
    assert knowledge.url(entry.path, entry.anchor) == "https://docs.test.org"  # no link: the docs' home


def test_docs_still_answer_what_the_faq_does_not_cover(faq: Path) -> None:
    with_faq = DocsKnowledge([(DOCS, DocsConfig(path=str(DOCS), base_url="https://docs.test.org"))], [faq])
    without = DocsKnowledge([(DOCS, DocsConfig(path=str(DOCS), base_url="https://docs.test.org"))])
    question = "how do I delete a file permanently?"
    got = with_faq.answer(question)
    assert got.answered and got.citations == without.answer(question).citations
    assert got.citations[0].path == "guide/storage.md"


async def test_ask_answers_from_a_configured_faq_file(fleet_file: Path, faq: Path) -> None:
    text = fleet_file.read_text().replace("  channel: CSUPPORT1\n", f"  faq: [{faq.name}]\n  channel: CSUPPORT1\n")
    fleet_file.write_text(text)
    d, _ = dispatcher(fleet_file)
    reply = await run(d, "ask is there GPU support for a class?", user=MEMBER_A)
    assert reply.kind == "ok" and "GPUs are given on request" in reply.text
    assert "https://support.example.org/gpus" in reply.text


def test_an_edited_faq_file_is_read_again_without_a_restart(faq: Path) -> None:
    knowledge = DocsKnowledge([], [faq])
    assert not knowledge.answer("where do I park my bicycle?").answered
    faq.write_text(FAQ + "- questions: ['Where do I park my bicycle?']\n  answer: In the racks by the door.\n")
    assert knowledge.refresh()
    assert knowledge.answer("where do I park my bicycle?").extract == "In the racks by the door."
