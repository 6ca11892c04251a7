"""Ports every command may use: the clock, the audit log, Slack event de-duplication, group
membership and changes waiting for a confirmation or an approval."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from hubbot.domain import (
    AuditEntry,
    PendingAction,
)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


class AuditLog(Protocol):
    async def record(self, entry: AuditEntry) -> None:
        """Append an entry. May buffer; :meth:`query` and :meth:`flush` see everything recorded."""
        ...

    async def flush(self) -> None: ...

    async def query(
        self, *, communities: list[str] | None, hub: str | None, limit: int
    ) -> list[AuditEntry]:
        """Newest first. ``communities=None`` means all; ``[]`` matches only fleet-wide entries."""
        ...


class EventLedger(Protocol):
    async def first_time(self, key: str, *, at: datetime) -> bool:
        """Record ``key``; True the first time it is seen by any replica, False afterwards."""
        ...


class Directory(Protocol):
    async def groups_of(self, user_id: str) -> frozenset[str]:
        """The chat user-group IDs the user belongs to (for roles granted to a group)."""
        ...


class PendingActions(Protocol):
    async def create(self, action: PendingAction) -> None: ...

    async def get(self, action_id: str) -> PendingAction | None: ...

    async def decide(self, action_id: str, *, state: str, by: str, at: datetime) -> bool:
        """Move a pending action to ``state``; False if it was no longer pending (someone,
        on any replica, decided first). This is what makes a double click run nothing twice."""
        ...


class Leadership(Protocol):
    """Which replica runs the scheduled jobs: at most one at a time holds it."""

    async def hold(self) -> bool:
        """Take leadership, or confirm this process still has it; False when another process
        has it or the store cannot be reached (then this process must not act as leader)."""
        ...

    async def release(self) -> None:
        """Give leadership up (at shutdown), so another replica takes it at once."""
        ...
