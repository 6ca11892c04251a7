"""Text normalisation shared by the index and the queries: unicode folding, contractions, tokens, stop words,
stems, irregular word forms and multi-word expressions (see ``lexicon``).

Stems come from the Snowball English stemmer (Porter2), so that inflected and derived forms of a word meet
("billing", "billed" -> "bill"; "archives", "archived" -> "archiv") by a published, maintained rule.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache
from typing import NamedTuple

import snowballstemmer

from hubbot.support.faq.lexicon import BROADER, GROUPS, IRREGULAR

__all__ = ["RELATED", "STOP_WORDS", "Unit", "analyse", "clear_caches", "expression_term", "fold", "query_units",
           "raw_tokens", "sentences", "stem", "word_stem"]

# General English function words, plus chat fillers and apostrophe-less contractions people type in chat.
_STOP_TEXT = """
    a about above after again against all also am an and any are as at be because been before being below between
    both but by can cannot could did do does doing done during each either else etc ever every few for from further
    get gets getting got had has have having he her here hers herself him himself his how however i if in into is
    it its itself just let lets like may me might more most much must my myself need needs no nor not now of
    often on once only or other ought our ours ourselves own per please possible probably quite rather
    really same shall she should so some someone something such than that the their theirs them themselves then
    there these they this those through thus to too under until upon us use used using very via want wants was
    way we well were what when where whether which while who whom whose why will with within without would yes yet
    you your yours yourself yourselves
    hi hello hey thanks thank thx pls plz ok okay lol hmm guys folks anyone anybody somebody
    whats thats im ive id dont doesnt didnt cant wont isnt arent wasnt werent shouldnt couldnt wouldnt youre theyre
    weve theres heres hows whos
    ones thing things stuff anything everything nothing somewhere anywhere everywhere anyway actually basically
    maybe perhaps somehow sure guess seem seems seemed lot lots bunch
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())

_CONTRACTIONS = re.compile(r"(?<=[a-z])'(?:s|re|ll|ve|d|m)\b|(?<=[a-z])n't\b")
_TOKEN = re.compile(r"[a-z0-9]+")
_SENTENCE_END = re.compile(r"(?<=[.!?:])\s+(?=[A-Z0-9`\"'(\[])|\n+")
_WRAPPED_LINE = re.compile(r"\n(?!\s*(?:[-*+\u2022]|\d+[.)])\s)")


# The Unicode blocks of combining diacritical marks: the accents NFKD splits off letters.
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def fold(text: str) -> str:
    """Lowercase, strip accents, unify apostrophes and dashes, drop contractions' clitics (``n't`` -> ``not``)."""
    if not text.isascii():  # most docs text is plain ASCII and needs neither step
        text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'").replace("`", " ")
    text = text.replace("can't", "can not").replace("won't", "will not")
    if "'" not in text:
        return text
    return _CONTRACTIONS.sub(lambda m: " not" if m.group(0) == "n't" else "", text)


def raw_tokens(text: str) -> list[str]:
    """Folded word tokens, stop words kept (needed for compounds and phrases)."""
    return _TOKEN.findall(fold(text))


_ENGLISH = snowballstemmer.stemmer("english")
_ENGLISH_LOCK = threading.Lock()  # a Snowball stemmer keeps its working word in itself: one word at a time


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Stem of one folded token.  Tokens with digits ("k8s", "v2") and of one or two letters are names or
    abbreviations, not English words, and are kept as they are."""
    if len(word) <= 2 or not word.isalpha():
        return word
    with _ENGLISH_LOCK:
        return str(_ENGLISH.stemWord(word))


@lru_cache(maxsize=65536)
def word_stem(token: str) -> str:
    """Stem of one folded token, irregular forms first mapped to their base form ("ran" -> "run")."""
    return stem(IRREGULAR.get(token, token))


def expression_term(expression: str) -> str:
    """The index term of a word or multi-word expression: its stems joined ("shutting down" -> "shutdown")."""
    return "".join(word_stem(tok) for tok in _TOKEN.findall(fold(expression)))


def _expressions() -> tuple[dict[str, list[tuple[str, ...]]], dict[str, frozenset[str]]]:
    """Multi-word expressions by first stem (longest first), and each term's related terms."""
    phrases: dict[str, set[tuple[str, ...]]] = {}
    related: dict[str, set[str]] = {}
    everything = [expr for group in GROUPS for expr in group]
    everything += [expr for narrow, broad in BROADER for expr in narrow + broad]
    for expression in everything:
        stems = tuple(word_stem(tok) for tok in _TOKEN.findall(fold(expression)))
        if len(stems) > 1:
            phrases.setdefault(stems[0], set()).add(stems)
    for group in GROUPS:
        terms = {expression_term(expr) for expr in group}
        for term in terms:
            related.setdefault(term, set()).update(terms - {term})
    for narrow, broad in BROADER:
        targets = {expression_term(expr) for expr in broad}
        for expr in narrow:
            term = expression_term(expr)
            related.setdefault(term, set()).update(targets - {term})
    by_first = {first: sorted(seqs, key=len, reverse=True) for first, seqs in phrases.items()}
    return by_first, {term: frozenset(terms) for term, terms in related.items()}


_PHRASES, RELATED = _expressions()


class Unit(NamedTuple):
    """One unit of a question: a word, or a multi-word expression the lexicon knows."""

    term: str  # stem, or the joined stems of an expression
    surface: str  # the folded words as written
    start: int  # position of its first token
    length: int  # number of tokens


def _match_phrase(stems: list[str], start: int) -> tuple[str, ...] | None:
    for candidate in _PHRASES.get(stems[start], ()):
        if tuple(stems[start : start + len(candidate)]) == candidate:
            return candidate
    return None


@lru_cache(maxsize=4096)
def _analyse(text: str) -> tuple[str, ...]:
    tokens = _TOKEN.findall(fold(text))
    stems = [word_stem(tok) for tok in tokens]
    terms: list[str] = []
    pending: dict[int, list[str]] = {}  # token position -> expression terms that end there
    for i, tok in enumerate(tokens):
        phrase = _match_phrase(stems, i) if stems[i] in _PHRASES else None
        if phrase is not None:
            pending.setdefault(i + len(phrase) - 1, []).append("".join(phrase))
        if tok not in STOP_WORDS:
            terms.append(stems[i])
        terms.extend(pending.pop(i, ()))
    return tuple(terms)


def analyse(text: str) -> list[str]:
    """Index terms of a text: folded, stop words removed, stemmed; a known multi-word expression adds its joined
    term after its last word ("shut down the hub" -> shut, down, shutdown, hub)."""
    return list(_analyse(text))


def query_units(text: str) -> list[Unit]:
    """The units of a question, in order: known multi-word expressions as one unit (their words are not repeated),
    other non-stop words one each.  Stop words are dropped."""
    tokens = _TOKEN.findall(fold(text))
    stems = [word_stem(tok) for tok in tokens]
    units: list[Unit] = []
    i = 0
    while i < len(tokens):
        phrase = _match_phrase(stems, i) if stems[i] in _PHRASES else None
        if phrase is not None:
            units.append(Unit("".join(phrase), " ".join(tokens[i : i + len(phrase)]), i, len(phrase)))
            i += len(phrase)
            continue
        if tokens[i] not in STOP_WORDS:
            units.append(Unit(stems[i], tokens[i], i, 1))
        i += 1
    return units


def sentences(text: str) -> list[str]:
    """Split prose into sentences (and list items / lines that stand alone)."""
    parts = (" ".join(part.split()) for part in _SENTENCE_END.split(_WRAPPED_LINE.sub(" ", text)))
    return [part for part in parts if part]


def clear_caches() -> None:
    """Forget memoised stems and analysed texts (benchmarks time cold index builds with it)."""
    _analyse.cache_clear()
    word_stem.cache_clear()
    stem.cache_clear()
