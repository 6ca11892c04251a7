"""Turning Slack's message text into what a user typed."""

from __future__ import annotations

import re

_REF = re.compile(r"<([@#!])([^>|]+)(?:\|[^>]*)?>")
_LINK = re.compile(r"<((?:https?|mailto):[^>|]+)(?:\|[^>]*)?>")
_LEADING_MENTION = re.compile(r"^\s*<@[UW][A-Z0-9]+(?:\|[^>]*)?>[\s:,]*")


def _ref(match: re.Match[str]) -> str:
    sigil, body = match.group(1), match.group(2)
    if sigil == "!":
        return body.removeprefix("subteam^")
    return body


def decode(text: str) -> str:
    """``<@U1|ann>`` -> ``U1``, ``<#C1|general>`` -> ``C1``, ``<https://x|x>`` -> ``https://x``,
    and HTML entities back to characters (Slack escapes only ``& < >``)."""
    if "<" not in text and "&" not in text:  # most commands: nothing to decode
        return text
    text = _LINK.sub(r"\1", text)
    text = _REF.sub(_ref, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def strip_mention(text: str) -> str:
    """Drop the leading ``@hubbot`` of an app mention."""
    return _LEADING_MENTION.sub("", text, count=1)
