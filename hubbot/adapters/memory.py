"""In-memory twins of the ports, for command tests and the demo. Contract tests in
``tests/test_contracts.py`` hold them to the same behaviour as the real adapters."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from hubbot.domain import AuditEntry, PendingAction
from hubbot.errors import UpstreamError


class FrozenClock:
    """A clock that moves only when told to."""

    def __init__(self, at: datetime | None = None) -> None:
        self._now = at or datetime(2026, 1, 15, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


class MemoryAuditLog:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    async def record(self, entry: AuditEntry) -> None:
        self.entries.append(entry)

    async def flush(self) -> None:
        return None

    async def query(
        self, *, communities: list[str] | None, hub: str | None, limit: int
    ) -> list[AuditEntry]:
        rows = [e for e in reversed(self.entries)
                if (communities is None or e.community in communities) and (hub is None or e.hub == hub)]
        return rows[:limit]


class MemoryEventLedger:
    def __init__(self) -> None:
        self.seen: set[str] = set()

    async def first_time(self, key: str, *, at: datetime) -> bool:
        key = key[:128]
        if key in self.seen:
            return False
        self.seen.add(key)
        return True


class StaticDirectory:
    """User-group membership given up front: ``{"S123": {"U1", "U2"}}``."""

    def __init__(self, groups: dict[str, set[str]] | None = None) -> None:
        self._groups = groups or {}

    async def groups_of(self, user_id: str) -> frozenset[str]:
        return frozenset(g for g, users in self._groups.items() if user_id in users)


class MemoryPendingActions:
    def __init__(self) -> None:
        self.actions: dict[str, PendingAction] = {}

    async def create(self, action: PendingAction) -> None:
        if action.id in self.actions:
            raise ValueError(f"pending action {action.id} exists")
        self.actions[action.id] = action

    async def get(self, action_id: str) -> PendingAction | None:
        return self.actions.get(action_id)

    async def decide(self, action_id: str, *, state: str, by: str, at: datetime) -> bool:
        current = self.actions.get(action_id)
        if current is None or current.state != "pending":
            return False
        self.actions[action_id] = dataclasses.replace(current, state=state, decided_by=by, decided_at=at)
        return True


class RecordingNotifier:
    """Keeps what would have been posted; can be told to fail, like an unreachable chat."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, str]] = []
        self.threads: dict[str, str | None] = {}  # ts -> thread it was posted in
        self.messages: dict[str, list[str]] = {}  # ts -> every text it had, oldest first
        self.failing: set[str] = set()

    async def post(
        self, *, channel: str, text: str, blocks: Sequence[dict[str, object]], thread_ts: str | None = None
    ) -> str | None:
        if channel in self.failing:
            raise UpstreamError(f"could not post to {channel}")
        self.posts.append((channel, text))
        ts = f"{len(self.posts)}.000100"
        self.threads[ts] = thread_ts
        self.messages[ts] = [text]
        return ts

    async def update(self, *, channel: str, ts: str, text: str, blocks: Sequence[dict[str, object]]) -> None:
        if channel in self.failing:
            raise UpstreamError(f"could not update a message in {channel}")
        self.messages.setdefault(ts, []).append(text)
