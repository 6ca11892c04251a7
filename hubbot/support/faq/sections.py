"""The section record and the builder both parsers feed: heading stack, page title, anchors, preamble.

Anchors are the heading slugs MyST-Parser gives a heading (``myst_heading_anchors``), so a citation links to the
right place in the published docs: MyST's default slug function (``myst_parser.slugs.github_slugify``, formerly
``default_slugify``) is the same GitHub rule as ``mdit_py_plugins.anchors.index.slugify`` used here, and a slug
repeated on a page gets ``-1``, ``-2``, ... as in ``unique_slug``.  The same rule is applied to reStructuredText
pages, so every citation of a mixed tree has one anchor style.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from mdit_py_plugins.anchors.index import slugify, unique_slug

__all__ = ["Section", "SectionBuilder", "role_text", "slugify", "title_from_path", "unique_slug"]

# A cross-reference role's content, ``title <target>``: the reader sees the title.
_EXPLICIT_TITLE = re.compile(r"^(.*?)\s*<([^<>]*)>$", re.DOTALL)


def role_text(content: str) -> str:
    """Text a reader sees for a role (MyST ``{ref}`...``` or rST ``:ref:`...```): the explicit title of
    ``title <target>``, else the target without Sphinx's ``~``/``!`` display prefixes."""
    match = _EXPLICIT_TITLE.match(content)
    if match and match.group(1):
        return match.group(1)
    return (match.group(2) if match else content).lstrip("~!")


def title_from_path(rel: str) -> str:
    """A readable page title for a page without headings."""
    path = PurePosixPath(rel)
    stem = path.stem
    if stem.lower() in {"index", "readme"} and path.parent.name:
        stem = path.parent.name
    return stem.replace("-", " ").replace("_", " ").strip().capitalize() or rel


@dataclass(frozen=True, slots=True)
class Section:
    """One heading of one page, with the text up to the next heading."""

    path: str  # relative to the docs dir it was found in, with "/" separators
    page_title: str
    heading: str  # rendered heading text
    heading_path: tuple[str, ...]  # page title ... own heading
    level: int
    anchor: str  # "" for a page without headings
    label: str | None  # explicit target such as MyST ``(label)=`` or rST ``.. _label:``
    body: str  # prose, markup reduced to text
    code: str  # code blocks and literal text

    @property
    def breadcrumb(self) -> str:
        return " > ".join(self.heading_path)


@dataclass(frozen=True, slots=True)
class _Open:
    heading: str
    level: int
    anchor: str
    label: str | None
    heading_path: tuple[str, ...]


class SectionBuilder:
    """Collects headings and text for one page and turns them into sections."""

    def __init__(self, path: str, fallback_title: str) -> None:
        self._path = path
        self._fallback_title = fallback_title
        self._slugs: set[str] = set()
        self._stack: list[tuple[int, str]] = []
        self._sections: list[Section] = []
        self._current: _Open | None = None
        self._prose: list[str] = []
        self._code: list[str] = []
        self._pending_label: str | None = None
        self._page_title: str | None = None

    def label(self, name: str) -> None:
        self._pending_label = name.strip() or None

    def prose(self, text: str) -> None:
        self._prose.extend(text.splitlines())

    def code(self, text: str) -> None:
        self._code.extend(text.splitlines())

    def heading(self, level: int, rendered: str) -> None:
        rendered = " ".join(rendered.split())
        self._flush()
        if self._page_title is None:
            self._page_title = rendered or self._fallback_title
        while self._stack and self._stack[-1][0] >= level:
            self._stack.pop()
        self._stack.append((level, rendered))
        self._current = _Open(
            heading=rendered,
            level=level,
            anchor=unique_slug(slugify(rendered), self._slugs),
            label=self._pending_label,
            heading_path=tuple(text for _, text in self._stack),
        )
        self._pending_label = None

    def _flush(self) -> None:
        body = "\n".join(line for line in self._prose if line.strip())
        code = "\n".join(line for line in self._code if line.strip())
        if self._current is None:
            if not body and not code:
                self._prose.clear()
                self._code.clear()
                return
            if self._page_title is None and not self._sections:
                # Text before the first heading is kept and handed to the first heading, if any.
                return
        self._prose.clear()
        self._code.clear()
        cur = self._current
        if cur is None:
            return
        self._sections.append(
            Section(
                path=self._path,
                page_title=self._page_title or self._fallback_title,
                heading=cur.heading,
                heading_path=cur.heading_path,
                level=cur.level,
                anchor=cur.anchor,
                label=cur.label,
                body=body,
                code=code,
            )
        )

    def finish(self) -> list[Section]:
        if self._current is None and self._page_title is None:
            body = "\n".join(line for line in self._prose if line.strip())
            code = "\n".join(line for line in self._code if line.strip())
            if not body and not code:
                return []
            title = self._fallback_title
            return [Section(self._path, title, title, (title,), 1, "", None, body, code)]
        self._flush()
        return list(self._sections)
