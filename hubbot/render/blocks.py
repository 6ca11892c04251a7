"""Small builders for Slack Block Kit JSON, so commands never hand-write the nesting.

Text given to the builders is hubbot text (see :mod:`hubbot.markup`): plain, with hubbot's own
mentions and links as tokens. :func:`for_slack` renders a finished list once, at the Slack
edge: mrkdwn escaped, tokens made live, each text clipped to Slack's limit *after* escaping
(3000 characters a section, 2000 a field, 150 a header, 75 a button) without ending inside an
entity or a link and without leaving a code block open. :func:`listing` spreads long
listings over several blocks and says what did not fit, so nothing is cut silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from hubbot.domain import Block
from hubbot.markup import clean, to_mrkdwn, to_plain

MAX_BLOCKS = 50
MAX_TEXT = 39_000  # a message's fallback text; Slack truncates past 40,000
SECTION = 3000
FENCE = "```"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clip_mrkdwn(text: str, limit: int) -> str:
    """``text`` (rendered mrkdwn) within ``limit`` characters: never ending inside ``&amp;`` or
    ``<…>``, and with a code block that the cut left open closed again."""
    if len(text) <= limit:
        return text
    head = text[: max(limit - 4, 0)]  # room for "…" and a closing fence
    for opener, closer in (("&", ";"), ("<", ">")):
        at = head.rfind(opener)
        if at != -1 and closer not in head[at:]:
            head = head[:at]
    head += "…"
    if head.count(FENCE) % 2:
        head += FENCE
    return head


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": _clip(text, 150), "emoji": True}}


def section(markdown: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": markdown}}


def fields(pairs: list[tuple[str, str]]) -> Block:
    return {
        "type": "section",
        "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in pairs[:10]],
    }


def context(markdown: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": markdown}]}


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
    return [*blocks[: MAX_BLOCKS - 1], context(f"… {len(blocks) - MAX_BLOCKS + 1} more blocks not shown")]


def listing(
    lines: Sequence[str], *, max_blocks: int, more: str, code: bool = False
) -> tuple[list[Block], int]:
    """``lines`` over as many sections as they need (at most ``max_blocks``), each within
    Slack's limit once escaped, each a whole code block when ``code``. Returns the blocks and
    how many lines they show; when some did not fit, the last block says how many more and
    ``more`` (how to see them)."""
    fence = FENCE if code else ""
    out: list[Block] = []
    chunk: list[str] = []
    size = 0
    shown = 0
    budget = SECTION - 2 * len(FENCE) - 2
    for line in lines:
        line = _clip(line, 500)  # even all '&' it escapes within a section
        cost = len(to_mrkdwn(line)) + 1
        if chunk and size + cost > budget:
            if len(out) + 2 >= max_blocks:
                break
            out.append(section(fence + "\n".join(chunk) + fence))
            chunk, size = [], 0
        chunk.append(line)
        size += cost
        shown += 1
    if chunk:
        out.append(section(fence + "\n".join(chunk) + fence))
    if shown < len(lines):
        out.append(context(f"{len(lines) - shown} more not shown — {more}"))
    return out, shown


def titled_listing(title: str, lines: Sequence[str], *, more: str, code: bool = False) -> tuple[str, list[Block]]:
    """A header saying ``title (N)`` — or ``title (newest K of N)`` when not all fit — over
    :func:`listing`; returns the fallback text and the blocks."""
    sections, shown = listing(lines, max_blocks=MAX_BLOCKS - 1, more=more, code=code)
    head = f"{title} ({len(lines)})" if shown == len(lines) else f"{title} (newest {shown} of {len(lines)})"
    text = "\n".join([head, *lines[:shown]])
    if shown < len(lines):
        text += f"\n{len(lines) - shown} more not shown — {more}"
    return text, [header(head), *sections]


def _text_object(obj: Any, limit: int) -> Any:
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        return obj
    if obj.get("type") == "mrkdwn":
        return {**obj, "text": clip_mrkdwn(to_mrkdwn(obj["text"]), limit)}
    if obj.get("type") == "plain_text":
        return {**obj, "text": _clip(to_plain(obj["text"]), limit)}
    return obj


def _element(element: Any) -> Any:
    if not isinstance(element, dict):
        return element
    out = dict(element)
    if element.get("type") == "button":
        out["text"] = _text_object(element.get("text"), 75)
    elif element.get("type") == "image":
        out["alt_text"] = _clip(clean(str(element.get("alt_text", ""))), 2000)
    else:
        out = _text_object(element, 2000 if element.get("type") == "plain_text" else SECTION)
    return out


def for_slack(blocks: Sequence[Block]) -> list[Block]:
    """Blocks as Slack should get them: hubbot text rendered to mrkdwn (or plain text) and
    clipped to each field's limit, at most 50 blocks."""
    out: list[Block] = []
    for block in limit(list(blocks)):
        rendered = dict(block)
        kind = block.get("type")
        if "text" in block:
            rendered["text"] = _text_object(block["text"], 150 if kind == "header" else SECTION)
        if "fields" in block:
            rendered["fields"] = [_text_object(f, 2000) for f in block["fields"]]
        if "elements" in block:
            rendered["elements"] = [_element(e) for e in block["elements"]]
        if kind == "image":
            rendered["alt_text"] = _clip(clean(str(block.get("alt_text", ""))), 2000)
            if "title" in block:
                rendered["title"] = _text_object(block["title"], 2000)
        out.append(rendered)
    return out


def text_for_slack(text: str) -> str:
    """A message's fallback ``text`` (what notifications show), rendered and clipped."""
    return clip_mrkdwn(to_mrkdwn(text), MAX_TEXT)
