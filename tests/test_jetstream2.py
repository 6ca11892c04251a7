"""The JetStream2 cost source, against a Keystone and accounting stand-in on loopback."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from hubbot.adapters.jetstream2 import CPU_RESOURCE, Jetstream2CostSource, su_to_money
from hubbot.adapters.memory import FrozenClock
from hubbot.domain import CostReading
from hubbot.errors import UpstreamError, UserError
from hubbot.fleet import OpenStackProvider
from tests.support.openstack_standin import (
    ACCOUNTING_PATH,
    CREDENTIAL_ID,
    CREDENTIAL_SECRET,
    OpenStackStandIn,
    allocation,
)
from tests.support.server import serve

JANUARY = {"start": date(2026, 1, 1), "end": date(2026, 2, 1)}
WRONG_SECRET = "not-the-Right-secret-9876"


@pytest.fixture
def standin() -> Iterator[OpenStackStandIn]:
    s = OpenStackStandIn()
    with serve(s.app) as served:
        s.base_url = served.url
        yield s


def provider(base_url: str, **overrides: Any) -> OpenStackProvider:
    fields = {"kind": "openstack", "auth_url": f"{base_url}/v3/", "project": "BIO250001",
              "accounting_url": f"{base_url}{ACCOUNTING_PATH}", **overrides}
    return OpenStackProvider.model_validate(fields)


def source(standin: OpenStackStandIn, clock: FrozenClock | None = None, *, secret: str | SecretStr = CREDENTIAL_SECRET,
           **kwargs: Any) -> Jetstream2CostSource:
    return Jetstream2CostSource(provider(standin.base_url), application_credential_id=CREDENTIAL_ID,
                                application_credential_secret=secret, clock=clock or FrozenClock(), **kwargs)


async def test_reads_the_projects_cpu_allocation(standin: OpenStackStandIn) -> None:
    clock = FrozenClock()
    batch = await source(standin, clock).fetch(**JANUARY)

    assert batch.lines == []
    assert batch.requests == 2
    assert batch.readings == [CostReading(
        start=date(2025, 9, 1), end=date(2026, 9, 1), amount=Decimal("12345.67"), currency="SU",
        as_of=clock.now(), allocated=Decimal(500000), source=CPU_RESOURCE,
    )]
    body = standin.auth_bodies[0]
    assert body == {"auth": {"identity": {"methods": ["application_credential"], "application_credential": {
        "id": CREDENTIAL_ID, "secret": CREDENTIAL_SECRET}}}}


async def test_every_resource_kept_apart_and_only_allocations_overlapping_the_days(
        standin: OpenStackStandIn) -> None:
    batch = await source(standin, resources=None, secret=SecretStr(CREDENTIAL_SECRET)).fetch(**JANUARY)
    assert [(r.source, r.amount, r.allocated) for r in batch.readings] == [
        (CPU_RESOURCE, Decimal("12345.67"), Decimal(500000)),
        ("jetstream2-gpu.indiana.edu", Decimal(1500), Decimal(20000)),
    ]

    last_year = await source(standin).fetch(start=date(2025, 8, 1), end=date(2025, 9, 1))
    assert [(r.start, r.end, r.amount) for r in last_year.readings] == [
        (date(2024, 9, 1), date(2025, 9, 1), Decimal(499000))]


async def test_token_is_cached_across_fetches(standin: OpenStackStandIn) -> None:
    js2 = source(standin)
    await js2.fetch(**JANUARY)
    second = await js2.fetch(**JANUARY)

    assert (standin.auth_calls, standin.accounting_calls) == (1, 2)
    assert second.requests == 1


async def test_concurrent_fetches_sign_in_once(standin: OpenStackStandIn) -> None:
    js2 = source(standin)
    await asyncio.gather(js2.fetch(**JANUARY), js2.fetch(**JANUARY))
    assert standin.auth_calls == 1


async def test_token_renewed_when_its_expiry_nears(standin: OpenStackStandIn) -> None:
    clock = FrozenClock()
    js2 = source(standin, clock)
    await js2.fetch(**JANUARY)
    clock.advance(timedelta(minutes=56))  # tokens live an hour; renewal comes a few minutes early
    await js2.fetch(**JANUARY)
    assert (standin.auth_calls, standin.accounting_calls) == (2, 2)


async def test_token_rejected_by_accounting_is_renewed_once(standin: OpenStackStandIn) -> None:
    js2 = source(standin)
    await js2.fetch(**JANUARY)
    standin.expire_tokens()

    batch = await js2.fetch(**JANUARY)

    assert batch.readings[0].amount == Decimal("12345.67")
    assert batch.requests == 3  # the refused call, the new sign-in, the retry
    assert (standin.auth_calls, standin.accounting_calls) == (2, 3)


async def test_accounting_refusing_a_fresh_token_is_not_retried_forever(standin: OpenStackStandIn) -> None:
    standin.fail("accounting", 401, times=10)
    with pytest.raises(UpstreamError, match="freshly issued token"):
        await source(standin).fetch(**JANUARY)
    assert (standin.auth_calls, standin.accounting_calls) == (2, 2)


@pytest.mark.parametrize("secret", [WRONG_SECRET, SecretStr(WRONG_SECRET)])
async def test_wrong_secret_is_reported_without_the_secret(standin: OpenStackStandIn, secret: Any) -> None:
    js2 = source(standin, secret=secret)
    with pytest.raises(UpstreamError, match="rejected the application credential") as caught:
        await js2.fetch(**JANUARY)

    err = caught.value
    for text in (str(err), repr(err), repr(js2)):
        assert WRONG_SECRET not in text
    assert err.__cause__ is None and err.__context__ is None  # no chained request carrying the secret
    assert standin.accounting_calls == 0


@pytest.mark.parametrize(("endpoint", "status", "what"), [
    ("auth", 500, "identity service (Keystone)"), ("auth", 503, "identity service (Keystone)"),
    ("accounting", 500, "accounting API"),
    ("accounting", 502, "accounting API"), ("accounting", 429, "accounting API"),
])
async def test_server_errors_are_upstream_errors(standin: OpenStackStandIn, endpoint: str, status: int,
                                                 what: str) -> None:
    standin.fail(endpoint, status)
    with pytest.raises(UpstreamError, match=re.escape(f"{what} failed (HTTP {status}); try again later")):
        await source(standin).fetch(**JANUARY)


async def test_forbidden_accounting_names_the_cause(standin: OpenStackStandIn) -> None:
    standin.fail("accounting", 403)
    with pytest.raises(UpstreamError, match="HTTP 403"):
        await source(standin).fetch(**JANUARY)


async def test_missing_project_lists_the_titles_found(standin: OpenStackStandIn) -> None:
    base = standin.base_url
    js2 = Jetstream2CostSource(provider(base, project="CHE990000"), application_credential_id=CREDENTIAL_ID,
                               application_credential_secret=CREDENTIAL_SECRET, clock=FrozenClock())
    with pytest.raises(UpstreamError, match=r"no allocation titled 'CHE990000'.*it has: BIO250001, PHY250042"):
        await js2.fetch(**JANUARY)


async def test_project_without_allocation_for_the_days(standin: OpenStackStandIn) -> None:
    with pytest.raises(UpstreamError, match=r"nothing on jetstream2.indiana.edu for 2030-01-01\.\.2030-02-01"):
        await source(standin).fetch(start=date(2030, 1, 1), end=date(2030, 2, 1))


@pytest.mark.parametrize(("body", "message"), [
    ("<html>oops</html>", "something other than JSON"),
    ('{"allocations": []}', "something other than a list"),
    ('[{"resource": "x"}]', "allocation without a title"),
])
async def test_malformed_answers(standin: OpenStackStandIn, body: str, message: str) -> None:
    standin.accounting_body = body
    with pytest.raises(UpstreamError, match=message):
        await source(standin).fetch(**JANUARY)


@pytest.mark.parametrize(("field", "value"), [
    ("service_units_used", None), ("service_units_used", "lots"), ("service_units_used", True),
    ("service_units_allocated", "NaN"), ("start_date", "01/09/2025"), ("end_date", None), ("resource", ""),
])
async def test_malformed_fields_are_named(standin: OpenStackStandIn, field: str, value: Any) -> None:
    standin.allocations = [{**allocation("BIO250001"), field: value}]
    with pytest.raises(UpstreamError, match=f"allocation 'BIO250001' has a missing or malformed {field}"):
        await source(standin).fetch(**JANUARY)


async def test_numbers_as_strings_and_null_allocation_are_read(standin: OpenStackStandIn) -> None:
    standin.allocations = [allocation("bio250001", used="0.1", allocated=None)]  # titles match case-insensitively
    [reading] = (await source(standin).fetch(**JANUARY)).readings
    assert (reading.amount, reading.allocated) == (Decimal("0.1"), None)


async def test_unreachable_service_is_an_upstream_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    js2 = Jetstream2CostSource(provider(base), application_credential_id=CREDENTIAL_ID,
                               application_credential_secret=CREDENTIAL_SECRET)
    with pytest.raises(UpstreamError, match="could not reach JetStream2 identity service") as caught:
        await js2.fetch(**JANUARY)
    assert CREDENTIAL_SECRET not in str(caught.value)


async def test_timeout_is_an_upstream_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        js2 = Jetstream2CostSource(provider("http://js2.invalid"), application_credential_id=CREDENTIAL_ID,
                                   application_credential_secret=CREDENTIAL_SECRET, http=client)
        with pytest.raises(UpstreamError, match="timed out; try again later"):
            await js2.fetch(**JANUARY)


async def test_given_client_is_used_and_left_open(standin: OpenStackStandIn) -> None:
    base = standin.base_url
    async with httpx.AsyncClient() as client:
        js2 = Jetstream2CostSource(provider(base.rstrip("/")).model_copy(update={"auth_url": base}),
                                   application_credential_id=CREDENTIAL_ID,
                                   application_credential_secret=CREDENTIAL_SECRET, http=client)
        await js2.fetch(**JANUARY)  # auth_url without /v3 still reaches /v3/auth/tokens
        assert not client.is_closed
    assert standin.auth_calls == 1


def test_provider_without_accounting_url_is_a_config_error() -> None:
    with pytest.raises(UserError, match="no accounting_url"):
        Jetstream2CostSource(provider("http://127.0.0.1:1", accounting_url=None), application_credential_id="x",
                             application_credential_secret="y")


def test_su_to_money() -> None:
    priced = provider("http://127.0.0.1:1", su_rate="0.0125", su_rate_currency="EUR")
    assert su_to_money(Decimal("12345.67"), priced) == Decimal("154.320875")
    assert su_to_money(Decimal(0), priced) == 0
    assert su_to_money(Decimal(100), provider("http://127.0.0.1:1")) is None
