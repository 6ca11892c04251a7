"""The GCP adapters against a local stand-in for the Google REST APIs, through the real client
libraries: BigQuery billing-export costs, Cloud Billing budgets and billing info, and the
verification and parsing of budget notifications pushed by Pub/Sub."""

from __future__ import annotations

import base64
import json
import socket
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from hubbot.adapters.gcp.billing import GcpBilling
from hubbot.adapters.gcp.budgets import GcpBudgets
from hubbot.adapters.gcp.costs import BigQueryCostSource
from hubbot.adapters.gcp.push import PushRejected, PushVerifier, parse_budget_notification
from hubbot.domain import CostLine, CostReading
from hubbot.errors import NotAllowed, NotMirrored, UpstreamError, UserError
from hubbot.fleet import GcpProvider
from tests.support.fleet import one_provider_fleet
from tests.support.gcp_standin import GcpStandIn, SigningKey, permission_detail, retry_detail
from tests.support.server import serve

PROJECT = "hub-project"
ACCOUNT = "0123AB-4567CD-89EF01"
TABLE = "billing-admin.billing_export.gcp_billing_export_v1_0123AB_4567CD_89EF01"
AUDIENCE = "https://hubbot.example.org/gcp/budget-notifications"
PUSHER = "budget-push@hub-project.iam.gserviceaccount.com"


@pytest.fixture(scope="module")
def served_standin() -> Iterator[tuple[GcpStandIn, str]]:
    standin = GcpStandIn()
    with serve(standin.app) as served:
        yield standin, served.url


@pytest.fixture
def standin(served_standin: tuple[GcpStandIn, str]) -> GcpStandIn:
    served_standin[0].reset()
    return served_standin[0]


@pytest.fixture
def provider(served_standin: tuple[GcpStandIn, str]) -> GcpProvider:
    return GcpProvider(kind="gcp", project=PROJECT, billing_account=ACCOUNT, billing_export_table=TABLE,
                       endpoint=served_standin[1])


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# -- BigQuery costs ---------------------------------------------------------------------------

ROWS: list[list[str | None]] = [
    ["2024-05-01", "staging", "Compute Engine", "USD", "regular", "12.345678"],
    ["2024-05-01", None, "Cloud Storage", "USD", "regular", "0.5"],
    ["2024-05-02", "prod", "Compute Engine", "USD", "regular", "-0.000001"],  # credits larger than the cost
    ["2024-05-03", "", "Networking", "USD", "regular", "1"],
    ["2024-05-03", "prod", "Kubernetes Engine", "USD", "regular", "7.10"],
]


async def test_fetch_turns_rows_into_cost_lines(standin: GcpStandIn, provider: GcpProvider) -> None:
    standin.bq_rows = ROWS
    batch = await BigQueryCostSource(provider).fetch(start=date(2024, 5, 1), end=date(2024, 5, 4))
    assert batch.lines == [
        CostLine(date(2024, 5, 1), "staging", "Compute Engine", Decimal("12.345678"), "USD"),
        CostLine(date(2024, 5, 1), None, "Cloud Storage", Decimal("0.5"), "USD"),
        CostLine(date(2024, 5, 2), "prod", "Compute Engine", Decimal("-0.000001"), "USD"),
        CostLine(date(2024, 5, 3), None, "Networking", Decimal("1"), "USD", estimated=True),
        CostLine(date(2024, 5, 3), "prod", "Kubernetes Engine", Decimal("7.10"), "USD", estimated=True),
    ]
    assert all(type(line.amount) is Decimal for line in batch.lines)
    assert batch.requests == 1
    assert batch.readings == []


async def test_tax_and_adjustments_are_told_apart_from_usage_by_cost_type(
    standin: GcpStandIn, provider: GcpProvider
) -> None:
    """The export's ``cost_type``: regular usage (credits netted in) accrues; tax is booked monthly;
    adjustments and rounding errors once. Only usage may be extrapolated by a forecast."""
    standin.bq_rows = [
        ["2024-05-01", "prod", "Compute Engine", "EUR", "regular", "30"],
        ["2024-05-01", None, "Invoice", "EUR", "tax", "61.20"],
        ["2024-05-02", "prod", "Compute Engine", "EUR", "adjustment", "-12"],
        ["2024-05-02", None, "Invoice", "EUR", "rounding_error", "0.01"],
        ["2024-05-02", "prod", "Compute Engine", "EUR", None, "4"],
    ]
    batch = await BigQueryCostSource(provider).fetch(start=date(2024, 5, 1), end=date(2024, 5, 4))
    assert [(ln.service, ln.amount, ln.currency, ln.kind) for ln in batch.lines] == [
        ("Compute Engine", Decimal("30"), "EUR", "usage"), ("Invoice", Decimal("61.20"), "EUR", "recurring"),
        ("Compute Engine", Decimal("-12"), "EUR", "one-off"), ("Invoice", Decimal("0.01"), "EUR", "one-off"),
        ("Compute Engine", Decimal("4"), "EUR", "usage")]
    (call,) = standin.of("bq.query")
    assert "e.cost_type AS cost_type" in call.body["query"]


async def test_days_are_us_pacific_days_as_the_invoice_months_are(standin: GcpStandIn, provider: GcpProvider) -> None:
    """Cloud Billing's invoice month follows US Pacific time: the query dates each row and bounds
    the window in that zone, so a GCP month in hubbot is the month on the invoice (and of the
    budget GCP pushes), not the UTC one, which starts 7 or 8 hours earlier."""
    standin.bq_rows = [["2024-05-01", "prod", "Compute Engine", "USD", "regular", "1"]]
    await BigQueryCostSource(provider).fetch(start=date(2024, 5, 1), end=date(2024, 6, 1))
    (call,) = standin.of("bq.query")
    sql = " ".join(call.body["query"].split())
    assert "DATE(e.usage_start_time, @day_zone) AS usage_day" in sql
    assert "e.usage_start_time >= TIMESTAMP(@start_day, @day_zone)" in sql
    assert "e.usage_start_time < TIMESTAMP(@end_day, @day_zone)" in sql
    zone = [p for p in call.body["queryParameters"] if p["name"] == "day_zone"]
    assert zone == [{"name": "day_zone", "parameterType": {"type": "STRING"},
                     "parameterValue": {"value": "America/Los_Angeles"}}]


async def test_fetch_is_one_parameterised_query_in_the_tables_project(
    standin: GcpStandIn, provider: GcpProvider
) -> None:
    standin.bq_rows = ROWS[:1]
    await BigQueryCostSource(provider).fetch(start=date(2024, 5, 1), end=date(2024, 6, 1))
    assert standin.routes() == ["bq.query"]
    call = standin.of("bq.query")[0]
    assert call.path == "/bigquery/v2/projects/billing-admin/queries"
    body = call.body
    assert body["useLegacySql"] is False
    assert body["parameterMode"] == "NAMED"
    params = {p["name"]: (p["parameterType"]["type"], p["parameterValue"]["value"]) for p in body["queryParameters"]}
    assert params == {
        "project": ("STRING", PROJECT),
        "hub_label": ("STRING", "2i2c-hub-name"),
        "start_day": ("DATE", "2024-05-01"),
        "end_day": ("DATE", "2024-06-01"),
        "first_partition": ("DATE", "2024-04-29"), "day_zone": ("STRING", "America/Los_Angeles"),
    }
    sql = body["query"]
    # Values travel only as parameters; the (validated) table name is the one thing in the text.
    assert PROJECT not in sql and "2i2c-hub-name" not in sql and "2024-05" not in sql
    assert f"`{TABLE}`" in sql
    assert "e.project.id = @project" in sql
    assert "hub_label.key = @hub_label" in sql
    assert "UNNEST(e.credits)" in sql and "CAST(e.cost AS NUMERIC)" in sql
    assert "GROUP BY 1, 2, 3, 4" in sql
    # A plain-HTTP endpoint never receives credentials.
    assert "authorization" not in call.headers


async def test_each_fetch_is_one_request_and_the_client_is_made_once(
    standin: GcpStandIn, provider: GcpProvider
) -> None:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    made: list[bigquery.Client] = []

    def factory() -> bigquery.Client:
        client = bigquery.Client(project="billing-admin", credentials=AnonymousCredentials(),
                                 client_options={"api_endpoint": provider.endpoint})
        made.append(client)
        return client

    source = BigQueryCostSource(provider, client_factory=factory)
    standin.bq_rows = ROWS
    for _ in range(3):
        batch = await source.fetch(start=date(2024, 5, 1), end=date(2024, 5, 4))
        assert batch.requests == 1
    assert standin.routes() == ["bq.query"] * 3
    assert len(made) == 1


async def test_a_custom_hub_label_is_a_parameter(standin: GcpStandIn, provider: GcpProvider) -> None:
    custom = provider.model_copy(update={"hub_label": "hub"})
    await BigQueryCostSource(custom).fetch(start=date(2024, 5, 1), end=date(2024, 5, 2))
    params = {p["name"]: p["parameterValue"]["value"] for p in standin.of("bq.query")[0].body["queryParameters"]}
    assert params["hub_label"] == "hub"


async def test_fetch_needs_a_period_and_a_table(standin: GcpStandIn, provider: GcpProvider) -> None:
    with pytest.raises(UserError, match="must end after it starts"):
        await BigQueryCostSource(provider).fetch(start=date(2024, 5, 2), end=date(2024, 5, 2))
    with pytest.raises(UserError, match="billing_export_table"):
        BigQueryCostSource(provider.model_copy(update={"billing_export_table": None}))
    with pytest.raises(UserError, match="of the form project"):
        BigQueryCostSource(provider.model_copy(update={"billing_export_table": "x`; DROP TABLE y; --"}))
    assert standin.routes() == []


@pytest.mark.parametrize(
    ("status", "options", "expected", "retry_after"),
    [
        (429, {"headers": {"Retry-After": "17"}}, "throttling", 17.0),
        (403, {"reason": "rateLimitExceeded", "message": "Exceeded rate limits: too many concurrent queries"},
         "throttling", 60.0),
        (403, {"message": "Access Denied: Project billing-admin: User does not have bigquery.jobs.create "
                          "permission in project billing-admin."},
         "missing permission bigquery.jobs.create): grant hubbot's service account roles/bigquery.jobUser", None),
        (404, {"message": f"Not found: Table {TABLE.replace('.', ':', 1)} was not found in location US"},
         f"could not find billing export table {TABLE}", None),
        (400, {"message": "Unrecognized name: credits at [7:52]"}, "Unrecognized name: credits", None),
        (500, {"message": "An internal error occurred."}, "failed for billing export table", None),
    ],
)
async def test_fetch_errors_become_upstream_errors_without_data(
    standin: GcpStandIn, provider: GcpProvider, status: int, options: dict[str, Any], expected: str,
    retry_after: float | None,
) -> None:
    standin.bq_rows = ROWS
    standin.fail("bq.query", status, **options)
    with pytest.raises(UpstreamError) as caught:
        await BigQueryCostSource(provider).fetch(start=date(2024, 5, 1), end=date(2024, 5, 4))
    message = str(caught.value)
    assert expected in message
    assert caught.value.retry_after == retry_after
    assert "http://" not in message and "Bearer" not in message
    assert standin.routes() == ["bq.query"]  # no retries behind the caller's back


async def test_a_row_that_cannot_be_read_fails_the_whole_fetch(standin: GcpStandIn, provider: GcpProvider) -> None:
    standin.bq_rows = [*ROWS[:2], ["2024-05-02", "prod", "Compute Engine", "USD", "regular", "not-a-number"]]
    with pytest.raises(UpstreamError, match="could not read"):
        await BigQueryCostSource(provider).fetch(start=date(2024, 5, 1), end=date(2024, 5, 4))


async def test_the_query_carries_its_days_as_typed_parameters(standin: GcpStandIn, provider: GcpProvider) -> None:
    # the stand-in applies the window from the query's own parameters, as the SQL would
    standin.bq_rows = [["2024-04-30", "x", "Compute Engine", "USD", "regular", "1"], *ROWS,
                       ["2024-05-04", "x", "Compute Engine", "USD", "regular", "1"]]
    batch = await BigQueryCostSource(provider).fetch(start=date(2024, 5, 1), end=date(2024, 5, 4))
    assert {line.day for line in batch.lines} == {date(2024, 5, 1), date(2024, 5, 2), date(2024, 5, 3)}
    (call,) = [c for c in standin.calls if c.route == "bq.query"]
    params = {p["name"]: (p["parameterType"]["type"], p["parameterValue"]["value"])
              for p in call.body["queryParameters"]}
    assert params == {"project": ("STRING", PROJECT), "hub_label": ("STRING", provider.hub_label),
                      "start_day": ("DATE", "2024-05-01"), "end_day": ("DATE", "2024-05-04"),
                      "first_partition": ("DATE", "2024-04-29"), "day_zone": ("STRING", "America/Los_Angeles")}
    assert "@start_day" in call.body["query"] and "2024-05-01" not in call.body["query"]  # a parameter, not text


async def test_the_query_reads_only_the_partitions_written_since_just_before_the_window(
    standin: GcpStandIn, provider: GcpProvider
) -> None:
    standin.bq_rows = [
        ["2024-05-01", "prod", "Compute Engine", "USD", "regular", "1", "2024-04-30"],  # written just before its day
        ["2024-05-02", "prod", "Compute Engine", "USD", "regular", "2"],
        ["2024-05-03", "prod", "Compute Engine", "USD", "regular", "4", "2024-05-20"],  # written after the window
    ]
    batch = await BigQueryCostSource(provider).fetch(start=date(2024, 5, 1), end=date(2024, 5, 4))
    assert [line.amount for line in batch.lines] == [Decimal(1), Decimal(2), Decimal(4)]
    (call,) = standin.of("bq.query")
    sql = call.body["query"]
    assert "_PARTITIONTIME >= TIMESTAMP(@first_partition)" in sql
    assert "_PARTITIONTIME <" not in sql  # late and revised rows land in later partitions
    (first,) = [p for p in call.body["queryParameters"] if p["name"] == "first_partition"]
    assert first["parameterType"]["type"] == "DATE" and first["parameterValue"]["value"] == "2024-04-29"
    assert "2024-04-29" not in sql


async def test_the_stand_in_refuses_a_query_that_reads_every_partition(served_standin: tuple[GcpStandIn, str]
                                                                       ) -> None:
    import httpx

    query = f"SELECT 1 FROM `{TABLE}` WHERE usage_start_time >= TIMESTAMP(@start_day)"
    body = {"query": query, "useLegacySql": False, "parameterMode": "NAMED", "queryParameters": [
        {"name": "start_day", "parameterType": {"type": "DATE"}, "parameterValue": {"value": "2024-05-01"}}]}
    answer = httpx.post(f"{served_standin[1]}/bigquery/v2/projects/p/queries", json=body)
    assert answer.status_code == 400
    assert "without a filter over column(s) '_PARTITIONTIME'" in answer.json()["error"]["message"]


async def test_the_stand_in_refuses_a_query_whose_parameters_are_missing(served_standin: tuple[GcpStandIn, str]
                                                                         ) -> None:
    import httpx

    body = {"query": "SELECT 1 FROM t WHERE day >= @start_day", "useLegacySql": False, "parameterMode": "NAMED",
            "queryParameters": []}
    answer = httpx.post(f"{served_standin[1]}/bigquery/v2/projects/p/queries", json=body)
    assert answer.status_code == 400 and "start_day" in answer.json()["error"]["message"]


async def test_an_answer_without_the_expected_columns_fails(standin: GcpStandIn, provider: GcpProvider) -> None:
    standin.bq_fields = [{"name": "total", "type": "NUMERIC", "mode": "NULLABLE"}]
    standin.bq_rows = [["1.0"]]
    with pytest.raises(UpstreamError, match="without the expected columns"):
        await BigQueryCostSource(provider).fetch(start=date(2024, 5, 1), end=date(2024, 5, 4))


async def test_an_unreachable_endpoint_is_an_upstream_error(provider: GcpProvider) -> None:
    gone = provider.model_copy(update={"endpoint": _closed_port_url()})
    with pytest.raises(UpstreamError, match="Could not get an answer from BigQuery") as caught:
        await BigQueryCostSource(gone).fetch(start=date(2024, 5, 1), end=date(2024, 5, 4))
    assert "127.0.0.1" not in str(caught.value)


# -- Budgets ----------------------------------------------------------------------------------


def _budgets(provider: GcpProvider, *hubs: str, pubsub_topic: str | None = None) -> GcpBudgets:
    """The budget mirror of ``provider`` in a fleet with ``hubs`` on it (``cluster/hub:community``);
    by default alpha's one hub, so alpha owns the project."""
    fleet = one_provider_fleet("gcp", provider, *(hubs or ("gke/prod:alpha",)))
    return GcpBudgets(provider, name="gcp", fleet=fleet, pubsub_topic=pubsub_topic)


async def test_mirror_creates_the_budget_then_updates_the_same_one(standin: GcpStandIn, provider: GcpProvider) -> None:
    other = standin.add_budget(ACCOUNT, {"displayName": "team-x", "amount": {"specifiedAmount": {"units": "5"}}})
    budgets = _budgets(provider)

    name = await budgets.mirror(community="alpha", amount=Decimal("1234.56"), currency="USD", period="monthly",
                                thresholds=[50, 75, 90, 100, 120])
    assert name.startswith(f"billingAccounts/{ACCOUNT}/budgets/") and name != other
    assert standin.routes() == ["budgets.list", "budgets.create"]
    create = standin.of("budgets.create")[0]
    assert create.path == f"/v1/billingAccounts/{ACCOUNT}/budgets"
    assert create.query["$alt"] == "json;enum-encoding=int"
    assert "authorization" not in create.headers
    assert create.body == {
        "displayName": "hubbot-alpha",
        "budgetFilter": {"projects": [f"projects/{PROJECT}"], "creditTypesTreatment": 1, "calendarPeriod": 1},
        "amount": {"specifiedAmount": {"currencyCode": "USD", "units": "1234", "nanos": 560000000}},
        "thresholdRules": [
            {"thresholdPercent": 0.5, "spendBasis": 1},
            {"thresholdPercent": 0.75, "spendBasis": 1},
            {"thresholdPercent": 0.9, "spendBasis": 1},
            {"thresholdPercent": 1.0, "spendBasis": 1},
            {"thresholdPercent": 1.2, "spendBasis": 1},
        ],
    }

    standin.clear()
    budget_id = name.rsplit("/", 1)[1]
    etag_before = standin.budgets[ACCOUNT][budget_id]["etag"]
    again = await budgets.mirror(community="alpha", amount=Decimal("2000"), currency="USD", period="monthly",
                                 thresholds=[80, 100])
    assert again == name
    assert standin.routes() == ["budgets.list", "budgets.patch"]
    patch = standin.of("budgets.patch")[0]
    assert patch.path == f"/v1/{name}"
    assert patch.query["updateMask"].split(",") == ["displayName", "budgetFilter", "amount", "thresholdRules"]
    assert patch.body["etag"] == etag_before
    stored = standin.budgets[ACCOUNT][budget_id]
    assert stored["amount"] == {"specifiedAmount": {"currencyCode": "USD", "units": "2000"}}
    assert [r["thresholdPercent"] for r in stored["thresholdRules"]] == [0.8, 1.0]
    assert len(standin.budgets[ACCOUNT]) == 2  # still one hubbot budget, and the other untouched


async def test_mirror_finds_its_budget_on_a_later_page(standin: GcpStandIn, provider: GcpProvider) -> None:
    standin.budget_page_size = 2
    for i in range(4):
        standin.add_budget(ACCOUNT, {"displayName": f"team-{i}", "amount": {"specifiedAmount": {"units": "5"}}})
    mine = standin.add_budget(ACCOUNT, {"displayName": "hubbot-beta", "amount": {"specifiedAmount": {"units": "5"}}})
    name = await _budgets(provider, "gke/lab:beta").mirror(community="beta", amount=Decimal(10), currency="USD",
                                                           period="monthly", thresholds=[100])
    assert name == mine
    assert standin.routes() == ["budgets.list"] * 3 + ["budgets.patch"]


async def test_mirror_sets_the_pubsub_topic_when_given(standin: GcpStandIn, provider: GcpProvider) -> None:
    topic = f"projects/{PROJECT}/topics/budget-notifications"
    budgets = _budgets(provider, pubsub_topic=topic)
    await budgets.mirror(community="alpha", amount=Decimal(100), currency="EUR", period="monthly", thresholds=[100])
    assert standin.of("budgets.create")[0].body["notificationsRule"] == {"pubsubTopic": topic, "schemaVersion": "1.0"}
    await budgets.mirror(community="alpha", amount=Decimal(100), currency="EUR", period="monthly", thresholds=[100])
    assert standin.of("budgets.patch")[0].query["updateMask"].endswith(",notificationsRule")


async def test_a_quarterly_budget_is_mirrored_per_calendar_quarter(standin: GcpStandIn, provider: GcpProvider
                                                                   ) -> None:
    budgets = _budgets(provider)
    name = await budgets.mirror(community="alpha", amount=Decimal(3000), currency="USD", period="quarterly",
                                thresholds=[50, 100])
    assert standin.of("budgets.create")[0].body["budgetFilter"]["calendarPeriod"] == 2  # QUARTER
    stored = standin.budgets[ACCOUNT][name.rsplit("/", 1)[1]]
    assert stored["budgetFilter"]["calendarPeriod"] == 2
    await budgets.mirror(community="alpha", amount=Decimal(1000), currency="USD", period="monthly", thresholds=[100])
    assert stored["budgetFilter"]["calendarPeriod"] == 1  # MONTH again, on the same budget
    assert len(standin.budgets[ACCOUNT]) == 1


async def test_on_a_shared_project_a_budget_counts_only_the_communitys_hub_label(
    standin: GcpStandIn, provider: GcpProvider
) -> None:
    hubs = ("gke/prod:alpha", "gke/lab:beta", "gke/lab-staging:beta")
    await _budgets(provider, *hubs).mirror(community="alpha", amount=Decimal(200), currency="USD", period="monthly",
                                           thresholds=[100])
    assert standin.of("budgets.create")[0].body["budgetFilter"] == {
        "projects": [f"projects/{PROJECT}"],
        "labels": {"2i2c-hub-name": ["prod"]},  # the value the export's label and the ledger's hub tag carry
        "creditTypesTreatment": 1,
        "calendarPeriod": 1,
    }
    custom = provider.model_copy(update={"hub_label": "hub"})
    await _budgets(custom, *hubs).mirror(community="alpha", amount=Decimal(200), currency="USD", period="monthly",
                                         thresholds=[100])
    (budget,) = standin.budgets[ACCOUNT].values()
    assert budget["budgetFilter"]["labels"] == {"hub": ["prod"]}


async def test_a_community_that_comes_to_own_the_project_budgets_for_all_of_it(
    standin: GcpStandIn, provider: GcpProvider
) -> None:
    await _budgets(provider, "gke/prod:alpha", "gke/lab:beta").mirror(
        community="alpha", amount=Decimal(200), currency="USD", period="monthly", thresholds=[100])
    await _budgets(provider, "gke/prod:alpha", "gke/lab:alpha").mirror(
        community="alpha", amount=Decimal(200), currency="USD", period="monthly", thresholds=[100])
    (budget,) = standin.budgets[ACCOUNT].values()
    assert "labels" not in budget["budgetFilter"]  # the whole filter was replaced
    assert budget["budgetFilter"]["projects"] == [f"projects/{PROJECT}"]


@pytest.mark.parametrize(("hubs", "expected"), [
    (("gke/prod:alpha", "gke/staging:alpha", "gke/lab:beta"),
     "alpha shares GCP project hub-project with beta, so a budget there may count only alpha's hubs by their "
     "'2i2c-hub-name' label, and a Cloud Billing budget filters on one label value while alpha has 2 hubs there "
     "(prod, staging)"),
    (("gke/prod:alpha", "other/prod:beta"), "another community's hub there is also named 'prod'"),
    (("gke/lab:beta",), "alpha has no hubs on GCP project hub-project"),
], ids=["several-hubs", "same-hub-name", "no-hubs"])
async def test_a_shared_project_budget_no_single_label_picks_out_is_not_mirrored(
    standin: GcpStandIn, provider: GcpProvider, hubs: tuple[str, ...], expected: str
) -> None:
    with pytest.raises(NotMirrored) as caught:
        await _budgets(provider, *hubs).mirror(community="alpha", amount=Decimal(100), currency="USD",
                                               period="monthly", thresholds=[100])
    assert expected in str(caught.value)
    assert standin.routes() == []  # nothing sent: a project-wide budget would count the others' spend


@pytest.mark.parametrize("labels", [
    {"2i2c-hub-name": ["prod", "staging"]},
    {"2i2c-hub-name": ["prod"], "team": ["a"]},
    {"2i2c-hub-name": "prod"},
])
def test_the_stand_in_refuses_labels_a_budget_filter_cannot_hold(served_standin: tuple[GcpStandIn, str],
                                                                 labels: dict[str, Any]) -> None:
    import httpx

    standin, url = served_standin
    standin.reset()
    budget = {"displayName": "x", "amount": {"specifiedAmount": {"units": "5"}},
              "budgetFilter": {"projects": [f"projects/{PROJECT}"], "labels": labels}}
    answer = httpx.post(f"{url}/v1/billingAccounts/{ACCOUNT}/budgets", json=budget)
    assert answer.status_code == 400 and "budget_filter.labels" in answer.json()["error"]["message"]
    name = standin.add_budget(ACCOUNT, {"displayName": "y", "amount": {"specifiedAmount": {"units": "5"}}})
    answer = httpx.patch(f"{url}/v1/{name}", params={"updateMask": "budgetFilter"},
                         json={"budgetFilter": {"labels": labels}})
    assert answer.status_code == 400 and "budget_filter.labels" in answer.json()["error"]["message"]


@pytest.mark.parametrize(("period", "expected"), [
    ("allocation", "allocation's own dates"),
    ("yearly", "no such period"),
])
async def test_a_budget_without_a_calendar_period_is_not_mirrored(
    standin: GcpStandIn, provider: GcpProvider, period: str, expected: str
) -> None:
    with pytest.raises(NotMirrored, match=expected):
        await _budgets(provider).mirror(community="alpha", amount=Decimal(100), currency="USD", period=period,
                                        thresholds=[100])
    assert standin.routes() == []  # not even looked up


def test_the_stand_in_refuses_a_calendar_period_the_api_does_not_know(served_standin: tuple[GcpStandIn, str]
                                                                     ) -> None:
    import httpx

    standin, url = served_standin
    standin.reset()
    budget = {"displayName": "x", "amount": {"specifiedAmount": {"units": "5"}},
              "budgetFilter": {"projects": [f"projects/{PROJECT}"], "calendarPeriod": 7}}
    answer = httpx.post(f"{url}/v1/billingAccounts/{ACCOUNT}/budgets", json=budget)
    assert answer.status_code == 400 and "calendar_period" in answer.json()["error"]["message"]
    assert standin.budgets == {}


@pytest.mark.parametrize(
    ("change", "kwargs", "expected"),
    [
        ({"billing_account": None}, {}, "has no billing_account"),
        ({}, {"currency": "SU"}, "not an ISO 4217 currency code"),
        ({}, {"amount": Decimal(0)}, "must be positive"),
        ({}, {"thresholds": []}, "at least one threshold"),
        ({}, {"community": "c" * 60}, "too long"),
    ],
)
async def test_mirror_refuses_what_cloud_billing_cannot_hold(
    standin: GcpStandIn, provider: GcpProvider, change: dict[str, Any], kwargs: dict[str, Any], expected: str
) -> None:
    args: dict[str, Any] = {"community": "alpha", "amount": Decimal(100), "currency": "USD", "period": "monthly",
                            "thresholds": [100]}
    with pytest.raises(UserError, match=expected):
        await _budgets(provider.model_copy(update=change)).mirror(**{**args, **kwargs})
    assert standin.routes() == []


@pytest.mark.parametrize(
    ("route", "status", "options", "expected", "retry_after"),
    [
        ("budgets.create", 403, {"details": [permission_detail("billing.budgets.create")]},
         "(missing permission billing.budgets.create): grant hubbot's service account roles/billing.costsManager "
         f"on billing account {ACCOUNT}", None),
        ("budgets.list", 429, {"details": [retry_detail(30)]}, "throttling", 30.0),
        ("budgets.list", 404, {"message": "Billing account not found."}, f"could not find billing account {ACCOUNT}",
         None),
        ("budgets.create", 500, {}, "HTTP 500", None),
    ],
)
async def test_budget_errors_become_upstream_errors(
    standin: GcpStandIn, provider: GcpProvider, route: str, status: int, options: dict[str, Any], expected: str,
    retry_after: float | None,
) -> None:
    standin.fail(route, status, **options)
    with pytest.raises(UpstreamError) as caught:
        await _budgets(provider).mirror(community="alpha", amount=Decimal(100), currency="USD", period="monthly",
                                        thresholds=[100])
    assert expected in str(caught.value)
    assert caught.value.retry_after == retry_after
    assert "http://" not in str(caught.value)


async def test_a_concurrent_budget_change_is_not_overwritten(standin: GcpStandIn, provider: GcpProvider) -> None:
    standin.add_budget(ACCOUNT, {"displayName": "hubbot-alpha", "amount": {"specifiedAmount": {"units": "5"}}})
    standin.fail("budgets.patch", 409, message="The budget was modified concurrently.")
    with pytest.raises(UpstreamError, match="changed by someone else"):
        await _budgets(provider).mirror(community="alpha", amount=Decimal(100), currency="USD", period="monthly",
                                        thresholds=[100])


# -- Billing account ---------------------------------------------------------------------------


async def test_billing_linked_to_the_expected_account(standin: GcpStandIn, provider: GcpProvider) -> None:
    standin.billing[PROJECT] = {"billingAccountName": f"billingAccounts/{ACCOUNT}", "billingEnabled": True}
    billing = GcpBilling(provider)
    assert await billing.billing_account_of_project() == f"billingAccounts/{ACCOUNT}"
    assert await billing.check() is None
    call = standin.of("billing.info")[0]
    assert call.path == f"/v1/projects/{PROJECT}/billingInfo"
    assert "authorization" not in call.headers


async def test_billing_detached(standin: GcpStandIn, provider: GcpProvider) -> None:
    standin.billing[PROJECT] = {"billingAccountName": "", "billingEnabled": False}
    billing = GcpBilling(provider)
    assert await billing.billing_account_of_project() is None
    assert await billing.check() == f"billing is detached from project {PROJECT}; link it to billing account {ACCOUNT}"


async def test_billing_disabled_with_an_account_name_is_detached(standin: GcpStandIn, provider: GcpProvider) -> None:
    standin.billing[PROJECT] = {"billingAccountName": f"billingAccounts/{ACCOUNT}"}  # billingEnabled false: omitted
    assert await GcpBilling(provider).billing_account_of_project() is None


async def test_billing_to_another_account(standin: GcpStandIn, provider: GcpProvider) -> None:
    standin.billing[PROJECT] = {"billingAccountName": "billingAccounts/999999-AAAAAA-BBBBBB", "billingEnabled": True}
    assert await GcpBilling(provider).check() == f"project {PROJECT} bills to 999999-AAAAAA-BBBBBB, expected {ACCOUNT}"
    unset = provider.model_copy(update={"billing_account": None})
    assert await GcpBilling(unset).check() is None  # linked somewhere, and nothing was expected


async def test_billing_errors_name_what_is_missing(standin: GcpStandIn, provider: GcpProvider) -> None:
    # The stand-in answers 403 for a project it does not know, as the real API does.
    with pytest.raises(UpstreamError) as caught:
        await GcpBilling(provider).check()
    message = str(caught.value)
    assert f"project {PROJECT}" in message and "missing permission resourcemanager.projects.get" in message
    standin.fail("billing.info", 503)
    with pytest.raises(UpstreamError, match="HTTP 503"):
        await GcpBilling(provider).billing_account_of_project()


# -- Push verification ---------------------------------------------------------------------------


@pytest.fixture
def certs_url(served_standin: tuple[GcpStandIn, str]) -> str:
    return f"{served_standin[1]}/oauth2/v1/certs"


@pytest.fixture
def key(standin: GcpStandIn) -> SigningKey:
    return standin.new_signing_key("k1")


def _token(key: SigningKey, *, kid: str | None = None, **claims: Any) -> str:
    from google.auth import crypt, jwt

    now = int(time.time())
    payload = {
        "iss": "https://accounts.google.com", "aud": AUDIENCE, "azp": "108", "sub": "108",
        "email": PUSHER, "email_verified": True, "iat": now, "exp": now + 3600, **claims,
    }
    signer = crypt.RSASigner.from_string(key.private_pem, key_id=kid or key.kid)
    return jwt.encode(signer, payload).decode()


def _verifier(certs_url: str, *, emails: tuple[str, ...] = (PUSHER,)) -> PushVerifier:
    return PushVerifier(AUDIENCE, certs_url=certs_url, issuer_emails=emails)


def test_a_valid_push_token_is_accepted(standin: GcpStandIn, key: SigningKey, certs_url: str) -> None:
    verifier = _verifier(certs_url)
    verifier.verify(f"Bearer {_token(key)}")
    verifier.verify(f"bearer {_token(key, iss='accounts.google.com')}")
    assert standin.routes() == ["certs"]  # the certificates are kept while fresh


def test_a_rotated_key_fetches_the_certificates_again(standin: GcpStandIn, key: SigningKey, certs_url: str) -> None:
    verifier = _verifier(certs_url)
    verifier.verify(f"Bearer {_token(key)}")
    rotated = standin.new_signing_key("k2")
    verifier.verify(f"Bearer {_token(rotated)}")
    assert standin.routes() == ["certs", "certs"]


def test_any_service_account_is_accepted_when_none_is_configured(key: SigningKey, certs_url: str) -> None:
    _verifier(certs_url, emails=()).verify(f"Bearer {_token(key, email='someone@else.iam.gserviceaccount.com')}")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "no Authorization header"),
        ("", "no Authorization header"),
        ("Basic dXNlcjpwYXNz", "not a bearer token"),
        ("Bearer", "not a bearer token"),
        ("Bearer not-a-jwt", "not a well-formed JWT"),
    ],
)
def test_a_missing_or_malformed_header_is_rejected(
    standin: GcpStandIn, certs_url: str, header: str | None, expected: str
) -> None:
    with pytest.raises(PushRejected, match=expected):
        _verifier(certs_url).verify(header)
    assert standin.routes() == []


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda key: _token(key, aud="https://elsewhere.example/push"), "another audience"),
        (lambda key: _token(key, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600), "expired"),
        (lambda key: _token(SigningKey("k1")), "signature does not verify"),
        (lambda key: _token(SigningKey("k9")), "key Google does not publish"),
        (lambda key: _token(key, iss="https://evil.example"), "not issued by Google"),
        (lambda key: _token(key, email="intruder@other.iam.gserviceaccount.com"), "not allowed to push"),
        (lambda key: _token(key, email_verified=False), "not allowed to push"),
    ],
    ids=["audience", "expired", "signature", "unknown-key", "issuer", "email", "unverified-email"],
)
def test_a_bad_token_is_rejected(key: SigningKey, certs_url: str, make: Any, expected: str) -> None:
    token = make(key)
    with pytest.raises(PushRejected, match=expected) as caught:
        _verifier(certs_url).verify(f"Bearer {token}")
    assert isinstance(caught.value, NotAllowed)
    assert token not in str(caught.value) and token.split(".")[1] not in str(caught.value)


def test_unreachable_certificates_are_an_upstream_error(standin: GcpStandIn, key: SigningKey, certs_url: str) -> None:
    standin.fail("certs", 500)
    with pytest.raises(UpstreamError, match="certificates"):
        _verifier(certs_url).verify(f"Bearer {_token(key)}")


# -- Budget notifications ------------------------------------------------------------------------

NOTIFICATION = {
    "budgetDisplayName": "hubbot-alpha",
    "alertThresholdExceeded": 0.5,
    "costAmount": 140.321,
    "costIntervalStart": "2024-05-01T07:00:00Z",
    "budgetAmount": 152.557,
    "budgetAmountType": "SPECIFIED_AMOUNT",
    "currencyCode": "USD",
}


def _envelope(data: Any, *, publish_time: str | None = "2024-05-14T18:35:13.282Z", raw: bool = False) -> bytes:
    encoded = data if raw else base64.b64encode(json.dumps(data).encode()).decode()
    message: dict[str, Any] = {
        "attributes": {"billingAccountId": ACCOUNT, "budgetId": "de72f49d-779b-4945-a127-4d6ce8def0bb",
                       "schemaVersion": "1.0"},
        "data": encoded,
        "messageId": "2070443601311540",
        "message_id": "2070443601311540",
    }
    if publish_time is not None:
        message["publishTime"] = message["publish_time"] = publish_time
    return json.dumps({"message": message, "subscription": f"projects/{PROJECT}/subscriptions/hubbot-budgets"}).encode()


def test_a_budget_notification_becomes_a_reading() -> None:
    reading = parse_budget_notification(_envelope(NOTIFICATION))
    assert reading == CostReading(
        start=date(2024, 5, 1), end=date(2024, 6, 1), amount=Decimal("140.321"), currency="USD",
        as_of=datetime(2024, 5, 14, 18, 35, 13, 282000, tzinfo=UTC), allocated=Decimal("152.557"),
        source="hubbot-alpha",
    )
    assert type(reading.amount) is Decimal and type(reading.allocated) is Decimal


def test_a_december_notification_ends_in_january_and_without_publish_time_uses_now() -> None:
    now = datetime(2024, 12, 9, 12, 0, tzinfo=UTC)
    data = {**NOTIFICATION, "costIntervalStart": "2024-12-01T08:00:00Z", "costAmount": 0}
    del data["alertThresholdExceeded"]
    reading = parse_budget_notification(_envelope(data, publish_time=None), now=now)
    assert reading is not None
    assert (reading.start, reading.end, reading.amount, reading.as_of) == (
        date(2024, 12, 1), date(2025, 1, 1), Decimal(0), now)


def test_a_message_without_a_budget_notification_is_ignored() -> None:
    assert parse_budget_notification(_envelope("", raw=True)) is None
    assert parse_budget_notification(_envelope({"hello": "world"})) is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"not json", "push request body is not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"subscription": "s"}', "no 'message' object"),
        (_envelope("%%%not base64%%%", raw=True), "not valid base64"),
        (_envelope(base64.b64encode(b"\xff\xfe").decode(), raw=True), "message.data is not JSON"),
        (_envelope({**NOTIFICATION, "costAmount": "lots"}), "costAmount is missing or not a number"),
        (_envelope({k: v for k, v in NOTIFICATION.items() if k != "budgetAmount"}), "budgetAmount is missing"),
        (_envelope({**NOTIFICATION, "budgetDisplayName": ""}), "budgetDisplayName is missing"),
        (_envelope({**NOTIFICATION, "currencyCode": "dollars"}), "currencyCode"),
        (_envelope({**NOTIFICATION, "costIntervalStart": "last month"}), "not an RFC 3339 time"),
        (_envelope(NOTIFICATION, publish_time="yesterday"), "publishTime is not an RFC 3339 time"),
    ],
)
def test_a_malformed_notification_is_a_user_error(body: bytes, expected: str) -> None:
    with pytest.raises(UserError, match=expected):
        parse_budget_notification(body)
