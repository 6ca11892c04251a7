"""Seen event keys in memory (held to :class:`hubbot.store.SqlEventLedger` by contract tests)."""

from __future__ import annotations

from datetime import datetime


class MemoryEventLedger:
    def __init__(self) -> None:
        self.seen: set[str] = set()

    async def first_time(self, key: str, *, at: datetime) -> bool:
        key = key[:128]
        if key in self.seen:
            return False
        self.seen.add(key)
        return True
