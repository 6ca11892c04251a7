"""Docs pages -> sections: reading a page safely, Markdown/MyST through markdown-it-py, and the dispatch to the
reStructuredText reader.

Markdown is parsed by markdown-it-py with the CommonMark preset and the mdit-py-plugins that MyST-Parser (the
Sphinx Markdown parser these docs are written for) builds on, so a page is read the way its site renders it.
What becomes of each block is hubbot's choice: headings open sections; admonitions and other directives keep their
text (headings inside them stay text, as MyST does not make them page sections); code directives and fences feed the
code field, and so do link addresses (searchable words such as ``cluster-autoscaler`` that the reader does not
see in the text); toctree, include and image contribute nothing; front matter, comments and HTML tags are dropped.

Broken markup never raises.  One repair is made on top of CommonMark: a code fence that is never closed would
swallow the rest of the page, so its opening line is dropped and the page read again, keeping the headings after it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.colon_fence import colon_fence_plugin
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.front_matter import front_matter_plugin
from mdit_py_plugins.myst_blocks import myst_block_plugin
from mdit_py_plugins.myst_role import myst_role_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

from hubbot.support.faq.rst import parse_rst
from hubbot.support.faq.sections import Section, SectionBuilder, role_text, title_from_path

__all__ = ["DOC_SUFFIXES", "Section", "parse_file", "parse_markdown", "parse_rst", "title_from_path"]

log = logging.getLogger(__name__)

DOC_SUFFIXES = (".md", ".markdown", ".rst")
MAX_PAGE_BYTES = 2_000_000

# Directives whose body is not prose (a plain fence such as ```python is code too).
CODE_DIRECTIVES = frozenset({"code", "code-block", "sourcecode", "code-cell", "ipython", "jupyter-execute", "math"})
SKIP_DIRECTIVES = frozenset(
    {"toctree", "include", "literalinclude", "image", "contents", "raw", "mermaid", "graphviz", "bibliography",
     "tableofcontents", "only", "index", "highlight", "meta", "role", "default-role", "autosummary"}
)
# Directives whose argument is a file name, not words a reader sees (a figure's caption is its body).
ARGUMENT_IS_PATH = frozenset({"figure", "image", "include", "literalinclude", "toctree", "bibliography"})

# A MyST directive is a fence whose info string starts with ``{name}``; the rest of it is the argument.
_DIRECTIVE_INFO = re.compile(r"^\{([^}\s]+)\}\s*(.*)$", re.DOTALL)
# MyST directive options at the top of the body: ``:key: value`` lines (a ``---`` YAML block is the other form).
_OPTION = re.compile(r"^\s*:[\w-]+:(?:\s.*)?$")
_FENCES = frozenset({"fence", "colon_fence"})
_NEWLINES = re.compile(r"\r\n?")


def _markdown() -> MarkdownIt:
    md = (
        MarkdownIt("commonmark")
        .enable("table")
        .use(front_matter_plugin)
        .use(myst_block_plugin)  # (label)= targets, % comments, +++ breaks
        .use(myst_role_plugin)
        .use(footnote_plugin)
        .use(colon_fence_plugin)
        .use(dollarmath_plugin)
        .use(deflist_plugin)
        .use(tasklists_plugin)
    )
    # Footnote text stays in the section that defines it (the tail rule would move every footnote to the page end).
    md.disable("footnote_tail")
    return md


_MD = _markdown()


class _HtmlText(HTMLParser):
    """The text of an HTML block (``<details><summary>Why?</summary>...``); tags and comments are dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _html_text(html: str) -> str:
    reader = _HtmlText()
    reader.feed(html)
    reader.close()
    return "".join(reader.parts)


def inline_text(children: Sequence[Token] | None, *, heading: bool = False, links: list[str] | None = None) -> str:
    """The text a reader sees of an inline token's children: emphasis, links and HTML tags reduced to their text,
    code spans and math kept, a role shown as its title or target; ``links`` collects the links' addresses.
    A heading is one line, and keeps underscore
    emphasis markers (``When will _you_ ...``): the published anchors of these docs keep them in the slug."""
    parts: list[str] = []
    for token in children or ():
        kind = token.type
        if kind in {"text", "code_inline", "math_inline", "math_inline_double"}:
            parts.append(token.content)
        elif kind == "softbreak":
            parts.append(" " if heading else "\n")
        elif kind == "hardbreak":
            parts.append("\n")
        elif kind == "image":
            parts.append(inline_text(token.children, heading=heading))
        elif kind == "link_open" and links is not None:
            links.append(str(token.attrGet("href") or ""))
        elif kind == "myst_role":
            parts.append(role_text(token.content))
        elif heading and kind in {"em_open", "em_close", "strong_open", "strong_close"} and token.markup[0] == "_":
            parts.append(token.markup)
    return "".join(parts).strip()


def _directive_body(content: str) -> str:
    """A MyST directive's body without its options (``:key: value`` lines, or a ``---`` YAML block)."""
    lines = content.splitlines()
    start = 0
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
        start = end + 1 if end is not None else 0
    else:
        while start < len(lines) and _OPTION.match(lines[start]):
            start += 1
    return "\n".join(lines[start:])


class _Reader:
    """Feeds one page's markdown-it tokens to a ``SectionBuilder``."""

    def __init__(self, builder: SectionBuilder) -> None:
        self.builder = builder

    def blocks(self, tokens: Sequence[Token], *, nested: bool) -> None:
        """``nested``: the tokens are a directive's body, whose headings and targets are plain text."""
        row: list[str] | None = None
        item_marker = ""
        i = 0
        while i < len(tokens):
            token = tokens[i]
            kind = token.type
            if kind == "heading_open" and i + 1 < len(tokens):
                text = inline_text(tokens[i + 1].children, heading=True)
                if nested:
                    self.builder.prose(text)
                else:
                    self.builder.heading(int(token.tag[1:]), text)
                i += 3  # heading_open, inline, heading_close
                continue
            if kind == "inline":
                links: list[str] = []
                text = inline_text(token.children, links=links)
                for link in links:  # a link's address names its subject too, though the reader does not see it
                    self.builder.code(link)
                if row is not None:
                    row.append(text)
                elif text:
                    self.builder.prose(item_marker + text)
                item_marker = ""
            elif kind == "list_item_open":
                # The list marker is kept so a list item stays a line of its own in extracts.
                item_marker = f"{token.info}{token.markup} " if token.info else f"{token.markup} "
            elif kind == "tr_open":
                row = []
            elif kind == "tr_close" and row is not None:
                if any(row):
                    self.builder.prose(" ".join(cell for cell in row if cell))
                row = None
            elif kind in _FENCES:
                self.fence(token)
            elif kind in {"code_block", "math_block", "math_block_label"}:
                self.builder.code(token.content)
            elif kind == "html_block":
                text = _html_text(token.content).strip()
                if text:
                    self.builder.prose(text)
            elif kind == "myst_target" and not nested:
                self.builder.label(token.content)
            i += 1

    def fence(self, token: Token) -> None:
        directive = _DIRECTIVE_INFO.match(token.info.strip())
        if directive is None:
            if token.type == "colon_fence":  # a colon fence without a directive name is prose, as MyST reads it
                self.blocks(_MD.parse(token.content), nested=True)
            else:
                self.builder.code(token.content)
            return
        name, argument = directive.group(1).lower(), directive.group(2).strip()
        if name in SKIP_DIRECTIVES:
            return
        body = _directive_body(token.content)
        if name in CODE_DIRECTIVES:
            self.builder.code(body)
            return
        if argument and name not in ARGUMENT_IS_PATH:
            self.builder.prose(inline_text(_MD.parseInline(argument)[0].children))
        self.blocks(_MD.parse(body), nested=True)


def _unclosed_fence(tokens: Sequence[Token], lines: list[str], line_count: int) -> int | None:
    """The opening line of a fence that runs to the end of the page without a closing fence, if any."""
    for token in tokens:
        if token.type not in _FENCES or token.map is None:
            continue
        start, end = token.map
        if end < line_count:
            continue
        last = lines[end - 1].strip() if end - 1 > start else ""
        fence_char = token.markup[:1]
        if not (last and set(last) == {fence_char} and len(last) >= len(token.markup)):
            return start
    return None


def parse_markdown(text: str, path: str) -> list[Section]:
    """Split a Markdown/MyST page into heading-level sections."""
    text = _NEWLINES.sub("\n", text)  # markdown-it's own line ends, so token line numbers index ``lines``
    lines = text.split("\n")
    line_count = len(lines) - 1 if text.endswith("\n") else len(lines)
    tokens = _MD.parse(text)
    for _ in range(50):  # each round drops one unclosed fence's opening line
        opener = _unclosed_fence(tokens, lines, line_count)
        if opener is None:
            break
        lines[opener] = ""
        tokens = _MD.parse("\n".join(lines))
    builder = SectionBuilder(path, title_from_path(path))
    _Reader(builder).blocks(tokens, nested=False)
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
