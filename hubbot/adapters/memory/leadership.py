"""Scheduler leadership in memory: a lock several simulated replicas share (held to
:class:`hubbot.store.leadership.AdvisoryLockLeadership` by contract tests)."""

from __future__ import annotations


class LeaderLock:
    """What the database is to the replicas: who holds the lock, and whether it is reachable."""

    def __init__(self) -> None:
        self.holder: MemoryLeadership | None = None
        self.down = False

    def member(self) -> MemoryLeadership:
        return MemoryLeadership(self)


class MemoryLeadership:
    def __init__(self, lock: LeaderLock) -> None:
        self._lock = lock
        self.alive = True

    async def hold(self) -> bool:
        if self._lock.down or not self.alive:
            if self._lock.holder is self:
                self._lock.holder = None  # the session ended with the connection
            return False
        if self._lock.holder is None:
            self._lock.holder = self
        return self._lock.holder is self

    async def release(self) -> None:
        if self._lock.holder is self:
            self._lock.holder = None

    def crash(self) -> None:
        """The process died: its session, and so its lock, ends."""
        self.alive = False
        if self._lock.holder is self:
            self._lock.holder = None
