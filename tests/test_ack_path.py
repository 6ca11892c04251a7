"""The slash command ack path's pieces: a coroutine run at once in its own task up to its first wait (the body
read), and the rendered ack kept for a reply handed out again."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from typing import Any

import pytest

from hubbot.eager import Done, Resumed, step
from hubbot.pipeline.contract import Reply
from hubbot.reference import current, handling
from hubbot.slack.app import _AckBodies


async def _quick() -> Reply:
    with handling("QUICK1"):
        return Reply(text=f"ref {current()}")


async def _waits(gate: asyncio.Event) -> Reply:
    with handling("SLOW01"):
        await gate.wait()
        await asyncio.sleep(0)
        return Reply(text=f"ref {current()}")


def test_a_coroutine_that_never_waits_gives_its_result_at_once() -> None:
    async def go() -> None:
        started = step(_quick())
        assert isinstance(started, Done) and started.value.text == "ref QUICK1"

    asyncio.run(go())


def test_a_coroutine_that_waits_goes_on_in_the_same_task() -> None:
    async def go() -> None:
        gate = asyncio.Event()
        started = step(_waits(gate))
        assert isinstance(started, Resumed)
        gate.set()
        reply = await started
        assert reply.text == "ref SLOW01"  # the request id set before the wait holds after it

    asyncio.run(go())


def test_errors_and_cancellation_reach_the_coroutine() -> None:
    cleaned: list[str] = []

    async def fails_at_once() -> Reply:
        raise ValueError("boom")

    async def fails_later() -> Reply:
        await asyncio.sleep(0)
        raise KeyError("late")

    async def cancelled() -> Reply:
        try:
            await asyncio.sleep(60)
        finally:
            cleaned.append("cancelled")
        return Reply(text="never")

    async def rest_of(coro: Coroutine[Any, Any, Reply]) -> Reply:
        started = step(coro)
        assert isinstance(started, Resumed)
        return await started

    async def go() -> None:
        with pytest.raises(ValueError):
            step(fails_at_once())
        with pytest.raises(KeyError):
            await rest_of(fails_later())
        long = asyncio.get_running_loop().create_task(rest_of(cancelled()))
        await asyncio.sleep(0)
        long.cancel()
        with pytest.raises(asyncio.CancelledError):
            await long
        assert cleaned == ["cancelled"]

    asyncio.run(go())


def test_the_rendered_ack_is_kept_per_reply_object_and_renders_the_same() -> None:
    bodies = _AckBodies(size=2)
    reply = Reply(text="a <b> & c", blocks=({"type": "section", "text": {"type": "mrkdwn", "text": "x < y"}},))
    body, encoded = bodies.get(reply)
    assert json.loads(encoded) == body
    assert "&lt;b&gt;" in body["text"] and "&amp;" in body["text"]  # escaped as every reply is
    again, encoded_again = bodies.get(reply)
    assert again is body and encoded_again is encoded
    twin = Reply(text=reply.text, blocks=reply.blocks)  # equal, but another object: rendered afresh
    assert bodies.get(twin)[1] == encoded and bodies.get(twin)[0] is not body
    for n in range(3):  # the cache stays bounded
        bodies.get(Reply(text=str(n)))
    assert len(bodies._entries) <= 2
