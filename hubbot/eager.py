"""Running a coroutine at once, in the caller's task, up to its first real wait: reading a Slack
request's body almost never waits (it has arrived), and then no timer is set for its deadline.
The rest, if any, is awaited by the same task — never handed to another: code that keeps per-task
state (anyio's cancel scopes, inside httpx) must begin and end in one task."""

from __future__ import annotations

import contextvars
from collections.abc import Coroutine, Generator
from typing import Any, Generic, TypeVar, cast

T = TypeVar("T")


class Resumed(Generic[T]):
    """The rest of a coroutine that already ran up to its first wait (``pending``: what it waits
    on), to be awaited by one task: it passes each wait to the task and each result (or
    exception, cancellation included) back, as if the task had started the coroutine itself."""

    def __init__(self, coro: Coroutine[Any, Any, T], pending: Any) -> None:
        self._coro = coro
        self._pending = pending

    def __await__(self) -> Generator[Any, Any, T]:
        pending = self._pending
        while True:
            try:
                sent = yield pending
            except GeneratorExit:
                self._coro.close()
                raise
            except BaseException as exc:
                try:
                    pending = self._coro.throw(exc)
                except StopIteration as done:
                    return cast(T, done.value)
            else:
                try:
                    pending = self._coro.send(sent)
                except StopIteration as done:
                    return cast(T, done.value)


class Done(Generic[T]):
    """What a coroutine run by :func:`step` gave without waiting."""

    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value


def step(coro: Coroutine[Any, Any, T], context: contextvars.Context | None = None) -> Done[T] | Resumed[T]:
    """Run ``coro`` (in ``context``, else the current one) up to its first wait: its result, or
    the rest of it to await. Exceptions it raises before waiting propagate."""
    try:
        pending = context.run(coro.send, None) if context is not None else coro.send(None)
    except StopIteration as done:
        return Done(cast(T, done.value))
    return Resumed(coro, pending)
