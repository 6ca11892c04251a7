"""Retrieval over sections: BM25F with field weights, typo and compound tolerance, proximity, page aggregation.

Scoring of a section ``s`` for query terms ``t`` (each with a query weight ``q_t``)::

    tf~(t, s)  = sum over fields f of  w_f * tf_f / (1 - b_f + b_f * len_f / avglen_f)
    bm25f(s)   = sum_t  q_t * idf(t) * tf~ / (k1 + tf~)
    score(s)   = bm25f(s) + PAGE_WEIGHT * bm25f(page of s) + proximity bonus

Pages are indexed as documents of their own (title, all headings, all text), so a section on a page that matches
the question as a whole is preferred over an isolated lucky match elsewhere.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from hubbot.faq.sections import Section
from hubbot.faq.stemmer import stem
from hubbot.faq.text import STOP_WORDS, analyse, raw_tokens
from hubbot.faq.typos import TypoMatcher

__all__ = ["K1", "Hit", "QueryTerm", "Ranker", "Retrieval"]

K1 = 1.2
# field: (weight, length normalisation b)
SECTION_FIELDS: dict[str, tuple[float, float]] = {"heading": (3.0, 0.3), "context": (1.0, 0.3), "body": (1.0, 0.75),
                                                  "code": (0.3, 0.75)}
PAGE_FIELDS: dict[str, tuple[float, float]] = {"title": (2.0, 0.3), "headings": (1.0, 0.5), "body": (1.0, 0.75),
                                               "code": (0.3, 0.75)}
PAGE_WEIGHT = 0.5
PROXIMITY_WEIGHT = 0.1
TYPO_WEIGHT = 0.6
CANDIDATES = 60


@dataclass(frozen=True, slots=True)
class QueryTerm:
    term: str  # stem
    weight: float
    idf: float  # idf at section level; the maximum idf for a term the index has never seen
    known: bool


@dataclass(frozen=True, slots=True)
class Hit:
    section: int
    score: float


@dataclass(frozen=True, slots=True)
class Retrieval:
    terms: tuple[QueryTerm, ...]
    hits: tuple[Hit, ...]  # best first, one per page is not enforced here


class _Postings:
    """Precomputed (unsaturated) BM25F term frequencies: term -> [(doc, tf~)]."""

    def __init__(self, docs: Sequence[dict[str, list[str]]], fields: dict[str, tuple[float, float]]) -> None:
        totals = {name: sum(len(doc.get(name, ())) for doc in docs) for name in fields}
        avg = {name: (totals[name] / len(docs) if docs else 0.0) or 1.0 for name in fields}
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for doc_id, doc in enumerate(docs):
            combined: dict[str, float] = defaultdict(float)
            for name, (weight, b) in fields.items():
                tokens = doc.get(name, [])
                if not tokens:
                    continue
                norm = 1.0 - b + b * len(tokens) / avg[name]
                for term, count in Counter(tokens).items():
                    combined[term] += weight * count / norm
            for term, tf in combined.items():
                postings[term].append((doc_id, tf))
        self.postings = dict(postings)
        self.count = len(docs)

    def idf(self, term: str) -> float:
        df = len(self.postings.get(term, ()))
        return math.log(1.0 + (self.count - df + 0.5) / (df + 0.5))

    def score(self, terms: Sequence[tuple[str, float]], scores: dict[int, float]) -> None:
        for term, qweight in terms:
            postings = self.postings.get(term)
            if not postings:
                continue
            factor = qweight * self.idf(term)
            for doc, tf in postings:
                scores[doc] = scores.get(doc, 0.0) + factor * tf / (K1 + tf)


class Ranker:
    """Ranks sections for a question."""

    def __init__(self, sections: Sequence[Section]) -> None:
        self.sections = list(sections)
        pages: dict[str, int] = {}
        page_docs: list[dict[str, list[str]]] = []
        section_docs: list[dict[str, list[str]]] = []
        self.page_of: list[int] = []
        self.bigrams: list[frozenset[tuple[str, str]]] = []
        self.terms_of: list[frozenset[str]] = []
        surface: Counter[str] = Counter()
        for section in self.sections:
            heading = analyse(section.heading)
            context = analyse(" ".join(section.heading_path[:-1]))
            body = analyse(section.body)
            code = analyse(section.code)
            section_docs.append({"heading": heading, "context": context, "body": body, "code": code})
            sequence = heading + body
            self.bigrams.append(frozenset(itertools.pairwise(sequence)))
            self.terms_of.append(frozenset(heading + context + body + code))
            page = pages.setdefault(section.path, len(pages))
            if page == len(page_docs):
                page_docs.append({"title": analyse(section.page_title), "headings": [], "body": [], "code": []})
            page_docs[page]["headings"].extend(heading)
            page_docs[page]["body"].extend(body)
            page_docs[page]["code"].extend(code)
            self.page_of.append(page)
            for text in (section.heading, section.body, section.code):
                surface.update(tok for tok in raw_tokens(text) if tok not in STOP_WORDS)
        self.page_count = len(page_docs)
        self._sections = _Postings(section_docs, SECTION_FIELDS)
        self._pages = _Postings(page_docs, PAGE_FIELDS)
        self.surface = surface
        self.typos = TypoMatcher(surface)
        self.max_idf = math.log(1.0 + (len(section_docs) + 0.5) / 0.5)

    def query_terms(self, question: str) -> list[QueryTerm]:
        """Stemmed query terms with weights: typo corrections and joined compounds at reduced weight."""
        raw = raw_tokens(question)
        weights: dict[str, float] = {}
        known: dict[str, bool] = {}

        def add(term: str, weight: float, is_known: bool) -> None:
            if weight > weights.get(term, 0.0):
                weights[term] = weight
            known[term] = known.get(term, False) or is_known

        for first, second in itertools.pairwise(raw):
            joined = first + second
            if (first.isalpha() and second.isalpha() and joined in self.surface
                    and first not in STOP_WORDS and second not in STOP_WORDS):
                add(stem(joined), 1.0, True)
        for token in raw:
            if token in STOP_WORDS or len(token) < 2:
                continue
            term = stem(token)
            if term in self._sections.postings:
                add(term, 1.0, True)
                continue
            fixes = self.typos.candidates(token) if token.isalpha() else []
            if fixes:
                for fix in fixes:
                    add(stem(fix), TYPO_WEIGHT, True)
            else:
                add(term, 1.0, False)
        return [
            QueryTerm(term, weight, self._sections.idf(term) if known[term] else self.max_idf, known[term])
            for term, weight in weights.items()
        ]

    def retrieve(self, question: str, limit: int = 20) -> Retrieval:
        terms = self.query_terms(question)
        pairs = [(t.term, t.weight) for t in terms if t.known]
        section_scores: dict[int, float] = {}
        self._sections.score(pairs, section_scores)
        if not section_scores:
            return Retrieval(tuple(terms), ())
        page_scores: dict[int, float] = {}
        self._pages.score(pairs, page_scores)
        ordered = [t.term for t in terms if t.known and t.weight >= 1.0]
        query_pairs = list(itertools.pairwise(ordered))
        idf = {t.term: t.idf for t in terms}
        candidates = sorted(section_scores.items(), key=lambda item: -item[1])[:CANDIDATES]
        hits: list[Hit] = []
        for doc, score in candidates:
            score += PAGE_WEIGHT * page_scores.get(self.page_of[doc], 0.0)
            grams = self.bigrams[doc]
            for a, b in query_pairs:
                if (a, b) in grams or (b, a) in grams:
                    score += PROXIMITY_WEIGHT * (idf[a] + idf[b]) / 2.0
            hits.append(Hit(doc, score))
        hits.sort(key=lambda hit: (-hit.score, hit.section))
        return Retrieval(tuple(terms), tuple(hits[:limit]))
