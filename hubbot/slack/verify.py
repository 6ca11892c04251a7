"""Checking an HTTP request really comes from Slack, and is well formed, before Bolt sees it.

Slack signs ``v0:<timestamp>:<raw body>`` with the app's signing secret (HMAC-SHA256) and
sends it in ``X-Slack-Signature``; requests older than five minutes are refused so a captured
request cannot be replayed. A signed body that is not a payload Slack sends is answered 400
here instead of failing deep inside Bolt.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import unquote_plus


class RequestCheck:
    def __init__(self, signing_secret: str, *, max_age: int = 300, now: Callable[[], float] = time.time) -> None:
        self._secret = signing_secret.encode()
        self._max_age = max_age
        self._now = now

    def problem(self, body: bytes, headers: Mapping[str, str]) -> tuple[int, str] | None:
        """None if the request may go on, else (HTTP status, reason)."""
        timestamp = headers.get("x-slack-request-timestamp", "")
        signature = headers.get("x-slack-signature", "")
        if not timestamp or not signature:
            return 401, "missing Slack signature"
        try:
            sent = int(timestamp)
        except ValueError:
            return 401, "bad Slack timestamp"
        if abs(self._now() - sent) > self._max_age:
            return 401, "stale Slack request"
        base = b"v0:" + timestamp.encode() + b":" + body
        expected = "v0=" + hmac.new(self._secret, base, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return 401, "bad Slack signature"
        return None


class Form(Mapping[str, str]):
    """``application/x-www-form-urlencoded`` fields, each unescaped only when read (the ack
    path reads four of a slash command's dozen fields). The last of a repeated key wins."""

    __slots__ = ("_raw",)

    def __init__(self, text: str) -> None:
        raw: dict[str, str] = {}
        for pair in text.split("&"):
            if pair:
                key, _, value = pair.partition("=")
                raw[unquote_plus(key) if "%" in key or "+" in key else key] = value
        self._raw = raw

    def __getitem__(self, key: str) -> str:
        value = self._raw[key]
        return unquote_plus(value) if "%" in value or "+" in value else value

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)


def classify(body: bytes, content_type: str) -> tuple[str, Mapping[str, str]] | str:
    """``("command", form)`` for a slash command, ``("bolt", {})`` for a payload Bolt handles
    (events, interactivity, ssl_check), or the reason ``body`` is not a payload Slack sends."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "body is not UTF-8"
    if content_type.startswith("application/json"):
        return _json_problem(text) or ("bolt", {})
    if content_type.startswith("application/x-www-form-urlencoded"):
        form = Form(text)
        if "payload" in form:
            return _json_problem(form["payload"], interactive=True) or ("bolt", {})
        if "command" in form:
            return "command", form
        if "ssl_check" in form:
            return "bolt", {}
        return "form body has neither a command nor a payload"
    return "unsupported content type"


def _json_problem(text: str, *, interactive: bool = False) -> str | None:
    try:
        data: Any = json.loads(text)
    except ValueError:
        return "payload is not JSON"
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        return "payload has no type"
    if interactive:
        user, actions = data.get("user"), data.get("actions", [])
        if not isinstance(user, dict) or not isinstance(actions, list) or not all(isinstance(a, dict) for a in actions):
            return "interactive payload is malformed"
    if data["type"] == "event_callback":
        event = data.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return "event is malformed"
    return None
