"""Render hubbot text and Block Kit JSON as readable terminal text (the console transport's view)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from hubbot.markup import to_plain

_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")


# The shortcodes hubbot's own messages use, as the characters a terminal shows.
_EMOJI = {
    ":rocket:": "🚀", ":white_check_mark:": "✅", ":x:": "❌", ":hourglass_flowing_sand:": "⏳", ":hourglass:": "⌛",
    ":white_small_square:": "▫", ":warning:": "⚠", ":no_entry_sign:": "🚫", ":no_entry:": "⛔", ":lock:": "🔒",
    ":rewind:": "⏪", ":mag:": "🔍", ":cloud:": "☁", ":thinking_face:": "🤔", ":grey_question:": "❔",
}
_SHORTCODE = re.compile(r":[a-z_]+:")


def unstyled(text: str) -> str:
    """hubbot text without its bold markers (``*Spend:*`` -> ``Spend:``); other stars stay."""
    return _BOLD.sub(r"\1", text)


def terminal_text(text: str) -> str:
    """hubbot text as a terminal shows it: mentions as ``@U…``, links as ``label (url)``,
    emoji shortcodes as characters, no bold stars or code fences; nothing escaped."""
    text = to_plain(text)
    text = _SHORTCODE.sub(lambda m: _EMOJI.get(m.group(0), m.group(0)), text)
    return unstyled(text).replace("```", "\n").replace("\n\n", "\n")


def _text_of(obj: Any) -> str:
    if isinstance(obj, dict):
        return terminal_text(str(obj.get("text", "")))
    return ""


def render(blocks: Sequence[dict[str, Any]], *, width: int = 72) -> tuple[str, list[tuple[str, str, str]]]:
    """Return the text, and the buttons found as ``(label, action_id, value)`` in order."""
    lines: list[str] = []
    buttons: list[tuple[str, str, str]] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = _text_of(block.get("text"))
            lines += [title, "=" * min(len(title), width)]
        elif kind == "section":
            if "text" in block:
                lines.append(_text_of(block["text"]))
            for f in block.get("fields", []):
                lines.append("  " + _text_of(f).replace("\n", ": ", 1))
        elif kind == "context":
            lines.append("  " + " ".join(_text_of(e) for e in block.get("elements", [])))
        elif kind == "divider":
            lines.append("-" * width)
        elif kind == "actions":
            labels = []
            for element in block.get("elements", []):
                if element.get("type") == "button":
                    buttons.append((_text_of(element["text"]), element["action_id"], element.get("value", "")))
                    labels.append(f"[{len(buttons)}] {_text_of(element['text'])}")
            lines.append("  " + "   ".join(labels))
    return "\n".join(lines), buttons
