"""The section record and the builder both parsers feed: heading stack, page title, anchors, preamble."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from hubbot.support.faq.anchors import SlugCounter, slugify

__all__ = ["Section", "SectionBuilder", "title_from_path"]


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
        self._slugs = SlugCounter()
        self._stack: list[tuple[int, str]] = []
        self._sections: list[Section] = []
        self._current: _Open | None = None
        self._prose: list[str] = []
        self._code: list[str] = []
        self._pending_label: str | None = None
        self._page_title: str | None = None

    def label(self, name: str) -> None:
        self._pending_label = name.strip() or None

    def prose(self, line: str) -> None:
        self._prose.append(line)

    def code(self, line: str) -> None:
        self._code.append(line)

    def drop_prose_tail(self, count: int) -> list[str]:
        """Remove and return the last ``count`` prose lines (used when they turn out to be a setext heading)."""
        if count <= 0:
            return []
        taken = self._prose[-count:]
        del self._prose[-count:]
        return taken

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
            anchor=self._slugs.unique(slugify(rendered)),
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
