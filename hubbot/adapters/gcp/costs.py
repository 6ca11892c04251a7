"""Daily cost per hub from the Google Cloud BigQuery billing export.

Every fetch is one BigQuery query over the project's rows of the standard billing export, grouped
by day, hub label and service, never one query per hub. Blocking client calls run in worker
threads; the client library is imported on first use.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from hubbot.adapters.gcp.api import API_TIMEOUT, Api, client_options, credentials, guarded
from hubbot.adapters.lazy import Lazy
from hubbot.domain import CostBatch, CostKind, CostLine
from hubbot.errors import UpstreamError, UserError
from hubbot.fleet import GcpProvider

if TYPE_CHECKING:
    from google.cloud.bigquery import Client as BigQueryClient

BigQueryClientFactory = Callable[[], "BigQueryClient"]
# Same shape the fleet config enforces; checked again because the name is pasted into SQL.
_TABLE = re.compile(r"^[a-z0-9-]+\.[A-Za-z0-9_]+\.[A-Za-z0-9_]+$")
_QUERY_WAIT = 300.0  # seconds a query may run before it is cancelled
# The standard export table is partitioned by the day (UTC) each row was written to it
# (_PARTITIONTIME). A usage day's rows are written on that day or later, so the partitions before
# a window hold none of its rows; two days of slack keep any written around a day boundary. Rows
# written after the window (late or revised figures) still count: the filter has no upper bound.
PARTITION_SLACK = timedelta(days=2)

# The columns the query returns, in order; the names are what the rows are read by.
_COLUMNS = ("usage_day", "hub", "service_name", "currency_code", "cost_type", "amount")
# Cloud Billing's invoice months (and the budgets it pushes) follow US Pacific time, so the
# ledger's GCP days do too: a month of hubbot's figures is the month of the invoice.
DAY_ZONE = "America/Los_Angeles"
_QUERY = """
SELECT
  DATE(e.usage_start_time, @day_zone) AS usage_day,
  hub_label.value AS hub,
  IFNULL(e.service.description, 'Unknown service') AS service_name,
  e.currency AS currency_code,
  e.cost_type AS cost_type,
  SUM(CAST(e.cost AS NUMERIC))
    + SUM(IFNULL((SELECT SUM(CAST(c.amount AS NUMERIC)) FROM UNNEST(e.credits) AS c), 0)) AS amount
FROM `{table}` AS e
LEFT JOIN UNNEST(e.labels) AS hub_label ON hub_label.key = @hub_label
WHERE _PARTITIONTIME >= TIMESTAMP(@first_partition)
  AND e.project.id = @project
  AND e.usage_start_time >= TIMESTAMP(@start_day, @day_zone)
  AND e.usage_start_time < TIMESTAMP(@end_day, @day_zone)
GROUP BY 1, 2, 3, 4, 5
ORDER BY 1, 2, 3, 4, 5
"""
# The export's cost_type: "regular" usage (its credits netted in: sustained-use and committed-use
# discounts, free tier, promotions accrue with it); tax is booked monthly; an adjustment or a
# rounding error once.
_KINDS: dict[str, CostKind] = {"regular": "usage", "tax": "recurring"}


class BigQueryCostSource:
    """A :class:`hubbot.ports.CostSource` for one GCP project, read from a billing export table.

    ``provider.billing_export_table`` names the standard usage cost export
    (``project.dataset.table``). Each row's cost plus its credits is summed per day (US Pacific
    time, as the invoice months are: :data:`DAY_ZONE`), cost type, value
    of the ``provider.hub_label`` resource label and service; rows without the label are
    untagged (``hub_tag=None``). The export lags, so the last day of a fetch is marked
    ``estimated``. Only the partitions written since two days before ``start`` are read (the
    export table is partitioned by the day each row was written, ``_PARTITIONTIME``), so a
    refresh does not scan the table's whole history. The query runs in the export table's
    project, so hubbot's credentials need ``roles/bigquery.jobUser`` there and
    ``roles/bigquery.dataViewer`` on the table.

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
        self._client = Lazy(client_factory or self._default_client)
        job_project = table.split(".", 1)[0]
        self._api = Api(
            "BigQuery",
            f"billing export table {table}",
            f"roles/bigquery.jobUser on project {job_project} and roles/bigquery.dataViewer on table {table}",
        )

    def _default_client(self) -> BigQueryClient:
        from google.cloud import bigquery

        endpoint = self.provider.endpoint
        return bigquery.Client(
            project=self.table.split(".", 1)[0],
            credentials=credentials(endpoint),
            client_options=client_options(endpoint),
        )

    async def fetch(self, *, start: date, end: date) -> CostBatch:
        """Every hub's cost per day and service for ``start <= day < end``, in one query.

        Raises :class:`UpstreamError` instead of returning partial data, and :class:`UserError`
        if ``end`` is not after ``start``.
        """
        if end <= start:
            raise UserError(f"The cost period must end after it starts (got {start} to {end}).")
        return await asyncio.to_thread(guarded, self._api, lambda: self._fetch_sync(start, end))

    def _fetch_sync(self, start: date, end: date) -> CostBatch:
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(
            query_parameters=[
                bigquery.ScalarQueryParameter("project", "STRING", self.provider.project),
                bigquery.ScalarQueryParameter("hub_label", "STRING", self.provider.hub_label),
                bigquery.ScalarQueryParameter("start_day", "DATE", start),
                bigquery.ScalarQueryParameter("end_day", "DATE", end),
                bigquery.ScalarQueryParameter("first_partition", "DATE", start - PARTITION_SLACK),
                bigquery.ScalarQueryParameter("day_zone", "STRING", DAY_ZONE),
            ],
            labels={"application": "hubbot"},
        )
        rows = self._client().query_and_wait(
            _QUERY.format(table=self.table),
            job_config=config,
            api_timeout=API_TIMEOUT,
            wait_timeout=_QUERY_WAIT,
            retry=None,  # type: ignore[arg-type]  # None turns retries off, as the client documents
            job_retry=None,  # type: ignore[arg-type]
        )
        revisable = end - timedelta(days=1)
        lines = [self._line(row, revisable) for row in rows]
        return CostBatch(lines=lines, requests=1)

    def _line(self, row: Any, revisable: date) -> CostLine:
        try:
            day, hub, service, currency, cost_type, amount = (row[name] for name in _COLUMNS)
        except (KeyError, IndexError):
            raise self._unexpected("a row without the expected columns") from None
        if not isinstance(day, date) or not isinstance(service, str) or not isinstance(currency, str):
            raise self._unexpected("a row with a missing day, service or currency")
        if hub is not None and not isinstance(hub, str):
            raise self._unexpected("a non-text hub label")
        if cost_type is not None and not isinstance(cost_type, str):
            raise self._unexpected("a non-text cost type")
        if not isinstance(amount, Decimal) or not amount.is_finite():
            raise self._unexpected("a non-numeric cost")
        return CostLine(day, hub or None, service, amount, currency, estimated=day >= revisable,
                        kind=_KINDS.get(cost_type or "regular", "one-off"))

    def _unexpected(self, what: str) -> UpstreamError:
        return UpstreamError(
            f"BigQuery answered the cost query on {self.table} with {what}; no costs were used. "
            "Check that the table is a standard Cloud Billing export."
        )
