"""A sender that dies between posting and marking a message: the next sender finds the message in
the channel by its key and does not post it again; one that died before posting is simply sent."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from hubbot.adapters.memory import RecordingNotifier
from hubbot.domain import DeliveryState, OutboxKind, OutboxMessage, Post
from hubbot.outbox.delivery import deliver
from hubbot.pipeline.dispatch import Dispatcher
from tests.support.memory import dispatcher

LEASE = 30


async def _setup(fleet_file: Path, key: str) -> tuple[Dispatcher, OutboxMessage]:
    d, _ = dispatcher(fleet_file)
    now = d.services.clock.now()
    (row,) = await d.services.outbox.add([OutboxMessage(key=key, kind=OutboxKind.ESCALATION, community="alpha",
                                                        channel="CSUPPORT1", payload=Post(text="a question"),
                                                        created_at=now)])
    (claimed,) = await d.services.outbox.claim(worker="dead:1", at=now, lease_seconds=LEASE, limit=1)
    assert claimed.id == row.id
    return d, row


async def test_a_message_posted_by_a_sender_that_died_is_not_posted_again(fleet_file: Path) -> None:
    d, row = await _setup(fleet_file, "support:1@CSUPPORT1")
    notifier = d.services.notifier
    assert isinstance(notifier, RecordingNotifier)
    await notifier.post(channel="CSUPPORT1", text="a question", blocks=[], key=row.key)  # it got this far
    later = d.services.clock.now() + timedelta(seconds=LEASE + 1)
    sent = await deliver(d.services, d.fleet, at=later, worker="live:2", lease_seconds=LEASE)
    assert [m.key for m in sent] == [row.key] and len(notifier.posts) == 1
    (stored,) = await d.services.outbox.recent(communities=None, limit=5)
    assert stored.state is DeliveryState.SENT


async def test_a_message_whose_sender_died_before_posting_is_sent_once(fleet_file: Path) -> None:
    d, row = await _setup(fleet_file, "support:2@CSUPPORT1")
    notifier = d.services.notifier
    assert isinstance(notifier, RecordingNotifier)
    later = d.services.clock.now() + timedelta(seconds=LEASE + 1)
    assert await deliver(d.services, d.fleet, at=later - timedelta(seconds=2), worker="live:2",
                         lease_seconds=LEASE) == []  # still held by the dead sender's lease
    sent = await deliver(d.services, d.fleet, at=later, worker="live:2", lease_seconds=LEASE)
    assert [m.key for m in sent] == [row.key] and notifier.keys == {("CSUPPORT1", row.key): "1.000100"}
