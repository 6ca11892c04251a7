"""The slash command ack path's pieces: a command started at once (no task unless it waits),
and the rendered ack kept for a reply handed out again."""

from __future__ import annotations

import asyncio
import json

import pytest

from hubbot.eager import Done, start
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


def test_a_command_that_never_waits_answers_without_a_task() -> None:
    async def go() -> None:
        started = start(_quick())
        assert isinstance(started, Done) and started.value.text == "ref QUICK1"
        assert current() is None  # its context was its own

    asyncio.run(go())


def test_a_command_that_waits_goes_on_as_a_task_in_its_own_context() -> None:
    async def go() -> None:
        gate = asyncio.Event()
        started = start(_waits(gate))
        assert isinstance(started, asyncio.Task) and not started.done()
        assert current() is None
        gate.set()
        reply = await started
        assert reply.text == "ref SLOW01"  # the request id set before the wait holds after it

    asyncio.run(go())


def test_errors_and_cancellation_reach_the_command() -> None:
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

    async def go() -> None:
        with pytest.raises(ValueError):
            start(fails_at_once())
        later = start(fails_later())
        assert isinstance(later, asyncio.Task)
        with pytest.raises(KeyError):
            await later
        long = start(cancelled())
        assert isinstance(long, asyncio.Task)
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
