"""Cloud price adapters for ``/hub estimate``: the AWS Price List API (a real boto3 ``pricing``
client answered by request, see tests/support/aws_prices.py), the Cloud Billing Catalog (the real
GAPIC client over REST against a local stand-in), and the shared contract they and the memory
twin keep."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hubbot.adapters.aws_prices import AwsPrices, instance_filters, storage_filters
from hubbot.adapters.gcp_prices import GcpPrices, shape
from hubbot.adapters.memory import MemoryPrices
from hubbot.domain.prices import MachinePrice, PriceTable
from hubbot.errors import NotFound, UpstreamError
from tests.support import catalog_standin as catalog
from tests.support.aws_prices import Failure, PriceListStandIn, gp3_storage, instance
from tests.support.catalog_standin import CatalogStandIn
from tests.support.prices_contract import CONTRACT, PriceCase
from tests.support.server import serve

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
CENT = Decimal("0.01")
SECRETS = ("testing-secret", "testing-token")


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# -- AWS: what the stand-in serves ---------------------------------------------------------------

M6I = instance("us-west-2", "m6i.xlarge", vcpu="4", memory="16 GiB", usd="0.1920000000", sku="8KTQAHWA58GUHDGC")
R6I = instance("us-west-2", "r6i.2xlarge", vcpu="8", memory="64 GiB", usd="0.5040000000", sku="Y9RYMSE644KDSV4S")
G4DN = instance("us-west-2", "g4dn.xlarge", vcpu="4", memory="16 GiB", usd="0.5260000000", sku="CZ6J2HK9SVUJJXFZ",
                gpu="1")
GP3 = gp3_storage("us-west-2", usd="0.0800000000", sku="HY3BZPP2B6K8MSJF")
AWS_KNOWN = [
    MachinePrice("m6i.xlarge", Decimal(4), Decimal(16), Decimal("0.192")),
    MachinePrice("r6i.2xlarge", Decimal(8), Decimal(64), Decimal("0.504")),
    MachinePrice("g4dn.xlarge", Decimal(4), Decimal(16), Decimal("0.526"), gpu=1),
]


@pytest.fixture
def aws() -> tuple[AwsPrices, PriceListStandIn]:
    prices = AwsPrices(clock=lambda: NOW)
    standin = PriceListStandIn(prices.client)
    standin.serve(instance_filters("us-west-2", "m6i.xlarge"), [M6I])
    standin.serve(instance_filters("us-west-2", "r6i.2xlarge"), [R6I])
    standin.serve(instance_filters("us-west-2", "g4dn.xlarge"), [G4DN])
    standin.serve(storage_filters("us-west-2"), [GP3])
    return prices, standin


# -- GCP: a stand-in of the catalog, shared by the module ----------------------------------------


@pytest.fixture(scope="module")
def served_catalog() -> Iterator[tuple[CatalogStandIn, str]]:
    standin = CatalogStandIn()
    with serve(standin.app) as served:
        yield standin, served.url


@pytest.fixture
def gcp(served_catalog: tuple[CatalogStandIn, str]) -> tuple[GcpPrices, CatalogStandIn]:
    from google.auth.credentials import AnonymousCredentials

    standin, url = served_catalog
    standin.reset()
    return GcpPrices(endpoint=url, credentials=AnonymousCredentials(), clock=lambda: NOW), standin  # type: ignore[no-untyped-call]


GCP_KNOWN = [
    MachinePrice("n2-standard-4", Decimal(4), Decimal(16), 4 * catalog.N2_CORE + 16 * catalog.N2_RAM),
    MachinePrice("n2d-highcpu-8", Decimal(8), Decimal(8), 8 * catalog.N2D_CORE + 8 * catalog.N2D_RAM),
    MachinePrice("e2-highmem-2", Decimal(2), Decimal(16), 2 * catalog.E2_CORE + 16 * catalog.E2_RAM),
]


# -- the contract, for the memory twin and both adapters -----------------------------------------


@pytest.fixture(params=["memory", "aws", "gcp"])
def case(request: pytest.FixtureRequest) -> PriceCase:
    if request.param == "memory":
        table = PriceTable(provider="aws", region="us-west-2", currency="USD", machines=tuple(AWS_KNOWN),
                           storage_gib_month=Decimal("0.08"), fetched_at=NOW, source="a bundled snapshot")
        twin = MemoryPrices({"us-west-2": table})

        def break_twin() -> None:
            twin.failure = UpstreamError("prices unavailable")

        return PriceCase(twin, "aws", "us-west-2", "USD", Decimal("0.08"), AWS_KNOWN, "m9z.huge", "mars-1", NOW,
                         break_twin)
    if request.param == "aws":
        prices, standin = request.getfixturevalue("aws")

        def break_aws() -> None:
            standin.failure = Failure("InternalErrorException", "internal error", status=500)

        return PriceCase(prices, "aws", "us-west-2", "USD", Decimal("0.08"), AWS_KNOWN, "m9z.huge", "mars-1", NOW,
                         break_aws)
    source, catalog_standin = request.getfixturevalue("gcp")
    return PriceCase(source, "gcp", "us-central1", "USD", catalog.BALANCED_PD, GCP_KNOWN, "n1-standard-4",
                     "mars-north1", NOW, lambda: catalog_standin.fail(503, "The service is unavailable.", times=20))


@pytest.mark.parametrize("check", CONTRACT, ids=lambda c: c.__name__)
async def test_price_source_contract(case: PriceCase, check: Any) -> None:
    await check(case)


# -- AWS Price List API --------------------------------------------------------------------------


async def test_aws_asks_for_on_demand_linux_of_each_type_and_gp3_storage(aws: tuple[AwsPrices, PriceListStandIn]
                                                                         ) -> None:
    prices, standin = aws
    table = await prices.table("us-west-2", machines=["m6i.xlarge"])

    assert table.machine("m6i.xlarge") == MachinePrice("m6i.xlarge", Decimal(4), Decimal(16), Decimal("0.192"))
    assert table.storage_gib_month == Decimal("0.08")
    assert (table.source, table.currency, table.fetched_at) == ("AWS Price List API", "USD", NOW)
    filters = sorted(sorted((f["Field"], f["Value"], f["Type"]) for f in call["Filters"]) for call in standin.calls)
    assert filters == [
        sorted([("capacitystatus", "Used", "TERM_MATCH"), ("instanceType", "m6i.xlarge", "TERM_MATCH"),
                ("licenseModel", "No License required", "TERM_MATCH"), ("operatingSystem", "Linux", "TERM_MATCH"),
                ("preInstalledSw", "NA", "TERM_MATCH"), ("regionCode", "us-west-2", "TERM_MATCH"),
                ("tenancy", "Shared", "TERM_MATCH")]),
        sorted([("productFamily", "Storage", "TERM_MATCH"), ("regionCode", "us-west-2", "TERM_MATCH"),
                ("volumeApiName", "gp3", "TERM_MATCH")]),
    ]
    assert {(c["ServiceCode"], c["FormatVersion"]) for c in standin.calls} == {("AmazonEC2", "aws_v1")}
    assert prices.client.meta.region_name == "us-east-1"


async def test_aws_follows_next_token(aws: tuple[AwsPrices, PriceListStandIn]) -> None:
    prices, standin = aws
    standin.serve(instance_filters("us-west-2", "m6i.xlarge"), [], [], [M6I])  # AWS may send empty pages first

    table = await prices.table("us-west-2", machines=["m6i.xlarge"])

    assert table.machine("m6i.xlarge") == AWS_KNOWN[0]
    tokens = [c.get("NextToken") for c in standin.calls if len(c["Filters"]) == 7]
    assert tokens == [None, "page-1", "page-2"]


async def test_aws_sizes_with_thousands_separators(aws: tuple[AwsPrices, PriceListStandIn]) -> None:
    prices, standin = aws
    big = instance("us-west-2", "x1e.32xlarge", vcpu="128", memory="3,904 GiB", usd="26.6880000000",
                   sku="ZGJH6U6M6NE8RXRJ")
    standin.serve(instance_filters("us-west-2", "x1e.32xlarge"), [big])

    table = await prices.table("us-west-2", machines=["x1e.32xlarge"])

    assert table.machine("x1e.32xlarge") == MachinePrice("x1e.32xlarge", Decimal(128), Decimal(3904),
                                                         Decimal("26.688"))


async def test_aws_an_unreadable_price_list_uses_nothing(aws: tuple[AwsPrices, PriceListStandIn]) -> None:
    prices, standin = aws
    broken = json.loads(M6I)
    broken["terms"]["OnDemand"] = {}
    standin.serve(instance_filters("us-west-2", "m6i.xlarge"), [json.dumps(broken)])

    with pytest.raises(UpstreamError, match="could not read"):
        await prices.table("us-west-2", machines=["m6i.xlarge", "r6i.2xlarge"])


@pytest.mark.parametrize("code", ["AccessDeniedException", "UnrecognizedClientException"])
async def test_aws_refusals_say_which_permission_and_leak_nothing(aws: tuple[AwsPrices, PriceListStandIn],
                                                                  code: str) -> None:
    prices, standin = aws
    standin.failure = Failure(code, "User: arn:aws:iam::123456789012:user/bot is not authorized; key testing-secret")

    with pytest.raises(UpstreamError, match="pricing:GetProducts") as caught:
        await prices.table("us-west-2", machines=["m6i.xlarge"])
    message = str(caught.value)
    assert code in message
    assert "arn:aws" not in message and not any(s in message for s in SECRETS)


async def test_aws_throttling_says_when_to_try_again(aws: tuple[AwsPrices, PriceListStandIn]) -> None:
    prices, standin = aws
    standin.failure = Failure("ThrottlingException", "Rate exceeded", headers={"retry-after": "20"})

    with pytest.raises(UpstreamError, match="throttling") as caught:
        await prices.table("us-west-2", machines=["m6i.xlarge"])
    assert caught.value.retry_after == 20.0


def _no_aws_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))


async def test_aws_without_credentials_says_what_to_configure(monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:
    _no_aws_files(monkeypatch, tmp_path)
    prices = AwsPrices(endpoint_url=_closed_port_url())

    with pytest.raises(UpstreamError, match=r"no usable AWS credentials.*pricing:GetProducts"):
        await prices.table("us-west-2", machines=["m6i.xlarge"])


async def test_aws_unreachable_is_an_upstream_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _no_aws_files(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing-secret")
    prices = AwsPrices(endpoint_url=_closed_port_url())

    with pytest.raises(UpstreamError, match="Could not get an answer from the AWS Price List API") as caught:
        await prices.table("us-west-2", machines=["m6i.xlarge"])
    assert "127.0.0.1" not in str(caught.value) and "testing-secret" not in str(caught.value)


# -- Cloud Billing Catalog -----------------------------------------------------------------------


async def test_gcp_prices_a_machine_from_its_series_core_and_ram(gcp: tuple[GcpPrices, CatalogStandIn]) -> None:
    prices, _ = gcp
    table = await prices.table("us-central1", machines=["n2-standard-4", "n2-highmem-8"])

    n2 = table.machine("n2-standard-4")
    assert n2 is not None and n2.hourly == Decimal("0.194236")  # 4 × 0.031611 + 16 × 0.004237
    assert n2.hourly.quantize(CENT) == Decimal("0.19")
    highmem = table.machine("n2-highmem-8")
    assert highmem is not None and (highmem.cpu, highmem.memory_gib) == (Decimal(8), Decimal(64))
    assert highmem.hourly == Decimal("0.524056")  # 8 × 0.031611 + 64 × 0.004237
    assert (table.source, table.currency, table.storage_gib_month) == ("Cloud Billing Catalog", "USD", Decimal("0.1"))


async def test_gcp_uses_the_regions_own_skus(gcp: tuple[GcpPrices, CatalogStandIn]) -> None:
    prices, _ = gcp
    table = await prices.table("europe-west3", machines=["n2-standard-4", "e2-standard-4"])

    assert [m.name for m in table.machines] == ["n2-standard-4"]  # no E2 SKU lists europe-west3 here
    assert table.machines[0].hourly == Decimal("0.248816")  # 4 × 0.040492 + 16 × 0.005428
    assert table.storage_gib_month == Decimal("0.13")


async def test_gcp_reads_every_page(gcp: tuple[GcpPrices, CatalogStandIn]) -> None:
    prices, standin = gcp
    standin.page_size = 4

    table = await prices.table("us-central1", machines=["e2-standard-4"])

    assert table.machine("e2-standard-4") is not None  # its SKUs are on the last pages
    pages = -(-len(catalog.compute_engine_skus()) // 4)
    assert [r.get("pageToken", "") for r in standin.requests] == ["", *(str(4 * i) for i in range(1, pages))]
    assert {r["pageSize"] for r in standin.requests} == {"5000"}


def test_gcp_machine_shapes() -> None:
    n2 = shape("n2-highmem-128")
    assert n2 is not None and (n2.cpu, n2.memory_gib) == (Decimal(128), Decimal(864))
    e2 = shape("e2-highcpu-16")
    assert e2 is not None and (e2.series, e2.cpu, e2.memory_gib) == ("e2", Decimal(16), Decimal(16))
    for name in ("e2-standard-64", "n1-standard-4", "n2-custom-4-8192", "e2-medium", "N2-STANDARD-4", "n2-standard-4 "):
        assert shape(name) is None, name


async def test_gcp_a_disabled_api_says_so(gcp: tuple[GcpPrices, CatalogStandIn]) -> None:
    prices, standin = gcp
    standin.fail(403, "Cloud Billing API has not been used in project 123 before or it is disabled.", details=[{
        "@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "SERVICE_DISABLED",
        "domain": "googleapis.com", "metadata": {"service": "cloudbilling.googleapis.com"}}])

    with pytest.raises(UpstreamError, match="not enabled"):
        await prices.table("us-central1", machines=["n2-standard-4"])


async def test_gcp_a_refusal_says_what_to_enable(gcp: tuple[GcpPrices, CatalogStandIn]) -> None:
    prices, standin = gcp
    standin.fail(403, "The caller does not have permission")

    with pytest.raises(UpstreamError, match=r"cloudbilling\.googleapis\.com"):
        await prices.table("us-central1", machines=["n2-standard-4"])


async def test_gcp_prices_in_two_currencies_are_not_mixed(gcp: tuple[GcpPrices, CatalogStandIn]) -> None:
    prices, standin = gcp
    skus = standin.skus[catalog.COMPUTE_ENGINE]
    skus.append(catalog.sku("E5F6-0001-0001", "Balanced PD Capacity in Iowa", family="Storage", group="SSD",
                            usage="OnDemand", regions=["us-central1"], unit="GiBy.mo", price=Decimal("0.09"),
                            currency="EUR"))

    with pytest.raises(UpstreamError, match="could not read"):
        await prices.table("us-central1", machines=["n2-standard-4"])


async def test_gcp_unreachable_is_an_upstream_error() -> None:
    from google.auth.credentials import AnonymousCredentials

    prices = GcpPrices(endpoint=_closed_port_url(), credentials=AnonymousCredentials())  # type: ignore[no-untyped-call]
    with pytest.raises(UpstreamError, match="Could not get an answer") as caught:
        await prices.table("us-central1", machines=["n2-standard-4"])
    assert "127.0.0.1" not in str(caught.value)


async def test_gcp_an_unknown_region_is_not_found(gcp: tuple[GcpPrices, CatalogStandIn]) -> None:
    prices, _ = gcp
    with pytest.raises(NotFound, match="us-centra1"):
        await prices.table("us-centra1", machines=["n2-standard-4"])
