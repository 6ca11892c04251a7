"""Google Cloud: daily cost per hub from the BigQuery billing export, budgets mirrored into Cloud
Billing, and a check that a project bills to the account the fleet config expects.

Every fetch is one BigQuery query over the project's rows of the standard billing export, grouped
by day, hub label and service, never one query per hub. The Google client libraries' own retries
are off: a throttled or failed call raises :class:`~hubbot.errors.UpstreamError` at once (with
``retry_after`` when throttled) and the caller decides when to try again. Blocking client calls
run in worker threads; the client libraries are imported on first use.

Credentials are the ambient Google credentials (``GOOGLE_APPLICATION_CREDENTIALS``, workload
identity or the metadata server). With an ``endpoint`` override on plain ``http://`` (a local
stand-in or proxy), requests are sent without credentials, so a token never crosses the wire
unencrypted.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from hubbot.domain import CostBatch, CostLine
from hubbot.errors import UpstreamError, UserError
from hubbot.fleet import GcpProvider

if TYPE_CHECKING:
    from google.auth.credentials import Credentials
    from google.cloud.bigquery import Client as BigQueryClient
    from google.cloud.billing.budgets_v1 import Budget, BudgetServiceClient
    from google.cloud.billing_v1 import CloudBillingClient

BigQueryClientFactory = Callable[[], "BigQueryClient"]
BudgetClientFactory = Callable[[], "BudgetServiceClient"]
BillingClientFactory = Callable[[], "CloudBillingClient"]

_T = TypeVar("_T")

# Same shape the fleet config enforces; checked again because the name is pasted into SQL.
_TABLE = re.compile(r"^[a-z0-9-]+\.[A-Za-z0-9_]+\.[A-Za-z0-9_]+$")
_ACCOUNT_PREFIX = "billingAccounts/"
_API_TIMEOUT = 60.0  # seconds for one HTTP request
_QUERY_WAIT = 300.0  # seconds a query may run before it is cancelled
_DEFAULT_RETRY_AFTER = 60.0
_QUOTA_RETRY_AFTER = 3600.0
_DISPLAY_NAME_MAX = 60  # Cloud Billing's limit for a budget's display name
_PERMISSION = re.compile(r"\b((?:bigquery|billing|resourcemanager|serviceusage)\.[A-Za-z]+\.[A-Za-z]+)\b")
_URL_PREFIX = re.compile(r"^[A-Z]+ \S+: ")
_TEXT_MAX = 200

# The columns the query returns, in order; the names are what the rows are read by.
_COLUMNS = ("usage_day", "hub", "service_name", "currency_code", "amount")
_QUERY = """
SELECT
  DATE(e.usage_start_time) AS usage_day,
  hub_label.value AS hub,
  IFNULL(e.service.description, 'Unknown service') AS service_name,
  e.currency AS currency_code,
  SUM(CAST(e.cost AS NUMERIC))
    + SUM(IFNULL((SELECT SUM(CAST(c.amount AS NUMERIC)) FROM UNNEST(e.credits) AS c), 0)) AS amount
FROM `{table}` AS e
LEFT JOIN UNNEST(e.labels) AS hub_label ON hub_label.key = @hub_label
WHERE e.project.id = @project
  AND e.usage_start_time >= TIMESTAMP(@start_day)
  AND e.usage_start_time < TIMESTAMP(@end_day)
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 3, 4
"""


@dataclass(frozen=True, slots=True)
class _Api:
    """What a failing call was about, for messages: the service, the thing asked for, and the
    role that grants access to it."""

    service: str
    subject: str
    grant: str


def _credentials(endpoint: str | None) -> Credentials | None:
    """None (the ambient credentials), or anonymous ones for a plain-HTTP endpoint override."""
    if endpoint and endpoint.startswith("http://"):
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials()  # type: ignore[no-untyped-call]  # the class has no annotations
    return None


def _client_options(endpoint: str | None) -> dict[str, str] | None:
    return {"api_endpoint": endpoint} if endpoint else None


def _account_id(account: str) -> str:
    return account.removeprefix(_ACCOUNT_PREFIX)


class BigQueryCostSource:
    """A :class:`hubbot.ports.CostSource` for one GCP project, read from a billing export table.

    ``provider.billing_export_table`` names the standard usage cost export
    (``project.dataset.table``). Each row's cost plus its credits is summed per day (UTC), value
    of the ``provider.hub_label`` resource label and service; rows without the label are
    untagged (``hub_tag=None``). The export lags, so the last day of a fetch is marked
    ``estimated``. The query runs in the export table's project, so hubbot's credentials need
    ``roles/bigquery.jobUser`` there and ``roles/bigquery.dataViewer`` on the table.

    ``client_factory`` returns a ``google.cloud.bigquery.Client``; it is called once, on first
    use, in a worker thread. Raises :class:`UserError` at construction when the provider has no
    export table.
    """

    def __init__(self, provider: GcpProvider, *, client_factory: BigQueryClientFactory | None = None) -> None:
        table = provider.billing_export_table
        if not table:
            raise UserError(
                f"GCP project '{provider.project}' has no billing_export_table; set it to the BigQuery "
                "billing export table (project.dataset.table) to read its costs"
            )
        if not _TABLE.match(table):
            raise UserError(f"billing_export_table {table!r} is not of the form project.dataset.table")
        self.provider = provider
        self.table = table
        self._factory = client_factory or self._default_client
        self._client: BigQueryClient | None = None
        job_project = table.split(".", 1)[0]
        self._api = _Api(
            "BigQuery",
            f"billing export table {table}",
            f"roles/bigquery.jobUser on project {job_project} and roles/bigquery.dataViewer on table {table}",
        )

    def _default_client(self) -> BigQueryClient:
        from google.cloud import bigquery

        endpoint = self.provider.endpoint
        return bigquery.Client(
            project=self.table.split(".", 1)[0],
            credentials=_credentials(endpoint),
            client_options=_client_options(endpoint),
        )

    def _bq(self) -> BigQueryClient:
        if self._client is None:
            self._client = self._factory()
        return self._client

    async def fetch(self, *, start: date, end: date) -> CostBatch:
        """Every hub's cost per day and service for ``start <= day < end``, in one query.

        Raises :class:`UpstreamError` instead of returning partial data, and :class:`UserError`
        if ``end`` is not after ``start``.
        """
        if end <= start:
            raise UserError(f"The cost period must end after it starts (got {start} to {end}).")
        return await asyncio.to_thread(_guarded, self._api, lambda: self._fetch_sync(start, end))

    def _fetch_sync(self, start: date, end: date) -> CostBatch:
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(
            query_parameters=[
                bigquery.ScalarQueryParameter("project", "STRING", self.provider.project),
                bigquery.ScalarQueryParameter("hub_label", "STRING", self.provider.hub_label),
                bigquery.ScalarQueryParameter("start_day", "DATE", start),
                bigquery.ScalarQueryParameter("end_day", "DATE", end),
            ],
            labels={"application": "hubbot"},
        )
        rows = self._bq().query_and_wait(
            _QUERY.format(table=self.table),
            job_config=config,
            api_timeout=_API_TIMEOUT,
            wait_timeout=_QUERY_WAIT,
            retry=None,  # type: ignore[arg-type]  # None turns retries off, as the client documents
            job_retry=None,  # type: ignore[arg-type]
        )
        revisable = end - timedelta(days=1)
        lines = [self._line(row, revisable) for row in rows]
        return CostBatch(lines=lines, requests=1)

    def _line(self, row: Any, revisable: date) -> CostLine:
        try:
            day, hub, service, currency, amount = (row[name] for name in _COLUMNS)
        except (KeyError, IndexError):
            raise self._unexpected("a row without the expected columns") from None
        if not isinstance(day, date) or not isinstance(service, str) or not isinstance(currency, str):
            raise self._unexpected("a row with a missing day, service or currency")
        if hub is not None and not isinstance(hub, str):
            raise self._unexpected("a non-text hub label")
        if not isinstance(amount, Decimal) or not amount.is_finite():
            raise self._unexpected("a non-numeric cost")
        return CostLine(day, hub or None, service, amount, currency, estimated=day >= revisable)

    def _unexpected(self, what: str) -> UpstreamError:
        return UpstreamError(
            f"BigQuery answered the cost query on {self.table} with {what}; no costs were used. "
            "Check that the table is a standard Cloud Billing export."
        )


class GcpBudgets:
    """Mirrors a community's budget into a Cloud Billing budget on ``provider.billing_account``.

    The budget is found by its display name, ``hubbot-<community>``, and covers only
    ``provider.project``, per calendar month, counting credits. With ``pubsub_topic``
    (``projects/<project>/topics/<topic>``) the budget also publishes its notifications there;
    without it, an existing budget's notification settings are left as they are. hubbot's
    credentials need ``roles/billing.costsManager`` on the billing account.

    ``client_factory`` returns a ``google.cloud.billing.budgets_v1.BudgetServiceClient``; it is
    called once, on first use, in a worker thread.
    """

    def __init__(
        self,
        provider: GcpProvider,
        *,
        client_factory: BudgetClientFactory | None = None,
        pubsub_topic: str | None = None,
    ) -> None:
        self.provider = provider
        self.pubsub_topic = pubsub_topic
        self._factory = client_factory or self._default_client
        self._client: BudgetServiceClient | None = None

    def _default_client(self) -> BudgetServiceClient:
        from google.cloud.billing import budgets_v1

        endpoint = self.provider.endpoint
        return budgets_v1.BudgetServiceClient(
            transport="rest", credentials=_credentials(endpoint), client_options=_client_options(endpoint)
        )

    def _budgets(self) -> BudgetServiceClient:
        if self._client is None:
            self._client = self._factory()
        return self._client

    async def mirror(self, *, community: str, amount: Decimal, currency: str, thresholds: list[int]) -> str:
        """Create or update the community's budget; returns its resource name
        (``billingAccounts/<account>/budgets/<id>``).

        ``thresholds`` are percentages of ``amount`` (``[50, 90, 100]``). Raises
        :class:`UserError` for settings Cloud Billing cannot hold, and :class:`UpstreamError`
        when Cloud Billing fails or refuses.
        """
        if not self.provider.billing_account:
            raise UserError(
                f"GCP project '{self.provider.project}' has no billing_account in the fleet config; set it "
                "to the billing account ID (like 0123AB-4567CD-89EF01) to mirror budgets into Cloud Billing"
            )
        display_name = f"hubbot-{community}"
        if len(display_name) > _DISPLAY_NAME_MAX:
            raise UserError(
                f"community name '{community}' is too long for a Cloud Billing budget name "
                f"(at most {_DISPLAY_NAME_MAX - len('hubbot-')} characters)"
            )
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise UserError(f"Cloud Billing budgets are in money; {currency!r} is not an ISO 4217 currency code")
        if not amount.is_finite() or amount <= 0:
            raise UserError(f"a budget amount must be positive (got {amount})")
        if not thresholds or any(t <= 0 for t in thresholds):
            raise UserError("give at least one threshold, each a positive percentage")
        account = _account_id(self.provider.billing_account)
        api = _Api(
            "the Cloud Billing Budget API",
            f"billing account {account}",
            f"roles/billing.costsManager on billing account {account}",
        )
        return await asyncio.to_thread(
            _guarded, api, lambda: self._mirror_sync(account, display_name, amount, currency, thresholds)
        )

    def _mirror_sync(self, account: str, display_name: str, amount: Decimal, currency: str,
                     thresholds: list[int]) -> str:
        from google.cloud.billing import budgets_v1

        client = self._budgets()
        parent = f"{_ACCOUNT_PREFIX}{account}"
        existing: Budget | None = None
        for budget in client.list_budgets(parent=parent, retry=None, timeout=_API_TIMEOUT):
            if budget.display_name == display_name:
                existing = budget
                break
        units, nanos = _money_parts(amount)
        wanted = budgets_v1.Budget(
            display_name=display_name,
            budget_filter=budgets_v1.Filter(
                projects=[f"projects/{self.provider.project}"],
                calendar_period=budgets_v1.CalendarPeriod.MONTH,
                credit_types_treatment=budgets_v1.Filter.CreditTypesTreatment.INCLUDE_ALL_CREDITS,
            ),
            amount=budgets_v1.BudgetAmount(
                specified_amount={"currency_code": currency, "units": units, "nanos": nanos}
            ),
            threshold_rules=[
                budgets_v1.ThresholdRule(
                    threshold_percent=t / 100, spend_basis=budgets_v1.ThresholdRule.Basis.CURRENT_SPEND
                )
                for t in thresholds
            ],
        )
        fields = ["display_name", "budget_filter", "amount", "threshold_rules"]
        if self.pubsub_topic:
            wanted.notifications_rule = budgets_v1.NotificationsRule(
                pubsub_topic=self.pubsub_topic, schema_version="1.0"
            )
            fields.append("notifications_rule")
        if existing is None:
            created = client.create_budget(parent=parent, budget=wanted, retry=None, timeout=_API_TIMEOUT)
            return str(created.name)
        wanted.name = existing.name
        wanted.etag = existing.etag  # a concurrent change makes the update fail rather than be lost
        request = budgets_v1.UpdateBudgetRequest(budget=wanted, update_mask={"paths": fields})
        updated = client.update_budget(request=request, retry=None, timeout=_API_TIMEOUT)
        return str(updated.name)


class GcpBilling:
    """Which billing account ``provider.project`` bills to, and whether that is the configured
    ``provider.billing_account``. hubbot's credentials need ``resourcemanager.projects.get`` on
    the project (``roles/browser`` has it).

    ``client_factory`` returns a ``google.cloud.billing_v1.CloudBillingClient``; it is called
    once, on first use, in a worker thread.
    """

    def __init__(self, provider: GcpProvider, *, client_factory: BillingClientFactory | None = None) -> None:
        self.provider = provider
        self._factory = client_factory or self._default_client
        self._client: CloudBillingClient | None = None
        self._api = _Api(
            "the Cloud Billing API",
            f"project {provider.project}",
            f"roles/browser (or another role with resourcemanager.projects.get) on project {provider.project}",
        )

    def _default_client(self) -> CloudBillingClient:
        from google.cloud import billing_v1

        endpoint = self.provider.endpoint
        return billing_v1.CloudBillingClient(
            transport="rest", credentials=_credentials(endpoint), client_options=_client_options(endpoint)
        )

    def _billing(self) -> CloudBillingClient:
        if self._client is None:
            self._client = self._factory()
        return self._client

    async def billing_account_of_project(self) -> str | None:
        """The project's billing account (``billingAccounts/0123AB-4567CD-89EF01``), or None
        when billing is disabled for it."""
        return await asyncio.to_thread(_guarded, self._api, self._account_sync)

    def _account_sync(self) -> str | None:
        info = self._billing().get_project_billing_info(
            name=f"projects/{self.provider.project}", retry=None, timeout=_API_TIMEOUT
        )
        account = str(info.billing_account_name)
        if not info.billing_enabled or not account:
            return None
        return account

    async def check(self) -> str | None:
        """None when the project bills to the configured account (or, with none configured, to
        any account); otherwise a sentence saying what is wrong."""
        project = self.provider.project
        actual = await self.billing_account_of_project()
        expected = _account_id(self.provider.billing_account) if self.provider.billing_account else None
        if actual is None:
            hint = f"; link it to billing account {expected}" if expected else ""
            return f"billing is detached from project {project}{hint}"
        if expected is not None and _account_id(actual) != expected:
            return f"project {project} bills to {_account_id(actual)}, expected {expected}"
        return None


def _money_parts(amount: Decimal) -> tuple[int, int]:
    """``amount`` as google.type.Money's whole units and nanos (rounded to a nano)."""
    exact = amount.quantize(Decimal("1e-9"))
    units = int(exact)  # towards zero, so units and nanos share the sign, as Money requires
    return units, int((exact - units).scaleb(9))


def _guarded(api: _Api, call: Callable[[], _T]) -> _T:
    """Run ``call``, turning every Google client failure into a message safe to show users."""
    from google.api_core import exceptions as api_errors
    from google.auth import exceptions as auth_errors
    from requests import RequestException

    try:
        return call()
    except api_errors.GoogleAPICallError as exc:
        raise _call_error(exc, api) from exc
    except auth_errors.DefaultCredentialsError as exc:
        raise UpstreamError(
            f"hubbot has no Google credentials for {api.subject}: set GOOGLE_APPLICATION_CREDENTIALS or run "
            f"with workload identity, as a service account that has {api.grant}."
        ) from exc
    except auth_errors.RefreshError as exc:
        raise UpstreamError(
            f"Google refused hubbot's credentials while calling {api.service} for {api.subject}; "
            "check that the service account and its key are still valid."
        ) from exc
    except (auth_errors.GoogleAuthError, RequestException, api_errors.GoogleAPIError) as exc:
        raise UpstreamError(
            f"Could not get an answer from {api.service} for {api.subject} ({type(exc).__name__}). "
            "Try again later."
        ) from exc
    except TimeoutError as exc:
        raise UpstreamError(f"{_cap(api.service)} did not finish in time for {api.subject}. Try again later.") from exc
    except (ValueError, KeyError, ArithmeticError) as exc:  # an answer the client library could not parse
        raise UpstreamError(
            f"{_cap(api.service)} sent an answer hubbot could not read for {api.subject} ({type(exc).__name__}); "
            "nothing was used. Try again later."
        ) from exc


def _call_error(exc: Any, api: _Api) -> UpstreamError:
    from google.api_core import exceptions as api_errors

    service, subject = api.service, api.subject
    reasons = _reasons(exc)
    if isinstance(exc, api_errors.TooManyRequests) or "rateLimitExceeded" in reasons:
        wait = _retry_after(exc) or _DEFAULT_RETRY_AFTER
        return UpstreamError(
            f"{_cap(service)} is throttling hubbot's requests for {subject}; try again in about {wait:.0f} seconds.",
            retry_after=wait,
        )
    if "quotaExceeded" in reasons:
        wait = _retry_after(exc) or _QUOTA_RETRY_AFTER
        return UpstreamError(
            f"{_cap(service)} quota is used up for {subject} ({_text(exc)}); try again later.", retry_after=wait
        )
    if isinstance(exc, api_errors.Forbidden | api_errors.PermissionDenied):
        if "SERVICE_DISABLED" in reasons or "accessNotConfigured" in reasons:
            return UpstreamError(f"{_cap(service)} is not enabled for {subject}: {_text(exc)}")
        permission = _permission(exc)
        missing = f" (missing permission {permission})" if permission else ""
        return UpstreamError(
            f"{_cap(service)} refused hubbot's request for {subject}{missing}: grant hubbot's service account "
            f"{api.grant}."
        )
    if isinstance(exc, api_errors.Unauthorized):
        return UpstreamError(
            f"{_cap(service)} did not accept hubbot's credentials for {subject}; check the service account."
        )
    if isinstance(exc, api_errors.NotFound):
        return UpstreamError(f"{_cap(service)} could not find {subject} ({_text(exc)}). Check the fleet config.")
    if isinstance(exc, api_errors.Conflict | api_errors.Aborted):
        return UpstreamError(f"{subject} was changed by someone else at the same time in {service}; try again.")
    if isinstance(exc, api_errors.ServerError):
        return UpstreamError(
            f"{_cap(service)} failed for {subject} (HTTP {exc.code}); try again later.", retry_after=_retry_after(exc)
        )
    code = f"HTTP {exc.code}" if exc.code else type(exc).__name__
    return UpstreamError(f"{_cap(service)} rejected the request for {subject} ({code}: {_text(exc)}).")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _text(exc: Any) -> str:
    """The upstream error message without the request line, shortened."""
    message = _URL_PREFIX.sub("", str(getattr(exc, "message", "") or "")).strip() or type(exc).__name__
    return message if len(message) <= _TEXT_MAX else message[: _TEXT_MAX - 1] + "…"


def _details(exc: Any) -> list[Any]:
    return list(getattr(exc, "details", None) or [])


def _reasons(exc: Any) -> set[str]:
    """Error reasons from BigQuery's ``errors`` list and from google.rpc.ErrorInfo details."""
    found: set[str] = set()
    for error in getattr(exc, "errors", None) or []:
        if isinstance(error, dict) and isinstance(error.get("reason"), str):
            found.add(error["reason"])
    reason = getattr(exc, "reason", None)
    if isinstance(reason, str):
        found.add(reason)
    for detail in _details(exc):
        if isinstance(detail, dict) and isinstance(detail.get("reason"), str):
            found.add(detail["reason"])
    return found


def _permission(exc: Any) -> str | None:
    metadata = getattr(exc, "metadata", None)
    if isinstance(metadata, dict) and isinstance(metadata.get("permission"), str):
        return str(metadata["permission"])
    for detail in _details(exc):
        meta = detail.get("metadata") if isinstance(detail, dict) else None
        if isinstance(meta, dict) and isinstance(meta.get("permission"), str):
            return str(meta["permission"])
    match = _PERMISSION.search(str(getattr(exc, "message", "")))
    return match.group(1) if match else None


def _retry_after(exc: Any) -> float | None:
    """Seconds to wait, from a Retry-After header or a google.rpc.RetryInfo detail."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is not None:
        value = str(headers.get("Retry-After", "") or "").strip()
        if value.isdigit():
            return float(value)
    for detail in _details(exc):
        delay = detail.get("retryDelay") if isinstance(detail, dict) else None
        if isinstance(delay, str) and re.fullmatch(r"\d+(\.\d+)?s", delay):
            return float(delay[:-1])
    return None
