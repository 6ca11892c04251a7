"""Text normalisation shared by the index and the queries: unicode folding, contractions, tokens, stop words."""

from __future__ import annotations

import re
import unicodedata

from hubbot.faq.stemmer import stem

__all__ = ["STOP_WORDS", "analyse", "fold", "raw_tokens", "sentences"]

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
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())

_CONTRACTIONS = re.compile(r"(?<=[a-z])'(?:s|re|ll|ve|d|m)\b|(?<=[a-z])n't\b")
_TOKEN = re.compile(r"[a-z0-9]+")
_SENTENCE_END = re.compile(r"(?<=[.!?:])\s+(?=[A-Z0-9`\"'(\[])|\n+")
_WRAPPED_LINE = re.compile(r"\n(?!\s*(?:[-*+\u2022]|\d+[.)])\s)")


def fold(text: str) -> str:
    """Lowercase, strip accents, unify apostrophes and dashes, drop contractions' clitics (``n't`` -> ``not``)."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'").replace("`", " ")
    text = text.replace("can't", "can not").replace("won't", "will not")
    return _CONTRACTIONS.sub(lambda m: " not" if m.group(0) == "n't" else "", text)


def raw_tokens(text: str) -> list[str]:
    """Folded word tokens, stop words kept (needed for compounds and phrases)."""
    return _TOKEN.findall(fold(text))


def analyse(text: str) -> list[str]:
    """Index terms of a text: folded, stop words removed, stemmed."""
    return [stem(tok) for tok in _TOKEN.findall(fold(text)) if tok not in STOP_WORDS]


def sentences(text: str) -> list[str]:
    """Split prose into sentences (and list items / lines that stand alone)."""
    parts = (" ".join(part.split()) for part in _SENTENCE_END.split(_WRAPPED_LINE.sub(" ", text)))
    return [part for part in parts if part]
