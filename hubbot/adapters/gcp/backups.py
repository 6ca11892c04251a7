"""Hubs' home directories on Compute Engine persistent disks, backed up as disk snapshots
(:class:`GcpBackups`, a :class:`hubbot.ports.BackupSource` for ``gcp-disk`` backups).

A hub's ``volumes`` name its disks (``<zone>/<disk>``, or ``<disk>`` in the hub's ``zone``; 2i2c's
terraform names them ``hub-nfs-homedirs-<hub>``); otherwise its ``tags`` find them as disk labels.
How tags become labels, what hubbot writes on a snapshot and how Compute's states read is in
:mod:`hubbot.adapters.gcp.disks`. Snapshots go to the project's default storage location.

**Calls.** :meth:`GcpBackups.overview` makes three paged list calls per project, whatever the
number of hubs: every disk (``aggregated/disks``: labels, attached snapshot schedules), every
snapshot (``global/snapshots``, matched to the hubs' disks by ``sourceDisk``), and, when a disk has
any, every resource policy (``aggregated/resourcePolicies``). Starting a snapshot does not wait
for Compute's operation; a snapshot not yet visible right after this process started it reads as
pending (or failed, with Compute's reason) from that operation rather than as missing.

hubbot's service account needs, on each project: ``compute.disks.list`` and ``compute.disks.get``,
``compute.snapshots.list`` and ``compute.snapshots.get``, ``compute.resourcePolicies.list`` and
``compute.zoneOperations.get`` (``roles/compute.viewer`` has these), and to start snapshots
``compute.disks.createSnapshot`` and ``compute.snapshots.create`` (``roles/compute.storageAdmin``
has both).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from hubbot.adapters.gcp.api import API_TIMEOUT, Api, client_options, guarded, message_text, reasons
from hubbot.adapters.gcp.api import credentials as endpoint_credentials
from hubbot.adapters.gcp.disks import (
    LABEL_HUB,
    LABEL_REQUESTED_BY,
    NAME,
    describe,
    disk_filter,
    disk_labels,
    disk_ref,
    label_value,
    last_segment,
    resource_path,
    snapshot_name,
    snapshot_of,
    volume_id,
    volume_of,
)
from hubbot.adapters.gcp.schedules import retention_days, schedule_text
from hubbot.adapters.lazy import Lazy
from hubbot.domain import (
    TAG_HUB,
    TAG_REASON,
    TAG_REQUESTED_BY,
    BackupTarget,
    BackupView,
    Snapshot,
    SnapshotState,
    Volume,
)
from hubbot.errors import HubbotError, NotFound, UpstreamError, UserError
from hubbot.fleet import GcpProvider
from hubbot.ports import Clock

if TYPE_CHECKING:
    from google.cloud import compute_v1

_T = TypeVar("_T")
_SERVICE = "the Compute Engine API"
_VIEWER = "roles/compute.viewer"
_MAX_RESULTS = 500  # the most Compute returns on one page
_REMEMBERED = 1000  # snapshots started by this process whose operation is kept, for the moment before they show


@dataclass(frozen=True, slots=True)
class _Started:
    """A snapshot this process started, with the zonal operation creating it."""

    project: str
    zone: str
    operation: str
    snapshot: Snapshot


class GcpBackups:
    """Snapshots of hubs' home-directory disks on Compute Engine; see the module's notes for the
    label mapping, names and the permissions needed. ``credentials`` replaces the ambient Google
    credentials (anonymous ones for a plain-HTTP ``provider.endpoint`` otherwise); ``clock`` names
    new snapshots. Clients are made on first use, in a worker thread."""

    def __init__(self, provider: GcpProvider, *, credentials: Any | None = None, clock: Clock | None = None) -> None:
        self.provider = provider
        self._credentials = credentials
        self._clock = clock
        self._disks = Lazy(self._disks_client)
        self._snapshots = Lazy(self._snapshots_client)
        self._policies = Lazy(self._policies_client)
        self._operations = Lazy(self._operations_client)
        self._started: dict[str, _Started] = {}

    def _options(self) -> dict[str, Any]:
        endpoint = self.provider.endpoint
        return {"transport": "rest", "credentials": self._credentials or endpoint_credentials(endpoint),
                "client_options": client_options(endpoint)}

    def _disks_client(self) -> compute_v1.DisksClient:
        from google.cloud import compute_v1

        return compute_v1.DisksClient(**self._options())

    def _snapshots_client(self) -> compute_v1.SnapshotsClient:
        from google.cloud import compute_v1

        return compute_v1.SnapshotsClient(**self._options())

    def _policies_client(self) -> compute_v1.ResourcePoliciesClient:
        from google.cloud import compute_v1

        return compute_v1.ResourcePoliciesClient(**self._options())

    def _operations_client(self) -> compute_v1.ZoneOperationsClient:
        from google.cloud import compute_v1

        return compute_v1.ZoneOperationsClient(**self._options())

    def _project(self, target: BackupTarget) -> str:
        return target.project or self.provider.project

    def _now(self) -> datetime:
        return self._clock.now() if self._clock is not None else datetime.now(UTC)

    # -- the port ---------------------------------------------------------------------------------

    async def volumes(self, target: BackupTarget) -> list[Volume]:
        project = self._project(target)
        if target.volumes:
            refs = [disk_ref(v, target) for v in target.volumes]
            api = Api(_SERVICE, f"the disks of {target.hub} in project {project}",
                      f"compute.disks.get ({_VIEWER} has it) on project {project}")
            return await _run(api, lambda: [self._get_disk(project, zone, name) for zone, name in refs])
        labels = disk_labels(target.tags) if target.tags else None
        if not labels:
            raise UserError(f"{target.hub} has no backup volumes or tags to find its disks by")
        api = Api(_SERVICE, f"the disks of {target.hub} in project {project}",
                  f"compute.disks.list ({_VIEWER} has it) on project {project}")
        found = await _run(api, lambda: self._list_disks(project, target.zone, disk_filter(labels)))
        return sorted(found, key=lambda v: v.id)

    async def start(self, target: BackupTarget, volume: Volume, *, tags: Mapping[str, str],
                    description: str) -> Snapshot:
        project = self._project(target)
        zone, disk = disk_ref(volume.id, target)
        now = self._now()
        name = snapshot_name(target.hub, now)
        requested_by, reason = tags.get(TAG_REQUESTED_BY), tags.get(TAG_REASON) or None
        labels = {LABEL_HUB: label_value(tags.get(TAG_HUB, target.hub))}
        if requested_by:
            labels[LABEL_REQUESTED_BY] = label_value(requested_by)
        labels |= disk_labels({k: v for k, v in tags.items() if k not in (TAG_HUB, TAG_REQUESTED_BY, TAG_REASON)})
        text = describe(description, requested_by=requested_by, reason=reason)
        api = Api(_SERVICE, f"disk {disk} in zone {zone} of project {project}",
                  "compute.disks.createSnapshot and compute.snapshots.create (roles/compute.storageAdmin has both) "
                  f"on project {project}")
        operation = await _run(api, lambda: self._create(project, zone, disk, name, labels, text))
        snapshot = Snapshot(id=name, volume=f"{zone}/{disk}", state=SnapshotState.PENDING, started=now,
                            size_gib=volume.size_gib, made_by="hubbot", requested_by=requested_by, reason=reason)
        if len(self._started) >= _REMEMBERED:
            self._started.pop(next(iter(self._started)))
        self._started[name] = _Started(project, zone, operation, snapshot)
        return snapshot

    async def snapshot(self, target: BackupTarget, snapshot_id: str) -> Snapshot:
        project = self._project(target)
        if not NAME.fullmatch(snapshot_id):
            raise NotFound(f"no snapshot {snapshot_id[:80]!r} in project {project}: not a snapshot name")
        api = Api(_SERVICE, f"snapshot {snapshot_id} in project {project}",
                  f"compute.snapshots.get and compute.zoneOperations.get ({_VIEWER} has them) on project {project}")
        return await _run(api, lambda: self._read_snapshot(project, snapshot_id))

    async def overview(self, targets: Sequence[BackupTarget]) -> dict[str, BackupView]:
        by_project: dict[str, list[BackupTarget]] = {}
        for target in targets:
            by_project.setdefault(self._project(target), []).append(target)
        views: dict[str, BackupView] = {}
        failures: list[HubbotError] = []

        async def one(project: str) -> _Scene | HubbotError:
            api = Api(_SERVICE, f"the snapshots in project {project}",
                      "compute.snapshots.list, compute.disks.list and compute.resourcePolicies.list "
                      f"({_VIEWER} has them) on project {project}")
            try:
                return await self._scene(api, project)
            except HubbotError as exc:
                return exc

        # the projects at once, each with its lists at once
        scenes = await asyncio.gather(*(one(project) for project in by_project))
        for mine, scene in zip(by_project.values(), scenes, strict=True):
            if isinstance(scene, HubbotError):
                failures.append(scene)
                views |= {t.hub: BackupView(hub=t.hub, problem=str(scene)) for t in mine}
            else:
                views |= {t.hub: scene.view(t) for t in mine}
        if failures and len(failures) == len(by_project):
            raise failures[0]
        return {t.hub: views[t.hub] for t in targets}

    # -- calls (in a worker thread) ---------------------------------------------------------------

    def _get_disk(self, project: str, zone: str, name: str) -> Volume:
        from google.api_core import exceptions as api_errors

        try:
            disk = self._disks().get(project=project, zone=zone, disk=name, retry=None, timeout=API_TIMEOUT)
        except api_errors.NotFound as exc:
            raise NotFound(f"no disk {name} in zone {zone} of project {project}") from exc
        return volume_of(disk)

    def _list_disks(self, project: str, zone: str | None, filter_: str) -> list[Volume]:
        from google.cloud import compute_v1

        if zone:
            request = compute_v1.ListDisksRequest(project=project, zone=zone, filter=filter_, max_results=_MAX_RESULTS)
            return [volume_of(d) for d in self._disks().list(request=request, retry=None, timeout=API_TIMEOUT)]
        aggregated = compute_v1.AggregatedListDisksRequest(project=project, filter=filter_, max_results=_MAX_RESULTS)
        pages = self._disks().aggregated_list(request=aggregated, retry=None, timeout=API_TIMEOUT)
        return [volume_of(d) for _, scoped in pages for d in scoped.disks]

    def _create(self, project: str, zone: str, disk: str, name: str, labels: dict[str, str], text: str) -> str:
        from google.api_core import exceptions as api_errors
        from google.cloud import compute_v1

        resource = compute_v1.Snapshot(name=name, labels=labels, description=text)
        try:
            operation = self._disks().create_snapshot(project=project, zone=zone, disk=disk,
                                                      snapshot_resource=resource, retry=None, timeout=API_TIMEOUT)
        except api_errors.NotFound as exc:
            raise NotFound(f"no disk {disk} in zone {zone} of project {project}") from exc
        except api_errors.GoogleAPICallError as exc:
            if "quotaExceeded" in reasons(exc):
                raise _quota(project, message_text(exc)) from exc
            raise
        # Not waiting: the operation is only looked at when it already says it failed.
        errors = [(e.code, e.message) for e in operation.error.errors]
        if any(code == "QUOTA_EXCEEDED" for code, _ in errors):
            raise _quota(project, next(m for c, m in errors if c == "QUOTA_EXCEEDED"))
        if errors:
            raise UpstreamError(f"Compute Engine refused to snapshot disk {disk}: {errors[0][1][:200]}")
        return str(operation.name)

    def _read_snapshot(self, project: str, name: str) -> Snapshot:
        from google.api_core import exceptions as api_errors

        try:
            found = self._snapshots().get(project=project, snapshot=name, retry=None, timeout=API_TIMEOUT)
        except api_errors.NotFound as exc:
            started = self._started.get(name)
            if started is None or started.project != project:
                raise NotFound(f"no snapshot {name} in project {project}") from exc
            return self._from_operation(started)
        self._started.pop(name, None)
        return snapshot_of(found)

    def _from_operation(self, started: _Started) -> Snapshot:
        """A snapshot hubbot started that Compute does not show (yet): its operation says why."""
        operation = self._operations().get(project=started.project, zone=started.zone, operation=started.operation,
                                           retry=None, timeout=API_TIMEOUT)
        if not operation.done:
            return started.snapshot
        self._started.pop(started.snapshot.id, None)
        errors = [e.message for e in operation.error.errors]
        if errors:
            return replace(started.snapshot, state=SnapshotState.FAILED, message=errors[0][:200])
        raise NotFound(f"snapshot {started.snapshot.id} is gone from project {started.project}")

    async def _scene(self, api: Api, project: str) -> _Scene:
        """The project's disks and snapshots (listed at once), then its snapshot schedules when a
        disk has one."""
        disks, snapshots = await asyncio.gather(_run(api, functools.partial(self._all_disks, project)),
                                                _run(api, functools.partial(self._all_snapshots, project)))
        policies: dict[str, compute_v1.ResourcePolicy] = {}
        if any(d.resource_policies for d in disks):
            policies = await _run(api, functools.partial(self._all_policies, project))
        return _Scene(project, disks, snapshots, policies)

    def _all_disks(self, project: str) -> list[compute_v1.Disk]:
        from google.cloud import compute_v1

        pages = self._disks().aggregated_list(
            request=compute_v1.AggregatedListDisksRequest(project=project, max_results=_MAX_RESULTS),
            retry=None, timeout=API_TIMEOUT)
        return [d for _, scoped in pages for d in scoped.disks]

    def _all_snapshots(self, project: str) -> list[compute_v1.Snapshot]:
        from google.cloud import compute_v1

        return list(self._snapshots().list(
            request=compute_v1.ListSnapshotsRequest(project=project, max_results=_MAX_RESULTS),
            retry=None, timeout=API_TIMEOUT))

    def _all_policies(self, project: str) -> dict[str, compute_v1.ResourcePolicy]:
        from google.cloud import compute_v1

        pages = self._policies().aggregated_list(
            request=compute_v1.AggregatedListResourcePoliciesRequest(project=project, max_results=_MAX_RESULTS),
            retry=None, timeout=API_TIMEOUT)
        return {resource_path(p.self_link): p for _, scoped in pages for p in scoped.resource_policies}


@dataclass(frozen=True)  # cached_property needs the instance __dict__ (no slots)
class _Scene:
    """One project's disks, snapshots and snapshot schedules, read once for every hub in it."""

    project: str
    disks: list[compute_v1.Disk]
    snapshots: list[compute_v1.Snapshot]
    policies: dict[str, compute_v1.ResourcePolicy]

    def view(self, target: BackupTarget) -> BackupView:
        try:
            disks, missing = self._disks_of(target)
        except UserError as exc:
            return BackupView(hub=target.hub, problem=str(exc))
        problem = None
        if missing:
            problem = f"no disk {', '.join(missing)} in project {self.project}"
        elif not disks:
            wanted = ", ".join(f"{k}={v}" for k, v in sorted(disk_labels(target.tags).items()))
            problem = f"no disk in project {self.project} is labelled {wanted}"
        paths = {resource_path(d.self_link) for d in disks}
        shots = [shot for path in paths for shot in self._by_disk.get(path, ())]
        shots.sort(key=lambda s: (s.started, s.id), reverse=True)
        lines: list[str] = []
        for disk in sorted(disks, key=lambda d: d.self_link):
            for link in disk.resource_policies:
                policy = self.policies.get(resource_path(link))
                if policy is None:  # deleted since, or in a region hubbot cannot list
                    line: str | None = f"snapshot schedule {last_segment(link)} (unreadable)"
                else:
                    line = schedule_text(policy)
                if line and line not in lines:
                    lines.append(line)
        return BackupView(hub=target.hub, snapshots=tuple(shots), schedule="; ".join(lines) or None, problem=problem)

    @functools.cached_property
    def _by_disk(self) -> dict[str, list[Snapshot]]:
        """Every snapshot, read once, by the disk it was taken of."""
        kept: dict[str, int | None] = {key: retention_days(p) for key, p in self.policies.items()}
        out: dict[str, list[Snapshot]] = {}
        for s in self.snapshots:
            shot = snapshot_of(s, kept_days=kept.get(resource_path(s.source_snapshot_schedule_policy)))
            out.setdefault(resource_path(s.source_disk), []).append(shot)
        return out

    @functools.cached_property
    def _by_id(self) -> dict[str, compute_v1.Disk]:
        return {volume_id(d.self_link): d for d in self.disks}

    def _disks_of(self, target: BackupTarget) -> tuple[list[compute_v1.Disk], list[str]]:
        by_id = self._by_id
        if target.volumes:
            wanted = [f"{zone}/{name}" for zone, name in (disk_ref(v, target) for v in target.volumes)]
            return [by_id[w] for w in wanted if w in by_id], [w for w in wanted if w not in by_id]
        labels = disk_labels(target.tags) if target.tags else {}
        if not labels:
            raise UserError(f"{target.hub} has no backup volumes or tags to find its disks by")
        found = [d for key, d in sorted(by_id.items())
                 if all(d.labels.get(k) == v for k, v in labels.items())
                 and (not target.zone or key.startswith(f"{target.zone}/"))]
        return found, []


async def _run(api: Api, call: Callable[[], _T]) -> _T:
    return await asyncio.to_thread(guarded, api, call)


def _quota(project: str, message: str) -> UserError:
    return UserError(f"GCP will not make another snapshot in project {project}: {message[:200]} Delete snapshots "
                     "that are no longer needed, or ask for more quota.")
