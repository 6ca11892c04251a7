"""The backup check in the alert cycle (SQLite and PostgreSQL outboxes): each incident — stale,
failed, unscheduled — is posted once, and once more when it ends, whatever the number of cycles;
an injected clock drives the staleness."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alerts import run_cycle
from hubbot.adapters.memory import FrozenClock, MemoryBackups, RecordingNotifier
from hubbot.domain import Snapshot, SnapshotState, Volume
from tests.support.costs import runtime, write_costs, write_fleet

START = datetime(2026, 3, 10, 6, tzinfo=UTC)
TAGS = {"2i2c:hub-name": "prod", "2i2c:volume-purpose": "home-nfs"}


def _fleet(tmp_path: Path, backup: str) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = write_fleet(tmp_path)
    text = path.read_text().replace("{name: prod, community: alpha, domain: alpha.test, tier: prod}",
                                    f"{{name: prod, community: alpha, domain: alpha.test, tier: prod, "
                                    f"backup: {backup}}}")
    path.write_text(text)
    write_costs(tmp_path / "costs-a.csv", START.date(), 1, lambda d: {})
    write_costs(tmp_path / "costs-b.csv", START.date(), 1, lambda d: {})
    return path


class World:
    def __init__(self, tmp_path: Path, database_url: str, backup: str = "{kind: ebs}") -> None:
        self.path, self.database_url = _fleet(tmp_path, backup), database_url
        self.clock = FrozenClock(START)
        self.twin = MemoryBackups(self.clock)
        self.volume = self.twin.add_volume(Volume(id="vol-home", size_gib=100, tags=TAGS), schedule="daily")
        self.notifier = RecordingNotifier()
        self.count = 0

    def backup(self, hours_ago: float = 0, state: SnapshotState = SnapshotState.COMPLETED,
               message: str | None = None) -> Snapshot:
        self.count += 1
        return self.twin.add_snapshot(Snapshot(id=f"snap-{self.count:03d}", volume=self.volume.id, state=state,
                                               started=self.clock.now() - timedelta(hours=hours_ago),
                                               message=message))

    async def cycle(self, *, hours: float = 0) -> list[str]:
        self.clock.advance(timedelta(hours=hours))
        rt = runtime(self.path, self.database_url, clock=self.clock, notifier=self.notifier)
        services = dataclasses.replace(rt.services, backups={"aws-a": self.twin})
        report = await run_cycle(services, rt.fleet, at=self.clock.now(), worker="w1", fetch=False)
        await rt.aclose()
        return [m.payload.text for m in report.sent if m.key.startswith("backup:")]  # type: ignore[union-attr]


async def test_a_stale_backup_alerts_once_then_once_when_fresh_again(tmp_path: Path, database_url: str) -> None:
    world = World(tmp_path, database_url)
    world.backup(hours_ago=2)
    assert await world.cycle() == []
    stale = await world.cycle(hours=25)
    assert len(stale) == 1 and "Backups of c1/prod are stale: the newest completed backup is 27 h old" in stale[0]
    assert await world.cycle(hours=6) == [] and await world.cycle(hours=6) == []  # one incident, one post
    world.backup()
    fresh = await world.cycle(hours=1)
    assert len(fresh) == 1 and "Backups of c1/prod are fresh again: snap-002" in fresh[0]
    assert await world.cycle(hours=6) == []
    again = await world.cycle(hours=30)  # a new incident: the newest is now snap-002
    assert len(again) == 1 and "stale" in again[0]


async def test_a_failed_backup_alerts_once_and_a_good_one_ends_it(tmp_path: Path, database_url: str) -> None:
    world = World(tmp_path, database_url)
    world.backup(hours_ago=5)
    world.backup(hours_ago=1, state=SnapshotState.FAILED, message="Internal error")
    failed = await world.cycle()
    assert len(failed) == 1 and "A backup of c1/prod failed (snap-002: Internal error)" in failed[0]
    assert await world.cycle(hours=6) == []
    world.backup()
    ended = await world.cycle(hours=1)
    assert len(ended) == 1 and "has a good backup again after snap-002 failed: snap-003" in ended[0]


async def test_a_hub_without_a_schedule_alerts_once(tmp_path: Path, database_url: str) -> None:
    world = World(tmp_path, database_url)
    world.twin.schedules.clear()
    world.backup(hours_ago=1)
    first = await world.cycle()
    assert len(first) == 1 and "Nothing backs up c1/prod on a schedule" in first[0]
    assert await world.cycle(hours=6) == []
    world.twin.schedules[world.volume.id] = "daily"
    assert any("on a schedule now" in t for t in await world.cycle(hours=1))


async def test_by_default_only_the_engineers_are_told(tmp_path: Path, database_url: str) -> None:
    quiet = World(tmp_path, database_url)
    quiet.backup(hours_ago=30)
    await quiet.cycle()
    assert {c for c, t in quiet.notifier.posts if "stale" in t} == {"COPS00001"}


async def test_the_community_channel_is_told_when_the_hub_asks(tmp_path: Path, database_url: str) -> None:
    told = World(tmp_path, database_url, backup="{kind: ebs, alert_community: true}")
    told.backup(hours_ago=30)
    await told.cycle()
    assert {c for c, t in told.notifier.posts if "stale" in t} == {"CALPHA001", "COPS00001"}
