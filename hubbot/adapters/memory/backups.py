"""An in-memory twin of a provider's backups (:class:`hubbot.ports.BackupSource`), held to each
real adapter on its stand-in by ``tests/support/backup_contract.py``."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from hubbot.domain import TAG_REASON, TAG_REQUESTED_BY, BackupTarget, BackupView, Snapshot, SnapshotState, Volume
from hubbot.errors import NotFound
from hubbot.ports import Clock


class MemoryBackups:
    """Volumes with their tags, snapshots of them, and schedules by volume; ``calls`` counts the
    list calls :meth:`overview` makes (one per region, as the real adapters aim for)."""

    def __init__(self, clock: Clock, *, complete_on_look: bool = False) -> None:
        self._clock = clock
        self._complete_on_look = complete_on_look  # the demo: a snapshot is done when next looked at
        self.volumes_: dict[str, Volume] = {}
        self.snapshots_: dict[str, Snapshot] = {}
        self.schedules: dict[str, str] = {}  # volume id -> schedule description
        self.calls = 0
        self._ids = itertools.count(1)

    # -- setting the scene (tests and the demo) ---------------------------------------------------

    def add_volume(self, volume: Volume, *, schedule: str | None = None) -> Volume:
        self.volumes_[volume.id] = volume
        if schedule:
            self.schedules[volume.id] = schedule
        return volume

    def add_snapshot(self, snapshot: Snapshot) -> Snapshot:
        self.snapshots_[snapshot.id] = snapshot
        return snapshot

    def finish(self, snapshot_id: str, state: SnapshotState, *, message: str | None = None) -> None:
        """Move a snapshot on, as the provider would."""
        found = self.snapshots_[snapshot_id]
        self.snapshots_[snapshot_id] = replace(found, state=state, message=message,
                                               progress="100%" if state is SnapshotState.COMPLETED else found.progress)

    # -- the port ---------------------------------------------------------------------------------

    def _matches(self, target: BackupTarget, volume: Volume) -> bool:
        if target.volumes:
            return volume.id in target.volumes
        return bool(target.tags) and all(volume.tags.get(k) == v for k, v in target.tags.items())

    async def volumes(self, target: BackupTarget) -> list[Volume]:
        return sorted((v for v in self.volumes_.values() if self._matches(target, v)), key=lambda v: v.id)

    async def start(self, target: BackupTarget, volume: Volume, *, tags: Mapping[str, str],
                    description: str) -> Snapshot:
        snapshot = Snapshot(id=f"snap-{next(self._ids):08d}", volume=volume.id, state=SnapshotState.PENDING,
                            started=self._clock.now(), size_gib=volume.size_gib, progress="0%", made_by="hubbot",
                            requested_by=tags.get(TAG_REQUESTED_BY), reason=tags.get(TAG_REASON) or None)
        self.snapshots_[snapshot.id] = snapshot
        return snapshot

    async def snapshot(self, target: BackupTarget, snapshot_id: str) -> Snapshot:
        found = self.snapshots_.get(snapshot_id)
        if found is None:
            raise NotFound(f"no snapshot {snapshot_id[:80]} for {target.hub}")
        if self._complete_on_look and found.state is SnapshotState.PENDING:
            self.finish(snapshot_id, SnapshotState.COMPLETED)
            return self.snapshots_[snapshot_id]
        return found

    async def overview(self, targets: Sequence[BackupTarget]) -> dict[str, BackupView]:
        self.calls += len({t.region or t.zone or "" for t in targets}) if targets else 0
        out: dict[str, BackupView] = {}
        for target in targets:
            mine = {v.id for v in self.volumes_.values() if self._matches(target, v)}
            shots = sorted((s for s in self.snapshots_.values() if s.volume in mine),
                           key=lambda s: (s.started, s.id), reverse=True)
            schedules = sorted({self.schedules[v] for v in mine if v in self.schedules})
            out[target.hub] = BackupView(hub=target.hub, snapshots=tuple(shots),
                                         schedule="; ".join(schedules) or None)
        return out

    def now(self) -> datetime:
        return self._clock.now()


def demo_backups(targets: Sequence[BackupTarget], *, clock: Clock) -> dict[str, MemoryBackups]:
    """Made-up backups of the demo hubs, by provider: a daily schedule kept 7 days on most, one
    hub whose schedule stopped three days ago, one whose last backup failed, one with none."""
    import zlib
    from datetime import timedelta

    now = clock.now().replace(hour=3, minute=0, second=0, microsecond=0)
    if now > clock.now():
        now -= timedelta(days=1)  # the last 03:00 that has passed
    out: dict[str, MemoryBackups] = {}
    for i, target in enumerate(sorted(targets, key=lambda t: t.hub)):
        twin = out.setdefault(target.provider, MemoryBackups(clock, complete_on_look=True))
        made = target.volumes[0] if target.volumes else f"vol-demo{i:04d}{zlib.crc32(target.hub.encode()):08x}"
        volume = twin.add_volume(Volume(id=made,
                                        name=f"{target.hub.split('/')[-1]}-home-nfs", size_gib=100 + 50 * i,
                                        where="us-west-2a", tags=dict(target.tags)))
        story = i % 4
        if story == 3:
            continue  # never backed up, no schedule
        twin.schedules[volume.id] = "daily at 03:00 UTC, kept 7 days"
        stopped = 3 if story == 1 else 0
        for day in range(stopped, 7):
            when = now - timedelta(days=day)
            twin.add_snapshot(Snapshot(id=f"snap-{volume.id[4:]}{day:02d}", volume=volume.id,
                                       state=SnapshotState.COMPLETED, started=when, size_gib=volume.size_gib,
                                       made_by="schedule", expires=when + timedelta(days=7)))
        if story == 2:
            twin.add_snapshot(Snapshot(id=f"snap-{volume.id[4:]}xx", volume=volume.id, state=SnapshotState.FAILED,
                                       started=clock.now() - timedelta(hours=2), made_by="schedule",
                                       message="the volume was busy; the snapshot timed out"))
    return out
