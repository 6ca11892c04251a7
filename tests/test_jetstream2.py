"""The JetStream2 cost source, against a Keystone and accounting stand-in on loopback."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from alerts import run_cycle
from hubbot.adapters.jetstream2 import (
    CPU_RESOURCE,
    GPU_RESOURCE,
    LARGE_MEMORY_RESOURCE,
    Jetstream2CostSource,
    su_to_money,
)
from hubbot.adapters.memory import FrozenClock, RecordingNotifier
from hubbot.costs.summary import summarize
from hubbot.domain import Basis, CostReading
from hubbot.errors import UpstreamError, UserError
from hubbot.fleet import OpenStackProvider, load_fleet
from hubbot.main import Runtime, build
from hubbot.settings import DatabaseSettings, OpenStackCredential, Settings
from tests.support.openstack_standin import (
    ACCOUNTING_PATH,
    CPU,
    CREDENTIAL_ID,
    CREDENTIAL_SECRET,
    GPU,
    LARGE_MEMORY,
    STORAGE,
    OpenStackStandIn,
    allocation,
    bio_fleet,
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


async def test_reads_the_projects_cpu_gpu_and_large_memory_allocations_by_their_real_names(
        standin: OpenStackStandIn) -> None:
    clock = FrozenClock()
    batch = await source(standin, clock).fetch(**JANUARY)

    assert batch.lines == []
    assert batch.requests == 2
    year = {"start": date(2025, 9, 1), "end": date(2026, 9, 1), "currency": "SU", "as_of": clock.now()}
    assert batch.readings == [
        CostReading(amount=Decimal("12345.67"), allocated=Decimal(500000), source=CPU, **year),
        CostReading(amount=Decimal(1500), allocated=Decimal(20000), source=GPU, **year),
        CostReading(amount=Decimal("250.5"), allocated=Decimal(10000), source=LARGE_MEMORY, **year),
    ]  # storage is not in SUs; last year's allocation is no longer active
    assert (CPU_RESOURCE, GPU_RESOURCE, LARGE_MEMORY_RESOURCE) == (CPU, GPU, LARGE_MEMORY)
    body = standin.auth_bodies[0]
    assert body == {"auth": {"identity": {"methods": ["application_credential"], "application_credential": {
        "id": CREDENTIAL_ID, "secret": CREDENTIAL_SECRET}}}}


async def test_a_storage_row_with_null_usage_does_not_fail_the_fetch(standin: OpenStackStandIn) -> None:
    standin.allocations = [allocation(), allocation(STORAGE, allocated=10.0, used=None)]
    [reading] = (await source(standin).fetch(**JANUARY)).readings
    assert (reading.source, reading.amount) == (CPU, Decimal("12345.67"))


async def test_null_usage_is_nothing_used_yet(standin: OpenStackStandIn) -> None:
    standin.allocations = [allocation(used=12.5), allocation(GPU, allocated=20000.0, used=None)]
    readings = (await source(standin).fetch(**JANUARY)).readings
    assert [(r.source, r.amount, r.allocated) for r in readings] == [
        (CPU, Decimal("12.5"), Decimal(500000)), (GPU, Decimal(0), Decimal(20000))]


async def test_rows_that_are_not_read_are_never_parsed(standin: OpenStackStandIn) -> None:
    standin.allocations = [
        allocation(STORAGE, allocated="a lot", used="?", start="someday", end=None),
        {**allocation("jetstream3.example.org"), "start_date": "not a date"},
        {"description": "a row without a resource"},
        {**allocation(), "resource": None},
        42, "text", None,
        allocation(),
    ]
    [reading] = (await source(standin).fetch(**JANUARY)).readings
    assert (reading.source, reading.amount) == (CPU, Decimal("12345.67"))


async def test_only_active_allocations_overlapping_the_days_are_read(standin: OpenStackStandIn) -> None:
    standin.allocations = [allocation(start="2024-09-01", end="2025-08-31", used=499000.0), allocation(),
                           allocation(GPU, start="2025-09-01", end="2025-12-31", used=900.0),
                           allocation(LARGE_MEMORY, used=5.0, active=0)]
    january = await source(standin).fetch(**JANUARY)
    assert [(r.source, r.start, r.end) for r in january.readings] == [(CPU, date(2025, 9, 1), date(2026, 9, 1))]

    last_year = await source(standin).fetch(start=date(2025, 8, 1), end=date(2025, 9, 1))
    assert [(r.start, r.end, r.amount) for r in last_year.readings] == [
        (date(2024, 9, 1), date(2025, 9, 1), Decimal(499000))]


async def test_resources_can_be_narrowed_but_storage_is_never_read(standin: OpenStackStandIn) -> None:
    batch = await source(standin, resources=[GPU], secret=SecretStr(CREDENTIAL_SECRET)).fetch(**JANUARY)
    assert [(r.source, r.amount) for r in batch.readings] == [(GPU, Decimal(1500))]
    for resources in ([STORAGE], [CPU, STORAGE], []):
        with pytest.raises(UserError, match="storage is not counted in service units"):
            source(standin, resources=resources)


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


async def test_a_credential_of_another_project_is_refused(standin: OpenStackStandIn) -> None:
    js2 = Jetstream2CostSource(provider(standin.base_url, project="CHE990000"), application_credential_id=CREDENTIAL_ID,
                               application_credential_secret=CREDENTIAL_SECRET, clock=FrozenClock())
    with pytest.raises(UpstreamError, match=r"is for project 'BIO250001', not 'CHE990000'"):
        await js2.fetch(**JANUARY)
    assert standin.accounting_calls == 0  # another project's usage is never read


@pytest.mark.parametrize("project", ["bio250001", "0f0e5d2c4b3a49f8a7e6d5c4b3a29181"])
async def test_the_project_is_matched_by_name_in_any_case_or_by_id(standin: OpenStackStandIn, project: str) -> None:
    js2 = Jetstream2CostSource(provider(standin.base_url, project=project), application_credential_id=CREDENTIAL_ID,
                               application_credential_secret=CREDENTIAL_SECRET, clock=FrozenClock())
    assert len((await js2.fetch(**JANUARY)).readings) == 3


async def test_project_without_allocation_for_the_days(standin: OpenStackStandIn) -> None:
    with pytest.raises(UpstreamError, match=r"'BIO250001' has no allocation on .* for 2030-01-01\.\.2030-02-01; "
                                            r"it has: jetstream2.indiana.xsede.org 2025-09-01\.\.2026-09-01"):
        await source(standin).fetch(start=date(2030, 1, 1), end=date(2030, 2, 1))


async def test_project_with_storage_only(standin: OpenStackStandIn) -> None:
    standin.allocations = [allocation(STORAGE, used=None)]
    with pytest.raises(UpstreamError, match=r"no allocation on .*; it has: jetstream2-storage.indiana.xsede.org$"):
        await source(standin).fetch(**JANUARY)


@pytest.mark.parametrize(("body", "message"), [
    ("<html>oops</html>", "something other than JSON"),
    ('{"allocations": []}', "something other than a list"),
    ("[]", "has no allocation on .*; it has: none"),
])
async def test_malformed_answers(standin: OpenStackStandIn, body: str, message: str) -> None:
    standin.accounting_body = body
    with pytest.raises(UpstreamError, match=message):
        await source(standin).fetch(**JANUARY)


@pytest.mark.parametrize(("field", "value"), [
    ("service_units_used", "lots"), ("service_units_used", True), ("service_units_used", ...),
    ("service_units_allocated", "NaN"), ("start_date", "01/09/2025"), ("end_date", None), ("start_date", ...),
])
async def test_malformed_fields_of_a_row_that_is_read_are_named(standin: OpenStackStandIn, field: str,
                                                                value: Any) -> None:
    row = allocation(GPU)
    if value is ...:
        del row[field]
    else:
        row[field] = value
    standin.allocations = [allocation(), row]
    with pytest.raises(UpstreamError, match=f"allocation on {re.escape(GPU)} .*has a missing or malformed {field}"):
        await source(standin).fetch(**JANUARY)


async def test_numbers_as_strings_and_null_allocation_are_read(standin: OpenStackStandIn) -> None:
    standin.allocations = [allocation(used="0.1", allocated=None)]
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


# -- through the alert cycle ------------------------------------------------------------

NEW_YEAR = date(2026, 1, 1)


def bio_runtime(tmp_path: Path, standin: OpenStackStandIn, database_url: str, when: datetime,
                notifier: RecordingNotifier) -> Runtime:
    path = tmp_path / "fleet.yaml"
    path.write_text(bio_fleet(standin.base_url))
    standin.now = when
    settings = Settings(database=DatabaseSettings(url=database_url),
                        openstack={"js2": OpenStackCredential(id=CREDENTIAL_ID, secret=CREDENTIAL_SECRET)})
    return build(settings, load_fleet(path), clock=FrozenClock(when), notifier=notifier)


def use_at(standin: OpenStackStandIn, day: date, per_day: dict[str, int]) -> None:
    """The accounting API as of ``day``: each SU resource used at ``per_day`` SUs a day since the
    new year, on top of 30,000 (CPU), 8,000 (GPU) and 2,000 (large memory) used before it."""
    before = {CPU: 30000, GPU: 8000, LARGE_MEMORY: 2000}
    days = (day - NEW_YEAR).days
    standin.allocations = [allocation(r, allocated=100000.0, used=float(before[r] + per_day[r] * days))
                           for r in (CPU, GPU, LARGE_MEMORY)]
    standin.allocations.append(allocation(STORAGE, allocated=5.0, used=None))


async def walk(tmp_path: Path, standin: OpenStackStandIn, database_url: str, per_day: dict[str, int],
               days: range) -> RecordingNotifier:
    """A cycle every six hours of January's days ``days``, the accounting API moving on daily."""
    notifier = RecordingNotifier()
    for n in days:
        use_at(standin, date(2026, 1, n), per_day)
        for hour in (0, 6, 12, 18):
            when = datetime(2026, 1, n, hour, tzinfo=UTC)
            rt = bio_runtime(tmp_path, standin, database_url, when, notifier)
            report = await run_cycle(rt.services, rt.fleet, at=when, worker="w1")
            await rt.aclose()
            assert report.refresh is not None and report.refresh.errors == {}
    return notifier


async def test_the_cycle_reads_cpu_gpu_and_large_memory_sus_by_name_and_sums_them(
        tmp_path: Path, standin: OpenStackStandIn, database_url: str) -> None:
    when = datetime(2026, 1, 15, 12, tzinfo=UTC)
    rt = bio_runtime(tmp_path, standin, database_url, when, RecordingNotifier())
    report = await run_cycle(rt.services, rt.fleet, at=when, worker="w1")
    assert report.refresh is not None and report.refresh.errors == {}  # the storage row's null usage is no error

    readings = await rt.services.ledger.readings(communities=["bio"])
    assert {r.source: r.amount for _, r in readings} == {
        CPU: Decimal("12345.67"), GPU: Decimal(1500), LARGE_MEMORY: Decimal("250.5")}
    s = await summarize(rt.services, rt.fleet, "bio", at=when)
    assert (s.currency, s.spend) == ("SU", Decimal("14096.17"))
    assert (s.period.start, s.period.end) == (date(2025, 9, 1), date(2026, 9, 1))
    assert s.stale == []
    await rt.aclose()


async def test_an_allocation_used_faster_than_it_lasts_gets_one_forecast_alert(
        tmp_path: Path, standin: OpenStackStandIn, database_url: str) -> None:
    # 500 SUs a day: 45,000 used by 11 January, and 233 days left at that pace make 161,500 of 100,000
    notifier = await walk(tmp_path, standin, database_url, {CPU: 400, GPU: 80, LARGE_MEMORY: 20}, range(10, 17))

    firsts = [text.splitlines()[0] for channel, text in notifier.posts if channel == "CBIO00001"]
    assert firsts == [":crystal_ball: Bio Course is forecast to spend 161,500.00 SU this period"]
    rt = bio_runtime(tmp_path, standin, database_url, datetime(2026, 1, 16, 18, tzinfo=UTC), notifier)
    [alert] = [a.alert for a in await rt.services.outbox.recent(communities=["bio"], limit=10)
               if a.alert and a.alert.basis is Basis.FORECAST]
    assert alert is not None and (alert.spend, alert.forecast) == (Decimal(45000), Decimal(161500))
    await rt.aclose()


async def test_an_allocation_used_on_track_gets_no_forecast_alert(
        tmp_path: Path, standin: OpenStackStandIn, database_url: str) -> None:
    # 150 SUs a day: 42,250 used by 16 January, and 228 days left at that pace make 76,450 of 100,000
    notifier = await walk(tmp_path, standin, database_url, {CPU: 120, GPU: 20, LARGE_MEMORY: 10}, range(10, 17))

    assert [text for channel, text in notifier.posts if channel == "CBIO00001"] == []
    when = datetime(2026, 1, 16, 18, tzinfo=UTC)
    rt = bio_runtime(tmp_path, standin, database_url, when, notifier)
    s = await summarize(rt.services, rt.fleet, "bio", at=when)
    assert (s.spend, s.forecast) == (Decimal(42250), Decimal(76450))
    await rt.aclose()
