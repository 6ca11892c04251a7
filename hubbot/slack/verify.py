"""Checking an HTTP request really comes from Slack, and is well formed, before Bolt sees it.

Slack signs ``v0:<timestamp>:<raw body>`` with the app's signing secret (HMAC-SHA256) and
sends it in ``X-Slack-Signature``; slack_sdk's :class:`SignatureVerifier` checks it. Requests
more than ``max_age`` seconds (at most five minutes) from now, before or after, are refused so
a captured request cannot be replayed. A signed body that is not a payload Slack sends — not
JSON, nested absurdly deep, or with fields of the wrong type — is answered 400 here instead of
failing deep inside Bolt.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import unquote_plus

from slack_sdk.signature import Clock, SignatureVerifier

MAX_DEPTH = 32  # Slack's payloads nest about 8 deep (blocks in a message in an event)


class _Clock(Clock):
    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now

    def now(self) -> float:
        return self._now()


class RequestCheck:
    def __init__(self, signing_secret: str, *, max_age: int = 300, now: Callable[[], float] = time.time) -> None:
        self._verifier = SignatureVerifier(signing_secret, clock=_Clock(now))
        self._max_age = min(max_age, 300)  # the verifier never accepts more than five minutes
        self._now = now

    def problem(self, body: bytes, headers: Mapping[str, str]) -> tuple[int, str] | None:
        """None if the request may go on, else (HTTP status, reason)."""
        timestamp = headers.get("x-slack-request-timestamp", "")
        signature = headers.get("x-slack-signature", "")
        if not timestamp or not signature:
            return 401, "missing Slack signature"
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
            return 401, "bad Slack timestamp"
        if abs(self._now() - int(timestamp)) > self._max_age:
            return 401, "stale Slack request"
        try:
            text = body.decode("utf-8")  # Slack sends UTF-8; the verifier cannot check anything else
        except UnicodeDecodeError:
            return 400, "body is not UTF-8"
        if not self._verifier.is_valid(body=text, timestamp=timestamp, signature=signature):
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

    def __contains__(self, key: object) -> bool:  # without unescaping the value (or raising) to find out
        return key in self._raw

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


# Fields Bolt or hubbot read as strings where Slack sends them; a signed body with a list or a
# number there is not from Slack.
_TOP_STRINGS = ("type", "token", "team_id", "api_app_id", "enterprise_id", "event_id", "trigger_id",
                "response_url", "challenge")
_EVENT_STRINGS = ("type", "user", "text", "channel", "channel_type", "ts", "thread_ts", "event_ts", "subtype",
                  "bot_id", "team", "user_team", "app_id")
_OBJECT_STRINGS = ("id", "name", "team_id", "domain")
_ACTION_STRINGS = ("action_id", "value", "type", "block_id", "action_ts")
_CONTAINER_STRINGS = ("type", "message_ts", "thread_ts", "channel_id")


def _depth_ok(text: str) -> bool:
    """Whether JSON ``text`` nests at most :data:`MAX_DEPTH` deep (counted without parsing, so
    a body nested 100,000 deep never reaches the parser's recursion)."""
    if text.count("{") + text.count("[") <= MAX_DEPTH:
        return True
    depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return False
        elif ch in "]}":
            depth -= 1
    return True


def _strings(obj: Any, keys: tuple[str, ...]) -> bool:
    return isinstance(obj, dict) and all(not isinstance(obj.get(k), (dict, list, int, float, bool))
                                         for k in keys)


def _optional_object(data: dict[str, Any], key: str, keys: tuple[str, ...]) -> bool:
    value = data.get(key)
    return value is None or _strings(value, keys)


def _json_problem(text: str, *, interactive: bool = False) -> str | None:
    if not _depth_ok(text):
        return "payload is nested too deep"
    try:
        data: Any = json.loads(text)
    except (ValueError, RecursionError):
        return "payload is not JSON"
    return payload_problem(data, interactive=interactive)


def payload_problem(data: Any, *, interactive: bool = False) -> str | None:
    """Why a parsed payload (events API or interactivity) is not one Slack sends, or None.
    Socket Mode envelopes are checked with this too: they arrive parsed, over the app's own
    connection, but Bolt must not see fields of the wrong type there either."""
    if not isinstance(data, dict) or not isinstance(data.get("type"), str) or not _strings(data, _TOP_STRINGS):
        return "payload has no type"
    if not all(_optional_object(data, k, _OBJECT_STRINGS) for k in ("team", "enterprise", "user", "channel")):
        return "payload is malformed"
    if interactive:
        user, actions = data.get("user"), data.get("actions", [])
        if (not isinstance(user, dict) or not isinstance(actions, list)
                or not all(_strings(a, _ACTION_STRINGS) for a in actions)
                or not _optional_object(data, "container", _CONTAINER_STRINGS)):
            return "interactive payload is malformed"
    if data["type"] == "event_callback":
        event = data.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return "event is malformed"
        # the events hubbot subscribes to; others (user_change, channel_created) carry objects here
        if event["type"] in ("message", "app_mention") and not _strings(event, _EVENT_STRINGS):
            return "event is malformed"
        authorizations = data.get("authorizations", [])
        if not isinstance(authorizations, list) or not all(isinstance(a, dict) for a in authorizations):
            return "event is malformed"
    return None
