"""Clients made on first use and then reused, so importing an adapter stays cheap."""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    import httpx

_T = TypeVar("_T")


class Lazy(Generic[_T]):
    """Calls ``factory`` once, on the first call (usually in a worker thread), and returns the
    same client from then on. Concurrent first calls wait for the one that builds it."""

    def __init__(self, factory: Callable[[], _T]) -> None:
        self._factory = factory
        self._value: _T | None = None
        self._lock = threading.Lock()

    def __call__(self) -> _T:
        value = self._value
        if value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._factory()
                value = self._value
        return value


class LoopClient:
    """An ``httpx.AsyncClient`` kept for each running event loop: building one costs tens of
    milliseconds of CPU (its TLS context), and a client cannot move between loops (tests and the
    CLI run several one after another). A loop that ends takes its client with it."""

    def __init__(self, **options: object) -> None:
        self._options = options
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
            weakref.WeakKeyDictionary())

    def __call__(self) -> httpx.AsyncClient:
        import httpx

        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = self._clients[loop] = httpx.AsyncClient(**self._options)  # type: ignore[arg-type]
        return client
