"""What every :class:`hubbot.ports.BackupSource` does, written once: each adapter's test module
(on its provider's stand-in) and the in-memory twin run these same cases through a
:class:`Backend`, so the twin the commands are tested with cannot drift from the real adapters.

A test module provides a ``backend`` fixture and re-exports the cases it runs::

    from tests.support.backup_contract import *  # noqa: F403  (the shared cases)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import pytest

from hubbot.domain import TAG_HUB, TAG_REASON, TAG_REQUESTED_BY, BackupTarget, SnapshotState, Volume
from hubbot.errors import NotFound
from hubbot.ports import BackupSource


class Scene(Protocol):
    """How a test sets up the provider's side (the stand-in, or the twin)."""

    def add_volume(self, *, tags: Mapping[str, str], size_gib: int = 100) -> Volume:
        """A volume (file system, disk) with these tags (labels, metadata), as an engineer made it."""
        ...

    def finish(self, snapshot_id: str, state: SnapshotState) -> None:
        """Move a snapshot (job) on to completed or failed, as the provider would."""
        ...

    def add_schedule(self, volume: Volume) -> str:
        """Put ``volume`` under a schedule (DLM policy, backup plan, snapshot schedule); its name."""
        ...


@dataclass
class Backend:
    source: BackupSource
    scene: Scene
    target: BackupTarget  # a hub whose volumes are found by tags
    other: BackupTarget  # a second hub in the same account (project) and region
    extra: dict[str, object] = field(default_factory=dict)


def hubbot_tags(target: BackupTarget, *, user: str = "UENG00001", reason: str = "before the upgrade") -> dict[str, str]:
    return {TAG_HUB: target.hub, TAG_REQUESTED_BY: user, TAG_REASON: reason}


async def test_volumes_are_found_by_the_hubs_tags(backend: Backend) -> None:
    assert await backend.source.volumes(backend.target) == []
    home = backend.scene.add_volume(tags=dict(backend.target.tags), size_gib=200)
    backend.scene.add_volume(tags=dict(backend.other.tags))
    found = await backend.source.volumes(backend.target)
    assert [v.id for v in found] == [home.id] and found[0].size_gib == 200


async def test_a_snapshot_starts_pending_with_hubbots_tags_and_finishes(backend: Backend) -> None:
    home = backend.scene.add_volume(tags=dict(backend.target.tags))
    started = await backend.source.start(backend.target, home, tags=hubbot_tags(backend.target),
                                         description=f"hubbot backup of {backend.target.hub}")
    assert started.state in (SnapshotState.PENDING, SnapshotState.COMPLETED) and started.volume == home.id
    assert started.requested_by == "UENG00001" and started.reason == "before the upgrade"
    backend.scene.finish(started.id, SnapshotState.COMPLETED)
    done = await backend.source.snapshot(backend.target, started.id)
    assert done.state is SnapshotState.COMPLETED and done.id == started.id and done.made_by == "hubbot"


async def test_a_failed_snapshot_says_so(backend: Backend) -> None:
    home = backend.scene.add_volume(tags=dict(backend.target.tags))
    started = await backend.source.start(backend.target, home, tags=hubbot_tags(backend.target), description="x")
    backend.scene.finish(started.id, SnapshotState.FAILED)
    assert (await backend.source.snapshot(backend.target, started.id)).state is SnapshotState.FAILED


async def test_an_unknown_snapshot_is_not_found(backend: Backend) -> None:
    backend.scene.add_volume(tags=dict(backend.target.tags))
    with pytest.raises(NotFound):
        await backend.source.snapshot(backend.target, _unknown_id(backend))


async def test_the_overview_gives_each_hub_its_snapshots_newest_first_and_its_schedule(backend: Backend) -> None:
    home = backend.scene.add_volume(tags=dict(backend.target.tags))
    other = backend.scene.add_volume(tags=dict(backend.other.tags))
    schedule = backend.scene.add_schedule(home)
    first = await backend.source.start(backend.target, home, tags=hubbot_tags(backend.target), description="1")
    backend.scene.finish(first.id, SnapshotState.COMPLETED)
    second = await backend.source.start(backend.target, home, tags=hubbot_tags(backend.target), description="2")
    views = await backend.source.overview([backend.target, backend.other])
    assert set(views) == {backend.target.hub, backend.other.hub}
    mine = views[backend.target.hub]
    assert [s.id for s in mine.snapshots][:2] == [second.id, first.id]
    assert mine.snapshots[1].state is SnapshotState.COMPLETED
    assert mine.schedule is not None and schedule in mine.schedule
    assert views[backend.other.hub].snapshots == () and views[backend.other.hub].schedule is None
    assert other.id not in {s.volume for s in mine.snapshots}


def _unknown_id(backend: Backend) -> str:
    return str(backend.extra.get("unknown_id", "snap-0000000000000000"))
