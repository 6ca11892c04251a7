"""An SDK client made on first use and then reused, so importing an adapter stays cheap."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

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
