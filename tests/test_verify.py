"""Request verification, case by case: signature, timestamp window (both ways), header shapes,
and which signed bodies are payloads Slack sends (the end-to-end and fuzz tests cover the same
through the real server; these name each rule)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from hubbot.slack.verify import MAX_DEPTH, RequestCheck, classify
from tests.support import signing

NOW = 1_700_000_000
BODY = b"command=%2Fhub&text=help"


def check(max_age: int = 300) -> RequestCheck:
    return RequestCheck(signing.SECRET, max_age=max_age, now=lambda: NOW)


def headers(body: bytes = BODY, *, at: int = NOW, secret: str = signing.SECRET) -> dict[str, str]:
    return {k.lower(): v for k, v in signing.headers(body, content_type="x", timestamp=at, secret=secret).items()}


def test_a_request_slack_signed_just_now_passes() -> None:
    assert check().problem(BODY, headers()) is None


@pytest.mark.parametrize(("skew", "ok"), [(0, True), (-300, True), (300, True), (-301, False), (301, False),
                                          (10**9, False), (-(10**9), False)])
def test_the_timestamp_must_be_within_five_minutes_either_way(skew: int, ok: bool) -> None:
    found = check().problem(BODY, headers(at=NOW + skew))
    assert (found is None) == ok and (ok or found == (401, "stale Slack request"))


def test_a_shorter_window_is_kept_and_a_longer_one_is_capped() -> None:
    assert check(max_age=60).problem(BODY, headers(at=NOW - 61)) == (401, "stale Slack request")
    assert check(max_age=3600).problem(BODY, headers(at=NOW - 301)) == (401, "stale Slack request")


@pytest.mark.parametrize(("change", "reason"), [
    ({"x-slack-signature": ""}, "missing Slack signature"),
    ({"x-slack-request-timestamp": ""}, "missing Slack signature"),
    ({"x-slack-request-timestamp": "1e9"}, "bad Slack timestamp"),
    ({"x-slack-request-timestamp": " 1700000000"}, "bad Slack timestamp"),
    ({"x-slack-request-timestamp": "1_700_000_000"}, "bad Slack timestamp"),
    ({"x-slack-request-timestamp": "١٧٠٠٠٠٠٠٠٠"}, "bad Slack timestamp"),
    ({"x-slack-request-timestamp": "9" * 40}, "bad Slack timestamp"),
    ({"x-slack-signature": "v0=" + "0" * 64}, "bad Slack signature"),
    ({"x-slack-signature": "v1=abc"}, "bad Slack signature"),
])
def test_bad_headers_are_refused_with_a_reason(change: dict[str, str], reason: str) -> None:
    assert check().problem(BODY, {**headers(), **change}) == (401, reason)


def test_the_signature_covers_the_body_and_the_timestamp() -> None:
    signed = headers()
    assert check().problem(BODY + b"&user_id=U0EVIL", signed) == (401, "bad Slack signature")
    moved = {**signed, "x-slack-request-timestamp": str(NOW + 1)}
    assert check().problem(BODY, moved) == (401, "bad Slack signature")
    assert check().problem(BODY, headers(secret="another-secret")) == (401, "bad Slack signature")


def test_a_body_that_is_not_utf8_is_refused() -> None:
    body = b"\xff\xfe"
    assert check().problem(body, headers(body)) == (400, "body is not UTF-8")


def _event(event: object, **extra: object) -> str:
    return json.dumps({"type": "event_callback", "event": event, **extra})


@pytest.mark.parametrize(("body", "ctype", "expected"), [
    (BODY, "application/x-www-form-urlencoded", "command"),
    (urlencode({"payload": json.dumps({"type": "block_actions", "user": {"id": "U1"}, "actions": []})}).encode(),
     "application/x-www-form-urlencoded", "bolt"),
    (b"ssl_check=1&token=x", "application/x-www-form-urlencoded", "bolt"),
    (_event({"type": "app_mention", "text": "hi", "user": "U1"}).encode(), "application/json", "bolt"),
    (_event({"type": "user_change", "user": {"id": "U1"}}).encode(), "application/json", "bolt"),
    (json.dumps({"type": "url_verification", "challenge": "c"}).encode(), "application/json", "bolt"),
    (b"a=b", "application/x-www-form-urlencoded", "form body has neither a command nor a payload"),
    (b"{}", "text/plain", "unsupported content type"),
    (b"[1]", "application/json", "payload has no type"),
    (b'{"type": 5}', "application/json", "payload has no type"),
    (b"{not json", "application/json", "payload is not JSON"),
    (("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)).encode(), "application/json", "payload is nested too deep"),
    (_event({"type": "app_mention", "text": ["a"], "user": "U1"}).encode(), "application/json", "event is malformed"),
    (_event({"type": "message", "user": 5}).encode(), "application/json", "event is malformed"),
    (_event({"type": "message"}, authorizations="x").encode(), "application/json", "event is malformed"),
    (_event(5).encode(), "application/json", "event is malformed"),
    (json.dumps({"type": "event_callback", "team_id": ["T"]}).encode(), "application/json", "payload has no type"),
    (json.dumps({"type": "block_actions", "user": "U1"}).encode(), "application/json", "payload is malformed"),
    (urlencode({"payload": json.dumps({"type": "block_actions", "user": {"id": "U1"},
                                       "actions": [{"value": ["x"]}]})}).encode(),
     "application/x-www-form-urlencoded", "interactive payload is malformed"),
])
def test_which_signed_bodies_are_slack_payloads(body: bytes, ctype: str, expected: str) -> None:
    kind = classify(body, ctype)
    assert (kind if isinstance(kind, str) else kind[0]) == expected


def test_nesting_is_counted_outside_strings_only() -> None:
    deep_in_a_string = json.dumps({"type": "event_callback", "event": {"type": "message", "text": "[" * 500}})
    assert not isinstance(classify(deep_in_a_string.encode(), "application/json"), str)


@pytest.mark.parametrize("missing", ["x-slack-signature", "x-slack-request-timestamp"])
def test_an_absent_header_is_a_missing_signature(missing: str) -> None:
    without = {k: v for k, v in headers().items() if k != missing}
    assert check().problem(BODY, without) == (401, "missing Slack signature")


@pytest.mark.parametrize(("timestamp", "reason"), [("1" * 12, "stale Slack request"),
                                                   ("1" * 13, "bad Slack timestamp")])
def test_a_timestamp_has_at_most_twelve_digits(timestamp: str, reason: str) -> None:
    assert check().problem(BODY, {**headers(), "x-slack-request-timestamp": timestamp}) == (401, reason)


def test_slash_command_forms_are_read_as_slack_encodes_them() -> None:
    from hubbot.slack.verify import Form

    form = Form("command=%2Fhub&text=cost+alpha+%26+beta%3D1&user_id=U1&text%5B%5D=k&empty=&flag&user_id=U2")
    assert form["command"] == "/hub" and form["text"] == "cost alpha & beta=1"
    assert form["user_id"] == "U2"  # the last of a repeated key wins
    assert form["text[]"] == "k" and form["empty"] == "" and form["flag"] == ""
    assert len(form) == 6 and list(form) == ["command", "text", "user_id", "text[]", "empty", "flag"]
    assert form.get("absent") is None and len(Form("")) == 0
    assert Form("a=x%3Dy=z")["a"] == "x=y=z"  # only the first "=" separates key and value
