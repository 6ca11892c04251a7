"""Daily cost per hub from AWS Cost Explorer, for one AWS account.

A fetch makes two ``GetCostAndUsage`` requests (plus one per continuation page), never one per
hub: usage grouped by the hub's cost-allocation tag and by service, and everything else (fees,
tax, credits, refunds) by tag and record type, so a forecast can tell a first-of-month support
fee or a one-day credit from a rate of spend. Cost Explorer bills every
request, so botocore's own retries are off: a throttled or failed call raises
:class:`~hubbot.errors.UpstreamError` at once and the caller decides when to try again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, TypeVar

from hubbot.adapters.lazy import Lazy
from hubbot.domain import CostBatch, CostKind, CostLine
from hubbot.errors import UpstreamError, UserError

if TYPE_CHECKING:
    from botocore.exceptions import ClientError
    from mypy_boto3_ce.client import CostExplorerClient
    from mypy_boto3_ce.literals import MetricType
    from mypy_boto3_ce.type_defs import ExpressionTypeDef, GetCostAndUsageRequestTypeDef

    from hubbot.fleet import AwsProvider

ClientFactory = Callable[[], "CostExplorerClient"]
_T = TypeVar("_T")

# GetCostAndUsage names metrics in CamelCase, GetCostForecast in UPPER_SNAKE.
_FORECAST_METRIC: dict[str, MetricType] = {
    "UnblendedCost": "UNBLENDED_COST",
    "BlendedCost": "BLENDED_COST",
    "AmortizedCost": "AMORTIZED_COST",
    "NetUnblendedCost": "NET_UNBLENDED_COST",
    "NetAmortizedCost": "NET_AMORTIZED_COST",
}
# Cost Explorer's RECORD_TYPE values (the API's names, not the console's "charge types") that
# accrue with use; Savings Plan negation lines offset covered usage day by day.
_USAGE_RECORDS = ["Usage", "DiscountedUsage", "SavingsPlanCoveredUsage", "SavingsPlanNegation"]
# Booked once a month; any other record type (Credit, Refund, Fee, SavingsPlanUpfrontFee,
# BundledDiscount, ...) is a one-off.
_RECURRING_RECORDS = frozenset({"RIFee", "SavingsPlanRecurringFee", "Support", "Tax"})
_THROTTLED = frozenset({"ThrottlingException", "LimitExceededException", "RequestLimitExceeded"})
_DENIED = frozenset({"AccessDeniedException", "UnrecognizedClientException"})
_DEFAULT_RETRY_AFTER = 60.0


class AwsCostSource:
    """A :class:`hubbot.ports.CostSource` for one AWS account.

    ``client_factory`` returns a boto3 ``ce`` client; it is called once, on first use, in a
    worker thread. By default the client uses the ambient AWS credentials (environment,
    profile or instance role), which need ``ce:GetCostAndUsage`` and ``ce:GetCostForecast``.
    """

    def __init__(self, *, provider: AwsProvider, client_factory: ClientFactory | None = None) -> None:
        self.provider = provider
        self._ce = Lazy(client_factory or self._default_client)

    def _default_client(self) -> CostExplorerClient:
        from botocore.config import Config

        from hubbot.adapters.metered import aws_session

        # A session of its own: boto3's shared default session is not safe to set up from threads.
        config = Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=10, read_timeout=60)
        return aws_session().client(
            "ce", region_name=self.provider.region, endpoint_url=self.provider.endpoint_url, config=config
        )

    def _filter(self) -> ExpressionTypeDef:
        return {"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": [self.provider.account_id]}}

    async def fetch(self, *, start: date, end: date) -> CostBatch:
        """Every hub's cost per day and service for ``start <= day < end``.

        Untagged spend has ``hub_tag=None``. Raises :class:`UpstreamError` (with ``retry_after``
        when throttled) instead of returning partial data, and :class:`UserError` if ``end`` is
        not after ``start``.
        """
        if end <= start:
            raise UserError(f"The cost period must end after it starts (got {start} to {end}).")
        return await asyncio.to_thread(self._guarded, "ce:GetCostAndUsage", lambda: self._fetch_sync(start, end))

    async def forecast(self, *, start: date, end: date) -> Decimal | None:
        """AWS's forecast of the account's total cost for ``start <= day < end``.

        ``start`` must be today or later. Returns None when AWS has too little history to
        forecast; other failures raise :class:`UpstreamError`.
        """
        if end <= start:
            raise UserError(f"The forecast period must end after it starts (got {start} to {end}).")
        return await asyncio.to_thread(self._guarded, "ce:GetCostForecast", lambda: self._forecast_sync(start, end))

    def _fetch_sync(self, start: date, end: date) -> CostBatch:
        usage: ExpressionTypeDef = {"Dimensions": {"Key": "RECORD_TYPE", "Values": _USAGE_RECORDS}}
        by_service, requests = self._query(start, end, {"And": [self._filter(), usage]}, "SERVICE")
        # malformed usage fails the fetch before a second billed request is made
        lines = [self._line(day, estimated, keys, metrics, "usage") for day, estimated, keys, metrics in by_service]
        other, more = self._query(start, end, {"And": [self._filter(), {"Not": usage}]}, "RECORD_TYPE")
        for day, estimated, keys, metrics in other:
            record = keys[1] if len(keys) == 2 else ""
            lines.append(self._line(day, estimated, keys, metrics,
                                    "recurring" if record in _RECURRING_RECORDS else "one-off"))
        return CostBatch(lines=lines, requests=requests + more)

    def _query(self, start: date, end: date, where: ExpressionTypeDef, by: str
               ) -> tuple[list[tuple[date, bool, list[str], dict[str, Any]]], int]:
        """Every group of every day, grouped by the hub tag and ``by``, and how many pages it took."""
        p = self.provider
        request: GetCostAndUsageRequestTypeDef = {
            "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
            "Granularity": "DAILY",
            "Metrics": [p.cost_metric],
            "GroupBy": [{"Type": "TAG", "Key": p.cost_tag_key}, {"Type": "DIMENSION", "Key": by}],
            "Filter": where,
        }
        groups: list[tuple[date, bool, list[str], dict[str, Any]]] = []
        requests = 0
        while True:
            response = self._ce().get_cost_and_usage(**request)
            requests += 1
            for period in response.get("ResultsByTime", []):
                day = self._day(period.get("TimePeriod", {}).get("Start"))
                estimated = bool(period.get("Estimated", False))
                for group in period.get("Groups", []):
                    groups.append((day, estimated, list(group.get("Keys", [])), dict(group.get("Metrics", {}))))
            token = response.get("NextPageToken")
            if not token:
                return groups, requests
            request["NextPageToken"] = token

    def _line(self, day: date, estimated: bool, keys: list[str], metrics: dict[str, Any], kind: CostKind) -> CostLine:
        value = metrics.get(self.provider.cost_metric) or {}
        # Tag groups come back as "<tag key>$<value>"; an empty value means untagged.
        _, dollar, hub_tag = keys[0].partition("$") if keys else ("", "", "")
        if len(keys) != 2 or not dollar or "Amount" not in value or not value.get("Unit"):
            raise self._malformed(f"a cost group on {day} without its tag, service or {self.provider.cost_metric}")
        amount = self._amount(value["Amount"])
        return CostLine(day, hub_tag or None, keys[1], amount, str(value["Unit"]), estimated, kind)

    def _day(self, text: str | None) -> date:
        try:
            return date.fromisoformat(text or "")
        except ValueError:
            raise self._malformed(f"a period starting on {text!r}") from None

    def _amount(self, text: Any) -> Decimal:
        try:
            amount = Decimal(str(text))
        except InvalidOperation:
            amount = Decimal("NaN")
        if not amount.is_finite():
            raise self._malformed(f"the amount {text!r}")
        return amount

    def _malformed(self, what: str) -> UpstreamError:
        return UpstreamError(
            f"AWS Cost Explorer sent {what} for account {self.provider.account_id}; no costs were used. "
            "Try again later."
        )

    def _forecast_sync(self, start: date, end: date) -> Decimal | None:
        from botocore.exceptions import ClientError

        try:
            response = self._ce().get_cost_forecast(
                TimePeriod={"Start": start.isoformat(), "End": end.isoformat()},
                Metric=_FORECAST_METRIC[self.provider.cost_metric],
                Granularity="MONTHLY",
                Filter=self._filter(),
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "DataUnavailableException":
                return None
            raise
        amount = response.get("Total", {}).get("Amount")
        return self._amount(amount) if amount is not None else None

    def _guarded(self, permission: str, call: Callable[[], _T]) -> _T:
        """Run ``call``, turning botocore failures into messages safe to show users."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return call()
        except ClientError as exc:
            raise self._client_error(exc, permission) from exc
        except BotoCoreError as exc:
            raise self._transport_error(exc, permission) from exc

    def _client_error(self, exc: ClientError, permission: str) -> UpstreamError:
        account = self.provider.account_id
        code = str(exc.response.get("Error", {}).get("Code", "unknown"))
        if code in _THROTTLED:
            wait = throttle_wait(exc)
            return UpstreamError(
                f"AWS Cost Explorer is throttling requests for account {account}; "
                f"try again in about {wait:.0f} seconds.",
                retry_after=wait,
            )
        if code == "DataUnavailableException":
            return UpstreamError(
                f"AWS Cost Explorer data for account {account} is not available yet (new accounts and "
                "newly activated cost-allocation tags can take 24 hours). Try again later."
            )
        if code in _DENIED:
            return UpstreamError(
                f"AWS refused the Cost Explorer request for account {account} ({code}): make sure "
                f"hubbot's AWS credentials are valid and allow {permission}."
            )
        return UpstreamError(
            f"AWS Cost Explorer rejected the request for account {account} ({code}). "
            "Try again later; if it persists, check the account's provider settings in the fleet config."
        )

    def _transport_error(self, exc: Exception, permission: str) -> UpstreamError:
        from botocore.exceptions import NoCredentialsError, PartialCredentialsError

        account = self.provider.account_id
        if isinstance(exc, NoCredentialsError | PartialCredentialsError):
            return UpstreamError(
                f"hubbot has no usable AWS credentials for account {account}: configure credentials "
                f"(environment, profile or instance role) that allow {permission}."
            )
        return UpstreamError(
            f"Could not get an answer from AWS Cost Explorer for account {account} "
            f"({type(exc).__name__}). Try again later."
        )


def throttle_wait(exc: ClientError) -> float:
    """Seconds a throttled AWS call asks to wait (its Retry-After), within a day; else a default."""
    headers = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    try:
        wait = float(headers.get("retry-after", _DEFAULT_RETRY_AFTER))
    except ValueError:
        return _DEFAULT_RETRY_AFTER
    return wait if 0 < wait <= 86400 else _DEFAULT_RETRY_AFTER  # also rejects NaN
