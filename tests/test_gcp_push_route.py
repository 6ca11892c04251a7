"""GCP budget notifications pushed to `POST /gcp/budget/<provider>` on the real web app, with
OIDC tokens the test signs itself and certificates served by the stand-in. In the test fleet beta
owns every hub on gcp-test; in the shared fleet alpha has a hub there too."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from alerts.evaluate import budget_alerts
from hubbot.costs.summary import summarize
from hubbot.domain import LedgerLine
from hubbot.fleet import load_fleet
from hubbot.lifecycle import web_app
from hubbot.main import build
from hubbot.settings import DatabaseSettings, Settings, SlackSettings
from tests.support import signing
from tests.support.fleet import FLEET_YAML, LEADERS_B_GROUP
from tests.support.gcp_standin import GcpStandIn, SigningKey
from tests.support.harness import BOT_TOKEN
from tests.support.server import serve

AUDIENCE = "https://hubbot.example.org/gcp/budget"
PUSHER = "budget-push@test-project.iam.gserviceaccount.com"


BETA_HUB = "      - {name: beta-binder, community: beta, domain: binder.beta.test, tier: prod, binder: true}\n"
# alpha gets a hub on gcp-test too, and beta a budget of $500 a month
SHARED_YAML = FLEET_YAML.replace(
    BETA_HUB, BETA_HUB + "      - {name: alpha-lab, community: alpha, domain: lab.alpha.test}\n"
).replace(
    f"    leaders: [{LEADERS_B_GROUP}]\n",
    f"    leaders: [{LEADERS_B_GROUP}]\n    budget: {{amount: 500, currency: USD, period: monthly}}\n",
)
assert SHARED_YAML.count("alpha-lab") == 1 and SHARED_YAML.count("amount: 500") == 1


@pytest.fixture
def app(tmp_path: Path) -> Iterator[tuple[str, SigningKey, Any]]:
    with running(tmp_path, FLEET_YAML) as served:
        yield served


@pytest.fixture
def shared_app(tmp_path: Path) -> Iterator[tuple[str, SigningKey, Any]]:
    with running(tmp_path, SHARED_YAML) as served:
        yield served


@contextmanager
def running(tmp_path: Path, fleet_yaml: str) -> Iterator[tuple[str, SigningKey, Any]]:
    standin = GcpStandIn()
    with serve(standin.app) as gcp:
        key = standin.new_signing_key("k1")
        fleet = tmp_path / "fleet.yaml"
        fleet.write_text(fleet_yaml)
        settings = Settings(
            slack=SlackSettings(bot_token=SecretStr(BOT_TOKEN), signing_secret=SecretStr(signing.SECRET),
                                api_url="http://127.0.0.1:9/api/"),
            database=DatabaseSettings(url=f"sqlite:///{tmp_path / 'db.sqlite3'}"),
            gcp_push_audience=AUDIENCE, gcp_push_service_accounts=[PUSHER], gcp_certs_url=f"{gcp.url}/oauth2/v1/certs",
        )
        runtime = build(settings, load_fleet(fleet), slack="http")
        with serve(web_app(runtime, schedule=False)) as served:
            yield served.url, key, runtime


def token(key: SigningKey, **claims: Any) -> str:
    from google.auth import crypt, jwt

    now = int(time.time())
    payload = {"iss": "https://accounts.google.com", "aud": AUDIENCE, "sub": "1", "email": PUSHER,
               "email_verified": True, "iat": now, "exp": now + 600, **claims}
    return jwt.encode(crypt.RSASigner.from_string(key.private_pem, key_id=key.kid), payload).decode()


def envelope(cost: float, *, budget: str = "hubbot-beta") -> bytes:
    data = {"budgetDisplayName": budget, "costAmount": cost, "costIntervalStart": "2026-03-01T00:00:00Z",
            "budgetAmount": 500, "budgetAmountType": "SPECIFIED_AMOUNT", "currencyCode": "USD"}
    message = {"data": base64.b64encode(json.dumps(data).encode()).decode(), "messageId": "1",
               "publishTime": "2026-03-14T10:00:00Z", "attributes": {"budgetId": "b1"}}
    return json.dumps({"message": message, "subscription": "projects/p/subscriptions/s"}).encode()


def test_a_signed_notification_is_recorded_as_a_reading(app: tuple[str, SigningKey, Any]) -> None:
    url, key, runtime = app
    resp = httpx.post(f"{url}/gcp/budget/gcp-test", content=envelope(321.5),
                      headers={"Authorization": f"Bearer {token(key)}"})
    assert resp.status_code == 204
    import asyncio

    readings = asyncio.run(runtime.services.ledger.readings(communities=["beta"]))
    assert [(c, r.amount, r.allocated) for c, r in readings] == [("beta", Decimal("321.5"), Decimal("500"))]


@pytest.mark.parametrize("headers,status", [
    ({}, 403),
    ({"Authorization": "Bearer not-a-jwt"}, 403),
    ({"Authorization": "Basic abc"}, 403),
])
def test_unsigned_or_forged_pushes_are_refused(app: tuple[str, SigningKey, Any], headers: dict[str, str],
                                               status: int) -> None:
    url, _, runtime = app
    assert httpx.post(f"{url}/gcp/budget/gcp-test", content=envelope(1), headers=headers).status_code == status
    assert _stored(runtime) == []  # refused before anything was recorded


def _stored(runtime: Any) -> list[Any]:
    import asyncio

    return list(asyncio.run(runtime.services.ledger.readings(communities=None)))


def test_wrong_audience_sender_age_or_key_is_refused_and_nothing_is_stored(app: tuple[str, SigningKey, Any]) -> None:
    url, key, runtime = app
    stranger = SigningKey("k1")  # same key id, a key Google never published
    now = int(time.time())
    for bad in (token(key, aud="https://elsewhere"), token(key, email="intruder@x.iam.gserviceaccount.com"),
                token(key, iat=now - 7200, exp=now - 3600), token(stranger), token(key, email_verified=False)):
        resp = httpx.post(f"{url}/gcp/budget/gcp-test", content=envelope(1), headers={"Authorization": f"Bearer {bad}"})
        assert resp.status_code == 403
    assert _stored(runtime) == []


def test_unknown_provider_and_malformed_body(app: tuple[str, SigningKey, Any]) -> None:
    url, key, _ = app
    auth = {"Authorization": f"Bearer {token(key)}"}
    assert httpx.post(f"{url}/gcp/budget/aws-test", content=envelope(1), headers=auth).status_code == 404
    assert httpx.post(f"{url}/gcp/budget/gcp-test", content=b"{not json", headers=auth).status_code == 400


def test_a_push_for_another_community_on_a_project_one_community_owns_is_not_recorded(
    app: tuple[str, SigningKey, Any]
) -> None:
    url, key, runtime = app
    resp = httpx.post(f"{url}/gcp/budget/gcp-test", content=envelope(40, budget="hubbot-alpha"),
                      headers={"Authorization": f"Bearer {token(key)}"})
    assert resp.status_code == 204  # acknowledged: a retry would not change anything
    assert _stored(runtime) == []


def test_a_push_a_hubbot_budget_did_not_make_counts_for_the_owner(app: tuple[str, SigningKey, Any]) -> None:
    url, key, runtime = app
    resp = httpx.post(f"{url}/gcp/budget/gcp-test", content=envelope(75, budget="team budget"),
                      headers={"Authorization": f"Bearer {token(key)}"})
    assert resp.status_code == 204
    assert [(c, r.amount, r.source) for c, r in _stored(runtime)] == [("beta", Decimal(75), "team budget")]


AT = datetime(2026, 3, 14, 12, tzinfo=UTC)


def _march_costs(runtime: Any) -> None:
    """March so far on the shared project: beta's hub $19 a day, alpha's $190 a day, for ten days."""
    daily = (("gcp-cluster/staging", "beta", 19), ("gcp-cluster/alpha-lab", "alpha", 190))
    lines = [LedgerLine(day=date(2026, 3, d), provider="gcp-test", hub=hub, community=community,
                        service="Compute Engine", amount=Decimal(amount), currency="USD")
             for d in range(1, 11) for hub, community, amount in daily]
    asyncio.run(runtime.services.ledger.replace(provider="gcp-test", start=date(2026, 3, 1), end=date(2026, 4, 1),
                                                lines=lines, at=AT))


def test_a_project_wide_push_on_a_shared_project_is_not_charged_to_the_community_it_names(
    shared_app: tuple[str, SigningKey, Any], caplog: pytest.LogCaptureFixture
) -> None:
    url, key, runtime = shared_app
    _march_costs(runtime)
    # beta's budget as mirrored before it was limited to beta's hubs: it counts the whole project,
    # alpha's $1,900 included
    with caplog.at_level(logging.INFO, logger="hubbot.costs"):
        resp = httpx.post(f"{url}/gcp/budget/gcp-test", content=envelope(2090),
                          headers={"Authorization": f"Bearer {token(key)}"})
    assert resp.status_code == 204  # acknowledged, so Pub/Sub does not push it again
    assert _stored(runtime) == []
    assert "'hubbot-beta' on gcp-test not recorded: communities alpha, beta share its project" in caplog.text

    summary = asyncio.run(summarize(runtime.services, runtime.fleet, "beta", at=AT))
    assert summary.spend == Decimal(190) and summary.used == Decimal("38.0")  # not 2,090 and 418 %
    alerts = asyncio.run(budget_alerts(runtime.services, runtime.fleet, at=AT))
    assert [m for m in alerts if m.community == "beta"] == []  # no 120 % alert for a community at 38 %


def test_no_push_on_a_shared_project_is_recorded(shared_app: tuple[str, SigningKey, Any]) -> None:
    url, key, runtime = shared_app
    for budget in ("hubbot-alpha", "hubbot-beta", "team budget"):
        resp = httpx.post(f"{url}/gcp/budget/gcp-test", content=envelope(10, budget=budget),
                          headers={"Authorization": f"Bearer {token(key)}"})
        assert resp.status_code == 204
    assert _stored(runtime) == []
