"""/hub plans, /hub estimate and /hub request through the dispatcher, on a fleet with a menu and a
dated price snapshot: who may ask, what each says, Accept/Decline by engineers with the outcome
told in the community's channel, and bad input."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from hubbot.adapters.memory import MemoryHubApi, MemoryPriceCache, MemoryServiceRequests, RecordingNotifier
from hubbot.adapters.plan_prices import Jetstream2Prices, SnapshotPrices
from hubbot.domain import Outcome
from hubbot.markup import to_mrkdwn
from hubbot.pipeline.contract import Invocation
from hubbot.pipeline.dispatch import Dispatcher
from tests.support.fleet import CHANNEL_A, CHANNEL_OPS, ENGINEER, ENGINEER_2, LEADER_A, LEADER_B, MEMBER_A
from tests.support.memory import dispatcher, run

DEMO = Path(__file__).resolve().parents[1] / "hubbot" / "demo"
MENU = """
alerts: {engineers_channel: COPS00001}
plans:
  version: "2026.2"
  date: "2026-11-01"
  hourly_rate: 150
  tiers:
    - {name: essentials, title: Essentials, monthly_fee: 400,
       user_bands: [{up_to: 100, per_user: 0}, {up_to: 1000, per_user: 1.5}, {per_user: 0.75}],
       includes: {support_hours: 2, response_time: 2 business days, hubs: 1, backups: true}}
    - {name: dedicated, yearly_fee: 24000, includes: {dedicated_cluster: true, binderhub: true}}
  sizes: {small: {cpu: 0.5, memory: 2GiB}, large: {cpu: 2, memory: 8GiB}}
  estimates: {su_rate: 0.08, prices: prices.json, live_prices: false}
"""


@pytest.fixture
def d(fleet_file: Path) -> Dispatcher:
    fleet_file.write_text(fleet_file.read_text() + MENU)
    (fleet_file.parent / "prices.json").write_text((DEMO / "prices.json").read_text())
    found, _ = dispatcher(fleet_file)
    clock = found.services.clock
    hubs = {ref.qualified: MemoryHubApi(ref.qualified, users=("ana", "bo", "cy", "di"), activity={
        "ana": clock.now() - timedelta(days=2), "bo": clock.now() - timedelta(days=29),
        "cy": clock.now() - timedelta(days=45)}) for ref in found.fleet.hubs}
    found.services = dataclasses.replace(
        found.services, hub_apis=hubs, prices={"jetstream2": Jetstream2Prices()}, price_cache=MemoryPriceCache(),
        price_snapshots={p: SnapshotPrices(fleet_file.parent / "prices.json", p) for p in ("aws", "gcp")},
        requests=MemoryServiceRequests())
    return found


async def test_plans_lists_the_tiers_and_one_in_detail(d: Dispatcher) -> None:
    menu = await run(d, "plans", user=MEMBER_A)
    assert "Service menu 2026.2 (from 2026-11-01)" in menu.text
    assert "*Essentials* (`essentials`) — 400.00 USD a month; per monthly active user: first 100: free; 101–1,000: " \
           "1.50 USD each; above 1,000: 0.75 USD each" in menu.text
    assert "24,000.00 USD a year" in menu.text and "150.00 USD an hour" in menu.text
    one = await run(d, "plans dedicated", user=MEMBER_A)
    assert "• a dedicated cluster" in one.text and "• BinderHub" in one.text
    unknown = await run(d, "plans gold", user=MEMBER_A)
    assert unknown.kind == "not_found" and "tiers: essentials, dedicated" in unknown.text


async def test_estimate_matches_the_worked_example(d: Dispatcher) -> None:
    reply = await run(d, "estimate users=100 tier=essentials", user=MEMBER_A)
    assert reply.kind == "ok", reply.text
    text = reply.text
    assert "285.7 node-hours of m6i.xlarge (4 CPU, 16 GiB; 7 servers each) at 0.192 USD/h — $54.86" in text
    assert "Storage: 1,000 GiB at 0.08 USD/GiB-month — $80.00" in text
    assert "Core: one m6i.large all month (730 h) — $70.08" in text
    assert "Total: $604.94 a month (range $577.51–$632.37)" in text
    assert "prices of 2026-12-01" in text and "bundled snapshot of the AWS Price List API" in text


async def test_compare_shows_the_three_providers_and_jetstream2_in_service_units(d: Dispatcher) -> None:
    reply = await run(d, "estimate users=300 size=large --compare", user=MEMBER_A)
    lines = reply.text.splitlines()
    assert any(line.startswith("*aws* (us-west-2): $968.37") for line in lines), reply.text
    assert any(line.startswith("*gcp* (us-central1): $1,036.85") for line in lines), reply.text
    assert any(line.startswith("*jetstream2* (IU): 19,554.29 SU") and "≈ $1,564.34 at 0.08 USD per SU" in line
               for line in lines), reply.text
    both = await run(d, "estimate users=3 provider=gcp --compare", user=MEMBER_A)
    assert both.kind == "usage" and "leave out provider= and region=" in both.text


async def test_like_takes_users_from_the_hubs_active_users(d: Dispatcher) -> None:
    reply = await run(d, "estimate --like aws-cluster/staging", user=LEADER_A)
    assert "Estimate: 2 users on aws us-west-2" in reply.text, reply.text  # ana and bo within 30 days
    other = await run(d, "estimate --like gcp-cluster/staging", user=LEADER_A)
    assert "you cannot see gcp-cluster/staging's usage" in other.text


async def test_bad_estimates_say_what_is_wrong(d: Dispatcher) -> None:
    nowhere = ("no aws prices for eu-west-9: hubbot reads no aws prices from an API here, none were kept before, "
               "nor has the price snapshot")
    for text, said in (("estimate", "say how many users"), ("estimate users=-3", "users must be a whole number"),
                       ("estimate users=5 region=eu-west-9", nowhere),
                       ("estimate users=5 provider=jetstream2 region=TACC", "regions: IU")):
        reply = await run(d, text, user=MEMBER_A)
        assert said in reply.text and reply.kind != "ok", (text, reply.text)


async def test_a_request_goes_to_the_engineers_and_the_outcome_to_the_community(d: Dispatcher) -> None:
    notifier = d.services.notifier
    assert isinstance(notifier, RecordingNotifier)
    asked = await run(d, "request alpha a workshop hub for 40 people in March --hours 6 --users 40", user=LEADER_A,
                      channel=CHANNEL_A)
    assert asked.kind == "ok", asked.text
    assert "Request #1 recorded (6 h × $150.00 = $900.00; cloud for a hub of 40 users: about $" in asked.text
    channel, posted = notifier.posts[-1]
    assert channel == CHANNEL_OPS and "Request #1 from Alpha Community: a workshop hub for 40 people" in posted
    buttons = {e["text"]["text"]: e for blk in notifier.blocks[-1] if blk["type"] == "actions"
               for e in blk["elements"]}  # type: ignore[index, union-attr]
    accept, decline = buttons["Accept"], buttons["Decline"]

    async def press(button: dict[str, str], user: str) -> str:
        reply = await d.run_action(Invocation(user_id=user, channel_id=CHANNEL_OPS, text=""),
                                   action_id=button["action_id"], value=button["value"])
        return to_mrkdwn(reply.text)

    assert "only hub engineers" in await press(accept, LEADER_A)
    assert await press(accept, ENGINEER) == "Request #1 accepted."
    told = [text for ch, text in notifier.posts if ch == CHANNEL_A]
    assert told and "was :white_check_mark: accepted by <@UENG00001>" in to_mrkdwn(told[-1])
    assert "was accepted already by <@UENG00001>" in await press(decline, ENGINEER_2)
    listed = await run(d, "requests", user=LEADER_A, channel=CHANNEL_A)
    assert "#1 alpha · accepted by <@UENG00001>" in to_mrkdwn(listed.text)
    outsider = await run(d, "request alpha more hours", user=LEADER_B, channel=CHANNEL_A)
    assert outsider.kind == "denied"
    changes = [e for e in d.services.audit.entries if e.outcome is Outcome.CHANGED]  # type: ignore[attr-defined]
    assert [e.command for e in changes] == ["request", "request accepted"]


async def test_requests_reject_bad_hours_and_empty_asks(d: Dispatcher) -> None:
    for text, said in (("request alpha", "say what is needed"), ("request alpha x y --hours 0", "--hours must be"),
                       ("request alpha a hub --hours 2.25", "in half hours"), ("request nowhere a hub", "nowhere")):
        reply = await run(d, text, user=ENGINEER, channel=CHANNEL_A)
        assert said in reply.text and reply.kind != "ok", (text, reply.text)
    assert json.dumps(await d.services.requests.recent(communities=None, limit=5), default=str) == "[]"  # type: ignore[union-attr]


async def test_a_new_menu_is_audited_once_whoever_starts_with_it(d: Dispatcher) -> None:
    from hubbot.plans.menu import note_menu

    plans = d.fleet.config.plans
    assert plans is not None
    assert await note_menu(d.services, plans, source="fleet.yaml") is True
    assert await note_menu(d.services, plans, source="fleet.yaml") is False  # a second replica, a restart
    cheaper = plans.model_copy(update={"hourly_rate": Decimal(120)})
    assert await note_menu(d.services, cheaper, source="fleet.yaml") is True
    entries = [e for e in d.services.audit.entries if e.command == "plans"]  # type: ignore[attr-defined]
    assert [e.args for e in entries] == ["version 2026.2 of 2026-11-01"] * 2
    assert "120.00 USD an hour" in entries[-1].detail and "essentials 400.00 USD/month" in entries[-1].detail


def test_estimate_and_a_decided_request_end_to_end_through_slack(tmp_path: Path, fleet_file: Path) -> None:
    """Signed slash commands into the real app on the SQL stores: an estimate from the dated snapshot,
    a request posted to the engineers' channel, and its Accept button clicked by an engineer."""
    from tests.support.harness import harness

    fleet_file.write_text(fleet_file.read_text() + MENU)
    (fleet_file.parent / "prices.json").write_text((DEMO / "prices.json").read_text())
    with harness(tmp_path, fleet_file) as bot:
        ack = bot.slash("estimate users=100 tier=essentials", user=MEMBER_A, channel=CHANNEL_A)
        assert ack.status_code == 200
        bot.settle()
        answer = bot.standin.wait_for("response_url")[-1].args["text"]
        assert "Total: $604.94 a month" in answer, answer
        bot.slash("request alpha a custom image with R 4.4 --hours 3", user=LEADER_A, channel=CHANNEL_A, hook="r2")
        bot.settle()
        posted = bot.standin.wait_for("chat.postMessage")[-1].args
        assert posted["channel"] == CHANNEL_OPS and "a custom image with R 4.4" in posted["text"]
        blocks = json.loads(posted["blocks"]) if isinstance(posted["blocks"], str) else posted["blocks"]
        accept = next(e for blk in blocks if blk["type"] == "actions" for e in blk["elements"]
                      if e["text"]["text"] == "Accept")
        bot.click(user=ENGINEER, channel=CHANNEL_OPS, action_id=accept["action_id"], value=accept["value"])
        bot.settle()
        told = [c.args for c in bot.standin.of("chat.postMessage") if c.args["channel"] == CHANNEL_A]
        assert told and "accepted by <@UENG00001>" in told[-1]["text"], told
        stored = bot.served.call(bot.runtime.services.requests.recent(communities=None, limit=5))  # type: ignore[union-attr]
        assert [(r.state, r.hours, r.amount) for r in stored] == [("accepted", Decimal("3.00"), Decimal("450.00"))]
