"""A month of cost alerts, provider by provider, through the real adapters and the real cycle.

The same March runs against Cost Explorer (through boto3), the BigQuery export (the GCP
stand-in), CSV files and, in its own shape, the JetStream2 accounting API. Alpha's figures arrive
the way real ones do: each day after it has ended, one day two days late, one day first reported
at half and revised two days later. Alpha spends $70 a day, $710 on the 10th (a spike) and $510
a day from the 29th (a month-end overrun whose last day arrives after the month has closed). Its
leader raises the budget from $3,000 to $4,000 on the 15th. Beta's provider bills in euros
against a dollar budget. A cycle runs at 06:00 and 18:00 UTC from 1 March to 3 April.

What a careful human would send, each once:

* Alpha, $3,000 budget: 50 % when the 13th arrives ($1,550), and a forecast of overrun when
  the spike day arrives (a run rate of $161 a day heads to $4,730).
* Alpha, $4,000 budget (re-armed): a forecast of overrun at the first cycle after the raise
  ($4,364 at that run rate); 50 % once the late 20th is in; 75 % and 90 % as the overrun days
  arrive; 100 % of the closed March when its last day arrives on 1 April.
* Spikes: the 10th, and the three overrun days.
* Beta: one "billed in another currency" message a period (March, April).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from alerts import run_cycle
from hubbot.adapters.aws import AwsCostSource
from hubbot.adapters.gcp.costs import BigQueryCostSource
from hubbot.adapters.memory import FrozenClock, RecordingNotifier
from hubbot.domain import Post
from hubbot.fleet import AwsProvider, Fleet, FleetError, GcpProvider, load_fleet
from hubbot.main import Runtime, build
from hubbot.pipeline.contract import Invocation, Reply
from hubbot.ports import CostSource
from hubbot.settings import DatabaseSettings, Settings
from tests.support.aws import fake_credentials
from tests.support.gcp_standin import GcpStandIn
from tests.support.server import serve

MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)
SPIKE, LATE, REVISED, OVERRUN = date(2026, 3, 10), date(2026, 3, 20), date(2026, 3, 5), date(2026, 3, 29)
FIRST_CYCLE, LAST_CYCLE = datetime(2026, 3, 1, 6, tzinfo=UTC), datetime(2026, 4, 3, 18, tzinfo=UTC)
RAISED_AT = datetime(2026, 3, 15, 9, tzinfo=UTC)
LEADER = "ULEADA001"
Figures = dict[str, Decimal]  # hub name -> amount of one day


def alpha_true(day: date) -> Figures:
    prod = Decimal(700) if day == SPIKE else Decimal(500) if OVERRUN <= day < APRIL else Decimal(60)
    return {"prod": prod, "staging": Decimal(10)}


def alpha_known(day: date, at: datetime) -> Figures | None:
    """What alpha's provider has for ``day`` at ``at``: nothing before the day is over; the 20th
    only from noon on the 22nd; the 5th at half its prod cost until the 7th."""
    over = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    if at < over or (day == LATE and at < datetime(2026, 3, 22, 12, tzinfo=UTC)):
        return None
    figures = alpha_true(day)
    if day == REVISED and at < datetime(2026, 3, 7, tzinfo=UTC):
        figures = {**figures, "prod": figures["prod"] / 2}
    return figures


def beta_known(day: date, at: datetime) -> Figures | None:
    over = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    return {"lab": Decimal(20)} if at >= over else None


def days_known(known: Callable[[date, datetime], Figures | None], at: datetime,
               start: date = MARCH - timedelta(days=92)) -> Iterator[tuple[date, Figures]]:
    day = max(start, MARCH)
    while day <= at.date():
        figures = known(day, at)
        if figures is not None:
            yield day, figures
        day += timedelta(days=1)


FLEET = """
providers:
  alpha-bill: {alpha}
  beta-bill: {beta}
clusters:
  - name: c1
    provider: alpha-bill
    hubs:
      - {{name: staging, community: alpha, domain: s.alpha.test}}
      - {{name: prod, community: alpha, domain: alpha.test, tier: prod}}
  - name: c2
    provider: beta-bill
    hubs:
      - {{name: lab, community: beta, domain: lab.beta.test}}
communities:
  - name: alpha
    display_name: Alpha
    channel: CALPHA001
    leaders: [{leader}]
    budget: {{amount: 3000, currency: USD, period: monthly}}
  - name: beta
    display_name: Beta
    channel: CBETA0001
    budget: {{amount: 1000, currency: USD, period: monthly}}
roles:
  engineers: [UENG00001]
"""

# The alerts a careful human would send, in the order the cycles send them: (cycle, key).
EXPECTED = [
    ("2026-03-02 06:00", "currency:2026-03-01:beta@CBETA0001"),
    ("2026-03-11 06:00", "budget:2026-03-01:alpha:forecast:100:3000.00USD@CALPHA001"),
    ("2026-03-11 06:00", "spike:2026-03-10:c1/prod@CALPHA001"),
    ("2026-03-14 06:00", "budget:2026-03-01:alpha:actual:50:3000.00USD@CALPHA001"),
    ("2026-03-15 18:00", "budget:2026-03-01:alpha:forecast:100:4000.00USD@CALPHA001"),
    ("2026-03-22 06:00", "budget:2026-03-01:alpha:actual:50:4000.00USD@CALPHA001"),
    ("2026-03-30 06:00", "budget:2026-03-01:alpha:actual:75:4000.00USD@CALPHA001"),
    ("2026-03-30 06:00", "spike:2026-03-29:c1/prod@CALPHA001"),
    ("2026-03-31 06:00", "budget:2026-03-01:alpha:actual:90:4000.00USD@CALPHA001"),
    ("2026-03-31 06:00", "spike:2026-03-30:c1/prod@CALPHA001"),
    ("2026-04-01 06:00", "budget:2026-03-01:alpha:actual:100:4000.00USD@CALPHA001"),
    ("2026-04-01 06:00", "spike:2026-03-31:c1/prod@CALPHA001"),
    ("2026-04-02 06:00", "currency:2026-04-01:beta@CBETA0001"),
]


async def run(rt: Runtime, text: str, *, user: str = LEADER) -> Reply:
    return await rt.dispatcher.run(Invocation(user_id=user, channel_id="CALPHA001", text=text))


async def raise_budget(rt: Runtime) -> None:
    ask = await run(rt, "budget set alpha 4000")
    [button] = [e for block in ask.blocks if block["type"] == "actions" for e in block["elements"]
                if e["text"]["text"] == "Confirm"]
    done = await rt.dispatcher.run_action(Invocation(user_id=LEADER, channel_id="CALPHA001", text=""),
                                          action_id=button["action_id"], value=button["value"])
    assert "now $4,000.00 monthly" in done.text


async def simulate(rt: Runtime, clock: FrozenClock, publish: Callable[[datetime], None]) -> list[tuple[str, str]]:
    """Every cycle of the month, the provider's figures published as known at each; the sent
    alerts as (cycle, key), with no key sent twice. The last one says March has closed."""
    sent: list[tuple[str, str]] = []
    texts: dict[str, str] = {}
    at = FIRST_CYCLE
    while at <= LAST_CYCLE:
        if at - timedelta(hours=12) < RAISED_AT <= at:
            clock.advance(RAISED_AT - clock.now())
            await raise_budget(rt)
        clock.advance(at - clock.now())
        publish(at)
        report = await run_cycle(rt.services, rt.fleet, at=at, worker="w")
        assert report.refresh.errors == {}, (at, report.refresh.errors)
        sent += [(f"{at:%Y-%m-%d %H:%M}", m.key) for m in report.sent]
        texts |= {m.key: m.payload.text for m in report.sent if isinstance(m.payload, Post)}
        at += timedelta(hours=12)
    keys = [k for _, k in sent]
    assert len(keys) == len(set(keys)), "an alert was sent twice"
    closed = texts.get("budget:2026-03-01:alpha:actual:100:4000.00USD@CALPHA001", "")
    assert "used 103.3% of its budget in March 2026, which has closed" in closed, closed
    return sent


def runtime(tmp: Path, fleet_text: str, clock: FrozenClock,
            sources: Callable[[Fleet], dict[str, CostSource]] | None = None) -> Runtime:
    """The real wiring; ``sources`` replaces the cost sources it would build from the config."""
    (tmp / "fleet.yaml").write_text(fleet_text)
    fleet = load_fleet(tmp / "fleet.yaml")
    return build(Settings(database=DatabaseSettings(url=f"sqlite:///{tmp / 'db.sqlite3'}")), fleet, clock=clock,
                 notifier=RecordingNotifier(), sources=sources(fleet) if sources else None, mirrors={}, billing={})


def start_clock() -> FrozenClock:
    return FrozenClock(FIRST_CYCLE - timedelta(hours=1))


# -- CSV ----------------------------------------------------------------------------------------


async def test_a_month_of_csv_costs(tmp_path: Path) -> None:
    fleet = FLEET.format(alpha="{kind: csv, path: alpha.csv}", beta="{kind: csv, path: beta.csv}", leader=LEADER)
    clock = start_clock()
    rt = runtime(tmp_path, fleet, clock)  # the CSV sources the config names

    def publish(at: datetime) -> None:
        for name, known, currency in (("alpha", alpha_known, "USD"), ("beta", beta_known, "EUR")):
            rows = ["date,hub,amount,currency,service"]
            rows += [f"{day},{hub},{amount},{currency},compute" for day, figures in days_known(known, at)
                     for hub, amount in figures.items()]
            (tmp_path / f"{name}.csv").write_text("\n".join(rows) + "\n")

    assert await simulate(rt, clock, publish) == EXPECTED
    await rt.aclose()


# -- AWS Cost Explorer, through boto3 ------------------------------------------------------------


class CostExplorerAccount:
    """One account's Cost Explorer as boto3 reaches it: every GetCostAndUsage is answered from
    the figures known at the clock's time, in the API's response shape (every day of the open
    month ``Estimated``; the usage request grouped by tag and service, the rest by record type),
    and GetCostForecast says there is not enough history yet, as it does for new accounts."""

    def __init__(self, known: Callable[[date, datetime], Figures | None], currency: str, clock: FrozenClock) -> None:
        self.known, self.currency, self.clock = known, currency, clock
        self.requests: list[dict[str, Any]] = []

    def client(self) -> Any:
        import boto3

        client = boto3.session.Session().client("ce", region_name="us-east-1")
        client.meta.events.register("before-call.ce.GetCostAndUsage", self._cost_and_usage)
        client.meta.events.register("before-call.ce.GetCostForecast", self._forecast)
        return client

    def _cost_and_usage(self, params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]]:
        from botocore.awsrequest import AWSResponse

        body = json.loads(params["body"])
        self.requests.append(body)
        usage = "Not" not in body["Filter"]["And"][1]
        start, end = (date.fromisoformat(body["TimePeriod"][k]) for k in ("Start", "End"))
        now = self.clock.now()
        results = []
        day = start
        while day < end:
            figures = self.known(day, now) if usage and day >= MARCH else None  # a new account
            groups = [{"Keys": [f"hub${hub}", "Amazon Elastic Compute Cloud - Compute"],
                       "Metrics": {"AmortizedCost": {"Amount": str(amount), "Unit": self.currency}}}
                      for hub, amount in (figures or {}).items()]
            results.append({"TimePeriod": {"Start": day.isoformat(), "End": (day + timedelta(days=1)).isoformat()},
                            "Total": {}, "Groups": groups,
                            "Estimated": day.month == now.month or now.day <= 3})
            day += timedelta(days=1)
        return AWSResponse("", 200, {}, None), {"ResultsByTime": results, "DimensionValueAttributes": [],
                                                 "GroupDefinitions": body["GroupBy"]}

    def _forecast(self, **_: Any) -> tuple[Any, dict[str, Any]]:
        from botocore.awsrequest import AWSResponse

        error = {"Code": "DataUnavailableException", "Message": "Insufficient amount of historical data"}
        return AWSResponse("", 400, {}, None), {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400}}


async def test_a_month_of_cost_explorer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_credentials(monkeypatch)
    fleet = FLEET.format(alpha='{kind: aws, account_id: "111111111111", cost_tag_key: hub}',
                         beta='{kind: aws, account_id: "222222222222", cost_tag_key: hub}', leader=LEADER)
    accounts: dict[str, CostExplorerAccount] = {}

    def sources(f: Fleet) -> dict[str, CostSource]:
        out: dict[str, CostSource] = {}
        for name, known, currency in (("alpha-bill", alpha_known, "USD"), ("beta-bill", beta_known, "EUR")):
            provider = f.config.providers[name]
            assert isinstance(provider, AwsProvider)
            accounts[name] = CostExplorerAccount(known, currency, clock)
            out[name] = AwsCostSource(provider=provider, client_factory=accounts[name].client)
        return out

    clock = start_clock()
    rt = runtime(tmp_path, fleet, clock, sources)

    assert await simulate(rt, clock, lambda at: None) == EXPECTED
    # Two requests a refresh (usage, then the rest); only the first refresh of a UTC day reads the
    # whole window, the second re-reads the days not yet complete
    spans = [(date.fromisoformat(r["TimePeriod"]["End"]) - date.fromisoformat(r["TimePeriod"]["Start"])).days
             for r in accounts["alpha-bill"].requests]
    assert len(spans) == 2 * 68
    assert sum(1 for n in spans if n > 3) == 2 * 34
    await rt.aclose()


# -- GCP: the BigQuery billing export --------------------------------------------------------------


async def test_a_month_of_the_bigquery_export(tmp_path: Path) -> None:
    standin = GcpStandIn()
    table = "billing-admin.billing_export.gcp_billing_export_v1_0123AB_4567CD_89EF01"
    with serve(standin.app) as served:
        def provider(project: str) -> str:
            return (f'{{kind: gcp, project: {project}, billing_account: 0123AB-4567CD-89EF01, '
                    f'billing_export_table: "{table}", endpoint: "{served.url}"}}')

        fleet = FLEET.format(alpha=provider("alpha-hubs"), beta=provider("beta-hubs"), leader=LEADER)

        def sources(f: Fleet) -> dict[str, CostSource]:
            out: dict[str, CostSource] = {}
            for name in ("alpha-bill", "beta-bill"):
                p = f.config.providers[name]
                assert isinstance(p, GcpProvider)
                out[name] = BigQueryCostSource(p)
            return out

        clock = start_clock()
        rt = runtime(tmp_path, fleet, clock, sources)

        def publish(at: datetime) -> None:
            # each day's rows are written to the partition of the day they became known
            for project, known, currency in (("alpha-hubs", alpha_known, "USD"), ("beta-hubs", beta_known, "EUR")):
                standin.bq_by_project[project] = [
                    [day.isoformat(), hub, "Compute Engine", currency, "regular", str(amount),
                     max(day + timedelta(days=1), date(2026, 3, 7) if day == REVISED else day).isoformat()]
                    for day, figures in days_known(known, at) for hub, amount in figures.items()]

        assert await simulate(rt, clock, publish) == EXPECTED
        await rt.aclose()


# -- JetStream2: an allocation's service units, read as to-date totals ----------------------------

WORKSHOP = date(2026, 3, 25)


def su_used(day: date) -> Decimal:
    """Service units the project has used before ``day`` (true figures): 90,000 by 1 March, then
    300 a day, and 4,000 a day from the 25th (a workshop)."""
    used = Decimal(90000)
    d = MARCH
    while d < day:
        used += 4000 if d >= WORKSHOP else 300
        d += timedelta(days=1)
    return used


async def test_a_month_of_a_jetstream2_allocation(tmp_path: Path) -> None:
    """The accounting API reports to-date totals, updated once a day; on the 6th it double counts
    500 SUs and corrects it on the 7th; on the 20th it is down all day. The allocation budget of
    100,000 SUs is 90 % used on 1 March; the leader raises it to 120,000 on the 15th.

    A careful human sends: 90 % at the first cycle (75 % and 50 % were passed long ago: recorded,
    not sent); once two readings a day apart give a pace, a forecast of overrun (300 SUs a day
    for the 183 days left make 145,200); at the raise, 75 % of the new budget (94,200 of 120,000)
    and its own forecast of overrun; then, as the workshop burns 4,000 SUs a day, 90 % and 100 %
    — each once, nothing for the double count or the outage."""
    from hubbot.settings import OpenStackCredential
    from tests.support.openstack_standin import (
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

    standin = OpenStackStandIn()
    with serve(standin.app) as served:
        standin.base_url = served.url
        path = tmp_path / "fleet.yaml"
        # A dollar budget on service units is refused before anything runs
        path.write_text(bio_fleet(served.url, leader=LEADER, amount=5000, currency="USD"))
        with pytest.raises(FleetError, match="set the budget's currency to SU"):
            load_fleet(path)
        path.write_text(bio_fleet(served.url, leader=LEADER))
        clock = start_clock()
        settings = Settings(database=DatabaseSettings(url=f"sqlite:///{tmp_path / 'db.sqlite3'}"),
                            openstack={"js2": OpenStackCredential(id=CREDENTIAL_ID, secret=CREDENTIAL_SECRET)})
        rt = build(settings, load_fleet(path), clock=clock, notifier=RecordingNotifier())

        sent: list[tuple[str, str]] = []
        texts: dict[str, str] = {}
        at = FIRST_CYCLE
        while at < datetime(2026, 4, 1, tzinfo=UTC):
            if at - timedelta(hours=12) < RAISED_AT <= at:
                clock.advance(RAISED_AT - clock.now())
                ask = await rt.dispatcher.run(Invocation(user_id=LEADER, channel_id="CBIO00001",
                                                         text="budget set bio 120000"))
                [button] = [e for block in ask.blocks if block["type"] == "actions" for e in block["elements"]
                            if e["text"]["text"] == "Confirm"]
                done = await rt.dispatcher.run_action(Invocation(user_id=LEADER, channel_id="CBIO00001", text=""),
                                                      action_id=button["action_id"], value=button["value"])
                assert "now 120,000.00 SU" in done.text, done.text
            clock.advance(at - clock.now())
            standin.now = at
            used = su_used(at.date()) + (500 if at.date() == date(2026, 3, 6) else 0)
            shares = {CPU: Decimal("0.8"), GPU: Decimal("0.15"), LARGE_MEMORY: Decimal("0.05")}
            standin.allocations = [allocation(r, allocated=float(100000 * share), used=float(used * share),
                                              start="2025-09-01", end="2026-08-31") for r, share in shares.items()]
            standin.allocations.append(allocation(STORAGE, allocated=5.0, used=None))
            down = at.date() == LATE
            if down:
                standin.fail("accounting", 503)
            report = await run_cycle(rt.services, rt.fleet, at=at, worker="w")
            assert bool(report.refresh.errors) == down, (at, report.refresh.errors)
            sent += [(f"{at:%Y-%m-%d %H:%M}", m.key) for m in report.sent]
            texts |= {m.key: m.payload.text.splitlines()[0] for m in report.sent if isinstance(m.payload, Post)}
            at += timedelta(hours=12)
        await rt.aclose()

    keys = [k for _, k in sent]
    assert len(keys) == len(set(keys)), "an alert was sent twice"
    assert sent == [
        ("2026-03-01 06:00", "budget:2025-09-01:bio:actual:90:100000.00SU@CBIO00001"),
        ("2026-03-02 18:00", "budget:2025-09-01:bio:forecast:100:100000.00SU@CBIO00001"),
        ("2026-03-15 18:00", "budget:2025-09-01:bio:actual:75:120000.00SU@CBIO00001"),
        ("2026-03-15 18:00", "budget:2025-09-01:bio:forecast:100:120000.00SU@CBIO00001"),
        ("2026-03-28 06:00", "budget:2025-09-01:bio:actual:90:120000.00SU@CBIO00001"),
        ("2026-03-31 06:00", "budget:2025-09-01:bio:actual:100:120000.00SU@CBIO00001"),
    ]
    assert texts["budget:2025-09-01:bio:forecast:100:100000.00SU@CBIO00001"] == (
        ":crystal_ball: Bio Course is forecast to spend 145,200.00 SU this period")
    assert texts["budget:2025-09-01:bio:actual:100:120000.00SU@CBIO00001"] == (
        ":rotating_light: Bio Course has used 101.0% of its budget (100% threshold)")
