"""Docs pages -> sections: Markdown/MyST parsing, and the dispatch to the reStructuredText parser.

Markdown handled: ATX and setext headings, front matter, MyST ``(label)=`` targets and ``%`` comments, code fences
(backtick and tilde, indented, nested), MyST directives in backtick or colon fences (admonitions keep their text,
code directives feed the code field, toctree/include/image are skipped), HTML comments.  Broken markup never
raises: an unclosed code fence is re-read as plain text so the headings after it survive.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from hubbot.support.faq.anchors import render_md_inline
from hubbot.support.faq.rst import parse_rst
from hubbot.support.faq.sections import Section, SectionBuilder, title_from_path

__all__ = ["DOC_SUFFIXES", "Section", "parse_file", "parse_markdown", "parse_rst", "title_from_path"]

log = logging.getLogger(__name__)

DOC_SUFFIXES = (".md", ".markdown", ".rst")
MAX_PAGE_BYTES = 2_000_000

# Directives whose body is not prose.
CODE_DIRECTIVES = frozenset({"code", "code-block", "sourcecode", "code-cell", "ipython", "jupyter-execute", "math"})
SKIP_DIRECTIVES = frozenset(
    {"toctree", "include", "literalinclude", "image", "contents", "raw", "mermaid", "graphviz", "bibliography",
     "tableofcontents", "only", "index", "highlight", "meta", "role", "default-role", "autosummary"}
)
ARGUMENT_IS_PATH = frozenset({"figure", "image", "include", "literalinclude", "toctree", "bibliography"})

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE_OPEN = re.compile(r"^(\s*)(`{3,}|~{3,}|:{3,})[ \t]*(?:\{([^}\s]*)\})?[ \t]*(.*)$")
_MYST_TARGET = re.compile(r"^\s*\(([^()\s][^()]*)\)=\s*$")
_OPTION = re.compile(r"^\s*:[\w-]+:(?:\s.*)?$")
_BLOCK_START = re.compile(r"^\s*(?:[-*+]\s|\d+[.)]\s|>|\|)")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_UNDERSCORE_EMPH = re.compile(r"(?<![\w_])_{1,2}(?=\S)(.+?)(?<=\S)_{1,2}(?![\w_])")


@dataclass(slots=True)
class _Fence:
    char: str
    length: int
    kind: str  # "code", "prose" or "skip"
    opened_at: int
    in_options: bool


class _UnclosedFence(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def _blank_comments(text: str) -> str:
    return _HTML_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)


def _front_matter_end(lines: list[str]) -> int:
    if not lines or lines[0].strip() != "---":
        return 0
    for i in range(1, min(len(lines), 200)):
        if lines[i].strip() in {"---", "..."}:
            return i + 1
    return 0


def _directive_kind(name: str | None, info: str) -> str:
    if name is None:
        return "code"  # a plain fence: ```python
    name = name.lower()
    if name in CODE_DIRECTIVES:
        return "code"
    if name in SKIP_DIRECTIVES:
        return "skip"
    return "prose"


def parse_markdown(text: str, path: str) -> list[Section]:
    """Split a Markdown/MyST page into heading-level sections."""
    ignored: set[int] = set()
    for _ in range(50):
        try:
            return _parse_markdown(text, path, ignored)
        except _UnclosedFence as exc:
            ignored.add(exc.line)
    return _parse_markdown(text, path, ignored, strict=False)


def _parse_markdown(text: str, path: str, ignored: set[int], *, strict: bool = True) -> list[Section]:
    lines = _blank_comments(text).splitlines()
    builder = SectionBuilder(path, title_from_path(path))
    stack: list[_Fence] = []
    paragraph = 0  # prose lines of the open paragraph, outside fences
    for index in range(_front_matter_end(lines), len(lines)):
        line = lines[index]
        stripped = line.strip()
        top = stack[-1] if stack else None
        if top is not None and stripped and set(stripped) == {top.char} and len(stripped) >= top.length:
            stack.pop()
            continue
        if top is not None and top.kind != "prose":
            if top.kind == "code":
                builder.code(line)
            continue
        opener = _FENCE_OPEN.match(line) if index not in ignored else None
        if opener and not (opener.group(2)[0] == ":" and opener.group(3) is None):
            name, rest = opener.group(3), opener.group(4)
            if opener.group(2)[0] == "`" and "`" in rest:
                opener = None
            else:
                kind = _directive_kind(name, rest)
                stack.append(_Fence(opener.group(2)[0], len(opener.group(2)), kind, index, True))
                if kind == "prose" and rest and (name or "").lower() not in ARGUMENT_IS_PATH:
                    builder.prose(render_md_inline(rest))
                paragraph = 0
                continue
        if top is not None and top.in_options:
            if _OPTION.match(line):
                continue
            top.in_options = False
        if not stripped:
            paragraph = 0
            continue
        if not stack:
            atx = _ATX.match(line)
            if atx:
                builder.heading(len(atx.group(1)), render_md_inline(atx.group(2) or ""))
                paragraph = 0
                continue
            setext = _SETEXT.match(line)
            if setext and paragraph > 0:
                title = " ".join(builder.drop_prose_tail(paragraph))
                builder.heading(1 if setext.group(1)[0] == "=" else 2, title)
                paragraph = 0
                continue
            target = _MYST_TARGET.match(line)
            if target:
                builder.label(target.group(1))
                continue
            if stripped.startswith("%") or stripped == "+++" or set(stripped) <= {"-", "*", "_", " "}:
                paragraph = 0
                continue
        # Body text: underscore emphasis is rendered too (headings keep it, as the anchor rule does).
        rendered = _UNDERSCORE_EMPH.sub(r"\1", render_md_inline(line.replace("|", " ")))
        builder.prose(rendered)
        paragraph = paragraph + 1 if not _BLOCK_START.match(line) and not line.startswith("    ") else 0
    if strict:
        for fence in stack:
            if fence.kind == "code":
                raise _UnclosedFence(fence.opened_at)
    return builder.finish()


def read_page(file: Path) -> str | None:
    """Text of a docs page, or None (with a warning) for binary, undecodable or oversized files."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        log.warning("faq: cannot read %s: %s", file, exc)
        return None
    if len(data) > MAX_PAGE_BYTES:
        log.warning("faq: skipping %s: larger than %d bytes", file, MAX_PAGE_BYTES)
        return None
    if b"\x00" in data:
        log.warning("faq: skipping %s: looks binary", file)
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        log.warning("faq: skipping %s: not UTF-8", file)
        return None


def parse_file(file: Path, rel: str) -> list[Section]:
    """Sections of one page; ``rel`` is the citation path.  Never raises for bad content."""
    text = read_page(file)
    if text is None:
        return []
    try:
        if file.suffix.lower() == ".rst":
            return parse_rst(text, rel)
        return parse_markdown(text, rel)
    except Exception:  # a parser bug must not take the whole index down
        log.exception("faq: could not parse %s", file)
        return []
