"""Compute Engine on-demand prices from the Cloud Billing Catalog API, as a
:class:`hubbot.ports.PriceSource`.

Google prices a predefined machine type by its parts: its series' on-demand vCPU-hour SKU
("N2 Instance Core running in Americas") times its vCPUs, plus the series' GiB-hour SKU
("N2 Instance Ram running in Americas") times its memory. One SKU often covers several regions
(``serviceRegions``), so SKUs are matched on the region they list, never on the place named in the
description. Home storage is the balanced persistent disk ("Balanced PD Capacity"), per GiB-month.

A table reads the Compute Engine service's whole public catalog (a few pages of 5,000 SKUs).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from hubbot.adapters.gcp.api import API_TIMEOUT, Api, client_options, guarded
from hubbot.adapters.gcp.api import credentials as endpoint_credentials
from hubbot.adapters.lazy import Lazy
from hubbot.domain.prices import MachinePrice, PriceTable
from hubbot.errors import NotFound, UpstreamError

if TYPE_CHECKING:
    from google.cloud.billing_v1 import CloudCatalogClient

COMPUTE_ENGINE = "services/6F81-5844-456A"
SOURCE = "Cloud Billing Catalog"
_PAGE_SIZE = 5000  # the most the API sends in one page
_GRANT = ("access to the Cloud Billing API (enable cloudbilling.googleapis.com in the project of hubbot's "
          "credentials; public prices need no billing role)")

# The series hubbot prices, and the words their on-demand SKU descriptions start with. Anchoring
# "<words> Core running in " / "<words> Ram running in " leaves out every other SKU of the series:
# "Spot Preemptible N2 Instance Core ...", "N2 Custom Instance Core ...", "N2 Sole Tenancy Instance
# Core ...", "Commitment v1: N2 Cpu in ...", and for N2 the "N2D AMD Instance ..." ones.
SERIES_SKU_WORDS = {"e2": "E2 Instance", "n2": "N2 Instance", "n2d": "N2D AMD Instance"}
# GiB of memory per vCPU of each predefined shape, and the vCPU counts each series offers in it.
_GIB_PER_VCPU = {"standard": 4, "highmem": 8, "highcpu": 1}
_SHAPES: dict[tuple[str, str], tuple[int, ...]] = {
    ("e2", "standard"): (2, 4, 8, 16, 32),
    ("e2", "highmem"): (2, 4, 8, 16),
    ("e2", "highcpu"): (2, 4, 8, 16, 32),
    ("n2", "standard"): (2, 4, 8, 16, 32, 48, 64, 80, 96, 128),
    ("n2", "highmem"): (2, 4, 8, 16, 32, 48, 64, 80, 96, 128),
    ("n2", "highcpu"): (2, 4, 8, 16, 32, 48, 64, 80, 96),
    ("n2d", "standard"): (2, 4, 8, 16, 32, 48, 64, 80, 96, 128, 224),
    ("n2d", "highmem"): (2, 4, 8, 16, 32, 48, 64, 80, 96),
    ("n2d", "highcpu"): (2, 4, 8, 16, 32, 48, 64, 80, 96, 128, 224),
}
_MEMORY_EXCEPTIONS = {"n2-highmem-128": Decimal(864)}  # not 8 GiB per vCPU
_MACHINE = re.compile(r"(e2|n2|n2d)-(standard|highmem|highcpu)-(\d+)")
_BALANCED_PD = re.compile(r"Balanced PD Capacity( in .+)?")  # not "Regional Balanced PD Capacity"
_PART = {"Core": ("CPU", "h"), "Ram": ("RAM", "GiBy.h")}  # description word -> resource group, usage unit


@dataclass(frozen=True, slots=True)
class Shape:
    series: str
    cpu: Decimal
    memory_gib: Decimal


def shape(machine: str) -> Shape | None:
    """The vCPUs and memory of a predefined E2, N2 or N2D machine type; None for any other."""
    match = _MACHINE.fullmatch(machine)
    if match is None:
        return None
    series, kind, count = match.group(1), match.group(2), int(match.group(3))
    if count not in _SHAPES[(series, kind)]:
        return None
    memory = _MEMORY_EXCEPTIONS.get(machine, Decimal(count * _GIB_PER_VCPU[kind]))
    return Shape(series=series, cpu=Decimal(count), memory_gib=memory)


@dataclass(frozen=True, slots=True)
class _Rate:
    price: Decimal
    currency: str
    regions: int  # how many regions the SKU covers: a region's own SKU wins over a multi-region one
    sku_id: str


class GcpPrices:
    """A :class:`hubbot.ports.PriceSource` for Google Cloud. ``endpoint`` overrides the API's
    endpoint; ``credentials`` default to the ambient Google credentials (anonymous for a plain
    ``http://`` endpoint). The Cloud Billing API must be enabled in their project."""

    def __init__(self, *, endpoint: str | None = None, credentials: Any = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.endpoint = endpoint
        self._credentials = credentials
        self._clock = clock or (lambda: datetime.now(UTC))
        self._client = Lazy(self._default_client)

    def _default_client(self) -> CloudCatalogClient:
        from google.cloud import billing_v1

        return billing_v1.CloudCatalogClient(
            transport="rest", credentials=self._credentials or endpoint_credentials(self.endpoint),
            client_options=client_options(self.endpoint),
        )

    async def table(self, region: str, *, machines: Sequence[str]) -> PriceTable:
        api = Api("the Cloud Billing Catalog API", f"Compute Engine prices in {region}", _GRANT)
        return await asyncio.to_thread(guarded, api, lambda: self._table_sync(region, list(dict.fromkeys(machines))))

    def _table_sync(self, region: str, machines: list[str]) -> PriceTable:
        pager = self._client().list_skus(request={"parent": COMPUTE_ENGINE, "page_size": _PAGE_SIZE},
                                         retry=None, timeout=API_TIMEOUT)
        rates, storage, known = _rates(pager, region)
        if not known:
            raise NotFound(f"The Cloud Billing Catalog lists no Compute Engine prices in region {region!r}; give a "
                           "region such as us-central1.")
        if storage is None:
            raise UpstreamError(f"The Cloud Billing Catalog has no balanced persistent disk price in {region}; no "
                                "prices were used. Try again later.")
        found: list[MachinePrice] = []
        for name in machines:
            size = shape(name)
            core = rates.get((size.series, "Core")) if size else None
            ram = rates.get((size.series, "Ram")) if size else None
            if size is None or core is None or ram is None:
                continue  # not a machine type hubbot can price, or not offered in this region
            found.append(MachinePrice(name=name, cpu=size.cpu, memory_gib=size.memory_gib,
                                      hourly=size.cpu * core.price + size.memory_gib * ram.price))
        currencies = {storage.currency} | {rate.currency for rate in rates.values()}
        if len(currencies) != 1:
            raise ValueError(f"prices in several currencies ({', '.join(sorted(currencies))})")
        return PriceTable(provider="gcp", region=region, currency=storage.currency, machines=tuple(found),
                          storage_gib_month=storage.price, fetched_at=self._clock(), source=SOURCE)


def _rates(skus: Iterable[Any], region: str) -> tuple[dict[tuple[str, str], _Rate], _Rate | None, bool]:
    """The on-demand core and RAM rates by (series, "Core"/"Ram"), the balanced PD rate, and whether
    any SKU at all is sold in ``region``."""
    wanted = [(re.compile(rf"{re.escape(words)} {part} running in .+"), series, part)
              for series, words in SERIES_SKU_WORDS.items() for part in _PART]
    rates: dict[tuple[str, str], _Rate] = {}
    storage: _Rate | None = None
    known = False
    for sku in skus:
        regions = list(sku.service_regions)
        if region not in regions:
            continue
        known = True
        category, description = sku.category, str(sku.description)
        if category.usage_type != "OnDemand":
            continue
        if category.resource_family == "Storage" and _BALANCED_PD.fullmatch(description):
            rate = _rate(sku, "GiBy.mo", len(regions))
            if rate is not None and (storage is None or _better(rate, storage)):
                storage = rate
            continue
        if category.resource_family != "Compute":
            continue
        for pattern, series, part in wanted:
            group, unit = _PART[part]
            if category.resource_group == group and pattern.fullmatch(description):
                rate = _rate(sku, unit, len(regions))
                current = rates.get((series, part))
                if rate is not None and (current is None or _better(rate, current)):
                    rates[(series, part)] = rate
    return rates, storage, known


def _better(rate: _Rate, current: _Rate) -> bool:
    return (rate.regions, rate.sku_id) < (current.regions, current.sku_id)


def _rate(sku: Any, unit: str, regions: int) -> _Rate | None:
    """The SKU's current price per ``unit``: the last tier's, the one that applies past any free
    or introductory tier. None when priced in another unit (then it is not the SKU we think)."""
    if not sku.pricing_info:
        raise ValueError(f"SKU {sku.sku_id} without pricing info")
    expression = sku.pricing_info[0].pricing_expression
    if expression.usage_unit != unit:
        return None
    if not expression.tiered_rates:
        raise ValueError(f"SKU {sku.sku_id} without a rate")
    money = expression.tiered_rates[-1].unit_price
    price = Decimal(int(money.units)) + Decimal(int(money.nanos)) / Decimal(10**9)
    if price < 0 or not money.currency_code:
        raise ValueError(f"SKU {sku.sku_id} priced at {price} {money.currency_code!r}")
    return _Rate(price=price, currency=str(money.currency_code), regions=regions, sku_id=str(sku.sku_id))
