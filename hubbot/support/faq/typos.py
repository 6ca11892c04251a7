"""Typo tolerance: vocabulary words within one edit (insert, delete, substitute, swap) of an unknown query word."""

from __future__ import annotations

from collections import Counter, defaultdict

__all__ = ["MIN_LENGTH", "TypoMatcher", "within_one_edit"]

MIN_LENGTH = 5  # shorter words have too many neighbours to correct safely
MAX_CANDIDATES = 3


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def within_one_edit(a: str, b: str) -> bool:
    """Optimal-string-alignment distance <= 1 (an adjacent swap counts as one edit)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diffs = [i for i in range(la) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        if len(diffs) != 2 or diffs[1] != diffs[0] + 1:
            return False
        return a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]]
    if la > lb:
        a, b = b, a
    # b is one longer than a: deleting one character of b must give a
    return a in _deletes(b)


class TypoMatcher:
    """Symmetric-delete lookup over the vocabulary, built lazily on first use."""

    def __init__(self, vocabulary: Counter[str]) -> None:
        self._vocabulary = vocabulary
        self._by_delete: dict[str, list[str]] | None = None

    def _table(self) -> dict[str, list[str]]:
        if self._by_delete is None:
            table: dict[str, list[str]] = defaultdict(list)
            for word in self._vocabulary:
                if len(word) >= MIN_LENGTH - 1 and word.isalpha():
                    table[word].append(word)
                    for variant in _deletes(word):
                        table[variant].append(word)
            self._by_delete = dict(table)
        return self._by_delete

    def candidates(self, word: str) -> list[str]:
        """Known words one edit away from ``word``, most frequent first; empty for short or known words."""
        if len(word) < MIN_LENGTH or word in self._vocabulary:
            return []
        table = self._table()
        found: set[str] = set()
        for key in {word} | _deletes(word):
            for candidate in table.get(key, ()):
                if candidate != word and within_one_edit(word, candidate):
                    found.add(candidate)
        ranked = sorted(found, key=lambda w: (-self._vocabulary[w], w))
        return ranked[:MAX_CANDIDATES]
