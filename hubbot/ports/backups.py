"""Where backups are made and read: one :class:`BackupSource` per provider of the fleet."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from hubbot.domain import BackupTarget, BackupView, Snapshot, Volume


class BackupSource(Protocol):
    """A provider's snapshots of hubs' home storage. Every failure is a
    :class:`hubbot.errors.HubbotError` that says what to fix (a missing permission names the
    action); nothing is retried blindly."""

    async def volumes(self, target: BackupTarget) -> list[Volume]:
        """The volumes (file systems, disks) ``target`` names or its tags find."""
        ...

    async def start(self, target: BackupTarget, volume: Volume, *, tags: Mapping[str, str],
                    description: str) -> Snapshot:
        """Start a snapshot (backup job) of ``volume``, tagged with ``tags``; as the provider
        reports it right after (usually pending)."""
        ...

    async def snapshot(self, target: BackupTarget, snapshot_id: str) -> Snapshot:
        """One snapshot (job) as it is now; :class:`hubbot.errors.NotFound` if it is gone."""
        ...

    async def overview(self, targets: Sequence[BackupTarget]) -> dict[str, BackupView]:
        """Every target's snapshots and schedule, by hub — with one paged list call per
        account (project) and region, not one per hub. A hub the provider cannot answer for gets
        a view with ``problem`` set; only a failure of the whole provider raises."""
        ...
