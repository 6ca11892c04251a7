"""Price tables kept for estimates (:class:`hubbot.ports.PriceCache`) and requests for work beyond
the standard services (:class:`hubbot.ports.ServiceRequests`; a decision is a compare and set on
the open state, so two engineers clicking at once cannot both decide)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, true, update

from hubbot.domain.prices import PriceTable, table_from_json, table_to_json
from hubbot.domain.requests import RequestState, ServiceRequest
from hubbot.store.db import Database, as_utc
from hubbot.store.models import PriceTableRow, ServiceRequestRow

_FIELDS = tuple(f.name for f in dataclasses.fields(ServiceRequest))


class SqlPriceCache:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, provider: str, region: str) -> PriceTable | None:
        return await asyncio.to_thread(self._get, provider, region)

    def _get(self, provider: str, region: str) -> PriceTable | None:
        with self._db.session() as session:
            row = session.get(PriceTableRow, (provider, region))
            return None if row is None else table_from_json(json.loads(row.body))

    async def put(self, table: PriceTable) -> None:
        await asyncio.to_thread(self._put, table)

    def _put(self, table: PriceTable) -> None:
        with self._db.session() as session, session.begin():
            session.merge(PriceTableRow(provider=table.provider, region=table.region, fetched_at=table.fetched_at,
                                        body=json.dumps(table_to_json(table))))


def _request(row: ServiceRequestRow) -> ServiceRequest:
    values: dict[str, Any] = {name: getattr(row, name) for name in _FIELDS}
    values["created_at"] = as_utc(row.created_at)
    values["decided_at"] = as_utc(row.decided_at) if row.decided_at is not None else None
    return ServiceRequest(**values)


class SqlServiceRequests:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, request: ServiceRequest) -> ServiceRequest:
        return await asyncio.to_thread(self._add, request)

    def _add(self, request: ServiceRequest) -> ServiceRequest:
        with self._db.session() as session, session.begin():
            row = ServiceRequestRow(**{k: v for k, v in dataclasses.asdict(request).items() if k != "id"})
            session.add(row)
            session.flush()
            return _request(row)

    async def get(self, request_id: int) -> ServiceRequest | None:
        return await asyncio.to_thread(self._get, request_id)

    def _get(self, request_id: int) -> ServiceRequest | None:
        with self._db.session() as session:
            row = session.get(ServiceRequestRow, request_id)
            return None if row is None else _request(row)

    async def decide(self, request_id: int, *, state: RequestState, by: str, at: datetime) -> ServiceRequest | None:
        return await asyncio.to_thread(self._decide, request_id, state, by, at)

    def _decide(self, request_id: int, state: RequestState, by: str, at: datetime) -> ServiceRequest | None:
        with self._db.engine.begin() as conn:
            changed = conn.execute(update(ServiceRequestRow).where(
                ServiceRequestRow.id == request_id, ServiceRequestRow.state == "open").values(
                state=state, decided_by=by[:32], decided_at=at)).rowcount
        return self._get(request_id) if changed == 1 else None

    async def recent(self, *, communities: Sequence[str] | None, limit: int) -> list[ServiceRequest]:
        return await asyncio.to_thread(self._recent, communities, limit)

    def _recent(self, communities: Sequence[str] | None, limit: int) -> list[ServiceRequest]:
        where = ServiceRequestRow.community.in_(list(communities)) if communities is not None else true()
        with self._db.session() as session:
            rows = session.scalars(select(ServiceRequestRow).where(where).order_by(ServiceRequestRow.id.desc())
                                   .limit(limit))
            return [_request(row) for row in rows]
