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

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
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
