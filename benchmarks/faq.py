"""FAQ engine benchmark: index build time and per-question latency (p50/p95), hubbot's engine against a plain BM25
baseline over the same sections (same folding, tokens and stop words; no stemming, no field weights, no typo or
compound handling, no proximity or page aggregation, always answers), plus both engines' scores on the shared
development questions and on the project's own question sets (``benchmarks/faq_questions``: one over the same
docs, one over the Zero to JupyterHub guide in tests/data/faq-corpora/holdout), written apart from the engine,
with the middle band's share (questions given suggestions) and the suggestions' page@3.

    python benchmarks/faq.py [--shared tests/data/faq-corpora] [--pages 500] [--sets dev own check2]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hubbot.support.faq import Index, score
from hubbot.support.faq.index import discover
from hubbot.support.faq.sections import Section
from hubbot.support.faq.text import STOP_WORDS, clear_caches, raw_tokens

SCORES = ("strict@1", "page@1", "page@3", "abstention", "wrong_abstention")
BAND = ("suggested", "suggested_page@3")  # the middle band (hubbot only: plain BM25 always answers)


class PlainBM25:
    """Okapi BM25 (k1=1.2, b=0.75) over heading + body + code of each section, unstemmed tokens."""

    def __init__(self, sections: list[Section], k1: float = 1.2, b: float = 0.75) -> None:
        self.sections = sections
        self.k1, self.b = k1, b
        self.postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.lengths: list[int] = []
        for doc, section in enumerate(sections):
            tokens = self.tokens(" ".join((section.heading, section.body, section.code)))
            self.lengths.append(len(tokens))
            for term, count in Counter(tokens).items():
                self.postings[term].append((doc, count))
        self.avg = (sum(self.lengths) / len(self.lengths)) if self.lengths else 1.0

    @staticmethod
    def tokens(text: str) -> list[str]:
        return [tok for tok in raw_tokens(text) if tok not in STOP_WORDS]

    def search(self, question: str, limit: int = 5) -> list[Section]:
        scores: dict[int, float] = defaultdict(float)
        n = len(self.sections)
        for term in set(self.tokens(question[:2000])):
            postings = self.postings.get(term, [])
            idf = math.log(1 + (n - len(postings) + 0.5) / (len(postings) + 0.5))
            for doc, tf in postings:
                norm = self.k1 * (1 - self.b + self.b * self.lengths[doc] / self.avg)
                scores[doc] += idf * tf * (self.k1 + 1) / (tf + norm)
        best = sorted(scores.items(), key=lambda item: -item[1])[:limit]
        return [self.sections[doc] for doc, _ in best]


def synthetic_tree(source: Path, target: Path, pages: int, seed: int = 7) -> None:
    """``pages`` pages made by copying the source pages and perturbing copies (shuffled paragraphs, extra words)."""
    rng = random.Random(seed)
    files = [file for file, _ in discover(source)]
    words = [w for file in files[:40] for w in file.read_text(encoding="utf-8", errors="replace").split()[:200]]
    for number in range(pages):
        file = files[number % len(files)]
        text = file.read_text(encoding="utf-8", errors="replace")
        if number >= len(files):
            blocks = text.split("\n\n")
            head, rest = blocks[:1], blocks[1:]
            rng.shuffle(rest)
            rest.append(" ".join(rng.choice(words) for _ in range(60)))
            text = "\n\n".join(head + rest)
        out = target / f"copy{number // len(files)}" / file.relative_to(source)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def latencies(fn: object, questions: list[str], rounds: int) -> list[float]:
    assert callable(fn)
    timings: list[float] = []
    for _ in range(rounds):
        for question in questions:
            start = time.perf_counter()
            fn(question)
            timings.append((time.perf_counter() - start) * 1000)
    return timings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    corpora = Path(__file__).resolve().parents[1] / "tests" / "data" / "faq-corpora"
    ap.add_argument("--shared", type=Path, default=corpora)
    ap.add_argument("--pages", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--sets", nargs="*", help="only the question sets whose label starts with one of these")
    args = ap.parse_args()
    corpus, dev = args.shared / "corpus", args.shared / "dev.jsonl"
    questions = [json.loads(line) for line in dev.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = [q["question"] for q in questions]

    with tempfile.TemporaryDirectory(prefix="faq-bench-") as tmp:
        synthetic_tree(corpus, Path(tmp), args.pages)
        rows = []
        for name, docs in (("corpus", corpus), (f"synthetic {args.pages} pages", Path(tmp))):
            clear_caches()  # a cold build: the synthetic pages repeat the corpus's text
            start = time.perf_counter()
            index = Index.build([docs])
            engine_build = time.perf_counter() - start
            start = time.perf_counter()
            baseline = PlainBM25(index.sections)
            base_build = time.perf_counter() - start
            eng = latencies(index.answer, texts, args.rounds)
            base = latencies(baseline.search, texts, args.rounds)
            rows.append((name, index.pages, engine_build, base_build, eng, base))
    print(f"{'tree':<24}{'pages':>6}  {'engine build':>12} {'p50 ms':>7} {'p95 ms':>7}   {'bm25 +build':>11} "
          f"{'p50 ms':>7} {'p95 ms':>7}   p95 ratio")
    for name, pages, eb, bb, eng, base in rows:
        print(f"{name:<24}{pages:>6}  {eb:>11.2f}s {statistics.median(eng):>7.2f} {percentile(eng, 0.95):>7.2f}   "
              f"{bb:>10.2f}s {statistics.median(base):>7.2f} {percentile(base, 0.95):>7.2f}   "
              f"{percentile(eng, 0.95) / max(percentile(base, 0.95), 1e-9):.1f}x")
    print("(bm25 build is on top of the shared parsing, which the engine build includes)")

    own = Path(__file__).resolve().parent / "faq_questions"
    z2jh = args.shared / "holdout"
    sets = [("dev (shared)", corpus, dev), ("own, same docs", corpus, own / "corpus.jsonl"),
            ("own, z2jh docs", z2jh, own / "zero-to-jupyterhub.jsonl"),
            ("check, same", corpus, own / "corpus-check.jsonl"),
            ("check, z2jh", z2jh, own / "zero-to-jupyterhub-check.jsonl"),
            ("check2, same", corpus, own / "corpus-check2.jsonl"),
            ("check2, z2jh", z2jh, own / "zero-to-jupyterhub-check2.jsonl")]
    if args.sets:
        sets = [entry for entry in sets if any(entry[0].startswith(prefix) for prefix in args.sets)]
    print(f"\n{'question set':<16}{'engine':<14}" + "".join(f"{key:>18}" for key in SCORES + BAND))
    for label, docs, file in sets:
        if not docs.is_dir():
            print(f"{label:<16}(no docs at {docs.name})")
            continue
        q_lines = [line for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
        index = Index.build([docs])
        baseline = PlainBM25(index.sections)
        engine_lines, base_lines = [], []
        for q in map(json.loads, q_lines):
            answer = index.answer(q["question"])
            engine_lines.append(json.dumps({"id": q["id"], "answered": answer.answered, "suggested": answer.suggested,
                                            "citations": [{"path": c.path, "anchor": c.anchor}
                                                          for c in answer.citations]}))
            base_lines.append(json.dumps({"id": q["id"], "answered": True, "citations": [
                {"path": s.path, "anchor": s.anchor} for s in baseline.search(q["question"])]}))
        for name, lines in (("hubbot", engine_lines), ("plain BM25", base_lines)):
            result = score(lines, q_lines)
            band = "".join(f"{result[key]:>18.3f}" if name == "hubbot" else f"{'-':>18}" for key in BAND)
            print(f"{label if name == 'hubbot' else '':<16}{name:<14}"
                  + "".join(f"{result[key]:>18.3f}" for key in SCORES) + band)

if __name__ == "__main__":
    main()
