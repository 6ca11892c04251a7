"""The AWS Cost Explorer cost source, against moto's server on loopback and botocore's Stubber."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any, get_args

import boto3
import pytest
from botocore.stub import Stubber

from hubbot.adapters.aws import AwsCostSource
from hubbot.domain import CostLine
from hubbot.errors import UpstreamError, UserError
from hubbot.fleet import AwsProvider, CostMetric
from tests.support.aws import (
    ACCOUNT,
    TAG_KEY,
    Day,
    MotoCostExplorer,
    cost_response,
    fake_credentials,
    moto_cost_explorer,
)

SECRETS = ("testing-secret", "testing-token")


def provider(**overrides: Any) -> AwsProvider:
    return AwsProvider(**{"kind": "aws", "account_id": ACCOUNT, **overrides})


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_credentials(monkeypatch)


@pytest.fixture(scope="module")
def moto_server() -> Iterator[MotoCostExplorer]:
    with moto_cost_explorer() as server:
        yield server


@pytest.fixture
def moto(moto_server: MotoCostExplorer) -> Iterator[MotoCostExplorer]:
    moto_server.reset()
    yield moto_server
    moto_server.reset()


class SentRequests:
    """A client factory for a real client that records each GetCostAndUsage request it sends."""

    def __init__(self, endpoint_url: str) -> None:
        self.endpoint_url = endpoint_url
        self.bodies: list[dict[str, Any]] = []

    def _record(self, request: Any, **_: Any) -> None:
        self.bodies.append(json.loads(request.body))

    def __call__(self) -> Any:
        client = boto3.client("ce", region_name="us-east-1", endpoint_url=self.endpoint_url)
        client.meta.events.register("before-send.ce.GetCostAndUsage", self._record)
        return client


# --- against moto's server ----------------------------------------------------------------


async def test_fetch_parses_tagged_untagged_services_amounts_and_estimates(moto: MotoCostExplorer) -> None:
    moto.queue(
        cost_response(
            Day("2024-03-01", "2024-03-02", {
                ("staging", "Amazon Elastic Compute Cloud - Compute"): "12.3456789012",
                ("prod", "Amazon Elastic Compute Cloud - Compute"): "40.10",
                ("prod", "Amazon Simple Storage Service"): "0.0000000001",
                ("", "Amazon Elastic Kubernetes Service"): "2.40",
            }),
            Day("2024-03-02", "2024-03-03", {
                ("staging", "Amazon Elastic Compute Cloud - Compute"): "3.5",
                ("", "AWS Cost Explorer"): "0",
            }, estimated=True),
        )
    )
    source = AwsCostSource(provider=provider(endpoint_url=moto.url))

    batch = await source.fetch(start=date(2024, 3, 1), end=date(2024, 3, 3))

    first, second = date(2024, 3, 1), date(2024, 3, 2)
    assert batch.lines == [
        CostLine(first, "staging", "Amazon Elastic Compute Cloud - Compute", Decimal("12.3456789012"), "USD"),
        CostLine(first, "prod", "Amazon Elastic Compute Cloud - Compute", Decimal("40.10"), "USD"),
        CostLine(first, "prod", "Amazon Simple Storage Service", Decimal("0.0000000001"), "USD"),
        CostLine(first, None, "Amazon Elastic Kubernetes Service", Decimal("2.40"), "USD"),
        CostLine(second, "staging", "Amazon Elastic Compute Cloud - Compute", Decimal("3.5"), "USD", estimated=True),
        CostLine(second, None, "AWS Cost Explorer", Decimal("0"), "USD", estimated=True),
    ]
    assert all(isinstance(line.amount, Decimal) for line in batch.lines)
    assert batch.readings == []
    assert batch.requests == 2  # usage by service, then fees, tax and credits by record type


async def test_fees_tax_and_credits_are_read_apart_from_usage_by_record_type(moto: MotoCostExplorer) -> None:
    """Usage is asked for by service; everything else by record type, each line saying how it
    recurs, so the first-of-month support fee and a one-day credit are never taken as a rate."""
    moto.queue(
        cost_response(Day("2024-03-01", "2024-03-02", {("prod", "EC2"): "40"}, estimated=True)),
        cost_response(
            Day("2024-03-01", "2024-03-02", {("", "Support"): "100", ("", "Tax"): "8.40", ("prod", "RIFee"): "30",
                                             ("", "Credit"): "-25", ("prod", "SavingsPlanUpfrontFee"): "900"},
                estimated=True),
        ),
    )
    sent = SentRequests(moto.url)
    source = AwsCostSource(provider=provider(), client_factory=sent)

    batch = await source.fetch(start=date(2024, 3, 1), end=date(2024, 3, 2))

    first = date(2024, 3, 1)
    assert batch.lines == [
        CostLine(first, "prod", "EC2", Decimal("40"), "USD", estimated=True),
        CostLine(first, None, "Support", Decimal("100"), "USD", estimated=True, kind="recurring"),
        CostLine(first, None, "Tax", Decimal("8.40"), "USD", estimated=True, kind="recurring"),
        CostLine(first, "prod", "RIFee", Decimal("30"), "USD", estimated=True, kind="recurring"),
        CostLine(first, None, "Credit", Decimal("-25"), "USD", estimated=True, kind="one-off"),
        CostLine(first, "prod", "SavingsPlanUpfrontFee", Decimal("900"), "USD", estimated=True, kind="one-off"),
    ]
    usage, other = sent.bodies
    account = {"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": [ACCOUNT]}}
    by_record = {"Dimensions": {"Key": "RECORD_TYPE",
                                "Values": ["Usage", "DiscountedUsage", "SavingsPlanCoveredUsage",
                                           "SavingsPlanNegation"]}}
    assert usage["Filter"] == {"And": [account, by_record]}
    assert usage["GroupBy"][1] == {"Type": "DIMENSION", "Key": "SERVICE"}
    assert other["Filter"] == {"And": [account, {"Not": by_record}]}  # together: every line, once
    assert other["GroupBy"][1] == {"Type": "DIMENSION", "Key": "RECORD_TYPE"}


async def test_fetch_follows_next_page_token(moto: MotoCostExplorer) -> None:
    moto.queue(
        cost_response(Day("2024-03-01", "2024-03-02", {("staging", "EC2"): "1.25"}), next_page="page-2"),
        cost_response(Day("2024-03-02", "2024-03-03", {("prod", "EC2"): "2.50"})),
    )
    sent = SentRequests(moto.url)
    source = AwsCostSource(provider=provider(), client_factory=sent)

    batch = await source.fetch(start=date(2024, 3, 1), end=date(2024, 3, 3))

    assert [(line.day, line.hub_tag, line.amount) for line in batch.lines] == [
        (date(2024, 3, 1), "staging", Decimal("1.25")),
        (date(2024, 3, 2), "prod", Decimal("2.50")),
    ]
    assert batch.requests == 3  # two pages of usage, one of the rest
    assert len(sent.bodies) == 3
    assert "NextPageToken" not in sent.bodies[0]
    assert sent.bodies[1]["NextPageToken"] == "page-2"
    assert {k: v for k, v in sent.bodies[1].items() if k != "NextPageToken"} == sent.bodies[0]


async def test_two_requests_per_fetch_however_many_hubs(moto: MotoCostExplorer) -> None:
    hubs = [f"hub-{n}" for n in range(40)]
    services = ["EC2", "S3", "EKS"]
    days = [
        Day(f"2024-03-{d:02}", f"2024-03-{d + 1:02}", {(h, s): "1.00" for h in hubs for s in services})
        for d in range(1, 8)
    ]
    moto.queue(cost_response(*days))
    sent = SentRequests(moto.url)
    source = AwsCostSource(provider=provider(), client_factory=sent)

    batch = await source.fetch(start=date(2024, 3, 1), end=date(2024, 3, 8))

    assert batch.requests == 2
    assert len(sent.bodies) == 2
    assert len(batch.lines) == len(hubs) * len(services) * 7
    assert {line.hub_tag for line in batch.lines} == set(hubs)
    assert sum(line.amount for line in batch.lines) == Decimal("840.00")


async def test_an_account_without_costs_gives_no_lines(moto: MotoCostExplorer) -> None:
    source = AwsCostSource(provider=provider(endpoint_url=moto.url))

    batch = await source.fetch(start=date(2024, 3, 1), end=date(2024, 3, 2))

    assert batch.lines == []
    assert batch.requests == 2


async def test_unreachable_endpoint_is_an_upstream_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    source = AwsCostSource(provider=provider(endpoint_url=f"http://127.0.0.1:{port}"))

    with pytest.raises(UpstreamError, match="Could not get an answer from AWS Cost Explorer") as caught:
        await source.fetch(start=date(2024, 3, 1), end=date(2024, 3, 2))
    assert ACCOUNT in str(caught.value)


async def test_missing_credentials_say_what_to_configure(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    source = AwsCostSource(provider=provider(endpoint_url="http://127.0.0.1:9"))

    with pytest.raises(UpstreamError, match=r"no usable AWS credentials.*ce:GetCostAndUsage"):
        await source.fetch(start=date(2024, 3, 1), end=date(2024, 3, 2))


# --- against botocore's Stubber -------------------------------------------------------------


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("ce", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


USAGE_RECORDS = {"Dimensions": {"Key": "RECORD_TYPE", "Values": [
    "Usage", "DiscountedUsage", "SavingsPlanCoveredUsage", "SavingsPlanNegation"]}}


def expected_request(
    *, start: str, end: str, account: str = ACCOUNT, metric: str = "AmortizedCost", tag_key: str = TAG_KEY,
    usage: bool = True,
) -> dict[str, Any]:
    """The usage request (by service), or with ``usage=False`` the one for everything else (by record type)."""
    records = USAGE_RECORDS if usage else {"Not": USAGE_RECORDS}
    return {
        "TimePeriod": {"Start": start, "End": end},
        "Granularity": "DAILY",
        "Metrics": [metric],
        "GroupBy": [{"Type": "TAG", "Key": tag_key},
                    {"Type": "DIMENSION", "Key": "SERVICE" if usage else "RECORD_TYPE"}],
        "Filter": {"And": [{"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": [account]}}, records]},
    }


async def test_request_parameters(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    custom = provider(account_id="210987654321", cost_tag_key="team:hub", cost_metric="AmortizedCost")
    params = expected_request(
        start="2024-02-01", end="2024-03-01", account="210987654321", metric="AmortizedCost", tag_key="team:hub"
    )
    stubber.add_response(
        "get_cost_and_usage",
        cost_response(Day("2024-02-01", "2024-02-02", {("ml", "EC2"): "7"}), metric="AmortizedCost",
                      tag_key="team:hub", next_page="p2"),
        params,
    )
    stubber.add_response("get_cost_and_usage", cost_response(), {**params, "NextPageToken": "p2"})
    stubber.add_response("get_cost_and_usage", cost_response(), expected_request(
        start="2024-02-01", end="2024-03-01", account="210987654321", tag_key="team:hub", usage=False))
    source = AwsCostSource(provider=custom, client_factory=lambda: client)

    batch = await source.fetch(start=date(2024, 2, 1), end=date(2024, 3, 1))

    assert batch.lines == [CostLine(date(2024, 2, 1), "ml", "EC2", Decimal("7"), "USD")]
    assert batch.requests == 3


async def test_by_default_savings_plan_and_reserved_cost_lands_on_the_usage_it_covers(
    stubbed: tuple[Any, Stubber],
) -> None:
    """A hub whose instances run under a Savings Plan: unblended, its usage nets to about $0 and the
    plan's fee is an untagged line; amortized (the default), the fee is spread onto that usage."""
    client, stubber = stubbed
    params = expected_request(start="2024-02-01", end="2024-02-02", metric="AmortizedCost")
    stubber.add_response("get_cost_and_usage", cost_response(
        Day("2024-02-01", "2024-02-02", {("ml", "Amazon Elastic Compute Cloud - Compute"): "41.37"}, estimated=True),
        metric="AmortizedCost"), params)
    stubber.add_response("get_cost_and_usage", cost_response(),
                         expected_request(start="2024-02-01", end="2024-02-02", usage=False))
    source = AwsCostSource(provider=provider(), client_factory=lambda: client)

    batch = await source.fetch(start=date(2024, 2, 1), end=date(2024, 2, 2))

    assert [(ln.hub_tag, ln.amount) for ln in batch.lines] == [("ml", Decimal("41.37"))]


@pytest.mark.parametrize("code", ["ThrottlingException", "LimitExceededException", "RequestLimitExceeded"])
async def test_throttling_mid_pagination_raises_with_no_partial_data(stubbed: tuple[Any, Stubber], code: str) -> None:
    client, stubber = stubbed
    params = expected_request(start="2024-03-01", end="2024-03-03")
    stubber.add_response(
        "get_cost_and_usage", cost_response(Day("2024-03-01", "2024-03-02", {("a", "EC2"): "1"}), next_page="p2"),
        params,
    )
    stubber.add_client_error(
        "get_cost_and_usage", code, "Rate exceeded", 400, expected_params={**params, "NextPageToken": "p2"},
        response_meta={"HTTPHeaders": {"retry-after": "30"}},
    )
    source = AwsCostSource(provider=provider(), client_factory=lambda: client)

    with pytest.raises(UpstreamError, match=f"throttling requests for account {ACCOUNT}") as caught:
        await source.fetch(start=date(2024, 3, 1), end=date(2024, 3, 3))
    assert caught.value.retry_after == 30.0


async def test_throttling_without_a_hint_still_suggests_a_wait(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_client_error("get_cost_and_usage", "ThrottlingException", "Rate exceeded", 400)
    source = AwsCostSource(provider=provider(), client_factory=lambda: client)

    with pytest.raises(UpstreamError) as caught:
        await source.fetch(start=date(2024, 3, 1), end=date(2024, 3, 2))
    assert caught.value.retry_after is not None and caught.value.retry_after > 0


@pytest.mark.parametrize("code", ["AccessDeniedException", "UnrecognizedClientException"])
async def test_denied_names_the_missing_permission(stubbed: tuple[Any, Stubber], code: str) -> None:
    client, stubber = stubbed
    stubber.add_client_error(
        "get_cost_and_usage", code,
        f"User: arn:aws:iam::{ACCOUNT}:user/bot is not authorized; key testing-secret", 400,
    )
    source = AwsCostSource(provider=provider(), client_factory=lambda: client)

    with pytest.raises(UpstreamError, match="ce:GetCostAndUsage") as caught:
        await source.fetch(start=date(2024, 3, 1), end=date(2024, 3, 2))
    message = str(caught.value)
    assert code in message
    assert "arn:aws:iam" not in message
    assert not any(secret in message for secret in SECRETS)
    assert caught.value.retry_after is None


async def test_data_unavailable_on_fetch_says_not_available_yet(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_client_error("get_cost_and_usage", "DataUnavailableException", "", 400)
    source = AwsCostSource(provider=provider(), client_factory=lambda: client)

    with pytest.raises(UpstreamError, match="not available yet"):
        await source.fetch(start=date(2024, 3, 1), end=date(2024, 3, 2))


async def test_other_service_errors_are_upstream_errors(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_client_error("get_cost_and_usage", "InternalServerException", "boom", 500)
    source = AwsCostSource(provider=provider(), client_factory=lambda: client)

    with pytest.raises(UpstreamError, match=r"rejected the request .*InternalServerException"):
        await source.fetch(start=date(2024, 3, 1), end=date(2024, 3, 2))


@pytest.mark.parametrize(
    "group",
    [
        {"Keys": [f"{TAG_KEY}$a", "EC2"], "Metrics": {"BlendedCost": {"Amount": "1", "Unit": "USD"}}},
        {"Keys": [f"{TAG_KEY}$a", "EC2"], "Metrics": {"AmortizedCost": {"Amount": "lots", "Unit": "USD"}}},
        {"Keys": [f"{TAG_KEY}$a", "EC2"], "Metrics": {"AmortizedCost": {"Amount": "NaN", "Unit": "USD"}}},
        {"Keys": [f"{TAG_KEY}$a"], "Metrics": {"AmortizedCost": {"Amount": "1", "Unit": "USD"}}},
    ],
    ids=["other-metric", "not-a-number", "nan", "no-service"],
)
async def test_malformed_groups_fail_the_whole_fetch(stubbed: tuple[Any, Stubber], group: dict[str, Any]) -> None:
    client, stubber = stubbed
    response = cost_response(Day("2024-03-01", "2024-03-02", {("good", "EC2"): "1"}))
    response["ResultsByTime"][0]["Groups"].append(group)
    stubber.add_response("get_cost_and_usage", response)
    source = AwsCostSource(provider=provider(), client_factory=lambda: client)

    with pytest.raises(UpstreamError, match="no costs were used"):
        await source.fetch(start=date(2024, 3, 1), end=date(2024, 3, 2))


async def test_empty_period_is_refused_without_a_request(stubbed: tuple[Any, Stubber]) -> None:
    client, _ = stubbed
    source = AwsCostSource(provider=provider(), client_factory=lambda: client)

    with pytest.raises(UserError):
        await source.fetch(start=date(2024, 3, 2), end=date(2024, 3, 2))


# --- forecast -------------------------------------------------------------------------------


def expected_forecast(metric: str = "AMORTIZED_COST") -> dict[str, Any]:
    return {
        "TimePeriod": {"Start": "2024-03-10", "End": "2024-04-01"},
        "Metric": metric,
        "Granularity": "MONTHLY",
        "Filter": {"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": [ACCOUNT]}},
    }


FORECAST = {
    "Total": {"Amount": "1234.5678901234", "Unit": "USD"},
    "ForecastResultsByTime": [
        {"TimePeriod": {"Start": "2024-03-10", "End": "2024-04-01"}, "MeanValue": "1234.5678901234"}
    ],
}


async def test_forecast(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_response("get_cost_forecast", FORECAST, expected_forecast())
    source = AwsCostSource(provider=provider(), client_factory=lambda: client)

    total = await source.forecast(start=date(2024, 3, 10), end=date(2024, 4, 1))

    assert total == Decimal("1234.5678901234")


@pytest.mark.parametrize("metric", get_args(CostMetric))
async def test_forecast_metric_names_map_from_the_cost_metric(stubbed: tuple[Any, Stubber], metric: str) -> None:
    client, stubber = stubbed
    upper_snake = "".join(f"_{c}" if c.isupper() else c.upper() for c in metric).lstrip("_")
    stubber.add_response("get_cost_forecast", FORECAST, expected_forecast(upper_snake))
    source = AwsCostSource(provider=provider(cost_metric=metric), client_factory=lambda: client)

    assert await source.forecast(start=date(2024, 3, 10), end=date(2024, 4, 1)) == Decimal("1234.5678901234")


async def test_forecast_without_enough_history_is_none(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_client_error("get_cost_forecast", "DataUnavailableException", "Insufficient history", 400)
    source = AwsCostSource(provider=provider(), client_factory=lambda: client)

    assert await source.forecast(start=date(2024, 3, 10), end=date(2024, 4, 1)) is None


async def test_forecast_denied_names_its_permission(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_client_error("get_cost_forecast", "AccessDeniedException", "", 400)
    source = AwsCostSource(provider=provider(), client_factory=lambda: client)

    with pytest.raises(UpstreamError, match="ce:GetCostForecast"):
        await source.forecast(start=date(2024, 3, 10), end=date(2024, 4, 1))


async def test_forecast_throttled(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_client_error("get_cost_forecast", "ThrottlingException", "", 400)
    source = AwsCostSource(provider=provider(), client_factory=lambda: client)

    with pytest.raises(UpstreamError, match="throttling") as caught:
        await source.forecast(start=date(2024, 3, 10), end=date(2024, 4, 1))
    assert caught.value.retry_after is not None
