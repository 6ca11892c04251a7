"""FAQ scoring: the scorer on hand-made inputs, the JSONL interface, and the dev-set level end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hubbot.support.faq import SUGGEST, answer_jsonl, eval_files, score

CORPORA = Path(__file__).parent / "data" / "faq-corpora"
TREE = Path(__file__).parent / "data" / "faq" / "tree"



def _q(qid: str, expected: list[str], kind: str = "answerable") -> str:
    return json.dumps({"id": qid, "question": "?", "expected": expected, "kind": kind})


def _a(qid: str, answered: bool, *refs: str, suggested: bool = False) -> str:
    cites = [{"path": r.split("#")[0], "anchor": r.split("#")[1], "score": 1.0} for r in refs]
    return json.dumps({"id": qid, "answered": answered, "citations": cites, "text": "", "suggested": suggested})


def test_score_hand_made() -> None:
    questions = [
        _q("1", ["a.md#x"]),
        _q("2", ["b.md#y", "c.md#z"]),
        _q("3", ["d.md#"]),  # whole page suffices
        _q("4", ["e.md#w"]),
        _q("5", [], "out_of_scope"),
        _q("6", [], "out_of_scope"),
    ]
    answers = [
        _a("1", True, "a.md#x", "q.md#q"),  # strict, page@1, page@3
        _a("2", True, "c.md#other", "c.md#z"),  # page@1 only (first citation has the wrong anchor)
        _a("3", False, "d.md#anything"),  # strict via whole page, but wrongly abstained
        _a("4", True, "q.md#1", "r.md#2", "e.md#w"),  # page@3 only
        _a("5", False, "a.md#x"),  # abstained: right
        _a("6", True, "a.md#x"),  # answered out of scope: wrong
    ]
    result = score(answers, questions)
    assert result["strict@1"] == pytest.approx(2 / 4)
    assert result["page@1"] == pytest.approx(3 / 4)
    assert result["page@3"] == pytest.approx(4 / 4)
    assert result["abstention"] == pytest.approx(1 / 2)
    assert result["wrong_abstention"] == pytest.approx(1 / 4)
    assert result["answerable"] == 4 and result["out_of_scope"] == 2


def test_score_middle_band_hand_made() -> None:
    questions = [
        _q("1", ["a.md#x"]),
        _q("2", ["b.md#y"]),
        _q("3", ["c.md#"]),
        _q("4", ["d.md#w"]),
        _q("5", [], "out_of_scope"),
        _q("6", [], "out_of_scope"),
        _q("7", [], "out_of_scope"),
    ]
    answers = [
        _a("1", True, "a.md#x"),  # answered: not in the band
        _a("2", False, "q.md#1", "r.md#2", "b.md#other", suggested=True),  # right page third: suggested_page@3
        _a("3", False, "q.md#1", "r.md#2", "s.md#3", "c.md#z", suggested=True),  # right page fourth: not shown
        _a("4", False, "d.md#w"),  # abstained at once
        _a("5", False, "a.md#x", suggested=True),  # out of scope, offered suggestions
        _a("6", False),  # out of scope, handed over at once
        _a("7", True, "a.md#x", suggested=True),  # answered wins over a stray flag
    ]
    result = score(answers, questions)
    assert result["suggested"] == pytest.approx(3 / 7)
    assert result["suggested_answerable"] == pytest.approx(2 / 4)
    assert result["suggested_out_of_scope"] == pytest.approx(1 / 3)
    assert result["suggested_page@3"] == pytest.approx(1 / 2)
    # the existing measures do not change meaning: suggestions are not answers
    assert result["wrong_abstention"] == pytest.approx(3 / 4)
    assert result["abstention"] == pytest.approx(2 / 3)
    assert result["page@3"] == pytest.approx(3 / 4)  # 1, 2 and 4 (cited though abstained)
    # answer lines written before the band (no "suggested" key) score as no suggestions
    old = [json.dumps({k: v for k, v in json.loads(line).items() if k != "suggested"}) for line in answers]
    before = score(old, questions)
    assert before["suggested"] == 0.0 and before["suggested_page@3"] == 0.0
    assert {k: before[k] for k in ("strict@1", "page@1", "page@3", "abstention", "wrong_abstention")} == {
        k: result[k] for k in ("strict@1", "page@1", "page@3", "abstention", "wrong_abstention")}


def test_score_missing_answers_and_blank_lines() -> None:
    questions = [_q("1", ["a.md#x"]), "", _q("2", [], "out_of_scope")]
    result = score(["", _a("9", True, "a.md#x")], questions)
    assert result["strict@1"] == 0.0 and result["wrong_abstention"] == 1.0
    assert result["abstention"] == 1.0  # no answer line: nothing was answered


def test_answer_jsonl_and_eval_files(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "q1", "question": "how do I reset my password"}),
        json.dumps({"id": "q2", "question": "what is the capital of france"}),
        "not json",
        "",
    ]
    out = [json.loads(line) for line in answer_jsonl([TREE], lines)]
    assert [o["id"] for o in out] == ["q1", "q2", "line-3"]
    first = out[0]
    assert set(first) == {"id", "answered", "confidence", "citations", "text", "suggested"}
    assert first["suggested"] is False and out[2]["suggested"] is False
    assert all(isinstance(o["suggested"], bool) for o in out)
    assert out[1]["suggested"] is (out[1]["confidence"] >= SUGGEST)
    assert first["answered"] is True and first["text"]
    assert first["citations"][0] == {"path": "guide/login.rst", "anchor": "reset-your-password",
                                      "score": first["citations"][0]["score"]}
    assert out[1]["answered"] is False and out[1]["text"] == ""
    answers = tmp_path / "answers.jsonl"
    answers.write_text("\n".join(json.dumps(o) for o in out) + "\n")
    questions = tmp_path / "questions.jsonl"
    questions.write_text(_q("q1", ["guide/login.rst#reset-your-password"]) + "\n" + _q("q2", [], "out_of_scope"))
    result = eval_files(answers, questions)
    assert result["strict@1"] == 1.0 and result["abstention"] == 1.0 and result["wrong_abstention"] == 0.0
    assert {"suggested", "suggested_answerable", "suggested_out_of_scope", "suggested_page@3"} <= set(result)


# Goals: strict@1 >= 0.80, page@3 >= 0.95, abstention >= 0.85, wrong abstention <= 0.10.  Measured: strict@1 0.833,
# page@1 0.917, page@3 1.00, abstention 1.00 (6 of 6), wrong abstention 0.083 (2 of 24): all goals are reached.
# The floors are the measured level minus a margin of about one question; the ceiling is the goal.
FLOORS = {"strict@1": 0.79, "page@1": 0.87, "page@3": 0.95, "abstention": 0.83}
CEILINGS = {"wrong_abstention": 0.10}


def test_dev_set_end_to_end() -> None:
    root = CORPORA
    questions = (root / "dev.jsonl").read_text(encoding="utf-8").splitlines()
    answers = list(answer_jsonl([root / "corpus"], questions))
    result = score(answers, questions)
    print({k: round(v, 3) for k, v in result.items()})
    for key, floor in FLOORS.items():
        assert result[key] >= floor, (key, result[key])
    for key, ceiling in CEILINGS.items():
        assert result[key] <= ceiling, (key, result[key])
    cited_paths = {c["path"] for line in answers for c in json.loads(line)["citations"]}
    assert any(p.startswith("docs/") for p in cited_paths)
    assert any(p.startswith("mybinder.org-user-guide/") for p in cited_paths)


# The project's own question sets (benchmarks/faq_questions), written apart from the engine.  Measured:
#   corpus.jsonl                    strict@1 0.533 page@3 0.933 abstention 0.70 wrong abstention 0.133
#   zero-to-jupyterhub.jsonl        strict@1 0.711 page@3 0.889 abstention 0.73 wrong abstention 0.133
#   corpus-check.jsonl              strict@1 0.500 page@3 0.818 abstention 0.875 wrong abstention 0.182
#   zero-to-jupyterhub-check.jsonl  strict@1 0.600 page@3 0.933 abstention 0.70 wrong abstention 0.100
#   corpus-check2.jsonl             strict@1 0.654 page@3 0.962 abstention 0.889 wrong abstention 0.115
#   zero-to-jupyterhub-check2.jsonl strict@1 0.808 page@3 0.962 abstention 0.556 wrong abstention 0.000
# (the check2 sets were scored once, after the middle band, verdict learning and heading weight were settled)
# Floors and ceilings sit about one question away, so a change that makes the engine worse on docs and questions
# it was not written for fails here, not only one that makes it worse on the dev set.
OWN_SETS = {
    "corpus.jsonl": ("corpus", {"strict@1": 0.5, "page@3": 0.9, "abstention": 0.6}, 0.2),
    "zero-to-jupyterhub.jsonl": ("holdout", {"strict@1": 0.68, "page@3": 0.86, "abstention": 0.66}, 0.16),
    "corpus-check.jsonl": ("corpus", {"strict@1": 0.45, "page@3": 0.77, "abstention": 0.75}, 0.23),
    "zero-to-jupyterhub-check.jsonl": ("holdout", {"strict@1": 0.6, "page@3": 0.9, "abstention": 0.6}, 0.14),
    "corpus-check2.jsonl": ("corpus", {"strict@1": 0.6, "page@3": 0.92, "abstention": 0.77}, 0.16),
    "zero-to-jupyterhub-check2.jsonl": ("holdout", {"strict@1": 0.76, "page@3": 0.92, "abstention": 0.44}, 0.04),
}


@pytest.mark.parametrize("name", sorted(OWN_SETS))
def test_own_question_sets(name: str) -> None:
    docs, floors, ceiling = OWN_SETS[name]
    questions = (Path(__file__).resolve().parents[1] / "benchmarks" / "faq_questions" / name).read_text(
        encoding="utf-8").splitlines()
    result = score(list(answer_jsonl([CORPORA / docs], questions)), questions)
    print(name, {k: round(v, 3) for k, v in result.items()})
    for key, floor in floors.items():
        assert result[key] >= floor, (key, result[key])
    assert result["wrong_abstention"] <= ceiling, result["wrong_abstention"]
