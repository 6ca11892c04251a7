"""Answering support questions from documentation trees (Markdown/MyST and reStructuredText), with citations.

Public surface:

- ``Index.build([docs_dir, ...])`` -> ``Index``; ``index.answer(question)`` -> ``Answer``; ``index.refresh()``
  rebuilds when docs pages changed (True if rebuilt).
- ``Answer(question, answered, confidence, citations, extract, suggested)`` and ``Citation(path, anchor, score,
  title, heading, snippet)``; ``suggested`` marks the middle band (not answered, the closest pages offered, each
  with a one-line ``snippet``); ``path`` is relative to the docs dir the page was found in, ``anchor`` follows
  the MyST/GitHub heading-slug rule.
- ``answer_jsonl(docs, lines)``: questions as JSON lines (``{"id", "question", ...}``) in, answer lines out:
  ``{"id", "answered", "confidence", "citations": [{"path", "anchor", "score"}], "text", "suggested"}``.
- ``index_stats(docs)``: pages, sections and build seconds.
- ``eval_files(answers, questions)`` and ``score(answer_lines, question_lines)``: strict@1, page@1, page@3,
  abstention and wrong_abstention, and the middle band's shares (suggested, suggested_answerable,
  suggested_out_of_scope) and suggested_page@3.
- ``SectionLearning`` and ``summarise(verdicts)``: what askers' verdicts taught, per section (see ``feedback``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from hubbot.domain import Answer, Citation
from hubbot.support.faq.confidence import SUGGEST, THRESHOLD
from hubbot.support.faq.evaluate import score
from hubbot.support.faq.feedback import BOUND, SectionLearning, summarise
from hubbot.support.faq.index import Index
from hubbot.support.faq.sections import Section

__all__ = ["BOUND", "SUGGEST", "THRESHOLD", "Answer", "Citation", "Index", "Section", "SectionLearning", "answer_jsonl",
           "answer_record", "eval_files", "index_stats", "score", "summarise"]


def index_stats(docs: list[Path]) -> dict[str, float]:
    """Build the index once and report its size and build time (for ``hubbot faq index``)."""
    start = time.perf_counter()
    index = Index.build(docs)
    return {"pages": float(index.pages), "sections": float(len(index.sections)),
            "seconds": round(time.perf_counter() - start, 3)}


def answer_record(index: Index, qid: object, question: object) -> dict[str, object]:
    """One answer line as a dict; ``text`` is the extract when answered, empty otherwise; ``suggested`` is true in
    the middle band (not answered, the first three citations offered as suggestions)."""
    answer = index.answer(question if isinstance(question, str) else "")
    return {
        "id": qid,
        "answered": answer.answered,
        "confidence": round(answer.confidence, 4),
        "citations": [{"path": c.path, "anchor": c.anchor, "score": c.score} for c in answer.citations],
        "text": answer.extract if answer.answered else "",
        "suggested": answer.suggested,
    }


def answer_jsonl(docs: list[Path], lines: Iterable[str]) -> Iterator[str]:
    """Answer each JSON line ``{"id", "question"}``; a line that is not valid JSON gets an unanswered record."""
    index = Index.build(docs)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            yield json.dumps({"id": f"line-{number}", "answered": False, "confidence": 0.0, "citations": [],
                              "text": "", "suggested": False, "error": "not a JSON object"})
            continue
        yield json.dumps(answer_record(index, record.get("id", f"line-{number}"), record.get("question")),
                         ensure_ascii=False)


def eval_files(answers: Path, questions: Path) -> dict[str, float]:
    """Score an answers JSONL file against a questions JSONL file."""
    with answers.open(encoding="utf-8") as a, questions.open(encoding="utf-8") as q:
        return score(a, q)
