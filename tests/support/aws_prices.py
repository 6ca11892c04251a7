"""The AWS Price List Query API's ``GetProducts`` answers, in the shape AWS documents, served to a real
boto3 ``pricing`` client by request.

botocore's ``Stubber`` answers calls in the order they were queued; the price adapter asks for its
instance types side by side, so the order its calls arrive in is not fixed. :class:`PriceListStandIn`
uses the same documented client events as ``Stubber`` (``before-parameter-build`` to see a call's
parameters, ``before-call`` to answer it without sending anything) but picks the answer by the
request's filters, and validates every answer against the service model's output shape as
``Stubber`` does. Nothing leaves the process.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.validate import ParamValidator

PUBLICATION = "2026-11-20T18:49:30Z"
VERSION = "20261120184930"
ON_DEMAND = "JRTCKXETXF"  # the offer term code of every on-demand term
HOURLY = "6YS6EN2CT7"  # the rate code of an on-demand price dimension

LOCATIONS = {"us-west-2": ("US West (Oregon)", "USW2"), "us-east-1": ("US East (N. Virginia)", "USE1"),
             "eu-west-1": ("EU (Ireland)", "EU")}


def _price_item(sku: str, family: str, attributes: dict[str, str], unit: str, usd: str, description: str,
                terms: dict[str, Any] | None = None) -> str:
    term_key = f"{sku}.{ON_DEMAND}"
    rate = f"{term_key}.{HOURLY}"
    item = {
        "product": {"productFamily": family, "attributes": attributes, "sku": sku},
        "serviceCode": "AmazonEC2",
        "terms": terms if terms is not None else {"OnDemand": {term_key: {
            "priceDimensions": {rate: {
                "unit": unit, "endRange": "Inf", "description": description, "appliesTo": [], "rateCode": rate,
                "beginRange": "0", "pricePerUnit": {"USD": usd},
            }},
            "sku": sku, "effectiveDate": "2026-11-01T00:00:00Z", "offerTermCode": ON_DEMAND, "termAttributes": {},
        }}},
        "version": VERSION,
        "publicationDate": PUBLICATION,
    }
    return json.dumps(item, separators=(",", ":"))


def instance(region: str, instance_type: str, *, vcpu: str, memory: str, usd: str, sku: str,
             gpu: str | None = None, operation: str = "RunInstances") -> str:
    """One on-demand Linux instance product, as one ``PriceList`` string."""
    location, prefix = LOCATIONS[region]
    attributes = {
        "enhancedNetworkingSupported": "Yes", "intelTurboAvailable": "Yes", "memory": memory,
        "dedicatedEbsThroughput": "Up to 10000 Mbps", "vcpu": vcpu, "classicnetworkingsupport": "false",
        "capacitystatus": "Used", "locationType": "AWS Region", "storage": "EBS only",
        "instanceFamily": "General purpose", "operatingSystem": "Linux", "intelAvx2Available": "Yes",
        "regionCode": region, "physicalProcessor": "Intel Xeon 8375C (Ice Lake)", "clockSpeed": "3.5 GHz",
        "ecu": "NA", "networkPerformance": "Up to 12500 Megabit", "servicename": "Amazon Elastic Compute Cloud",
        "vpcnetworkingsupport": "true", "instanceType": instance_type, "tenancy": "Shared",
        "usagetype": f"{prefix}-BoxUsage:{instance_type}", "normalizationSizeFactor": "8",
        "intelAvxAvailable": "Yes", "processorFeatures": "Intel AVX; Intel AVX2; Intel AVX512; Intel Turbo",
        "servicecode": "AmazonEC2", "licenseModel": "No License required", "currentGeneration": "Yes",
        "preInstalledSw": "NA", "location": location, "processorArchitecture": "64-bit",
        "marketoption": "OnDemand", "operation": operation, "availabilityzone": "NA",
    }
    if gpu is not None:
        attributes["gpu"] = gpu
    return _price_item(sku, "Compute Instance", attributes, "Hrs", usd,
                       f"${float(usd):.4f} per On Demand Linux {instance_type} Instance Hour")


def gp3_storage(region: str, *, usd: str, sku: str) -> str:
    """The gp3 volume storage product of ``region``."""
    location, prefix = LOCATIONS[region]
    attributes = {
        "maxThroughputvolume": "1000 MiB/s", "volumeType": "General Purpose", "maxIopsvolume": "16000",
        "usagetype": f"{prefix}-EBS:VolumeUsage.gp3", "locationType": "AWS Region", "maxVolumeSize": "16 TiB",
        "storageMedia": "SSD-backed", "regionCode": region, "servicecode": "AmazonEC2", "volumeApiName": "gp3",
        "location": location, "servicename": "Amazon Elastic Compute Cloud", "operation": "",
    }
    return _price_item(sku, "Storage", attributes, "GB-Mo", usd,
                       f"${float(usd):.3f} per GB-month of General Purpose (gp3) provisioned storage - {location}")


def filters_key(filters: list[dict[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((f["Field"], f["Value"]) for f in filters))


@dataclass
class Failure:
    code: str
    message: str
    status: int = 400
    headers: dict[str, str] = field(default_factory=dict)


class PriceListStandIn:
    """Answers ``get_products`` calls of one client by their filters (and NextToken): ``pages`` maps
    a filters key (:func:`filters_key`) to the pages of ``PriceList`` strings to send; filters it
    does not know get an empty ``PriceList``, as AWS answers a filter nothing matches."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.pages: dict[tuple[tuple[str, str], ...], list[list[str]]] = {}
        self.calls: list[dict[str, Any]] = []
        self.failure: Failure | None = None
        self._lock = threading.Lock()
        self._validator = ParamValidator()
        events = client.meta.events
        events.register_first("before-parameter-build.pricing.GetProducts", self._seen, unique_id="price-standin-in")
        events.register("before-call.pricing.GetProducts", self._answer, unique_id="price-standin-out")

    def serve(self, filters: list[dict[str, str]], *pages: list[str]) -> None:
        self.pages[filters_key(filters)] = list(pages) or [[]]

    def _seen(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        with self._lock:
            self.calls.append(json.loads(json.dumps(params)))
        context["price_standin_params"] = params

    def _answer(self, model: Any, context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        params = context["price_standin_params"]
        if self.failure is not None:
            failure = self.failure
            meta = {"HTTPStatusCode": failure.status, "HTTPHeaders": failure.headers}
            return AWSResponse("", failure.status, HTTPHeaders(), None), {
                "ResponseMetadata": meta, "Error": {"Code": failure.code, "Message": failure.message}}
        pages = self.pages.get(filters_key(params.get("Filters", [])), [[]])
        token = params.get("NextToken")
        index = int(token.removeprefix("page-")) if token else 0
        body: dict[str, Any] = {"FormatVersion": "aws_v1", "PriceList": pages[index]}
        if index + 1 < len(pages):
            body["NextToken"] = f"page-{index + 1}"
        report = self._validator.validate(body, model.output_shape)
        if report.has_errors():
            raise AssertionError(report.generate_report())
        return AWSResponse("", 200, HTTPHeaders(), None), {**body, "ResponseMetadata": {"HTTPStatusCode": 200}}
