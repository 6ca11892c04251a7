"""In-memory twins of the price tables kept for estimates and of the service requests, held to the
SQL store by ``tests/test_plans_store_contract.py``."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from hubbot.domain.prices import PriceTable
from hubbot.domain.requests import RequestState, ServiceRequest


class MemoryPriceCache:
    def __init__(self) -> None:
        self.tables: dict[tuple[str, str], PriceTable] = {}

    async def get(self, provider: str, region: str) -> PriceTable | None:
        return self.tables.get((provider, region))

    async def put(self, table: PriceTable) -> None:
        self.tables[(table.provider, table.region)] = table


class MemoryServiceRequests:
    def __init__(self) -> None:
        self._rows: dict[int, ServiceRequest] = {}

    async def add(self, request: ServiceRequest) -> ServiceRequest:
        stored = dataclasses.replace(request, id=len(self._rows) + 1)
        self._rows[stored.id or 0] = stored
        return stored

    async def get(self, request_id: int) -> ServiceRequest | None:
        return self._rows.get(request_id)

    async def decide(self, request_id: int, *, state: RequestState, by: str, at: datetime) -> ServiceRequest | None:
        found = self._rows.get(request_id)
        if found is None or found.state != "open":
            return None
        self._rows[request_id] = dataclasses.replace(found, state=state, decided_by=by[:32], decided_at=at)
        return self._rows[request_id]

    async def recent(self, *, communities: Sequence[str] | None, limit: int) -> list[ServiceRequest]:
        found = [r for _, r in sorted(self._rows.items(), reverse=True)
                 if communities is None or r.community in communities]
        return found[:limit]
