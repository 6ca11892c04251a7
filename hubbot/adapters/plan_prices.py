"""Prices that come from no API: JetStream2's service-unit rates, and a dated price snapshot file.

JetStream2 charges its allocation in service units (SUs), as its documentation's instance flavour
tables give them (docs.jetstream-cloud.org, "Instance Flavors"): CPU flavours (m3.*) 1 SU per vCPU
hour, Large Memory flavours (r3.*) 2 SUs per vCPU hour. Volume storage comes from the allocation's
storage quota, not from SUs, so home storage costs 0 SU. GPU flavours are left out (their rate per
vCPU hour has changed between versions of that page).

A snapshot file is JSON ``{"tables": [...]}`` of tables as :func:`hubbot.domain.prices.table_to_json`
writes them (the demo bundles one, so ``/hub estimate`` works offline); its dates are its own."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from hubbot.domain.prices import MachinePrice, PriceTable, table_from_json
from hubbot.errors import NotFound, UserError

RATES_CHECKED = datetime(2026, 12, 7, tzinfo=UTC)  # when the flavour table below was checked against the docs
REGIONS = ("IU",)
FLAVOURS = (  # name, vCPUs, RAM (GB as the docs give it), SU per hour
    ("m3.tiny", 1, 3, 1), ("m3.small", 2, 6, 2), ("m3.quad", 4, 15, 4), ("m3.medium", 8, 30, 8),
    ("m3.large", 16, 60, 16), ("m3.xl", 32, 125, 32), ("m3.2xl", 64, 250, 64),
    ("r3.large", 64, 500, 128), ("r3.xl", 128, 1000, 256),
)


class Jetstream2Prices:
    """JetStream2's flavours priced in service units an hour."""

    async def table(self, region: str, *, machines: Sequence[str]) -> PriceTable:
        if region not in REGIONS:
            raise NotFound(f"JetStream2 has no region '{region[:30]}' here (regions: {', '.join(REGIONS)})")
        wanted = set(machines)
        return PriceTable(
            provider="jetstream2", region=region, currency="SU", storage_gib_month=Decimal(0),
            fetched_at=RATES_CHECKED, source="JetStream2's flavour table",
            machines=tuple(MachinePrice(name=name, cpu=Decimal(cpu), memory_gib=Decimal(ram), hourly=Decimal(su))
                           for name, cpu, ram, su in FLAVOURS if name in wanted))


class SnapshotPrices:
    """One provider's tables from a snapshot file (read once)."""

    def __init__(self, path: Path, provider: str) -> None:
        self.path = path
        self.provider = provider
        self._tables: dict[str, PriceTable] | None = None

    def _load(self) -> dict[str, PriceTable]:
        if self._tables is None:
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                tables = [table_from_json(t) for t in data["tables"]]
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise UserError(f"the price snapshot {self.path.name} cannot be read ({exc.__class__.__name__}); "
                                "fix estimates.prices in the fleet config") from None
            self._tables = {t.region: t for t in tables if t.provider == self.provider}
        return self._tables

    async def table(self, region: str, *, machines: Sequence[str]) -> PriceTable:
        found = self._load().get(region)
        if found is None:
            raise NotFound(f"the price snapshot has no {self.provider} prices for {region}")
        return found
