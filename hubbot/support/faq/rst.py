"""reStructuredText pages -> sections, through docutils.

docutils parses a page to a doctree; hubbot walks it: sections become sections (their nesting gives the level),
``.. _label:`` targets label the next heading, paragraphs, list items, table rows and admonition text become prose,
literal and math blocks become code, and comments, substitution definitions, footnotes, images and docutils' own
messages contribute nothing.

The docs are Sphinx projects, and plain docutils does not know Sphinx's directives and roles (toctree, code-block,
versionadded, ref, doc, ...).  Each unknown name is registered with a generic handler before the page is parsed,
instead of letting docutils report it as an error: code directives feed the code field, toctree-like directives are
skipped, any other directive keeps its argument and body as prose, and any role shows its title or target.

Parsing is made safe for untrusted pages: no file insertion, no raw passthrough, no syntax highlighting, and docutils
neither prints nor raises for anything it reports (broken markup ends up, at worst, as plain text).
"""

from __future__ import annotations

import copy
import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from docutils import nodes, utils
from docutils.frontend import Values, get_default_settings
from docutils.parsers.rst import Directive, Parser, directives, roles
from docutils.parsers.rst.languages import en
from docutils.parsers.rst.states import Inliner

from hubbot.support.faq.sections import Section, SectionBuilder, role_text, title_from_path

__all__ = ["parse_rst"]

_NEVER = 5  # above docutils' highest message level (severe = 4): report nothing, halt on nothing

_SETTINGS: Values = get_default_settings(Parser)
_SETTINGS.report_level = _NEVER
_SETTINGS.halt_level = _NEVER
_SETTINGS.warning_stream = False
_SETTINGS.file_insertion_enabled = False  # include, csv-table :file: and the like read no files
_SETTINGS.raw_enabled = False
_SETTINGS.syntax_highlight = "none"  # the code directive needs no Pygments run

# Sphinx directives by what their body is; any other name docutils does not know is prose.
_CODE = frozenset({"code-block", "sourcecode", "code-cell", "ipython", "jupyter-execute"})
_SKIP = frozenset(
    {"toctree", "literalinclude", "only", "index", "highlight", "autosummary", "mermaid", "graphviz",
     "bibliography", "tabularcolumns", "tableofcontents", "currentmodule", "module"}
)
_ARGUMENT_IS_PATH = frozenset({"literalinclude", "toctree"})

# Names used in a page, found before parsing so each unknown one gets a handler (docutils' own syntax for them).
_DIRECTIVE_NAME = re.compile(r"^[ \t]*\.\.[ \t]+([\w:.+-]+)::", re.MULTILINE)
_ROLE_NAME = re.compile(r":([\w:.+-]+):`")

# Doctree nodes whose text is no prose for the reader.
_SILENT = (nodes.comment, nodes.substitution_definition, nodes.system_message, nodes.image, nodes.raw,
           nodes.footnote, nodes.citation, nodes.pending)
_CODE_NODES = (nodes.literal_block, nodes.math_block, nodes.doctest_block)
_LIST_ITEM_MARKER = "- "  # kept so a list item stays a line of its own in extracts


class _AnyOption(defaultdict[str, Callable[[str], Any]]):
    """Accepts every directive option as a plain string (Sphinx directives have options docutils has no spec for).
    It is never empty, since docutils parses options only when the spec is truthy."""

    def __init__(self) -> None:
        super().__init__(lambda: directives.unchanged, {"class": directives.unchanged})


class _Prose(Directive):
    """A directive docutils does not know (seealso, versionadded, tab-item, ...): its argument and body as text."""

    optional_arguments = 1
    final_argument_whitespace = True
    has_content = True
    option_spec: ClassVar[dict[str, Callable[[str], Any]] | None] = _AnyOption()

    def run(self) -> list[nodes.Node]:
        out: list[nodes.Node] = []
        if self.arguments and self.name not in _ARGUMENT_IS_PATH:
            text, _ = self.state.inline_text(self.arguments[0], self.lineno)
            out.append(nodes.paragraph("", "", *text))
        if self.content:
            body = nodes.container()
            self.state.nested_parse(self.content, self.content_offset, body)
            out.append(body)
        return out


class _Code(_Prose):
    """code-block and its kin: the body is code."""

    def run(self) -> list[nodes.Node]:
        text = "\n".join(self.content)
        return [nodes.literal_block(text, text)]


class _Skip(_Prose):
    """toctree and its kin: nothing a reader asks about."""

    def run(self) -> list[nodes.Node]:
        return []


def _role(name: str, rawtext: str, text: str, lineno: int, inliner: Inliner,
          options: Mapping[str, Any] | None = None, content: Sequence[str] | None = None,
          ) -> tuple[Sequence[nodes.reference], Sequence[nodes.reference]]:
    """A role docutils does not know (ref, doc, term, kbd, ...): the text a reader sees, as an unresolved
    reference (nothing here resolves cross-references)."""
    return [nodes.reference(rawtext, role_text(utils.unescape(text)))], []


_known_directives = set(en.directives)
_known_roles = set(en.roles)


def _register_unknown_names(text: str) -> None:
    """Give every directive and role name in ``text`` that docutils does not know a generic handler."""
    for name in {match.lower() for match in _DIRECTIVE_NAME.findall(text)} - _known_directives:
        kind = _Code if name in _CODE else _Skip if name in _SKIP or name.startswith("auto") else _Prose
        directives.register_directive(name, kind)
        _known_directives.add(name)
    for name in {match.lower() for match in _ROLE_NAME.findall(text)} - _known_roles:
        roles.register_local_role(name, _role)
        _known_roles.add(name)


def _doctree(text: str, path: str) -> nodes.document:
    _register_unknown_names(text)
    document = utils.new_document(path, copy.copy(_SETTINGS))
    Parser().parse(text, document)
    return document


class _Reader:
    """Feeds one page's doctree to a ``SectionBuilder``."""

    def __init__(self, builder: SectionBuilder) -> None:
        self.builder = builder

    def walk(self, node: nodes.Element, level: int, marker: str = "") -> None:
        for child in node.children:
            if isinstance(child, nodes.section):
                title = child.children[0] if child.children else None
                if isinstance(title, nodes.title):
                    self.builder.heading(level + 1, title.astext())
                self.walk(child, level + 1)
            elif isinstance(child, nodes.title) and isinstance(node, nodes.section):
                continue  # the section's heading, taken above
            elif isinstance(child, nodes.target):
                # An internal target (``.. _label:``) names the next heading; a link target has a URI or refname.
                if child.get("names") and not child.get("refuri") and not child.get("refname"):
                    self.builder.label(child["names"][0])
            elif isinstance(child, _SILENT):
                continue
            elif isinstance(child, _CODE_NODES):
                self.builder.code(child.astext())
            elif isinstance(child, nodes.row):
                cells = [entry.astext().strip() for entry in child.children]
                if any(cells):
                    self.builder.prose(" ".join(cell for cell in cells if cell))
            elif isinstance(child, nodes.TextElement):
                text = child.astext().strip()
                if text:
                    self.builder.prose(marker + text)
                marker = ""
            elif isinstance(child, nodes.Element):
                self.walk(child, level, _LIST_ITEM_MARKER if isinstance(child, nodes.list_item) else marker)
                marker = ""


def parse_rst(text: str, path: str) -> list[Section]:
    """Split a reStructuredText page into title-level sections."""
    builder = SectionBuilder(path, title_from_path(path))
    _Reader(builder).walk(_doctree(text, path), 0)
    return builder.finish()
