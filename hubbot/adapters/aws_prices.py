"""EC2 on-demand prices and EBS gp3 storage prices from the AWS Price List Query API
(``pricing:GetProducts``), as a :class:`hubbot.ports.PriceSource`.

The Query API answers from us-east-1 whatever region is asked about. Each instance type is one
``GetProducts`` request (plus continuation pages), run side by side in worker threads on one
shared client; the gp3 price is one more. Every ``PriceList`` entry is a JSON document in a string.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar, cast

from hubbot.adapters.aws import throttle_wait
from hubbot.adapters.lazy import Lazy
from hubbot.domain.prices import MachinePrice, PriceTable
from hubbot.errors import NotFound, UpstreamError

if TYPE_CHECKING:
    from botocore.exceptions import ClientError

_T = TypeVar("_T")
SOURCE = "AWS Price List API"
PERMISSION = "pricing:GetProducts"
_PRICING_REGION = "us-east-1"  # the Query API's endpoint; the prices are of the region filtered on
_SERVICE = "AmazonEC2"
_MAX_PAGES = 50
_THROTTLED = frozenset({"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"})
_DENIED = frozenset({"AccessDeniedException", "AccessDenied"})
_CREDENTIALS = frozenset({
    "UnrecognizedClientException", "InvalidClientTokenId", "InvalidSignatureException", "SignatureDoesNotMatch",
    "ExpiredToken", "ExpiredTokenException",
})


class PriceDimension(TypedDict, total=False):
    unit: str  # "Hrs", "GB-Mo", ...
    pricePerUnit: dict[str, str]  # {"USD": "0.1920000000"}
    description: str
    rateCode: str
    beginRange: str
    endRange: str


class Term(TypedDict, total=False):
    priceDimensions: dict[str, PriceDimension]
    sku: str
    offerTermCode: str
    effectiveDate: str


class Product(TypedDict, total=False):
    productFamily: str
    attributes: dict[str, str]
    sku: str


class PriceItem(TypedDict, total=False):
    """One entry of ``GetProducts``' ``PriceList`` once decoded from its JSON string."""

    product: Product
    terms: dict[str, dict[str, Term]]  # "OnDemand" / "Reserved" -> "<sku>.<offerTermCode>" -> term
    serviceCode: str
    version: str
    publicationDate: str


def _match(**fields: str) -> list[dict[str, str]]:
    return [{"Type": "TERM_MATCH", "Field": name, "Value": value} for name, value in fields.items()]


def instance_filters(region: str, instance_type: str) -> list[dict[str, str]]:
    """The one product that is an on-demand Linux instance of ``instance_type`` in ``region``:
    shared tenancy, no pre-installed software (SQL Server), no licence bundled, and
    ``capacitystatus=Used`` (the others, ``AllocatedCapacityReservation`` and
    ``UnusedCapacityReservation``, price capacity reservations)."""
    return _match(regionCode=region, instanceType=instance_type, operatingSystem="Linux", tenancy="Shared",
                  preInstalledSw="NA", capacitystatus="Used", licenseModel="No License required")


def storage_filters(region: str) -> list[dict[str, str]]:
    """gp3 volume storage (its provisioned IOPS and throughput are other product families)."""
    return _match(regionCode=region, productFamily="Storage", volumeApiName="gp3")


class AwsPrices:
    """A :class:`hubbot.ports.PriceSource` for AWS. ``endpoint_url`` overrides the Price List API's
    endpoint; the client uses the ambient AWS credentials, which need ``pricing:GetProducts``."""

    def __init__(self, *, endpoint_url: str | None = None, clock: Callable[[], datetime] | None = None) -> None:
        self.endpoint_url = endpoint_url
        self._clock = clock or (lambda: datetime.now(UTC))
        self._client = Lazy(self._default_client)

    @property
    def client(self) -> Any:
        """The boto3 ``pricing`` client, made on first use and shared by every request."""
        return self._client()

    def _default_client(self) -> Any:
        from botocore.config import Config

        from hubbot.adapters.metered import aws_session

        # One attempt per request: a throttled answer is reported, not retried by every caller at once.
        config = Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=10, read_timeout=60)
        return aws_session().client(
            "pricing", region_name=_PRICING_REGION, endpoint_url=self.endpoint_url, config=config
        )

    async def table(self, region: str, *, machines: Sequence[str]) -> PriceTable:
        names = list(dict.fromkeys(machines))
        client = await asyncio.to_thread(self._guarded, lambda: self.client)
        found, storage = await asyncio.gather(
            asyncio.gather(*(asyncio.to_thread(self._guarded, lambda n=n: self._machine(client, region, n))
                             for n in names)),
            asyncio.to_thread(self._guarded, lambda: self._storage(client, region)),
        )
        machines_found = tuple(m for m in found if m is not None)
        if storage is None:
            if machines_found:
                raise UpstreamError(f"The AWS Price List API has instance prices for {region} but no EBS gp3 "
                                    "storage price; no prices were used. Try again later.")
            raise NotFound(f"The AWS Price List API knows no region {region!r}; give a region code such as "
                           "us-west-2.")
        return PriceTable(provider="aws", region=region, currency="USD", machines=machines_found,
                          storage_gib_month=storage, fetched_at=self._clock(), source=SOURCE)

    # -- requests (in worker threads) ------------------------------------------------------------

    def _products(self, client: Any, filters: list[dict[str, str]]) -> Iterator[PriceItem]:
        request: dict[str, Any] = {"ServiceCode": _SERVICE, "Filters": filters, "FormatVersion": "aws_v1"}
        for _ in range(_MAX_PAGES):
            page = client.get_products(**request)
            for raw in page.get("PriceList", []):
                item = json.loads(raw) if isinstance(raw, str) else raw
                if not isinstance(item, dict):
                    raise ValueError("a PriceList entry that is not a JSON object")
                yield cast(PriceItem, item)
            token = page.get("NextToken")
            if not token:
                return
            request["NextToken"] = token
        raise ValueError(f"more than {_MAX_PAGES} pages")

    def _machine(self, client: Any, region: str, name: str) -> MachinePrice | None:
        items = list(self._products(client, instance_filters(region, name)))
        if not items:
            return None  # AWS has no such instance type in this region
        # The filters leave one product; should AWS ever add a variant, the plain RunInstances one is it.
        items.sort(key=lambda i: (_attributes(i).get("operation") != "RunInstances",
                                  i.get("product", {}).get("sku", "")))
        attributes = _attributes(items[0])
        gpu = attributes.get("gpu", "0")
        return MachinePrice(
            name=name,
            cpu=_number(attributes.get("vcpu")),
            memory_gib=_number(attributes.get("memory", "").removesuffix("GiB")),
            hourly=_on_demand(items[0], "Hrs"),
            gpu=int(gpu) if gpu.isdigit() else 0,
        )

    def _storage(self, client: Any, region: str) -> Decimal | None:
        items = list(self._products(client, storage_filters(region)))
        # AWS's EBS pricing pages charge "per GB-month of provisioned storage" and never say which GB;
        # volumes are provisioned in GiB (CreateVolume's Size is GiB) and a 100 GiB volume kept a month
        # is billed as 100 GB-months, so in practice this is the price per GiB-month the table wants.
        return _on_demand(items[0], "GB-Mo") if items else None

    # -- failures ----------------------------------------------------------------------------------

    def _guarded(self, call: Callable[[], _T]) -> _T:
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, PartialCredentialsError

        try:
            return call()
        except ClientError as exc:
            raise _client_error(exc) from exc
        except (NoCredentialsError, PartialCredentialsError) as exc:
            raise UpstreamError(
                "hubbot has no usable AWS credentials for the AWS Price List API: configure credentials "
                f"(environment, profile or instance role) that allow {PERMISSION}."
            ) from exc
        except BotoCoreError as exc:
            raise UpstreamError(
                f"Could not get an answer from the AWS Price List API ({type(exc).__name__}). Try again later."
            ) from exc
        except (ValueError, KeyError, TypeError, ArithmeticError) as exc:
            raise UpstreamError(
                f"The AWS Price List API sent an answer hubbot could not read ({exc}); no prices were used. "
                "Try again later."
            ) from exc


def _client_error(exc: ClientError) -> UpstreamError:
    code = str(exc.response.get("Error", {}).get("Code", "unknown"))
    if code in _THROTTLED:
        wait = throttle_wait(exc)
        return UpstreamError(f"The AWS Price List API is throttling hubbot's requests; try again in about "
                             f"{wait:.0f} seconds.", retry_after=wait)
    if code in _DENIED:
        return UpstreamError(f"AWS refused hubbot's Price List request ({code}): give hubbot's AWS credentials "
                             f"the {PERMISSION} permission.")
    if code in _CREDENTIALS:
        return UpstreamError(f"AWS did not accept hubbot's credentials for the Price List API ({code}); check "
                             f"that they are valid and allow {PERMISSION}.")
    if code == "ExpiredNextTokenException":
        return UpstreamError("The AWS Price List API's answer changed while hubbot was reading it; try again.")
    return UpstreamError(f"The AWS Price List API rejected hubbot's request ({code}). Try again later.")


def _attributes(item: PriceItem) -> dict[str, str]:
    attributes = item.get("product", {}).get("attributes", {})
    if not isinstance(attributes, dict):
        raise ValueError("a product without attributes")
    return attributes


def _number(text: str | None) -> Decimal:
    """``"4"``, ``"16 GiB"`` without its unit, ``"1,952 "``."""
    try:
        value = Decimal((text or "").replace(",", "").strip())
    except InvalidOperation:
        raise ValueError(f"the size {text!r}") from None
    if not value.is_finite() or value <= 0:
        raise ValueError(f"the size {text!r}")
    return value


def _on_demand(item: PriceItem, unit: str) -> Decimal:
    """The product's one on-demand price per ``unit``, in USD."""
    terms = list(item.get("terms", {}).get("OnDemand", {}).values())
    prices = [dimension.get("pricePerUnit", {}).get("USD")
              for term in terms for dimension in term.get("priceDimensions", {}).values()
              if dimension.get("unit") == unit]
    if len(prices) != 1:
        raise ValueError(f"{len(prices)} on-demand prices per {unit} for product {item.get('product', {}).get('sku')}")
    try:
        price = Decimal(str(prices[0]))
    except InvalidOperation:
        raise ValueError(f"the price {prices[0]!r}") from None
    if not price.is_finite() or price < 0:
        raise ValueError(f"the price {prices[0]!r}")
    return price
