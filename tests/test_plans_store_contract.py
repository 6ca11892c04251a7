"""Contract tests for the price tables kept and the service requests: the memory twins, SQLite and
PostgreSQL agree (a decision is taken once, whoever clicks second)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from hubbot.adapters.memory import MemoryPriceCache, MemoryServiceRequests
from hubbot.domain.prices import MachinePrice, PriceTable
from hubbot.domain.requests import ServiceRequest
from hubbot.ports import PriceCache, ServiceRequests
from hubbot.store import Database, SqlPriceCache, SqlServiceRequests
from tests.conftest import new_database

T0 = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[PriceCache, ServiceRequests]]:
    if request.param == "memory":
        yield MemoryPriceCache(), MemoryServiceRequests()
        return
    db = Database(new_database(request.param, request, tmp_path))
    db.upgrade()
    yield SqlPriceCache(db), SqlServiceRequests(db)
    db.dispose()


def table(region: str = "us-west-2", price: str = "0.192") -> PriceTable:
    return PriceTable(provider="aws", region=region, currency="USD", storage_gib_month=Decimal("0.08"), fetched_at=T0,
                      source="AWS Price List API",
                      machines=(MachinePrice("m6i.xlarge", Decimal(4), Decimal(16), Decimal(price)),))


async def test_a_table_is_kept_per_provider_and_region_and_replaced(stores: tuple[PriceCache, ServiceRequests]) -> None:
    cache, _ = stores
    assert await cache.get("aws", "us-west-2") is None
    await cache.put(table())
    await cache.put(table("eu-west-1", "0.214"))
    assert await cache.get("aws", "us-west-2") == table()
    newer = dataclasses.replace(table(price="0.2"), fetched_at=T0 + timedelta(days=1))
    await cache.put(newer)
    assert await cache.get("aws", "us-west-2") == newer
    assert await cache.get("aws", "eu-west-1") == table("eu-west-1", "0.214")
    assert await cache.get("gcp", "us-west-2") is None


def ask(community: str = "alpha") -> ServiceRequest:
    return ServiceRequest(community=community, what="a workshop hub", hours=Decimal("6.5"), amount=Decimal("975.00"),
                          currency="USD", requested_by="ULEADA001", channel="CALPHA001", created_at=T0)


async def test_a_request_is_decided_once(stores: tuple[PriceCache, ServiceRequests]) -> None:
    _, requests = stores
    first = await requests.add(ask())
    second = await requests.add(ask("beta"))
    assert first.id is not None and second.id is not None
    assert dataclasses.replace(first, id=None) == ask()
    accepted = await requests.decide(first.id, state="accepted", by="UENG00001", at=T0 + timedelta(hours=1))
    assert accepted is not None and (accepted.state, accepted.decided_by, accepted.decided_at) == (
        "accepted", "UENG00001", T0 + timedelta(hours=1))
    assert await requests.decide(first.id, state="declined", by="UENG00002", at=T0) is None  # taken already
    assert (await requests.get(first.id)) == accepted
    assert await requests.get(999) is None
    assert await requests.decide(999, state="accepted", by="U", at=T0) is None
    assert [r.id for r in await requests.recent(communities=None, limit=5)] == [second.id, first.id]
    assert [r.id for r in await requests.recent(communities=["alpha"], limit=5)] == [first.id]
    assert [r.id for r in await requests.recent(communities=None, limit=1)] == [second.id]
