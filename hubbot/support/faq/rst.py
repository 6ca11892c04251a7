"""reStructuredText pages -> sections.

Handled: titles with an underline or an overline+underline of any punctuation character (levels by order of first
appearance of each style), directives (admonitions keep their text; code directives feed the code field; toctree,
image, include are skipped), ``.. _label:`` targets, comments, ``::`` literal blocks, substitution definitions, and
inline roles reduced to their text.  Never raises on broken markup.
"""

from __future__ import annotations

import re

from hubbot.support.faq.anchors import render_rst_inline
from hubbot.support.faq.sections import Section, SectionBuilder, title_from_path

__all__ = ["parse_rst"]

_ADORNMENT = re.compile(r"^([!-/:-@\[-`{-~])\1+\s*$")
_DIRECTIVE = re.compile(r"^(\s*)\.\.\s+([\w:.+-]+)::(?:\s+(.*))?$")
_TARGET = re.compile(r"^\s*\.\.\s+_([^:]+|`[^`]+`):\s*$")
_EXPLICIT = re.compile(r"^(\s*)\.\.(?:\s|$)")
_OPTION = re.compile(r"^\s*:[\w-]+:(?:\s.*)?$")

_CODE = frozenset({"code", "code-block", "sourcecode", "ipython", "jupyter-execute", "math", "parsed-literal"})
_SKIP = frozenset(
    {"toctree", "include", "literalinclude", "image", "contents", "raw", "mermaid", "graphviz", "only", "index",
     "highlight", "meta", "role", "default-role", "autosummary", "csv-table", "sectnum"}
)
_ARGUMENT_IS_PATH = frozenset({"figure", "image", "include", "literalinclude", "toctree"})


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _block_end(lines: list[str], start: int, parent_indent: int) -> int:
    """First line index after the indented block that starts at ``start`` (blank lines belong to the block)."""
    end = start
    last = start
    while end < len(lines):
        line = lines[end]
        if line.strip():
            if _indent(line) <= parent_indent:
                break
            last = end + 1
        end += 1
    return last


def _is_adornment(line: str, min_len: int = 2) -> bool:
    return bool(_ADORNMENT.match(line)) and len(line.strip()) >= min_len


def parse_rst(text: str, path: str) -> list[Section]:
    """Split a reStructuredText page into title-level sections."""
    lines = text.expandtabs(8).splitlines()
    builder = SectionBuilder(path, title_from_path(path))
    styles: list[tuple[str, bool]] = []
    literal_next = False
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        stripped = line.strip()
        if not stripped:
            i += 1
            continue
        nxt = lines[i + 1] if i + 1 < n else ""
        # Overlined title: ====== / Title / ======
        if _is_adornment(line, 3) and i + 2 < n and lines[i + 1].strip() and lines[i + 2].strip() == stripped[:1] * len(
            lines[i + 2].strip()
        ) and _is_adornment(lines[i + 2], 3):
            i = _title(builder, styles, (stripped[0], True), lines[i + 1].strip(), i + 3)
            literal_next = False
            continue
        # Underlined title: Title / =====
        if (
            _indent(line) == 0
            and not _is_adornment(line)
            and nxt.strip()
            and _is_adornment(nxt)
            and len(nxt.strip()) >= min(3, len(stripped))
            and not stripped.startswith("..")
        ):
            i = _title(builder, styles, (nxt.strip()[0], False), stripped, i + 2)
            literal_next = False
            continue
        if literal_next and _indent(line) > 0:
            end = _block_end(lines, i, _indent(line) - 1)
            for code_line in lines[i:end]:
                builder.code(code_line)
            literal_next = False
            i = end
            continue
        literal_next = False
        target = _TARGET.match(line)
        if target:
            builder.label(target.group(1).strip("`"))
            i += 1
            continue
        directive = _DIRECTIVE.match(line)
        if directive:
            i = _directive(builder, lines, i, directive)
            continue
        explicit = _EXPLICIT.match(line)
        if explicit:  # comment, substitution definition, footnote, external target
            i = _block_end(lines, i + 1, _indent(line))
            continue
        if stripped.endswith("::"):
            literal_next = True
            stripped = stripped[:-1] if len(stripped) > 2 and stripped[-3] != " " else stripped[:-2]
        if stripped:
            builder.prose(render_rst_inline(stripped))
        i += 1
    return builder.finish()


def _title(
    builder: SectionBuilder, styles: list[tuple[str, bool]], style: tuple[str, bool], text: str, nxt: int
) -> int:
    if style not in styles:
        styles.append(style)
    builder.heading(styles.index(style) + 1, render_rst_inline(text))
    return nxt


def _directive(builder: SectionBuilder, lines: list[str], i: int, match: re.Match[str]) -> int:
    indent = len(match.group(1))
    name = match.group(2).lower()
    argument = (match.group(3) or "").strip()
    end = _block_end(lines, i + 1, indent)
    body = lines[i + 1 : end]
    while body and (not body[0].strip() or _OPTION.match(body[0])):
        body = body[1:]
    if name in _SKIP or name.startswith("auto"):
        return end
    if name in _CODE:
        for line in body:
            builder.code(line)
        return end
    if argument and name not in _ARGUMENT_IS_PATH:
        builder.prose(render_rst_inline(argument))
    # Prose directives (note, warning, admonition, figure captions, ...): parse their body as rST without titles.
    inner = [line[indent:] if len(line) > indent else line.strip() for line in body]
    if inner:
        base = min((_indent(line) for line in inner if line.strip()), default=0)
        nested = parse_rst("\n".join(line[base:] for line in inner), "_")
        for section in nested:
            if section.body:
                builder.prose(section.body)
            if section.code:
                builder.code(section.code)
    return end
