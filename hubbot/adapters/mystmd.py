"""How the MyST engine (``mystmd``, the builder of Jupyter Book 2) names a site's pages and the ids of
their headings, so that citation links land where a MyST site puts them.

The rules are those of mystmd 1.8.3 (``myst-common``'s ``normalizeLabel``/``createHtmlId``,
``myst-transforms``' heading labels and ``htmlIds``, ``myst-cli``'s ``fileInfo``/``createSlug``), which
differ from the GitHub / MyST-Parser slug hubbot's index uses: punctuation becomes ``-`` instead of
vanishing, letters outside a–z (é, ß) become ``-`` too, and an id may not start with a digit.
The tests check these functions against a real ``myst build`` (``make mystmd``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Protocol

_SPACES = re.compile(r"[\t\n\r ]+")
_QUOTES = re.compile(r"['‘’\"“”]+")
_NOT_ID = re.compile(r"[^a-z0-9-]")
_RUNS = re.compile(r"-[-]+")
_LEADING_NUMBER = re.compile(r"^[0-9_.-]+")
_YEAR = re.compile(r"^([12][0-9]{3})([^0-9])?")
_SLUG_CHAR = re.compile(r"^[a-z0-9-]")
SLUG_LENGTH = 50


class HeadingLike(Protocol):
    """What :func:`page_ids` needs of a parsed section (hubbot's index sections have it)."""

    @property
    def anchor(self) -> str: ...

    @property
    def heading(self) -> str: ...

    @property
    def label(self) -> str | None: ...

    @property
    def level(self) -> int: ...


def html_id(identifier: str) -> str:
    """mystmd's ``createHtmlId``: lowercase; every character but a–z, 0–9 and ``-`` becomes ``-``; a
    leading digit or ``-`` gets ``id-`` before it; runs of ``-`` become one; none at either end."""
    out = _NOT_ID.sub("-", identifier.lower())
    if out[:1].isdigit() or out[:1] == "-":
        out = "id-" + out
    return _RUNS.sub("-", out).strip("-")


def label_id(text: str) -> str:
    """The id of a heading's text or an explicit ``(label)=`` (mystmd's ``normalizeLabel``): spaces
    collapsed, quotes dropped, then :func:`html_id`."""
    identifier = _QUOTES.sub("", _SPACES.sub(" ", text)).strip().lower()
    return html_id(identifier) if identifier else ""


def page_ids(sections: Iterable[HeadingLike]) -> dict[str, str]:
    """hubbot's anchor -> the mystmd id for the headings of one page, in page order. A level-1
    heading opening the page becomes the page's title (no id: its link is the page itself); a
    repeated id gets ``-1``, ``-2`` ... as mystmd's ``htmlIds`` gives it."""
    out: dict[str, str] = {}
    seen: set[str] = set()
    for number, section in enumerate(sections):
        if not section.anchor:
            continue
        if number == 0 and section.level == 1 and not section.label:
            out[section.anchor] = ""
            continue
        found = label_id(section.label) if section.label else label_id(section.heading)
        if not found:
            out[section.anchor] = ""
            continue
        unique, count = found, 0
        while unique in seen:
            count += 1
            unique = f"{found}-{count}"
        seen.add(unique)
        out[section.anchor] = unique
    return out


def _name(text: str) -> str:
    # myst-cli's title2name: lowercase, anything but a-z, 0-9 and "-" becomes "-", runs collapsed
    chars = "".join(c if _SLUG_CHAR.match(c) else "-" for c in text.replace("&", "¶and¶").lower())
    return re.sub(r"-+", "-", chars).strip("-")[:SLUG_LENGTH]


def slug(stem: str) -> str:
    """mystmd's page slug of a file name without its extension: a leading number (``01_``, ``2.``)
    dropped unless it is a year, then lowercase with ``-`` for anything else, at most 50 characters."""
    if not _YEAR.match(stem) and not re.match(r"^[0-9]{5}", stem):
        stem = _LEADING_NUMBER.sub("", stem) or stem
    return _name(stem)


def page_path(rel: str, *, folders: bool = False) -> str:
    """A page's URL path under the site's base URL: ``guide/01_Install.md`` -> ``install`` (or
    ``guide/install`` with ``folders``, as the site's ``options.folders``); the root ``index`` is ``""``.
    Two pages with the same slug are told apart by mystmd with ``-1`` in table-of-contents order,
    which hubbot does not know; it gives the first one's URL."""
    path = PurePosixPath(rel)
    name = slug(path.stem)
    parts = [slug(p) for p in path.parent.parts] if folders else []
    if name == "index" and (folders or not path.parent.parts):
        return "/".join(parts)  # a folder's index is the folder; the root's, the site itself
    return "/".join([*parts, name])
