"""User-group membership given up front."""

from __future__ import annotations


class StaticDirectory:
    """User-group membership given up front: ``{"S123": {"U1", "U2"}}``."""

    def __init__(self, groups: dict[str, set[str]] | None = None) -> None:
        self._groups = groups or {}

    async def groups_of(self, user_id: str) -> frozenset[str]:
        return frozenset(g for g, users in self._groups.items() if user_id in users)
