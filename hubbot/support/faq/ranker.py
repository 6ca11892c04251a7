"""Retrieval over sections: BM25F with field weights, typo and compound tolerance, near-synonyms, proximity, page
aggregation.

A question becomes concepts, one per word or known multi-word expression; a concept's alternatives are the word
itself (weight 1), or its typo corrections when the docs do not know it, plus its near-synonyms from the general
lexicon (reduced weights).  Scoring of a section ``s`` for concepts ``c`` with alternatives ``t`` (each with a
query weight ``q_t``)::

    tf~(t, s)  = sum over fields f of  w_f * tf_f / (1 - b_f + b_f * len_f / avglen_f)
    bm25f(s)   = sum_c  max_{t in c}  q_t * idf(t) * tf~ / (k1 + tf~)
    score(s)   = bm25f(s) + PAGE_WEIGHT * bm25f(page of s) + proximity bonus

Taking the best alternative of a concept (not the sum) means a section that says "stop", "shut down" and "kill"
is not counted three times for one question word.

Pages are indexed as documents of their own (title, all headings, all text), so a section on a page that matches
the question as a whole is preferred over an isolated lucky match elsewhere.  Page scores use the section-level
idf: with a page-level idf the page part of a score shrank, relative to the section part, as trees got smaller
(page idf over section idf is about 0.46 in a tree of 4 pages and 15 sections, 0.67 in one of 100 pages and
660 sections), so scores, and the confidence read from them, did not mean the same on every tree.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hubbot.support.faq.sections import Section
from hubbot.support.faq.text import RELATED, STOP_WORDS, analyse, query_units, raw_tokens, stem
from hubbot.support.faq.typos import TypoMatcher

__all__ = ["CANDIDATES", "HITS", "K1", "Hit", "QueryTerm", "Ranker", "Retrieval"]

K1 = 1.2
# field: (weight, length normalisation b)
SECTION_FIELDS: dict[str, tuple[float, float]] = {"heading": (4.0, 0.3), "context": (1.0, 0.3), "body": (1.0, 0.75),
                                                  "code": (0.3, 0.75)}
PAGE_FIELDS: dict[str, tuple[float, float]] = {"title": (2.0, 0.3), "headings": (1.0, 0.5), "body": (1.0, 0.75),
                                               "code": (0.3, 0.75)}
PAGE_WEIGHT = 0.5
PROXIMITY_WEIGHT = 0.1
TYPO_WEIGHT = 0.6
SYNONYM_WEIGHT = 0.6
CANDIDATES = 60
HITS = 20  # hits a retrieval keeps by default


@dataclass(frozen=True, slots=True)
class QueryTerm:
    term: str  # stem, or the joined stems of a multi-word expression
    weight: float
    # idf at section level, a synonym's capped at its question word's; for a word the index has never seen, its
    # best synonym's idf, or the maximum idf when it has none
    idf: float
    known: bool
    concept: int = 0  # alternatives of one question word (the word, its typo fixes, its synonyms) share a concept
    primary: bool = True  # the question's own word (False for typo fixes and synonyms)


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

    def score(self, terms: Sequence[QueryTerm], scores: dict[int, float],
              idf: Callable[[str], float] | None = None) -> None:
        """Add each concept's contribution to ``scores``: the best of its alternatives in each doc.  An
        alternative's idf is capped at the idf of the question's own word, so a rare synonym does not outweigh
        the word the user actually wrote.  ``idf`` defaults to these postings' own."""
        idf = idf or self.idf
        concepts: dict[int, list[QueryTerm]] = defaultdict(list)
        for t in terms:
            if t.known and t.term in self.postings:
                concepts[t.concept].append(t)
        for alternatives in concepts.values():
            cap = next((idf(t.term) for t in alternatives if t.primary), math.inf)
            if len(alternatives) == 1:
                t = alternatives[0]
                factor = t.weight * min(idf(t.term), cap)
                for doc, tf in self.postings[t.term]:
                    scores[doc] = scores.get(doc, 0.0) + factor * tf / (K1 + tf)
                continue
            best: dict[int, float] = {}
            for t in alternatives:
                factor = t.weight * min(idf(t.term), cap)
                for doc, tf in self.postings[t.term]:
                    value = factor * tf / (K1 + tf)
                    if value > best.get(doc, 0.0):
                        best[doc] = value
            for doc, value in best.items():
                scores[doc] = scores.get(doc, 0.0) + value


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

    def idf(self, term: str) -> float:
        """Section-level idf of an analysed term (the maximum for a term the tree never uses)."""
        return self._sections.idf(term)

    def query_terms(self, question: str) -> list[QueryTerm]:
        """Query terms grouped in concepts, one per question word or expression: the word itself (weight 1), or
        its typo corrections (TYPO_WEIGHT) when the docs do not know it, plus its near-synonyms (SYNONYM_WEIGHT);
        adjacent words that the docs write as one ("jupyter lab") add the joined word as a concept of its own."""
        units = query_units(question)
        postings = self._sections.postings
        concepts: list[list[tuple[str, float, bool]]] = []
        index_of: dict[str, int] = {}

        def concept(alternatives: list[tuple[str, float, bool]]) -> None:
            key = alternatives[0][0]
            if key in index_of:
                return
            index_of[key] = len(concepts)
            concepts.append(alternatives)

        for first, second in itertools.pairwise(units):
            joined = first.surface + second.surface
            if (first.length == 1 and second.length == 1 and second.start == first.start + 1 and first.surface.isalpha()
                    and second.surface.isalpha() and joined in self.surface):
                concept([(stem(joined), 1.0, True)])
        for unit in units:
            if len(unit.surface) < 2:
                continue
            term = unit.term
            synonyms = [(r, SYNONYM_WEIGHT, True) for r in sorted(RELATED.get(term, ())) if r in postings]
            if term in postings:
                concept([(term, 1.0, True), *synonyms])
                continue
            fixes = []
            if unit.length == 1 and unit.surface.isalpha() and term not in RELATED:  # lexicon words are no typos
                fixes = [stem(fix) for fix in self.typos.candidates(unit.surface)]
            if fixes:
                concept([(fix, TYPO_WEIGHT, True) for fix in dict.fromkeys(fixes)])
            else:
                concept([(term, 1.0, False), *synonyms])
        terms: list[QueryTerm] = []
        for number, alternatives in enumerate(concepts):
            head, head_weight, head_known = alternatives[0]
            is_word = head_weight >= 1.0  # the question's own word (or joined compound), not a typo fix
            cap = self._sections.idf(head) if is_word and head_known else math.inf
            # A word the docs never use weighs the most, unless the lexicon maps it onto words they do use: then
            # the concept weighs what its best synonym does.
            unknown_idf = max((self._sections.idf(t) for t, _, k in alternatives[1:] if k), default=self.max_idf)
            for position, (term, weight, known) in enumerate(alternatives):
                idf = min(self._sections.idf(term), cap) if known else unknown_idf
                terms.append(QueryTerm(term, weight, idf, known, number, is_word and position == 0))
        return terms

    def retrieve(self, question: str, limit: int = HITS) -> Retrieval:
        terms = self.query_terms(question)
        section_scores: dict[int, float] = {}
        self._sections.score(terms, section_scores)
        if not section_scores:
            return Retrieval(tuple(terms), ())
        page_scores: dict[int, float] = {}
        self._pages.score(terms, page_scores, self._sections.idf)
        ordered = [t.term for t in terms if t.known and t.primary]
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
