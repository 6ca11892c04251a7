"""The pull requests hubbot follows (:class:`hubbot.ports.Proposals`)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, true

from hubbot.domain.proposals import Proposal
from hubbot.store.db import Database, as_utc
from hubbot.store.models import ProposalRow

_FIELDS = tuple(f.name for f in dataclasses.fields(Proposal))


def _proposal(row: ProposalRow) -> Proposal:
    values: dict[str, Any] = {name: getattr(row, name) for name in _FIELDS}
    values["created_at"] = as_utc(row.created_at)
    values["updated_at"] = as_utc(row.updated_at) if row.updated_at is not None else None
    return Proposal(**values)


class SqlProposals:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, proposal: Proposal) -> Proposal:
        return await asyncio.to_thread(self._add, proposal)

    def _add(self, proposal: Proposal) -> Proposal:
        values = {k: v for k, v in dataclasses.asdict(proposal).items() if k != "id"}
        with self._db.session() as session, session.begin():
            row = ProposalRow(**values)
            session.add(row)
            session.flush()
            return _proposal(row)

    async def following(self) -> list[Proposal]:
        return await asyncio.to_thread(self._select, ProposalRow.state == "open", ProposalRow.id.asc(), None)

    async def recent(self, *, communities: Sequence[str] | None, limit: int) -> list[Proposal]:
        where = ProposalRow.community.in_(list(communities)) if communities is not None else true()
        return await asyncio.to_thread(self._select, where, ProposalRow.id.desc(), limit)

    def _select(self, where: Any, order: Any, limit: int | None) -> list[Proposal]:
        with self._db.session() as session:
            query = select(ProposalRow).where(where).order_by(order)
            if limit is not None:
                query = query.limit(limit)
            return [_proposal(row) for row in session.scalars(query)]

    async def update(self, proposal_id: int, **changes: Any) -> Proposal:
        return await asyncio.to_thread(self._update, proposal_id, changes)

    def _update(self, proposal_id: int, changes: dict[str, Any]) -> Proposal:
        unknown = set(changes) - set(_FIELDS) - {"id"}
        if unknown or "id" in changes:
            raise ValueError(f"cannot change proposal fields {sorted(unknown | ({'id'} & set(changes)))}")
        with self._db.session() as session, session.begin():
            row = session.get(ProposalRow, proposal_id)
            if row is None:
                raise KeyError(proposal_id)
            for name, value in changes.items():
                setattr(row, name, value)
            session.flush()
            return _proposal(row)
