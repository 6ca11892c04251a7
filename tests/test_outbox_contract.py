"""Contract tests for the outbox: the memory twin, SQLite and PostgreSQL agree."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from hubbot.adapters.memory import MemoryOutbox
from hubbot.domain import Alert, Basis, DeliveryState, OutboxKind, OutboxMessage, Post, Ticket
from hubbot.ports import Outbox
from hubbot.store import Database, SqlOutbox
from tests.conftest import new_database

T0 = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
LEASE = 300


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def outbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Outbox]:
    if request.param == "memory":
        yield MemoryOutbox()
        return
    db = Database(new_database(request.param, request, tmp_path))
    db.upgrade()
    yield SqlOutbox(db)
    db.dispose()


def alert(key: str, *, community: str = "alpha", state: DeliveryState = DeliveryState.PENDING, text: str = "t",
          spend: str | None = "60", budget: str | None = "100", forecast: str | None = None) -> OutboxMessage:
    about = Alert(basis=Basis.ACTUAL, period_start=date(2026, 3, 1), period_end=date(2026, 4, 1), currency="USD",
                  threshold=50, spend=None if spend is None else Decimal(spend),
                  budget=None if budget is None else Decimal(budget),
                  forecast=None if forecast is None else Decimal(forecast))
    return OutboxMessage(key=key, kind=OutboxKind.ALERT, community=community, channel="CALPHA001",
                         payload=Post(text=text), created_at=T0, state=state, alert=about)


async def ids(outbox: Outbox, *messages: OutboxMessage) -> list[int]:
    added = await outbox.add(messages)
    assert [m.key for m in added] == [m.key for m in messages]
    return [m.id or 0 for m in added]


def keys(messages: list[OutboxMessage]) -> list[str]:
    return [m.key for m in messages]


async def claim(outbox: Outbox, worker: str = "host:1", *, after: float = 0, lease: int = LEASE, limit: int = 10,
                key: str | None = None) -> list[str]:
    return keys(await outbox.claim(worker=worker, at=T0 + timedelta(seconds=after), lease_seconds=lease, limit=limit,
                                   key=key))


async def test_add_records_each_key_once_and_returns_only_what_it_added(outbox: Outbox) -> None:
    first = await outbox.add([alert("k1"), alert("k2")])
    assert keys(first) == ["k1", "k2"]
    assert first[0].id is not None and first[1].id is not None and first[0].id < first[1].id
    again = await outbox.add([alert("k2", text="second k2"), alert("k3", text="first k3"),
                              alert("k3", text="second k3")])
    assert keys(again) == ["k3"] and again[0].payload == Post(text="first k3")
    assert await outbox.add([]) == []
    assert await outbox.add([alert("k1")]) == []
    assert keys(await outbox.recent(communities=None, limit=10)) == ["k3", "k2", "k1"]
    assert [await outbox.get(m.id or 0) for m in first + again] == first + again
    assert await outbox.get(999_999) is None


async def test_a_message_comes_back_as_it_was_recorded(outbox: Outbox) -> None:
    blocks = ({"type": "section", "text": {"type": "plain_text", "text": "Alpha 🚀 a atteint 60 % — ¿qué? 漢字"}},
              {"type": "context", "elements": [{"type": "plain_text", "text": "<!channel> & *bold*"}]})
    cost = dataclasses.replace(alert("budget:2026-03-01:alpha:actual:50@CALPHA001", spend="60.005", budget="100.015",
                                     forecast="123.456789"),
                               payload=Post(text="Alpha 🚀 a atteint 60 %\nsecond line", blocks=blocks),
                               attempts=3, last_error="ignored", acked_by="U1", acked_at=T0,
                               muted_until=date(2027, 1, 1), sent_at=T0)
    escalation = OutboxMessage(key="support:7@CSUPPORT1", kind=OutboxKind.ESCALATION, community="",
                               channel="CSUPPORT1", payload=Post(text="Someone asked: ¿dónde está mi hub?"),
                               created_at=T0 + timedelta(seconds=1))
    ticket = OutboxMessage(key="ticket:7", kind=OutboxKind.TICKET, community="beta", channel=None,
                           payload=Ticket(subject="Hub « lab » est cassé", description="line 1\nline 2 — 漢字",
                                          tags=("hubbot", "beta")), created_at=T0 + timedelta(seconds=2))
    marker = OutboxMessage(key="scan:2026-03-15", kind=OutboxKind.ALERT, community="", channel=None,
                           payload=Post(text=""), created_at=T0, state=DeliveryState.SKIPPED,
                           alert=Alert(basis=Basis.SCAN, period_start=date(2026, 3, 15), period_end=date(2026, 3, 16),
                                       currency=""))
    added = await outbox.add([cost, escalation, ticket, marker])
    assert all(m.id is not None for m in added)
    # figures in cents, and no delivery history: a new message has not been sent, acknowledged or muted
    expected_cost = dataclasses.replace(alert(cost.key, spend="60.00", budget="100.02", forecast="123.46"),
                                        id=added[0].id, payload=cost.payload)
    assert added == [expected_cost, dataclasses.replace(escalation, id=added[1].id),
                     dataclasses.replace(ticket, id=added[2].id), dataclasses.replace(marker, id=added[3].id)]
    assert [await outbox.get(m.id or 0) for m in added] == added
    assert added[0].headline == "Alpha 🚀 a atteint 60 %" and added[2].headline == "Hub « lab » est cassé"


async def test_blocks_are_kept_as_json_keeps_them(outbox: Outbox) -> None:
    block = {"type": "actions", "elements": ("ack", "mute"), "n": 1.5, "none": None}
    (added,) = await outbox.add([dataclasses.replace(alert("k1"), payload=Post(text="t", blocks=(block,)))])
    block["type"] = "changed after it was recorded"
    got = await outbox.get(added.id or 0)
    kept = {"type": "actions", "elements": ["ack", "mute"], "n": 1.5, "none": None}
    assert got is not None and got.payload == added.payload == Post(text="t", blocks=(kept,))


async def test_a_message_must_be_consistent_or_nothing_is_recorded(outbox: Outbox) -> None:
    no_alert = dataclasses.replace(alert("k-broken"), alert=None)
    with pytest.raises(ValueError):
        await outbox.add([alert("k1"), no_alert])
    ticket_as_post = OutboxMessage(key="ticket:1", kind=OutboxKind.TICKET, community="alpha", channel=None,
                                   payload=Post(text="not a ticket"), created_at=T0)
    with pytest.raises(ValueError):
        await outbox.add([ticket_as_post])
    assert await outbox.keys(prefix="") == set()
    assert await outbox.recent(communities=None, limit=10) == []


async def test_keys_by_prefix_are_matched_literally(outbox: Outbox) -> None:
    await ids(outbox, alert("budget:2026-03:alpha:actual:50@C1"), alert("budget:2026-03:beta:actual:50@C1"),
              alert("budget:2026-04:alpha:actual:50@C1"), alert("spike:2026-03-05:c1/prod"), alert("a_b:1"),
              alert("axb:1"), alert("100%:x"), alert("100x:y"), alert("scan:2026-03-05", state=DeliveryState.SKIPPED),
              alert("dépense:漢字"), alert("old-budget:2026-03:alpha"))
    assert await outbox.keys(prefix="budget:2026-03:") == {"budget:2026-03:alpha:actual:50@C1",
                                                           "budget:2026-03:beta:actual:50@C1"}
    assert await outbox.keys(prefix="a_b") == {"a_b:1"}
    assert await outbox.keys(prefix="100%") == {"100%:x"}
    assert await outbox.keys(prefix="spike:2026-03-05:c1/") == {"spike:2026-03-05:c1/prod"}
    assert await outbox.keys(prefix="scan:") == {"scan:2026-03-05"}  # skipped rows still hold their key
    assert await outbox.keys(prefix="dépense:") == {"dépense:漢字"}
    assert await outbox.keys(prefix="nothing") == set()
    assert len(await outbox.keys(prefix="")) == 11


async def test_keys_by_prefix_are_case_sensitive(outbox: Outbox) -> None:
    """SQLite's LIKE ignores the case of ASCII letters; the store must not."""
    await ids(outbox, alert("budget:2026-03:alpha"), alert("budget:2026-03:Alpha"))
    assert await outbox.keys(prefix="BUDGET:") == set()
    assert await outbox.keys(prefix="budget:2026-03:A") == {"budget:2026-03:Alpha"}


async def test_claim_takes_pending_messages_oldest_first_up_to_the_limit(outbox: Outbox) -> None:
    await ids(outbox, alert("k1"), alert("skipped", state=DeliveryState.SKIPPED), alert("k2"),
              alert("sent", state=DeliveryState.SENT), alert("k3"), alert("failed", state=DeliveryState.FAILED),
              alert("k4"), alert("k5"))
    assert await claim(outbox, limit=0) == []
    got = await outbox.claim(worker="host:1", at=T0, lease_seconds=LEASE, limit=2)
    assert keys(got) == ["k1", "k2"]
    assert all(m.state is DeliveryState.PENDING and m.attempts == 0 for m in got)
    assert await claim(outbox, "host:2") == ["k3", "k4", "k5"]
    assert await claim(outbox, "host:1") == []


async def test_a_claim_holds_a_message_until_its_lease_has_passed(outbox: Outbox) -> None:
    await ids(outbox, alert("k1"))
    assert await claim(outbox, "a") == ["k1"]
    assert await claim(outbox, "a", after=1) == []  # not even the same worker takes it again
    assert await claim(outbox, "b", after=LEASE - 1) == []
    assert await claim(outbox, "b", after=LEASE) == []  # a lease ends after, not at, its last second
    assert await claim(outbox, "b", after=LEASE + 1) == ["k1"]
    assert await claim(outbox, "a", after=LEASE + 2) == []
    # the lease is the claimer's: with none, anything claimed before now is free
    assert await claim(outbox, "c", after=LEASE + 2, lease=0) == ["k1"]
    assert await claim(outbox, "d", after=LEASE + 2, lease=0) == []


async def test_claim_by_key_takes_only_that_message(outbox: Outbox) -> None:
    k1, _, k3 = await ids(outbox, alert("k1"), alert("k2"), alert("k3"))
    assert await claim(outbox, key="k2") == ["k2"]
    assert await claim(outbox, key="k2") == []
    assert await claim(outbox, key="nope") == []
    await outbox.delivered(k3, at=T0)
    assert await claim(outbox, key="k3") == []
    assert await claim(outbox) == ["k1"]
    assert await claim(outbox, after=LEASE + 1, key="k1", limit=0) == []
    assert await claim(outbox, after=LEASE + 1, key="k1") == ["k1"]
    assert k1 != k3


async def test_delivered_and_failed_record_each_attempt(outbox: Outbox) -> None:
    k1, k2, k3 = await ids(outbox, alert("k1"), alert("k2"), alert("k3"))
    assert await claim(outbox) == ["k1", "k2", "k3"]
    t1 = T0 + timedelta(seconds=5)
    await outbox.delivered(k1, at=t1)
    await outbox.failed(k2, at=t1, error="Slack said: ratelimited ⏳ " + "x" * 2000, give_up=False)
    await outbox.failed(k3, at=t1, error="channel_not_found", give_up=True)
    one, two, three = [await outbox.get(i) for i in (k1, k2, k3)]
    assert one is not None and (one.state, one.sent_at, one.attempts, one.last_error) == (
        DeliveryState.SENT, t1, 1, None)
    assert two is not None and (two.state, two.sent_at, two.attempts, two.last_error) == (
        DeliveryState.PENDING, None, 1, ("Slack said: ratelimited ⏳ " + "x" * 2000)[:1000])
    assert three is not None and (three.state, three.attempts, three.last_error) == (
        DeliveryState.FAILED, 1, "channel_not_found")
    assert await claim(outbox, after=60) == []  # the failed attempt's claim still holds
    assert await claim(outbox, after=LEASE + 1) == ["k2"]  # then only the one to retry
    await outbox.failed(k2, at=t1, error="again", give_up=False)
    await outbox.delivered(k2, at=t1 + timedelta(minutes=10))
    two = await outbox.get(k2)
    assert two is not None and (two.state, two.sent_at, two.attempts, two.last_error) == (
        DeliveryState.SENT, t1 + timedelta(minutes=10), 3, None)
    assert await claim(outbox, after=86_400) == []
    await outbox.delivered(999_999, at=t1)
    await outbox.failed(999_999, at=t1, error="gone", give_up=True)
    assert await outbox.get(999_999) is None


async def test_two_workers_claiming_at_once_never_share_a_message(outbox: Outbox) -> None:
    added = set(await ids(outbox, *(alert(f"k{i}") for i in range(10))))
    a, b = await asyncio.gather(outbox.claim(worker="host-a:1", at=T0, lease_seconds=LEASE, limit=10),
                                outbox.claim(worker="host-b:1", at=T0, lease_seconds=LEASE, limit=10))
    assert not {m.id for m in a} & {m.id for m in b}
    assert {m.id for m in a} | {m.id for m in b} == added


async def test_many_workers_claiming_at_once_take_each_message_once(outbox: Outbox) -> None:
    added = await ids(outbox, *(alert(f"k{i}") for i in range(10)))
    batches = await asyncio.gather(*(outbox.claim(worker=f"host:{n}", at=T0, lease_seconds=LEASE, limit=3)
                                     for n in range(5)))
    assert all(len(batch) <= 3 for batch in batches) and any(len(batch) == 3 for batch in batches)
    rest = await outbox.claim(worker="sweeper", at=T0, lease_seconds=LEASE, limit=10)
    claimed = sorted(m.id or 0 for batch in [*batches, rest] for m in batch)
    assert claimed == sorted(added)


async def test_recent_is_newest_first_without_skipped_ones(outbox: Outbox) -> None:
    k1, k2, *_ = await ids(outbox, alert("k1"), alert("k2", community="beta"),
                           alert("k3", state=DeliveryState.SKIPPED), alert("k4", community="gamma"),
                           alert("k5", state=DeliveryState.FAILED))
    await outbox.delivered(k2, at=T0)
    assert keys(await outbox.recent(communities=None, limit=10)) == ["k5", "k4", "k2", "k1"]
    assert keys(await outbox.recent(communities=None, limit=2)) == ["k5", "k4"]
    assert keys(await outbox.recent(communities=["alpha"], limit=10)) == ["k5", "k1"]
    assert keys(await outbox.recent(communities=["beta", "gamma", "nobody"], limit=10)) == ["k4", "k2"]
    assert await outbox.recent(communities=[], limit=10) == []
    assert await outbox.recent(communities=None, limit=0) == []
    assert k1 < k2


async def test_an_alert_is_acknowledged_once(outbox: Outbox) -> None:
    (k1,) = await ids(outbox, alert("k1"))
    t1 = T0 + timedelta(minutes=3)
    assert await outbox.acknowledge(k1, by="ULEADA001", at=t1) is True
    assert await outbox.acknowledge(k1, by="UOTHER001", at=t1 + timedelta(minutes=1)) is False
    got = await outbox.get(k1)
    assert got is not None and (got.acked_by, got.acked_at) == ("ULEADA001", t1)
    assert await outbox.acknowledge(999_999, by="ULEADA001", at=t1) is False


async def test_muted_communities_are_those_with_an_alert_muted_past_the_day(outbox: Outbox) -> None:
    a1, _, b1, g1 = await ids(outbox, alert("a1"), alert("a2"), alert("b1", community="beta"),
                              alert("g1", community="gamma", state=DeliveryState.SKIPPED))
    assert await outbox.muted(on=date(2026, 3, 15)) == set()
    assert await outbox.mute(a1, until=date(2026, 3, 20)) is True
    assert await outbox.mute(b1, until=date(2026, 3, 15)) is True
    assert await outbox.mute(g1, until=date(2026, 4, 1)) is True
    got = await outbox.get(a1)
    assert got is not None and got.muted_until == date(2026, 3, 20)
    assert await outbox.muted(on=date(2026, 3, 14)) == {"alpha", "beta", "gamma"}
    assert await outbox.muted(on=date(2026, 3, 15)) == {"alpha", "gamma"}
    assert await outbox.muted(on=date(2026, 3, 20)) == {"gamma"}
    assert await outbox.muted(on=date(2026, 4, 1)) == set()
    assert await outbox.mute(a1, until=date(2026, 3, 10)) is True  # muting again replaces the date
    assert await outbox.muted(on=date(2026, 3, 15)) == {"gamma"}
    assert await outbox.mute(999_999, until=date(2026, 4, 1)) is False


async def test_a_message_whose_sender_never_reported_back_is_claimed_as_uncertain(outbox: Outbox) -> None:
    first, second = await ids(outbox, alert("k1"), alert("k2"))
    got = await outbox.claim(worker="dead:1", at=T0, lease_seconds=LEASE, limit=1)
    assert [(m.key, m.uncertain) for m in got] == [("k1", False)]  # never claimed before
    # the sender died: no delivered, no failed; after its lease another sender takes it, warned
    later = T0 + timedelta(seconds=LEASE + 1)
    again = await outbox.claim(worker="live:2", at=later, lease_seconds=LEASE, limit=1)
    assert [(m.key, m.uncertain) for m in again] == [("k1", True)]
    # senders that report a failure leave no doubt: they did not post
    assert [m.key for m in await outbox.claim(worker="live:2", at=later, lease_seconds=LEASE, limit=1)] == ["k2"]
    await outbox.failed(second, at=later, error="Slack said no", give_up=False)
    retry = await outbox.claim(worker="live:3", at=later + timedelta(seconds=LEASE + 1), lease_seconds=LEASE,
                               key="k2", limit=1)
    assert [(m.key, m.uncertain) for m in retry] == [("k2", False)]
    assert first != second


async def test_pending_summary_counts_what_waits_and_names_the_oldest(outbox: Outbox) -> None:
    assert await outbox.pending_summary() == (0, None)
    first, second, third = await ids(outbox, alert("k1"),
                                     dataclasses.replace(alert("k2"), created_at=T0 - timedelta(hours=2)),
                                     dataclasses.replace(alert("k3"), created_at=T0 + timedelta(hours=1)))
    assert await outbox.pending_summary() == (3, T0 - timedelta(hours=2))
    await outbox.claim(worker="host:1", at=T0, lease_seconds=LEASE, limit=10)
    assert await outbox.pending_summary() == (3, T0 - timedelta(hours=2))  # claimed is not yet delivered
    await outbox.delivered(second, at=T0)
    await outbox.failed(third, at=T0, error="boom", give_up=True)
    assert await outbox.pending_summary() == (1, T0)
    await outbox.failed(first, at=T0, error="later", give_up=False)  # pending again for the next try
    assert await outbox.pending_summary() == (1, T0)
    await outbox.delivered(first, at=T0)
    assert await outbox.pending_summary() == (0, None)
