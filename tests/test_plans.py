"""Estimates checked against hand-computed examples (packing several servers per node, the tie
going to the smaller node, nothing fitting), tier fees in user bands, the words of /hub estimate
with their bad forms, and prices kept, refreshed and fallen back on — never made up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from hubbot.adapters.memory import FrozenClock, MemoryPriceCache, MemoryPrices
from hubbot.adapters.plan_prices import Jetstream2Prices
from hubbot.domain.prices import MachinePrice, PriceTable, table_from_json, table_to_json
from hubbot.errors import NotFound, UpstreamError, UsageError
from hubbot.fleet.menu import PlansConfig, TierConfig
from hubbot.plans import asks
from hubbot.plans.estimate import Ask, choose_node, estimate, servers_per_node
from hubbot.plans.fees import bands_text, monthly_fee, user_fees
from hubbot.plans.prices import prices_for
from hubbot.ports import Services

D = Decimal
AT = datetime(2026, 12, 1, tzinfo=UTC)
AWS = PriceTable(provider="aws", region="us-west-2", currency="USD", storage_gib_month=D("0.08"), fetched_at=AT,
                 source="test", machines=(
                     MachinePrice("m6i.large", D(2), D(8), D("0.096")), MachinePrice("m6i.xlarge", D(4), D(16),
                                                                                    D("0.192")),
                     MachinePrice("m6i.2xlarge", D(8), D(32), D("0.384")), MachinePrice("m6i.4xlarge", D(16), D(64),
                                                                                       D("0.768")),
                     MachinePrice("r6i.large", D(2), D(16), D("0.126"))))
MENU = PlansConfig.model_validate({
    "version": "1", "date": "2026-11-01", "hourly_rate": 150,
    "tiers": [{"name": "essentials", "monthly_fee": 400, "user_bands": [
        {"up_to": 100, "per_user": 0}, {"up_to": 1000, "per_user": "1.5"}, {"per_user": "0.75"}]},
        {"name": "yearly", "yearly_fee": 24000}],
    "sizes": {"small": {"cpu": "0.5", "memory": "2GiB"}, "large": {"cpu": 2, "memory": "8GiB"}},
    "estimates": {"size": "small"}})


def ask(users: int = 100, *, hours: str = "20", cpu: str = "0.5", memory: str = "2", storage: str = "10",
        tier: TierConfig | None = None) -> Ask:
    return Ask(users=users, hours=D(hours), cpu=D(cpu), memory_gib=D(memory), storage_gib=D(storage), size="small",
               tier=tier)


def test_the_worked_example_by_hand() -> None:
    """100 users, 20 h each, 0.5 CPU / 2 GiB, 10 GiB each, essentials, AWS us-west-2:
    m6i.xlarge holds min(4×0.9/0.5, 16×0.9/2) = min(7.2, 7.2) → 7 servers, 0.192/7 = 0.02743 a server-hour;
    m6i.2xlarge (14) and m6i.4xlarge (28) cost the same per server, m6i.large (3) 0.032, r6i.large (3) 0.042:
    the smaller of the cheapest, m6i.xlarge. 2,000 server-hours / 7 = 285.714… node-hours × 0.192 = 54.857…;
    storage 1,000 GiB × 0.08 = 80; core m6i.large 730 h × 0.096 = 70.08; cloud 204.937… → $204.94;
    fee 400 + 0 (the first 100 users are free) = 400; total $604.94; range compute 27.43 / 82.29."""
    essentials = MENU.tier("essentials")
    e = estimate(ask(tier=essentials), AWS, core_machine="m6i.large")
    assert (e.node.name, e.per_node) == ("m6i.xlarge", 7)
    assert round(e.node_hours, 3) == D("285.714") and round(e.compute, 2) == D("54.86")
    assert e.storage == D("80.00") and e.core_cost == D("70.080")
    assert round(e.cloud, 2) == D("204.94") and e.fee == D(400)
    assert round(e.low_compute, 2) == D("27.43") and round(e.high_compute, 2) == D("82.29")
    assert round(e.cloud_low, 2) == D("177.51") and round(e.cloud_high, 2) == D("232.37")


def test_packing_is_bound_by_the_tighter_of_cpu_and_memory() -> None:
    big = MachinePrice("r6i.large", D(2), D(16), D("0.126"))
    assert servers_per_node(big, cpu=D("0.5"), memory_gib=D(2)) == 3  # 1.8 CPU / 0.5 → 3; 14.4 GiB / 2 → 7
    assert servers_per_node(big, cpu=D("0.25"), memory_gib=D(4)) == 3  # memory-bound: 14.4 / 4 → 3
    # memory-hungry servers (1 CPU, 12 GiB): r6i.large holds 1 (14.4 GiB) at 0.126 a server-hour; m6i.4xlarge
    # holds 4 (57.6 GiB) at 0.768 / 4 = 0.192; m6i.2xlarge 2 (28.8 GiB) at 0.192: the memory-optimised one wins
    node, per = choose_node(AWS.machines, cpu=D(1), memory_gib=D(12))
    assert (node.name, per) == ("r6i.large", 1)
    with pytest.raises(UsageError, match="fits on none of the node types priced here"):
        choose_node(AWS.machines, cpu=D(32), memory_gib=D(8))


def test_fees_by_user_band() -> None:
    essentials = MENU.tier("essentials")
    assert essentials is not None
    assert user_fees(essentials, 100) == 0
    assert user_fees(essentials, 101) == D("1.5")
    assert user_fees(essentials, 1000) == D("1350.0")  # 900 × 1.5
    assert user_fees(essentials, 1500) == D("1725.00")  # 900 × 1.5 + 500 × 0.75
    assert monthly_fee(essentials, 1500) == D("2125.00")
    yearly = MENU.tier("yearly")
    assert yearly is not None and monthly_fee(yearly, 50) == D(2000)
    assert bands_text(essentials, "USD") == "first 100: free; 101–1,000: 1.50 USD each; above 1,000: 0.75 USD each"


@pytest.mark.parametrize("words,message", [
    ([], "say how many users"),
    (["users=0"], "users must be a whole number from 1 to 100,000, not 0"),
    (["users=1e9"], "users must be a whole number"),
    (["users=12.5"], "users must be a whole number"),
    (["users=ten"], "users=ten is not a number"),
    (["users=10", "hours=0"], "hours must be a number from 1 to 744"),
    (["users=10", "size=huge"], "unknown size 'huge' (sizes: small, large; or cpu= and memory=)"),
    (["users=10", "size=small", "cpu=1"], "give either size=NAME or cpu= and memory=, not both"),
    (["users=10", "cpu=1"], "needs both cpu= and memory="),
    (["users=10", "cpu=100", "memory=4GiB"], "more than 64 CPU"),
    (["users=10", "cpu=1", "memory=4"], "a size needs a unit"),
    (["users=10", "provider=azure"], "unknown provider 'azure' (providers: aws, gcp, jetstream2)"),
    (["users=10", "tier=gold"], "unknown tier 'gold' (tiers: essentials, yearly)"),
    (["users=10", "users=20"], "users is given twice"),
    (["users=10", "colour=red"], "unknown 'colour'"),
    (["10"], "'10' is not key=value"),
    (["users=NaN"], "users must be a whole number"),
])
def test_bad_words_say_the_valid_choices(words: list[str], message: str) -> None:
    with pytest.raises(UsageError) as caught:
        asks.parse(words, MENU)
    assert message in str(caught.value)


def test_words_and_defaults() -> None:
    q = asks.parse(["users=40", "cpu=1", "memory=4GiB", "provider=gcp", "tier=essentials"], MENU)
    assert (q.ask.users, q.ask.cpu, q.ask.memory_gib, q.provider) == (40, D(1), D(4), "gcp")
    assert q.ask.hours == D(20) and q.ask.storage_gib == D(10) and q.ask.tier is MENU.tier("essentials")
    default = asks.parse(["users=5"], MENU)
    assert (default.ask.size, default.ask.cpu, default.ask.memory_gib) == ("small", D("0.5"), D(2))


def services(**kw: object) -> Services:
    from hubbot.adapters.memory import (
        MemoryAuditLog,
        MemoryBudgets,
        MemoryCostLedger,
        MemoryEventLedger,
        MemoryOutbox,
        MemoryPendingActions,
        RecordingNotifier,
        StaticDirectory,
    )

    return Services(audit=MemoryAuditLog(), clock=FrozenClock(), events=MemoryEventLedger(),
                    directory=StaticDirectory(), pending=MemoryPendingActions(), ledger=MemoryCostLedger(),
                    budgets=MemoryBudgets(), outbox=MemoryOutbox(), notifier=RecordingNotifier(), **kw)  # type: ignore[arg-type]


async def test_prices_are_kept_a_day_then_read_again() -> None:
    live, cache = MemoryPrices({"us-west-2": AWS}), MemoryPriceCache()
    s = services(prices={"aws": live}, price_cache=cache)
    large = AWS.machine("m6i.large")
    first = await prices_for(s, provider="aws", region="us-west-2", machines=["m6i.large"], now=AT)
    assert first.table.machines == (large,) and first.why_older == "" and len(live.calls) == 1
    again = await prices_for(s, provider="aws", region="us-west-2", machines=["m6i.large"],
                             now=AT + timedelta(hours=23))
    assert again.table == first.table and len(live.calls) == 1  # kept
    await prices_for(s, provider="aws", region="us-west-2", machines=["m6i.large"], now=AT + timedelta(days=1))
    assert len(live.calls) == 2
    await prices_for(s, provider="aws", region="us-west-2", machines=["m6i.large", "r6i.large"],
                     now=AT + timedelta(days=1))
    assert len(live.calls) == 3  # the table kept lacks a machine now wanted: read again
    with pytest.raises(NotFound):
        await prices_for(s, provider="aws", region="mars-1", machines=["m6i.large"], now=AT)


async def test_an_unreachable_api_falls_back_to_the_kept_table_then_the_snapshot_never_to_nothing() -> None:
    cache = MemoryPriceCache()
    await cache.put(AWS)
    down = MemoryPrices({"us-west-2": AWS})
    down.failure = UpstreamError("connection refused")
    s = services(prices={"aws": down}, price_cache=cache)
    later = AT + timedelta(days=9)
    kept = await prices_for(s, provider="aws", region="us-west-2", machines=["m6i.large"], now=later)
    assert kept.table is AWS and "aws's price API could not be read (connection refused)" in kept.why_older
    assert kept.dated(later) == ("prices of 2026-12-01 (9 days old, test; aws's price API could not be read "
                                 "(connection refused))")
    snapshot = MemoryPrices({"us-west-2": AWS})
    bare = services(prices={"aws": down}, price_cache=MemoryPriceCache(), price_snapshots={"aws": snapshot})
    found = await prices_for(bare, provider="aws", region="us-west-2", machines=["m6i.xlarge"], now=later)
    assert found.table.machines == (AWS.machine("m6i.xlarge"),) and found.why_older
    nothing = services(prices={"aws": down}, price_cache=MemoryPriceCache())
    with pytest.raises(UpstreamError, match="no aws prices for us-west-2: aws's price API could not be read"):
        await prices_for(nothing, provider="aws", region="us-west-2", machines=[], now=later)


async def test_jetstream2_is_priced_in_service_units_from_its_flavour_table() -> None:
    table = await Jetstream2Prices().table("IU", machines=["m3.quad", "r3.large", "g3.large"])
    assert table.currency == "SU" and table.storage_gib_month == 0
    assert [(m.name, m.cpu, m.hourly) for m in table.machines] == [("m3.quad", 4, 4), ("r3.large", 64, 128)]
    with pytest.raises(NotFound, match="regions: IU"):
        await Jetstream2Prices().table("TACC", machines=[])


def test_tables_round_trip_through_json() -> None:
    assert table_from_json(table_to_json(AWS)) == AWS
    with pytest.raises(ValueError):
        table_from_json({**table_to_json(AWS), "provider": "azure"})
