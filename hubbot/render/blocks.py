"""Small builders for Slack Block Kit JSON, so commands never hand-write the nesting.

Slack limits: 50 blocks a message, 3000 characters a section text, 10 fields of 2000,
75 characters of button text, 2000 of button value. Builders clip to those limits.
"""

from __future__ import annotations

from typing import Any, Literal

Block = dict[str, Any]
MAX_BLOCKS = 50


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escape(text: str) -> str:
    """Escape user-provided text for mrkdwn so it cannot ping @channel or forge links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": _clip(text, 150), "emoji": True}}


def section(markdown: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(markdown, 3000)}}


def fields(pairs: list[tuple[str, str]]) -> Block:
    return {
        "type": "section",
        "fields": [{"type": "mrkdwn", "text": _clip(f"*{k}*\n{v}", 2000)} for k, v in pairs[:10]],
    }


def context(markdown: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(markdown, 3000)}]}


def divider() -> Block:
    return {"type": "divider"}


def button(
    label: str,
    *,
    action_id: str,
    value: str,
    style: Literal["primary", "danger"] | None = None,
) -> Block:
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": _clip(label, 75)},
        "action_id": action_id,
        "value": _clip(value, 2000),
    }
    if style is not None:
        element["style"] = style
    return element


def actions(*buttons: Block) -> Block:
    return {"type": "actions", "elements": list(buttons[:25])}


def limit(blocks: list[Block]) -> list[Block]:
    """Keep within Slack's 50-block limit, saying that the rest was cut."""
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    return [*blocks[: MAX_BLOCKS - 1], context(f"… {len(blocks) - MAX_BLOCKS + 1} more not shown")]
