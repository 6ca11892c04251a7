"""Where cloud prices come from, for ``/hub estimate``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from hubbot.domain.prices import PriceTable
from hubbot.domain.requests import RequestState, ServiceRequest


class PriceSource(Protocol):
    """One provider's price list API. ``machines`` names the machine types wanted (instance types,
    machine types or flavours); the table holds those it found priced in ``region`` (an unknown
    one is left out, not made up). An unknown region raises :class:`hubbot.errors.NotFound`; an
    API that cannot be reached, refuses or fails raises :class:`hubbot.errors.UpstreamError`
    (callers then fall back to the last table they kept)."""

    async def table(self, region: str, *, machines: Sequence[str]) -> PriceTable: ...


class PriceCache(Protocol):
    """The last price table read for each provider and region, with its date (kept so an API that
    cannot be reached falls back to it, never to made-up numbers)."""

    async def get(self, provider: str, region: str) -> PriceTable | None: ...

    async def put(self, table: PriceTable) -> None: ...


class ServiceRequests(Protocol):
    """Requests for work beyond the standard services."""

    async def add(self, request: ServiceRequest) -> ServiceRequest:
        """Store a new one; with its id."""
        ...

    async def get(self, request_id: int) -> ServiceRequest | None: ...

    async def decide(self, request_id: int, *, state: RequestState, by: str, at: datetime) -> ServiceRequest | None:
        """Accept or decline an open request; None when it was decided already (by someone else)."""
        ...

    async def recent(self, *, communities: Sequence[str] | None, limit: int) -> list[ServiceRequest]:
        """Newest first (None: every community's)."""
        ...
