"""Heading anchors: inline markup reduced to rendered text, and the MyST/GitHub slug rule.

Slug rule: lowercase the rendered heading text, drop every character that is not a letter, digit, underscore,
space or hyphen, turn each space into a hyphen.  A slug repeated on the same page gets ``-1``, ``-2``, ...
"""

from __future__ import annotations

import re

__all__ = ["SlugCounter", "render_md_inline", "render_rst_inline", "slugify"]

# Markdown / MyST inline markup.
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MD_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_MD_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_MYST_ROLE = re.compile(r"\{[\w:.+-]+\}`([^`]*)`")
_CODE = re.compile(r"(`+)(.+?)\1")
_STRONG = re.compile(r"\*\*(.+?)\*\*")
_EMPH = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")
_HTML_TAG = re.compile(r"</?[A-Za-z][\w-]*(?:\s[^<>]*)?/?>")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_ROLE_TARGET = re.compile(r"^(.*?)\s*<([^<>]*)>$", re.DOTALL)

# reStructuredText inline markup.
_RST_ROLE = re.compile(r":[\w:.+-]+:`([^`]*)`")
_RST_LITERAL = re.compile(r"``(.+?)``")
_RST_LINK = re.compile(r"`([^`<]*?)\s*<[^`>]*>`__?")
_RST_REF = re.compile(r"`([^`]+)`_{1,2}")
_RST_INTERPRETED = re.compile(r"`([^`]+)`")
_RST_SUBST = re.compile(r"\|([^|\s][^|]*)\|_{0,2}")

_STASHED = re.compile(r"\x00(\d+)\x00")
# A line holding none of these characters has no inline markup to reduce (most prose lines).
_MD_MARKUP = re.compile(r"[<{`\[*\x00]")
_SLUG_DROP = re.compile(r"[^\w\- ]", re.UNICODE)


def _role_text(content: str) -> str:
    """Text shown for a cross-reference role: ``title <target>`` shows the title, a bare target its last part."""
    match = _ROLE_TARGET.match(content)
    if match and match.group(1):
        return match.group(1)
    target = match.group(2) if match else content
    target = target.lstrip("~!")
    return target


def render_md_inline(text: str) -> str:
    """Reduce Markdown/MyST inline markup to the text a reader sees."""
    if not _MD_MARKUP.search(text):
        return text.strip()
    text = _HTML_COMMENT.sub("", text)
    text = _MYST_ROLE.sub(lambda m: _role_text(m.group(1)), text)
    spans: list[str] = []

    def _stash(match: re.Match[str]) -> str:
        spans.append(match.group(2).strip())
        return f"\x00{len(spans) - 1}\x00"

    text = _CODE.sub(_stash, text.replace("\x00", ""))
    text = _MD_IMAGE.sub(r"\1", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_REF_LINK.sub(r"\1", text)
    text = _MD_AUTOLINK.sub(r"\1", text)
    text = _STRONG.sub(r"\1", text)
    text = _EMPH.sub(r"\1", text)
    text = _HTML_TAG.sub("", text)
    text = _STASHED.sub(lambda m: spans[int(m.group(1))], text)
    return text.strip()


def render_rst_inline(text: str) -> str:
    """Reduce reStructuredText inline markup to the text a reader sees."""
    text = _RST_ROLE.sub(lambda m: _role_text(m.group(1)), text)
    text = _RST_LITERAL.sub(r"\1", text)
    text = _RST_LINK.sub(r"\1", text)
    text = _RST_REF.sub(r"\1", text)
    text = _RST_INTERPRETED.sub(r"\1", text)
    text = _RST_SUBST.sub(r"\1", text)
    text = _STRONG.sub(r"\1", text)
    text = _EMPH.sub(r"\1", text)
    return text.strip()


def slugify(rendered: str) -> str:
    """Slug of already-rendered heading text (no de-duplication)."""
    return _SLUG_DROP.sub("", rendered.lower()).replace(" ", "-")


class SlugCounter:
    """Hands out unique slugs for one page: a repeated slug gets ``-1``, ``-2``, ..."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def unique(self, slug: str) -> str:
        count = self._seen.get(slug)
        if count is None:
            self._seen[slug] = 0
            return slug
        count += 1
        self._seen[slug] = count
        candidate = f"{slug}-{count}"
        while candidate in self._seen:
            count += 1
            self._seen[slug] = count
            candidate = f"{slug}-{count}"
        self._seen[candidate] = 0
        return candidate
