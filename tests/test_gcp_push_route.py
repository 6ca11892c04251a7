"""GCP budget notifications pushed to `POST /gcp/budget/<provider>` on the real web app, with
OIDC tokens the test signs itself and certificates served by the stand-in."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from hubbot.fleet import load_fleet
from hubbot.lifecycle import web_app
from hubbot.main import build
from hubbot.settings import DatabaseSettings, Settings, SlackSettings
from tests.support import signing
from tests.support.fleet import FLEET_YAML
from tests.support.gcp_standin import GcpStandIn, SigningKey
from tests.support.harness import BOT_TOKEN
from tests.support.server import serve

AUDIENCE = "https://hubbot.example.org/gcp/budget"
PUSHER = "budget-push@test-project.iam.gserviceaccount.com"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[tuple[str, SigningKey, Any]]:
    standin = GcpStandIn()
    with serve(standin.app) as gcp:
        key = standin.new_signing_key("k1")
        fleet = tmp_path / "fleet.yaml"
        fleet.write_text(FLEET_YAML)
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


def envelope(cost: float) -> bytes:
    data = {"budgetDisplayName": "hubbot-beta", "costAmount": cost, "costIntervalStart": "2026-03-01T00:00:00Z",
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
