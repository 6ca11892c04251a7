"""An in-memory twin of the pull requests hubbot follows (:class:`hubbot.ports.Proposals`), held
to the SQL store by ``tests/test_proposals_contract.py``."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from hubbot.domain.proposals import Proposal

_FIELDS = frozenset(f.name for f in dataclasses.fields(Proposal))


class MemoryProposals:
    def __init__(self) -> None:
        self._rows: dict[int, Proposal] = {}

    async def add(self, proposal: Proposal) -> Proposal:
        stored = dataclasses.replace(proposal, id=len(self._rows) + 1)
        self._rows[stored.id or 0] = stored
        return stored

    async def following(self) -> list[Proposal]:
        return [p for _, p in sorted(self._rows.items()) if p.state == "open"]

    async def recent(self, *, communities: Sequence[str] | None, limit: int) -> list[Proposal]:
        found = [p for _, p in sorted(self._rows.items(), reverse=True)
                 if communities is None or p.community in communities]
        return found[:limit]

    async def update(self, proposal_id: int, **changes: Any) -> Proposal:
        unknown = set(changes) - _FIELDS - {"id"}
        if unknown or "id" in changes:
            raise ValueError(f"cannot change proposal fields {sorted(unknown | ({'id'} & set(changes)))}")
        if proposal_id not in self._rows:
            raise KeyError(proposal_id)
        self._rows[proposal_id] = dataclasses.replace(self._rows[proposal_id], **changes)
        return self._rows[proposal_id]
