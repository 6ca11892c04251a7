"""The HTTP endpoint under malformed, deep, huge, slow and lying bodies: a 4xx or a 408 close,
never a 500, never a hang past the read deadline. Real uvicorn on loopback; bounded loops; a
socket timeout is only a guard against a hang, never a measurement."""

from __future__ import annotations

import json
import random
import socket
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from tests.support import signing
from tests.support.fleet import CHANNEL_A, CHANNEL_OPS, ENGINEER
from tests.support.harness import Harness, fleet_harness

DEADLINE = 0.5  # the server's read deadline in these tests
GUARD = 20.0  # a test fails, rather than hangs, if the server never answers


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    with fleet_harness(tmp_path_factory.mktemp("fuzz"), read_deadline=DEADLINE) as h:
        yield h


def _raw(bot: Harness, head: bytes, body: bytes = b"") -> int:
    """Send bytes as they are, and return the status the server answered (0 if it closed)."""
    where = urlsplit(bot.served.url)
    with socket.create_connection((where.hostname, where.port), timeout=GUARD) as conn:
        conn.sendall(head + body)
        answer = b""
        while b"\r\n" not in answer:
            chunk = conn.recv(4096)
            if not chunk:
                return 0
            answer += chunk
    return int(answer.split(b" ", 2)[1])


def _head(length: int | str, content_type: str = "application/json", extra: dict[str, str] | None = None) -> bytes:
    lines = ["POST /slack/events HTTP/1.1", "Host: 127.0.0.1", f"Content-Type: {content_type}",
             f"Content-Length: {length}", *(f"{k}: {v}" for k, v in (extra or {}).items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_a_body_shorter_than_its_length_is_cut_off_at_the_deadline(bot: Harness) -> None:
    assert _raw(bot, _head(100), b'{"ty') == 408
    assert _raw(bot, _head(1024 * 1024, extra={"X-Slack-Signature": "v0=0"}), b"abc") == 408
    assert bot.http.get(f"{bot.served.url}/healthz").status_code == 200


def test_a_declared_length_over_the_limit_is_refused_before_reading(bot: Harness) -> None:
    # the body is never sent: an answer at all proves it was refused without waiting for it
    assert _raw(bot, _head(10 * 1024 * 1024)) == 413
    assert _raw(bot, _head(10 * 1024 * 1024), b"abc") == 413
    assert _raw(bot, _head(10**15)) == 413


def test_a_body_over_the_limit_without_a_length_is_refused(bot: Harness) -> None:
    head = (b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"x" * 65536
    body = (f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n") * 17 + b"0\r\n\r\n"
    assert _raw(bot, head, body) == 413


def test_provider_webhooks_get_the_same_limits(bot: Harness) -> None:
    head = _head(10 * 1024 * 1024).replace(b"/slack/events", b"/gcp/budget/gcp-test")
    assert _raw(bot, head) == 413


@pytest.mark.parametrize("depth", [33, 1000, 100_000])
def test_signed_bodies_nested_deep_are_400(bot: Harness, depth: int) -> None:
    deep = "[" * depth + "]" * depth
    as_event = ('{"type":"event_callback","event":' + deep + "}").encode()
    assert bot.post(as_event, content_type="application/json").status_code == 400
    as_payload = urlencode({"payload": '{"type":"block_actions","user":' + deep + "}"}).encode()
    assert bot.post(as_payload, content_type="application/x-www-form-urlencoded").status_code == 400


@pytest.mark.parametrize("event", [
    {"type": "app_mention", "user": 12345, "text": ["a", "list"], "channel": CHANNEL_A, "ts": "1.2"},
    {"type": "message", "channel_type": "im", "user": ENGINEER, "text": {"a": 1}, "channel": "D1", "ts": "1.2"},
    {"type": "message", "channel_type": ["im"], "user": ENGINEER, "text": "hi", "channel": "D1", "ts": "1.2"},
    {"type": "app_mention", "user": ENGINEER, "text": "hi", "channel": CHANNEL_A, "ts": 1.5},
])
def test_signed_events_with_fields_of_the_wrong_type_are_400(bot: Harness, event: dict[str, Any]) -> None:
    assert bot.event(event, event_id=f"EvBad{hash(json.dumps(event)) & 0xffff}").status_code == 400


def test_future_and_past_timestamps_are_refused(bot: Harness) -> None:
    body = signing.slash_body("help", user=ENGINEER, channel=CHANNEL_OPS, response_url="https://hooks.slack.com/x")
    for skew in (-301, 301, 10**6):
        response = bot.post(body, content_type="application/x-www-form-urlencoded",
                            timestamp=int(time.time()) + skew)
        assert response.status_code == 401, skew


# -- random bodies ------------------------------------------------------------------------------


def _valid(rng: random.Random) -> dict[str, Any]:
    event = {"type": rng.choice(["app_mention", "message"]), "user": ENGINEER, "text": "<@UBOT> help",
             "channel": CHANNEL_A, "ts": "1700000000.000100", "channel_type": rng.choice(["channel", "im"])}
    return json.loads(signing.event_body(event, event_id=f"Ev{rng.getrandbits(40)}"))


def _payload(body: bytes) -> dict[str, Any]:
    from urllib.parse import parse_qs

    return json.loads(parse_qs(body.decode())["payload"][0])  # type: ignore[no-any-return]


_CHARS = [0, 0x202E, 0xFDD0, 0xD7FF, 0x1F600, 60, 38, 62, 97]


def _junk(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 3 else 6)
    if kind == 6:
        return [_junk(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if kind == 7:
        return {rng.choice(["type", "user", "text", "event", "id", "actions", "value"]): _junk(rng, depth + 1)}
    if kind == 8:
        return {"type": _junk(rng, depth + 1), "id": _junk(rng, depth + 1)}
    return [
        None, rng.randint(-(2**70), 2**70), rng.random() * 1e300, rng.choice([True, False]),
        "".join(chr(rng.choice(_CHARS)) for _ in range(rng.randint(0, 40))),
        "x" * rng.choice([0, 1, 5000]),
    ][kind]


def _mutate(rng: random.Random, obj: Any) -> Any:
    """Replace one value somewhere in ``obj`` with junk (or drop a key)."""
    if isinstance(obj, dict) and obj:
        key = rng.choice(list(obj))
        out = dict(obj)
        if rng.random() < 0.15:
            del out[key]
        elif rng.random() < 0.5:
            out[key] = _mutate(rng, obj[key])
        else:
            out[key] = _junk(rng)
        return out
    if isinstance(obj, list) and obj:
        i = rng.randrange(len(obj))
        return [*obj[:i], _mutate(rng, obj[i]), *obj[i + 1:]]
    return _junk(rng)


def test_random_signed_bodies_never_give_500(bot: Harness) -> None:
    rng = random.Random(20261206)
    statuses: dict[int, int] = {}
    for i in range(300):
        shape = i % 4
        if shape == 0:
            body = json.dumps(_mutate(rng, _mutate(rng, _valid(rng)))).encode()
            ctype = "application/json"
        elif shape == 1:
            body = urlencode({"payload": json.dumps(_mutate(rng, _payload(signing.action_body(
                user=ENGINEER, channel=CHANNEL_A, action_id="hubbot:alerts:ack", value="1",
                response_url="https://hooks.slack.com/x"))))}).encode()
            ctype = "application/x-www-form-urlencoded"
        elif shape == 2:
            fields = {"command": "/hub", "text": str(_junk(rng))[:3000], "user_id": str(_junk(rng))[:50],
                      "channel_id": CHANNEL_OPS, "response_url": str(_junk(rng))[:200]}
            body = urlencode({k: v for k, v in fields.items() if rng.random() < 0.9}).encode()
            ctype = "application/x-www-form-urlencoded"
        else:
            body = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 300)))
            ctype = rng.choice(["application/json", "application/x-www-form-urlencoded", "text/plain", ""])
        status = bot.post(body, content_type=ctype).status_code
        statuses[status] = statuses.get(status, 0) + 1
        assert status < 500, (status, body[:300])
    bot.settle()
    assert statuses.get(400, 0) > 30 and statuses.get(200, 0) > 30, statuses
    assert bot.http.get(f"{bot.served.url}/healthz").status_code == 200


def test_random_unsigned_bodies_are_refused(bot: Harness) -> None:
    rng = random.Random(7)
    for _ in range(50):
        body = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 2000)))
        extra = {"X-Slack-Request-Timestamp": str(rng.choice([int(time.time()), "1e9", "-1", "1_700_000_000", "0x10"])),
                 "X-Slack-Signature": rng.choice(["v0=", "v0=" + "0" * 64, "", "x" * 500])}
        response = bot.post(body, content_type="application/json", sign=False, extra=extra)
        utf8 = body.decode("utf-8", errors="replace").encode() == body
        assert response.status_code == 401 if utf8 else response.status_code in (400, 401)
