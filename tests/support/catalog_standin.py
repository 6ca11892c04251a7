"""A local stand-in for the Cloud Billing Catalog API's ``services.skus.list``
(``GET /v1/services/{service}/skus``), paged with ``pageSize``/``pageToken``/``nextPageToken``, its
SKUs in the REST JSON shape the API reference documents. :func:`compute_engine_skus` is a slice of
the Compute Engine catalog: the on-demand N2, N2D and E2 core and RAM SKUs hubbot prices from, and
the SKUs around them that must not be taken for them (Spot, Custom, Sole Tenancy, commitments,
regional disks, other regions, other series).
"""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.gcp_standin import google_error

COMPUTE_ENGINE = "6F81-5844-456A"
AMERICAS = ["us-central1", "us-east1", "us-east4", "us-west1"]

# On-demand prices the expectations in tests/test_prices.py are worked out from.
N2_CORE, N2_RAM = Decimal("0.031611"), Decimal("0.004237")
N2D_CORE, N2D_RAM = Decimal("0.027502"), Decimal("0.003686")
E2_CORE, E2_RAM = Decimal("0.021811"), Decimal("0.002923")
BALANCED_PD = Decimal("0.1")
N2_CORE_FRANKFURT, N2_RAM_FRANKFURT = Decimal("0.040492"), Decimal("0.005428")
BALANCED_PD_FRANKFURT = Decimal("0.13")

_UNITS = {"h": ("hour", "s", "second", 3600), "GiBy.h": ("gibibyte hour", "By.s", "byte second", 3865470566400),
          "GiBy.mo": ("gibibyte month", "By.s", "byte second", 2841066479616000)}


def sku(sku_id: str, description: str, *, family: str, group: str, usage: str, regions: list[str], unit: str,
        price: Decimal, currency: str = "USD") -> dict[str, Any]:
    """One SKU as ``services.skus.list`` sends it."""
    units, nanos = int(price), int((price - int(price)) * 10**9)
    description_unit, base, base_description, factor = _UNITS[unit]
    rates = [{"startUsageAmount": 0, "unitPrice": {"currencyCode": currency, "units": str(units), "nanos": nanos}}]
    return {
        "name": f"services/{COMPUTE_ENGINE}/skus/{sku_id}",
        "skuId": sku_id,
        "description": description,
        "category": {"serviceDisplayName": "Compute Engine", "resourceFamily": family, "resourceGroup": group,
                     "usageType": usage},
        "serviceRegions": regions,
        "pricingInfo": [{
            "summary": "",
            "pricingExpression": {
                "usageUnit": unit, "displayQuantity": 1, "tieredRates": rates,
                "usageUnitDescription": description_unit, "baseUnit": base, "baseUnitDescription": base_description,
                "baseUnitConversionFactor": factor,
            },
            "aggregationInfo": {"aggregationLevel": "ACCOUNT", "aggregationInterval": "DAILY", "aggregationCount": 1},
            "currencyConversionRate": 1,
            "effectiveTime": "2026-11-30T06:45:10.317Z",
        }],
        "serviceProviderName": "Google",
        "geoTaxonomy": {"type": "MULTI_REGIONAL" if len(regions) > 1 else "REGIONAL", "regions": regions},
    }


def _compute(sku_id: str, description: str, regions: list[str], price: Decimal, *, usage: str = "OnDemand",
             group: str | None = None) -> dict[str, Any]:
    ram = " Ram " in f" {description} "
    return sku(sku_id, description, family="Compute", group=group or ("RAM" if ram else "CPU"), usage=usage,
               regions=regions, unit="GiBy.h" if ram else "h", price=price)


def _disk(sku_id: str, description: str, regions: list[str], price: Decimal, group: str = "SSD",
          usage: str = "OnDemand") -> dict[str, Any]:
    return sku(sku_id, description, family="Storage", group=group, usage=usage, regions=regions, unit="GiBy.mo",
               price=price)


def compute_engine_skus() -> list[dict[str, Any]]:
    """The slice of Compute Engine's catalog the tests read, decoys first, so they are seen."""
    frankfurt = ["europe-west3"]
    return [
        # decoys: same series, other ways to buy it
        _compute("A1B2-0001-0001", "Spot Preemptible N2 Instance Core running in Americas", AMERICAS,
                 Decimal("0.007696"), usage="Preemptible"),
        _compute("A1B2-0001-0002", "Spot Preemptible N2 Instance Ram running in Americas", AMERICAS,
                 Decimal("0.001031"), usage="Preemptible"),
        _compute("A1B2-0001-0003", "N2 Custom Instance Core running in Americas", AMERICAS, Decimal("0.033191")),
        _compute("A1B2-0001-0004", "N2 Custom Instance Ram running in Americas", AMERICAS, Decimal("0.004450")),
        _compute("A1B2-0001-0005", "N2 Sole Tenancy Instance Core running in Americas", AMERICAS,
                 Decimal("0.034772")),
        _compute("A1B2-0001-0006", "Commitment v1: N2 Cpu in Americas for 1 Year", AMERICAS, Decimal("0.019915"),
                 usage="Commit1Yr"),
        _compute("A1B2-0001-0007", "Commitment v1: N2 Ram in Americas for 3 Year", AMERICAS, Decimal("0.001907"),
                 usage="Commit3Yr", group="RAM"),
        _compute("A1B2-0001-0008", "Preemptible E2 Instance Core running in Americas", AMERICAS, Decimal("0.006543"),
                 usage="Preemptible"),
        # worded as the on-demand SKU but sold another way: usageType alone tells them apart
        _compute("A1B2-0001-0012", "N2 Instance Core running in Americas", AMERICAS, Decimal("0.012"),
                 usage="Commit1Yr"),
        _compute("A1B2-0001-0009", "N1 Predefined Instance Core running in Americas", AMERICAS,
                 Decimal("0.031611"), group="N1Standard"),
        _compute("A1B2-0001-0010", "N2 Instance Core running in Frankfurt", frankfurt, N2_CORE_FRANKFURT),
        _compute("A1B2-0001-0011", "N2 Instance Ram running in Frankfurt", frankfurt, N2_RAM_FRANKFURT),
        _disk("A1B2-0002-0001", "Regional Balanced PD Capacity", AMERICAS, BALANCED_PD * 2),
        _disk("A1B2-0002-0002", "Storage PD Capacity", AMERICAS, Decimal("0.04"), group="PDStandard"),
        _disk("A1B2-0002-0003", "SSD backed PD Capacity", AMERICAS, Decimal("0.17")),
        _disk("A1B2-0002-0004", "Balanced PD Capacity in Frankfurt", frankfurt, BALANCED_PD_FRANKFURT),
        sku("A1B2-0002-0005", "Storage PD Snapshot in Americas", family="Storage", group="PDSnapshot",
            usage="OnDemand", regions=AMERICAS, unit="GiBy.mo", price=Decimal("0.05")),
        # what the prices come from
        _compute("C3D4-0001-0001", "N2 Instance Core running in Americas", AMERICAS, N2_CORE),
        _compute("C3D4-0001-0002", "N2 Instance Ram running in Americas", AMERICAS, N2_RAM),
        _compute("C3D4-0001-0003", "N2D AMD Instance Core running in Americas", AMERICAS, N2D_CORE),
        _compute("C3D4-0001-0004", "N2D AMD Instance Ram running in Americas", AMERICAS, N2D_RAM),
        _compute("C3D4-0001-0005", "E2 Instance Core running in Americas", AMERICAS, E2_CORE),
        _compute("C3D4-0001-0006", "E2 Instance Ram running in Americas", AMERICAS, E2_RAM),
        _disk("C3D4-0002-0001", "Balanced PD Capacity", AMERICAS, BALANCED_PD),
    ]


class CatalogStandIn:
    """Serves ``skus`` (Compute Engine's by default) ``page_size`` at a time (never more than the
    request's ``pageSize``); records each request's query; :meth:`fail` answers the next calls with
    Google's JSON error."""

    def __init__(self) -> None:
        self.skus: dict[str, list[dict[str, Any]]] = {COMPUTE_ENGINE: compute_engine_skus()}
        self.page_size = 5
        self.requests: list[dict[str, str]] = []
        self._failures: list[tuple[int, str, list[dict[str, Any]]]] = []
        self._lock = threading.Lock()
        self.app = Starlette(routes=[Route("/v1/services/{service}/skus", self._list, methods=["GET"])])

    def fail(self, status: int, message: str, *, details: list[dict[str, Any]] | None = None,
             times: int = 1) -> None:
        with self._lock:
            self._failures.extend([(status, message, details or [])] * times)

    def reset(self) -> None:
        with self._lock:
            self.skus = {COMPUTE_ENGINE: compute_engine_skus()}
            self.page_size = 5
            self.requests.clear()
            self._failures.clear()

    async def _list(self, request: Request) -> Response:
        query = dict(request.query_params)
        with self._lock:
            self.requests.append(query)
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            status, message, details = failure
            return JSONResponse(google_error(status, message, details=details), status_code=status)
        service = request.path_params["service"]
        if service not in self.skus:
            return JSONResponse(google_error(404, f"Service {service} not found"), status_code=404)
        size = min(int(query.get("pageSize") or self.page_size), self.page_size, 5000)
        start = int(query.get("pageToken") or 0)
        skus = self.skus[service]
        body: dict[str, Any] = {"skus": skus[start:start + size]}
        if start + size < len(skus):  # the last page has no token
            body["nextPageToken"] = str(start + size)
        return JSONResponse(body)
