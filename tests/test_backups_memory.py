"""The in-memory backups twin passes the contract every real adapter passes on its stand-in."""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import pytest

from hubbot.adapters.memory import FrozenClock, MemoryBackups
from hubbot.domain import BackupKind, BackupTarget, SnapshotState, Volume
from tests.support.backup_contract import *  # noqa: F403  (the shared cases)
from tests.support.backup_contract import Backend

_IDS = itertools.count(1)


class _Scene:
    def __init__(self, twin: MemoryBackups) -> None:
        self.twin = twin

    def add_volume(self, *, tags: Mapping[str, str], size_gib: int = 100) -> Volume:
        return self.twin.add_volume(Volume(id=f"vol-{next(_IDS):017x}", size_gib=size_gib, tags=dict(tags)))

    def finish(self, snapshot_id: str, state: SnapshotState) -> None:
        self.twin.finish(snapshot_id, state)

    def add_schedule(self, volume: Volume) -> str:
        self.twin.schedules[volume.id] = "daily at 03:00, kept 7 days"
        return "daily at 03:00"


@pytest.fixture
def backend() -> Backend:
    twin = MemoryBackups(FrozenClock())
    tags = {"2i2c:hub-name": "prod", "2i2c:volume-purpose": "home-nfs"}
    return Backend(source=twin, scene=_Scene(twin),
                   target=BackupTarget(hub="c1/prod", provider="aws", kind=BackupKind.EBS, tags=tags),
                   other=BackupTarget(hub="c1/staging", provider="aws", kind=BackupKind.EBS,
                                      tags={**tags, "2i2c:hub-name": "staging"}))
