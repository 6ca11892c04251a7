"""Render Block Kit JSON as readable terminal text (the console transport's view)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_GROUP = re.compile(r"<!subteam\^([A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#([CGD][A-Z0-9]+)(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)\|([^>]+)>")
_BARE = re.compile(r"<((?:https?|mailto):[^>]+)>")
_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")


# The shortcodes hubbot's own messages use, as the characters a terminal shows.
_EMOJI = {
    ":rocket:": "🚀", ":white_check_mark:": "✅", ":x:": "❌", ":hourglass_flowing_sand:": "⏳", ":hourglass:": "⌛",
    ":white_small_square:": "▫", ":warning:": "⚠", ":no_entry_sign:": "🚫", ":no_entry:": "⛔", ":lock:": "🔒",
    ":rewind:": "⏪", ":mag:": "🔍", ":cloud:": "☁", ":thinking_face:": "🤔", ":grey_question:": "❔",
}
_SHORTCODE = re.compile(r":[a-z_]+:")


def mrkdwn_to_text(text: str) -> str:
    text = _SHORTCODE.sub(lambda m: _EMOJI.get(m.group(0), m.group(0)), text)
    text = _USER.sub(r"@\1", text)
    text = _GROUP.sub(r"@\1", text)
    text = _CHANNEL.sub(lambda m: f"#{m.group(2) or m.group(1)}", text)
    text = _LINK.sub(r"\2 (\1)", text)
    text = _BARE.sub(r"\1", text)
    text = _BOLD.sub(r"\1", text)
    text = text.replace("```", "\n").replace("\n\n", "\n")
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text_of(obj: Any) -> str:
    if isinstance(obj, dict):
        return mrkdwn_to_text(str(obj.get("text", "")))
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
