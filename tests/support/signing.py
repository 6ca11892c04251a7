"""Signing requests the way Slack does (v0 HMAC-SHA256 over ``v0:timestamp:body``)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

SECRET = "test-signing-secret-0123456789abcdef"


def signature(body: bytes, timestamp: int, secret: str = SECRET) -> str:
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def headers(body: bytes, *, content_type: str, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": signature(body, ts, secret),
    }


def slash_body(text: str, *, user: str, channel: str, response_url: str, command: str = "/hub") -> bytes:
    return urlencode({
        "token": "legacy-verification-token", "team_id": "T0TEST", "team_domain": "test",
        "channel_id": channel, "channel_name": "general", "user_id": user, "user_name": "someone",
        "command": command, "text": text, "api_app_id": "A0TEST", "response_url": response_url,
        "trigger_id": "1.2.3",
    }).encode()


def event_body(event: dict[str, Any], *, event_id: str) -> bytes:
    return json.dumps({
        "token": "legacy-verification-token", "team_id": "T0TEST", "api_app_id": "A0TEST",
        "type": "event_callback", "event_id": event_id, "event_time": int(time.time()),
        "authorizations": [{"team_id": "T0TEST", "user_id": "UBOT", "is_bot": True}],
        "event": event,
    }).encode()


def action_body(*, user: str, channel: str, action_id: str, value: str, response_url: str) -> bytes:
    payload = {
        "type": "block_actions", "team": {"id": "T0TEST"}, "user": {"id": user, "name": "someone"},
        "api_app_id": "A0TEST", "channel": {"id": channel, "name": "general"},
        "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": channel},
        "trigger_id": "1.2.3", "response_url": response_url,
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b1", "value": value,
                     "action_ts": "1700000001.000200", "text": {"type": "plain_text", "text": "Go"}}],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()
