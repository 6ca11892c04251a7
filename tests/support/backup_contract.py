"""What every :class:`hubbot.ports.BackupSource` does, written once: each adapter's test module
(on its provider's stand-in) and the in-memory twin run these same cases through a
:class:`Backend`, so the twin the commands are tested with cannot drift from the real adapters.

A test module provides a ``backend`` fixture and re-exports the cases it runs::

    from tests.support.backup_contract import *  # noqa: F403  (the shared cases)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Protocol

import pytest
import yaml

from hubbot.domain import (
    TAG_HUB,
    TAG_REASON,
    TAG_REQUESTED_BY,
    BackupKind,
    BackupTarget,
    BackupView,
    Snapshot,
    SnapshotState,
    Volume,
)
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


class _Following:
    """The adapter, noting the snapshots it starts, so the cloud can finish them while the command
    waits (its pause)."""

    def __init__(self, source: BackupSource) -> None:
        self.source = source
        self.started: list[str] = []

    async def volumes(self, target: BackupTarget) -> list[Volume]:
        return await self.source.volumes(target)

    async def start(self, target: BackupTarget, volume: Volume, *, tags: Mapping[str, str],
                    description: str) -> Snapshot:
        made = await self.source.start(target, volume, tags=tags, description=description)
        self.started.append(made.id)
        return made

    async def snapshot(self, target: BackupTarget, snapshot_id: str) -> Snapshot:
        return await self.source.snapshot(target, snapshot_id)

    async def overview(self, targets: Sequence[BackupTarget]) -> dict[str, BackupView]:
        return await self.source.overview(targets)


def _fleet_for(target: BackupTarget, folder: Path) -> Path:
    cluster, hub = target.hub.split("/", 1)
    backup: dict[str, object] = {"kind": target.kind.value}
    for key in ("zone", "vault", "role_arn"):
        if getattr(target, key):
            backup[key] = getattr(target, key)
    if target.volumes:
        backup["volumes"] = list(target.volumes)
    if target.tags:
        backup["tags"] = dict(target.tags)
    path = folder / "fleet.yaml"
    path.write_text(yaml.safe_dump({
        "providers": {"cloud": {"kind": "csv", "path": "costs.csv"}},
        "clusters": [{"name": cluster, "provider": "cloud",
                      "hubs": [{"name": hub, "community": "alpha", "domain": "hub.test", "backup": backup}]}],
        "communities": [{"name": "alpha", "leaders": ["ULEADA001"]}],
        "roles": {"engineers": ["UENG00001"]}}))
    return path


async def test_the_backup_commands_work_through_this_adapter(backend: Backend, tmp_path: Path) -> None:
    from hubbot.adapters.memory import FrozenClock
    from tests.support.memory import dispatcher, run

    home = backend.scene.add_volume(tags=dict(backend.target.tags))
    schedule = backend.scene.add_schedule(home)
    following = _Following(backend.source)

    async def cloud_moves_on(seconds: float) -> None:
        for snapshot_id in following.started:
            backend.scene.finish(snapshot_id, SnapshotState.COMPLETED)

    d, _ = dispatcher(_fleet_for(backend.target, tmp_path))
    d.services = replace(d.services, backups={"cloud": following}, pause=cloud_moves_on)
    hub = backend.target.hub
    done = await run(d, f'backup now {hub} --reason "before the upgrade"', user="ULEADA001")
    assert done.ok and "completed" in done.text, done.text
    listed = await run(d, f"backup list {hub}", user="ULEADA001")
    assert following.started[0] in listed.text, listed.text
    if backend.target.kind is not BackupKind.EFS:  # AWS Backup keeps no tags on what it lists
        assert "before the upgrade" in listed.text, listed.text
    assert schedule in listed.text
    view = (await following.overview([backend.target]))[hub]
    d.services = replace(d.services, clock=FrozenClock(view.snapshots[0].started + timedelta(hours=1)))
    status = await run(d, "backup status", user="UENG00001")
    assert f"{hub}: newest" in status.text and ":large_green_circle:" in status.text, status.text
    plan = await run(d, f"backup restore-plan {hub} --user ana", user="UENG00001")
    assert plan.ok and "Nothing has been run" in plan.text, plan.text
