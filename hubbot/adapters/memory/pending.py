"""Pending actions in memory (held to :class:`hubbot.store.SqlPendingActions` by contract tests)."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from hubbot.domain import PendingAction


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
