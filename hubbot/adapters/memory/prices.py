"""Cloud prices in memory (:class:`hubbot.ports.PriceSource`), held to the AWS and GCP price
adapters by ``tests/test_prices.py``'s shared contract."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from hubbot.domain.prices import PriceTable
from hubbot.errors import NotFound, UpstreamError


class MemoryPrices:
    """Answers from ``tables`` (by region) as a price list API would: the machines asked for that
    the region's table holds, in the order asked; a region it has no table for is
    :class:`NotFound`. Set ``failure`` to make every call fail as an unreachable API does."""

    def __init__(self, tables: dict[str, PriceTable]) -> None:
        self.tables = dict(tables)
        self.failure: UpstreamError | None = None
        self.calls: list[tuple[str, tuple[str, ...]]] = []

    async def table(self, region: str, *, machines: Sequence[str]) -> PriceTable:
        self.calls.append((region, tuple(machines)))
        if self.failure is not None:
            raise self.failure
        found = self.tables.get(region)
        if found is None:
            raise NotFound(f"No prices for region {region!r}; check the region's name.")
        wanted = [found.machine(name) for name in dict.fromkeys(machines)]
        return dataclasses.replace(found, machines=tuple(m for m in wanted if m is not None))
