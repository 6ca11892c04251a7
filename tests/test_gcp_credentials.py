"""Google credentials end to end: over TLS the adapters use the ambient credentials (here a
service account key file whose token endpoint is the stand-in), sign with them, and send a
credential with every call; the stand-in checks each against the account's key and refuses a
call without a valid one, as Google does.

Over plain HTTP (the other GCP tests) the adapters send no credentials at all, so a token never
crosses an unencrypted connection.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from hubbot.adapters.gcp.billing import GcpBilling
from hubbot.adapters.gcp.budgets import GcpBudgets
from hubbot.adapters.gcp.costs import BigQueryCostSource
from hubbot.errors import UpstreamError
from hubbot.fleet import GcpProvider
from tests.support.fleet import one_provider_fleet
from tests.support.gcp_standin import GcpStandIn, SigningKey
from tests.support.server import serve
from tests.support.tls import authority, server_files

PROJECT = "hub-project"
ACCOUNT = "0123AB-4567CD-89EF01"
TABLE = "billing-admin.billing_export.gcp_billing_export_v1_0123AB_4567CD_89EF01"
EMAIL = "hubbot@hub-project.iam.gserviceaccount.com"


@pytest.fixture(scope="module")
def google(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GcpStandIn, str, Path]]:
    folder = tmp_path_factory.mktemp("google")
    ca = authority("google-standin-ca")
    (folder / "ca.pem").write_bytes(ca.pem)
    standin = GcpStandIn()
    with serve(standin.app, tls=server_files(ca, folder)) as served:
        yield standin, served.url, folder


@pytest.fixture
def provider(google: tuple[GcpStandIn, str, Path], monkeypatch: pytest.MonkeyPatch) -> GcpProvider:
    standin, url, folder = google
    standin.reset()
    key = SigningKey("sa-key-1")
    standin.service_account = (EMAIL, key)
    credentials = folder / "service-account.json"
    credentials.write_text(json.dumps({"type": "service_account", "project_id": PROJECT, "private_key_id": key.kid,
                                       "private_key": key.private_pem, "client_email": EMAIL, "client_id": "1",
                                       "token_uri": f"{url}/token"}))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(credentials))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(folder / "ca.pem"))  # trust the stand-in's CA, and only here
    standin.billing[PROJECT] = {"name": f"projects/{PROJECT}/billingInfo", "projectId": PROJECT,
                                "billingAccountName": f"billingAccounts/{ACCOUNT}", "billingEnabled": True}
    return GcpProvider(kind="gcp", project=PROJECT, billing_account=ACCOUNT, billing_export_table=TABLE, endpoint=url)


async def test_every_call_carries_a_credential_of_the_service_account(google: tuple[GcpStandIn, str, Path],
                                                                      provider: GcpProvider) -> None:
    standin = google[0]
    standin.bq_rows = [["2024-05-01", "staging", "Compute Engine", "USD", "regular", "1.5"]]
    batch = await BigQueryCostSource(provider).fetch(start=date(2024, 5, 1), end=date(2024, 5, 2))
    assert [str(line.amount) for line in batch.lines] == ["1.5"]
    assert await GcpBilling(provider).check() is None
    budgets = GcpBudgets(provider, name="gcp", fleet=one_provider_fleet("gcp", provider, "gke/lab:beta"))
    await budgets.mirror(community="beta", amount=Decimal(500), currency="USD", period="monthly",
                         thresholds=[50, 100])
    api_calls = [c for c in standin.calls if c.route != "token"]
    assert {c.route for c in api_calls} >= {"bq.query", "billing.info", "budgets.list", "budgets.create"}
    assert all(c.headers.get("authorization", "").startswith("Bearer ") for c in api_calls)
    assert not [c.route for c in standin.calls if c.route == "unknown"]


async def test_a_key_google_does_not_know_is_a_clear_error(google: tuple[GcpStandIn, str, Path],
                                                          provider: GcpProvider) -> None:
    standin = google[0]
    assert standin.service_account is not None
    standin.service_account = (EMAIL, SigningKey("sa-key-1"))  # the key was rotated: ours no longer signs
    for call in (lambda: BigQueryCostSource(provider).fetch(start=date(2024, 5, 1), end=date(2024, 5, 2)),
                 lambda: GcpBilling(provider).billing_account_of_project()):
        with pytest.raises(UpstreamError) as refused:
            await call()
        assert "credentials" in str(refused.value) and "PRIVATE KEY" not in str(refused.value)
