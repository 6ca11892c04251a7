"""The audit log in memory (held to :class:`hubbot.store.SqlAuditLog` by contract tests)."""

from __future__ import annotations

from hubbot.domain import AuditEntry


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
