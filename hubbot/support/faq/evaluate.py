"""Scoring answers against questions (the measures of the support-answer test material).

- strict@1: the first citation's ``path#anchor`` is one of ``expected``; an expected entry with an empty anchor
  (``page.md#``) is satisfied by any citation on that page;
- page@1 / page@3: an expected page among the first one / three citations;
- abstention: share of out-of-scope questions left unanswered;
- wrong_abstention: share of answerable questions left unanswered (suggestions are not answers);
- suggested: share of all questions given suggestions (the middle band: not answered, closest pages offered);
  suggested_answerable / suggested_out_of_scope: share of the answerable / out-of-scope questions given them;
- suggested_page@3: among answerable questions given suggestions, share with an expected page among the first
  three citations (the pages a suggestion shows).

Ranking measures are taken over answerable questions from the citations, whether or not the engine chose to
answer (abstaining is measured separately).  A question without an answer line counts as unanswered and wrong.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

__all__ = ["score"]


def _records(lines: Iterable[str]) -> dict[str, dict[str, Any]]:
    records: dict[str, dict[str, Any]] = {}
    for line in lines:
        line = line.strip()
        if not line:
            continue
        record = json.loads(line)
        if isinstance(record, dict) and "id" in record:
            records[str(record["id"])] = record
    return records


def _split(entry: str) -> tuple[str, str]:
    page, _, anchor = entry.partition("#")
    return page, anchor


def _cited(answer: dict[str, Any] | None) -> list[tuple[str, str]]:
    if not answer:
        return []
    cited: list[tuple[str, str]] = []
    for citation in answer.get("citations") or []:
        if isinstance(citation, dict):
            cited.append((str(citation.get("path", "")), str(citation.get("anchor", "") or "")))
    return cited


def _strict(first: tuple[str, str], expected: list[tuple[str, str]]) -> bool:
    return any(first[0] == page and (not anchor or first[1] == anchor) for page, anchor in expected)


def score(answers_jsonl_lines: Iterable[str], questions_jsonl_lines: Iterable[str]) -> dict[str, float]:
    """Measures for one run; counts are included as floats (``answerable``, ``out_of_scope``)."""
    answers = _records(answers_jsonl_lines)
    questions = _records(questions_jsonl_lines)
    strict = page1 = page3 = wrong_abstain = answerable = 0
    abstained = out_of_scope = 0
    suggested_in = suggested_out = suggested_page3 = 0
    for qid, question in questions.items():
        answer = answers.get(qid)
        answered = bool(answer and answer.get("answered"))
        suggested = bool(answer and answer.get("suggested")) and not answered
        expected = [_split(str(e)) for e in question.get("expected") or []]
        in_scope = question.get("kind") != "out_of_scope" and bool(expected)
        if not in_scope:
            out_of_scope += 1
            abstained += not answered
            suggested_out += suggested
            continue
        answerable += 1
        wrong_abstain += not answered
        cited = _cited(answer)
        pages = {page for page, _ in expected}
        if cited and _strict(cited[0], expected):
            strict += 1
        if cited and cited[0][0] in pages:
            page1 += 1
        if any(page in pages for page, _ in cited[:3]):
            page3 += 1
            suggested_page3 += suggested
        suggested_in += suggested

    def share(count: int, total: int) -> float:
        return count / total if total else 0.0

    return {
        "strict@1": share(strict, answerable),
        "page@1": share(page1, answerable),
        "page@3": share(page3, answerable),
        "abstention": share(abstained, out_of_scope),
        "wrong_abstention": share(wrong_abstain, answerable),
        "answerable": float(answerable),
        "out_of_scope": float(out_of_scope),
        "suggested": share(suggested_in + suggested_out, answerable + out_of_scope),
        "suggested_answerable": share(suggested_in, answerable),
        "suggested_out_of_scope": share(suggested_out, out_of_scope),
        "suggested_page@3": share(suggested_page3, suggested_in),
    }
