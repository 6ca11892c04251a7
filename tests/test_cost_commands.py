"""`/hub cost`, `/hub budget` and `/hub alerts` through the real dispatcher, on a SQLite ledger."""

from __future__ import annotations

import struct
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from alerts import run_cycle
from hubbot.adapters.memory import FrozenClock, RecordingNotifier
from hubbot.domain import LedgerLine, Outcome
from hubbot.main import Runtime
from hubbot.markup import to_mrkdwn
from hubbot.pipeline.contract import Invocation, Reply
from tests.support.costs import runtime, setup_costs

NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)
ENGINEER, LEADER_A, LEADER_B = "UENG00001", "ULEADA001", "ULEADB001"


class Mirror:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[str, Decimal]] = []
        self.fail = fail

    async def mirror(self, *, community: str, amount: Decimal, currency: str, period: str,
                     thresholds: list[int]) -> str:
        from hubbot.errors import UpstreamError

        if self.fail:
            raise UpstreamError("budgets API said no")
        self.calls.append((community, amount))
        return f"billingAccounts/X/budgets/{community}"


@pytest.fixture
async def rt(tmp_path: Path) -> Runtime:
    r = runtime(setup_costs(tmp_path, days=14), f"sqlite:///{tmp_path / 'db.sqlite3'}", clock=FrozenClock(NOW),
                notifier=RecordingNotifier())
    await run_cycle(r.services, r.fleet, at=NOW, worker="t")
    return r


async def run(rt: Runtime, text: str, *, user: str = ENGINEER, channel: str = "COPS00001") -> Reply:
    return await rt.dispatcher.run(Invocation(user_id=user, channel_id=channel, text=text))


async def click(rt: Runtime, reply: Reply, label: str, *, user: str) -> Reply:
    for block in reply.blocks:
        for e in block.get("elements", []):
            if block["type"] == "actions" and e["text"]["text"] == label:
                return await rt.dispatcher.run_action(Invocation(user_id=user, channel_id="CALPHA001", text=""),
                                                      action_id=e["action_id"], value=e["value"])
    raise AssertionError(f"no button {label}")


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


async def test_cost_shows_spend_forecast_budget_top_hubs_and_a_chart(rt: Runtime) -> None:
    reply = await run(rt, "cost alpha")
    assert reply.ok, reply.text
    assert "Spend: $700.00 in March 2026" in reply.text  # 14 days × 50
    assert "Budget: $1,000.00 (monthly) — 70.0% used" in reply.text
    assert "Forecast for the period: $1,550.00" in reply.text and "Days left: 17" in reply.text
    assert "c1/prod" in reply.text and "data as of 2026-03-15 12:00 UTC (CSV days are as written)" in reply.text
    (chart,) = reply.files
    assert chart.mimetype == "image/png" and len(chart.content) > 10_000
    assert png_size(chart.content) == (1000, 500)


async def test_chart_has_axes_and_lines(rt: Runtime) -> None:
    import matplotlib

    from hubbot.render.chart import cost_chart
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    png = cost_chart(title="t", days=[datetime(2026, 3, d).date() for d in range(1, 4)],
                     daily=[Decimal(1), Decimal(2), Decimal(3)], budget=Decimal(10), currency="USD")
    assert png_size(png) == (1000, 500)
    assert plt.get_fignums() == []  # the figure is closed, no leak per request


def test_the_chart_shows_the_days_spend_the_running_total_the_budget_and_the_forecast() -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import dates as mdates
    from matplotlib import pyplot as plt

    from hubbot.render.chart import cost_figure

    days = [datetime(2026, 3, d).date() for d in range(1, 5)]
    fig = cost_figure(title="Alpha — March 2026", days=days, daily=[Decimal(10), Decimal(0), Decimal("25.5"),
                      Decimal(4)], budget=Decimal(100), currency="USD", forecast=Decimal(120),
                      period_end=datetime(2026, 3, 31).date())
    try:
        bars_ax, lines_ax = fig.axes
        bars = bars_ax.patches
        assert [round(p.get_height(), 2) for p in bars] == [10.0, 0.0, 25.5, 4.0]
        assert [mdates.num2date(p.get_x() + p.get_width() / 2).date() for p in bars] == days
        lines = {line.get_label(): line for line in lines_ax.get_lines()}
        assert list(lines["cumulative"].get_ydata()) == [10.0, 10.0, 35.5, 39.5]
        assert list(lines["budget 100"].get_ydata()) == [100.0, 100.0]
        forecast = lines["forecast"]
        assert list(forecast.get_ydata()) == [39.5, 120.0]
        assert mdates.num2date(forecast.get_xdata()[-1]).date() == datetime(2026, 3, 31).date()
        assert bars_ax.get_title() == "Alpha — March 2026" and "USD" in bars_ax.get_ylabel()
    finally:
        plt.close(fig)


async def test_cost_by_service_and_day_and_for_a_hub(rt: Runtime) -> None:
    assert "compute" in (await run(rt, "cost alpha --by service")).text
    assert "2026-03-14" in (await run(rt, "cost alpha --by day")).text
    hub = await run(rt, "cost c1/prod")
    assert hub.ok and "Costs of c1/prod (Alpha)" in hub.text


async def test_cost_defaults_to_the_channels_community(rt: Runtime) -> None:
    reply = await run(rt, "cost", user=LEADER_A, channel="CALPHA001")
    assert "Costs of Alpha" in reply.text


async def test_engineers_get_a_fleet_overview(rt: Runtime) -> None:
    reply = await run(rt, "cost")
    assert "alpha" in reply.text and "beta" in reply.text
    assert "Not charged to any community" not in reply.text  # every line of the fixture is some community's


async def test_engineers_see_the_spend_no_community_is_charged(rt: Runtime) -> None:
    """Untagged lines of a provider several communities share (a Savings Plan's fee, say) belong
    to no community: no community's figures show them, so the engineers' overview does."""
    shared = [LedgerLine(day=date(2026, 3, d), provider="aws-shared", hub=None, community=None,
                         service="Savings Plans for AWS Compute usage", amount=Decimal("120.50"), currency="USD",
                         kind="recurring") for d in (1, 2)]
    await rt.services.ledger.replace(provider="aws-shared", start=date(2026, 3, 1), end=date(2026, 4, 1),
                                     lines=shared, at=NOW)
    reply = await run(rt, "cost")
    assert "Not charged to any community in March 2026:* aws-shared $241.00" in reply.text
    leader = await run(rt, "cost alpha", user=LEADER_A)
    assert "aws-shared" not in leader.text and "Not charged" not in leader.text


@pytest.mark.parametrize("text,message", [
    ("cost alpha --month 2026-13", "is not a month"),
    ("cost alpha --month 2027-01", "in the future"),
    ("cost alpha --month march", "is not a month"),
    ("cost alpha --by colour", "--by must be one of hub, service, day"),
    ("cost nowhere", "neither a community nor a hub"),
])
async def test_cost_bad_input(rt: Runtime, text: str, message: str) -> None:
    reply = await run(rt, text)
    assert not reply.ok and message in reply.text


async def test_a_leader_cannot_see_another_communitys_costs(rt: Runtime) -> None:
    assert (await run(rt, "cost beta", user=LEADER_A)).kind == "denied"
    assert (await run(rt, "budget show beta", user=LEADER_A)).kind == "denied"


async def test_budget_show(rt: Runtime) -> None:
    reply = await run(rt, "budget show alpha", user=LEADER_A)
    assert "Thresholds: 50%, 75%, 90%, 100%, 120%" in reply.text and "from the fleet config" in reply.text


async def test_budget_set_asks_then_changes_and_audits(rt: Runtime) -> None:
    ask = await run(rt, "budget set alpha 2,500 --thresholds 50,80,100 --forecast off", user=LEADER_A)
    assert "Please confirm: set the budget of alpha to $2,500.00 monthly (was $1,000.00 monthly)" in ask.text
    assert await rt.services.budgets.get("alpha") is None  # nothing changed yet
    done = await click(rt, ask, "Confirm", user=LEADER_A)
    assert "now $2,500.00 monthly" in done.text
    stored = await rt.services.budgets.get("alpha")
    assert stored is not None and stored.amount == Decimal("2500.00") and stored.thresholds == (50, 80, 100)
    assert stored.forecast is False and stored.set_by == LEADER_A
    shown = await run(rt, "budget show alpha", user=LEADER_A)
    assert f"set by <@{LEADER_A}>" in to_mrkdwn(shown.text) and "28.0% used" in shown.text
    await rt.services.audit.flush()
    changes = [e for e in await rt.services.audit.query(communities=["alpha"], hub=None, limit=20)
               if e.outcome is Outcome.CHANGED]
    assert changes and changes[0].command == "budget set" and changes[0].user == LEADER_A


async def test_budget_set_mirrors_to_the_providers_budget_first(tmp_path: Path) -> None:
    mirror = Mirror()
    rt = runtime(setup_costs(tmp_path, days=14), f"sqlite:///{tmp_path / 'db.sqlite3'}", clock=FrozenClock(NOW),
                 mirrors={"aws-a": mirror})
    await run_cycle(rt.services, rt.fleet, at=NOW, worker="t")
    ask = await run(rt, "budget set alpha 1200")
    await click(rt, ask, "Confirm", user=ENGINEER)
    assert mirror.calls == [("alpha", Decimal("1200"))]
    mirror.fail = True
    ask = await run(rt, "budget set alpha 5000")
    reply = await click(rt, ask, "Confirm", user=ENGINEER)
    assert reply.kind == "upstream" and "was not changed" in reply.text
    stored = await rt.services.budgets.get("alpha")
    assert stored is not None and stored.amount == Decimal("1200.00")  # nothing half-applied


@pytest.mark.parametrize("text,message", [
    ("budget set alpha -5", "more than zero"),
    ("budget set alpha 0", "more than zero"),
    ("budget set alpha lots", "is not an amount"),
    ("budget set alpha NaN", "more than zero"),
    ("budget set alpha 1e12", "more than hubbot accepts"),
    ("budget set alpha 10.001", "at most two decimals"),
    ("budget set alpha 100 --currency dollars", "not a currency code"),
    ("budget set alpha 100 --currency ZZ", "not a currency code"),
    ("budget set alpha 100 --thresholds 90,50", "increasing"),
    ("budget set alpha 100 --thresholds 0,50", "between 1 and 1000"),
    ("budget set alpha 100 --thresholds a,b", "whole percentages"),
    ("budget set alpha 100 --period yearly", "--period must be one of"),
    ("budget set alpha 100 --period allocation", "JetStream2"),
    ("budget set alpha 100 --forecast maybe", "--forecast must be one of on, off"),
    ("budget set nowhere 100", "neither a community nor a hub"),
    ("budget set alpha", "missing <amount>"),
])
async def test_budget_set_bad_input_changes_nothing(rt: Runtime, text: str, message: str) -> None:
    reply = await run(rt, text)
    assert not reply.ok and message in reply.text, reply.text
    assert await rt.services.budgets.get("alpha") is None
    assert reply.blocks == ()  # no confirmation buttons


async def test_alerts_list_and_buttons(rt: Runtime) -> None:
    listing = await run(rt, "alerts alpha", user=LEADER_A)
    assert "50% of budget" in listing.text and "[sent]" in listing.text
    alert = next(a for a in await rt.services.outbox.recent(communities=["alpha"], limit=10) if a.state == "sent")
    ack = await rt.dispatcher.run_action(Invocation(user_id=LEADER_A, channel_id="CALPHA001", text=""),
                                         action_id="hubbot:alerts:ack", value=str(alert.id))
    assert "acknowledged" in ack.text
    again = await rt.dispatcher.run_action(Invocation(user_id=ENGINEER, channel_id="CALPHA001", text=""),
                                           action_id="hubbot:alerts:ack", value=str(alert.id))
    assert f"Already acknowledged by <@{LEADER_A}>" in to_mrkdwn(again.text)
    denied = await rt.dispatcher.run_action(Invocation(user_id=LEADER_B, channel_id="CBETA0001", text=""),
                                            action_id="hubbot:alerts:mute", value=str(alert.id))
    assert denied.kind == "denied"
    muted = await rt.dispatcher.run_action(Invocation(user_id=LEADER_A, channel_id="CALPHA001", text=""),
                                           action_id="hubbot:alerts:mute", value=str(alert.id))
    assert "muted alpha's alerts until 2026-04-01" in muted.text
    assert "acknowledged by" in (await run(rt, "alerts alpha", user=LEADER_A)).text


async def test_muted_community_gets_no_more_alerts_this_period(tmp_path: Path) -> None:
    rt = runtime(setup_costs(tmp_path, days=12), f"sqlite:///{tmp_path / 'db.sqlite3'}", clock=FrozenClock(NOW))
    notifier = rt.services.notifier
    assert isinstance(notifier, RecordingNotifier)
    await run_cycle(rt.services, rt.fleet, at=datetime(2026, 3, 12, tzinfo=UTC), worker="t")
    alert = next(a for a in await rt.services.outbox.recent(communities=["alpha"], limit=10) if a.state == "sent")
    await rt.dispatcher.run_action(Invocation(user_id=LEADER_A, channel_id="CALPHA001", text=""),
                                   action_id="hubbot:alerts:mute", value=str(alert.id))
    before = len(notifier.posts)
    from tests.support.costs import write_costs

    write_costs(tmp_path / "costs-a.csv", datetime(2026, 3, 1).date(), 30, lambda d: {"prod": Decimal("50")})
    await run_cycle(rt.services, rt.fleet, at=datetime(2026, 3, 30, tzinfo=UTC), worker="t")
    assert [t for ch, t in notifier.posts[before:] if ch == "CALPHA001"] == []
    await rt.aclose()


@pytest.mark.parametrize("value", ["", "abc", "999999", "-1", "1" * 400])
async def test_alert_buttons_with_hostile_values(rt: Runtime, value: str) -> None:
    reply = await rt.dispatcher.run_action(Invocation(user_id=ENGINEER, channel_id="COPS00001", text=""),
                                           action_id="hubbot:alerts:ack", value=value)
    assert reply.kind == "not_found"


def test_service_units_are_also_shown_as_money() -> None:
    from datetime import date as day

    from hubbot.costs.periods import Period
    from hubbot.costs.summary import Summary, su_rate, summary_lines
    from hubbot.domain import Budget
    from hubbot.fleet import parse_fleet

    fleet = parse_fleet({
        "providers": {"js2": {"kind": "openstack", "auth_url": "https://keystone.test/v3", "project": "TRA1",
                              "su_rate": "0.08"}},
        "clusters": [{"name": "k", "provider": "js2", "hubs": [{"name": "h", "community": "c", "domain": "h.test"}]}],
        "communities": [{"name": "c"}],
    })
    rate = su_rate(fleet, "c", "SU")
    assert rate == (Decimal("0.08"), "USD") and su_rate(fleet, "c", "USD") is None
    s = Summary(community="c", title="C", period=Period(day(2025, 9, 1), day(2026, 9, 1)), today=day(2026, 3, 1),
                currency="SU", spend=Decimal("125000"), forecast=None, rate=rate,
                budget=Budget(amount=Decimal("500000"), currency="SU", period="allocation", thresholds=(50,)))
    assert summary_lines(s)[0] == "*Spend:* 125,000.00 SU (≈ $10,000.00) in 2025-09-01 – 2026-08-31"


async def test_cost_budget_show_and_the_alert_agree_when_a_provider_reading_is_ahead_of_the_ledger(
    tmp_path: Path,
) -> None:
    """A provider's own to-date figure (a GCP budget push, a JetStream2 allocation) above the daily
    ledger counts as the spend everywhere, and the forecast builds on it everywhere."""
    from datetime import date

    from hubbot.costs.summary import summarize, summary_lines
    from hubbot.domain import Basis, CostReading
    from hubbot.render.text import unstyled
    from tests.support.costs import text as text_of

    rt = runtime(setup_costs(tmp_path, days=14), f"sqlite:///{tmp_path / 'db.sqlite3'}", clock=FrozenClock(NOW))
    await run_cycle(rt.services, rt.fleet, at=NOW, worker="t")  # the ledger: 14 days of 50 = 700 of 1000
    await rt.services.ledger.put_readings(provider="aws-a", community="alpha", readings=[CostReading(
        start=date(2026, 3, 1), end=date(2026, 4, 1), amount=Decimal("950"), currency="USD", as_of=NOW)])
    report = await run_cycle(rt.services, rt.fleet, at=NOW, worker="t", fetch=False)
    [alert] = [a for a in report.sent if a.channel == "CALPHA001" and a.alert and a.alert.basis is Basis.ACTUAL]
    s = await summarize(rt.services, rt.fleet, "alpha", at=NOW)
    assert s.spend == Decimal("950") and s.forecast is not None and s.forecast > Decimal("950")
    assert alert.alert is not None and (alert.alert.spend, alert.alert.forecast) == (s.spend, s.forecast)
    lines = [unstyled(line) for line in summary_lines(s)]
    spend_line, forecast_line = lines[0], next(line for line in lines if line.startswith("Forecast"))
    for said in (text_of(alert), (await run(rt, "cost alpha")).text, (await run(rt, "budget show alpha")).text):
        assert spend_line in said and forecast_line in said
