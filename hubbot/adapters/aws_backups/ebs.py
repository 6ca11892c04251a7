"""EBS home volumes: found by ID or tags (``DescribeVolumes``), snapshotted (``CreateSnapshot``)
and read back (``DescribeSnapshots``); their schedules are Data Lifecycle Manager policies.

An overview of one region makes one paged ``DescribeVolumes``, one paged ``DescribeSnapshots``
(per 200 volumes: a filter takes at most 200 values), one ``GetLifecyclePolicies`` and one
``GetLifecyclePolicy`` per enabled snapshot policy in the region, however many hubs it covers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from hubbot.adapters.aws_backups.calls import AwsCalls, Payload, when
from hubbot.adapters.aws_backups.schedules import dlm_covers, dlm_text, tag_map
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
from hubbot.errors import HubbotError, NotFound

SOMEONE = "someone (console or another tool)"
_FILTER_VALUES = 200  # values one DescribeSnapshots filter takes
_VOLUME_PAGE = 500
_SNAPSHOT_PAGE = 1000
_SNAPSHOT_ID = re.compile(r"^snap-[0-9a-f]{8,17}$")
_STATES = {
    "pending": SnapshotState.PENDING,
    "recovering": SnapshotState.PENDING,
    "completed": SnapshotState.COMPLETED,
    "error": SnapshotState.FAILED,
    "recoverable": SnapshotState.FAILED,
}
# Tags AWS puts on the snapshots its own services make.
_DLM_POLICY = "aws:dlm:lifecycle-policy-id"
_DLM_EXPIRES = "aws:dlm:expirationTime"
_AWS_BACKUP = "aws:backup:source-resource"


class EbsBackups:
    def __init__(self, calls: AwsCalls) -> None:
        self._calls = calls

    def volumes(self, target: BackupTarget, region: str) -> list[Volume]:
        if target.volumes:
            params: dict[str, Any] = {"VolumeIds": list(target.volumes)}
        elif target.tags:
            params = {"Filters": [{"Name": f"tag:{k}", "Values": [v]} for k, v in sorted(target.tags.items())],
                      "MaxResults": _VOLUME_PAGE}
        else:
            return []
        missing = (f"{_volumes_word(target.volumes)} of {target.hub} not found in {region}: check the hub's "
                   "backup volumes in the fleet config") if target.volumes else ""
        found = [_volume(v) for page in self._calls.pages("ec2", region, "DescribeVolumes", missing=missing, **params)
                 for v in page.get("Volumes", [])]
        return sorted(found, key=lambda v: v.id)

    def start(self, target: BackupTarget, region: str, volume: Volume, tags: Mapping[str, str],
              description: str) -> Snapshot:
        wanted = {k: v[:256] for k, v in tags.items()}
        wanted.setdefault("Name", (description or f"hubbot backup of {target.hub}")[:256])
        made = self._calls.call(
            "ec2", region, "CreateSnapshot", also=("ec2:CreateTags",),
            missing=f"volume {volume.id} of {target.hub} not found in {region}",
            VolumeId=volume.id, Description=description[:255],
            TagSpecifications=[{"ResourceType": "snapshot",
                                "Tags": [{"Key": k, "Value": v} for k, v in wanted.items()]}],
        )
        return snapshot_of(made)

    def snapshot(self, target: BackupTarget, region: str, snapshot_id: str) -> Snapshot:
        missing = f"no snapshot {snapshot_id[:80]} of {target.hub}'s volumes in {region}"
        if not _SNAPSHOT_ID.match(snapshot_id):
            raise NotFound(missing)
        found = self._calls.call("ec2", region, "DescribeSnapshots", missing=missing, SnapshotIds=[snapshot_id])
        shots = found.get("Snapshots") or []
        if not shots or not self._belongs(target, region, shots[0]):
            raise NotFound(missing)
        return snapshot_of(shots[0])

    def _belongs(self, target: BackupTarget, region: str, shot: Payload) -> bool:
        """Whether a snapshot is of ``target``'s volumes, so one hub's people see only its own."""
        hub = tag_map(shot.get("Tags")).get(TAG_HUB)
        if hub is not None:
            return hub == target.hub
        volume = str(shot.get("VolumeId", ""))
        if target.volumes or not target.tags:
            return volume in target.volumes
        try:
            found = self._calls.call("ec2", region, "DescribeVolumes", missing="gone", VolumeIds=[volume])
        except NotFound:
            return False
        return any(_matches(target, v) for v in found.get("Volumes", []))

    def overview(self, region: str, targets: Sequence[BackupTarget]) -> dict[str, BackupView]:
        volumes = {str(v["VolumeId"]): v for v in self._region_volumes(region, targets)}
        mine = {t.hub: sorted(i for i, v in volumes.items() if _matches(t, v)) for t in targets}
        problems: dict[str, list[str]] = {t.hub: [] for t in targets}
        for t in targets:
            if lost := [v for v in t.volumes if v not in volumes]:
                problems[t.hub].append(f"{_volumes_word(lost)} not found in {region}: check the hub's backup "
                                       "volumes in the fleet config")
        wanted = sorted({v for ids in mine.values() for v in ids})
        shots = self._snapshots(region, wanted)
        schedules, unknown = self._schedules(region, [volumes[v] for v in wanted])
        views = {}
        for t in targets:
            found = sorted((s for v in mine[t.hub] for s in shots.get(v, [])), key=lambda s: (s.started, s.id),
                           reverse=True)
            texts = sorted({text for v in mine[t.hub] for text in schedules.get(v, [])})
            if unknown and mine[t.hub]:
                problems[t.hub].append(unknown)
            views[t.hub] = BackupView(hub=t.hub, snapshots=tuple(found), schedule="; ".join(texts) or None,
                                      problem="; ".join(problems[t.hub]) or None)
        return views

    def _region_volumes(self, region: str, targets: Sequence[BackupTarget]) -> list[Payload]:
        """The volumes any of ``targets`` may mean, in one paged request: those carrying one of the
        tag keys the targets look for, or, when any target names volumes by ID, every volume in the
        region (a filter on IDs would leave out the tagged ones: filters are ANDed)."""
        params: dict[str, Any] = {"MaxResults": _VOLUME_PAGE}
        if not any(t.volumes for t in targets):
            keys = sorted({k for t in targets for k in t.tags})
            if not keys:
                return []
            params["Filters"] = [{"Name": "tag-key", "Values": keys}]
        return [v for page in self._calls.pages("ec2", region, "DescribeVolumes", **params)
                for v in page.get("Volumes", [])]

    def _snapshots(self, region: str, volumes: list[str]) -> dict[str, list[Snapshot]]:
        out: dict[str, list[Snapshot]] = {}
        for start in range(0, len(volumes), _FILTER_VALUES):
            chunk = volumes[start:start + _FILTER_VALUES]
            for page in self._calls.pages("ec2", region, "DescribeSnapshots", OwnerIds=["self"],
                                          Filters=[{"Name": "volume-id", "Values": chunk}], MaxResults=_SNAPSHOT_PAGE):
                for raw in page.get("Snapshots", []):
                    shot = snapshot_of(raw)
                    out.setdefault(shot.volume, []).append(shot)
        return out

    def _schedules(self, region: str, volumes: list[Payload]) -> tuple[dict[str, list[str]], str | None]:
        """Each volume's DLM schedules; if the policies cannot be read, why (snapshots still count)."""
        if not volumes:
            return {}, None
        try:
            policies = self._policies(region)
        except HubbotError as exc:
            return {}, f"its backup schedule could not be read: {exc}"
        return {str(v["VolumeId"]): [text for p in policies if dlm_covers(p, v) for text in dlm_text(p)]
                for v in volumes}, None

    def _policies(self, region: str) -> list[Payload]:
        # The summaries carry no target tags, so each snapshot policy is read in full. Not filtered
        # by ResourceTypes=VOLUME: how that filter treats default policies is not documented.
        listed = self._calls.call("dlm", region, "GetLifecyclePolicies", State="ENABLED")
        policies = []
        for summary in listed.get("Policies", []):
            if summary.get("PolicyType", "EBS_SNAPSHOT_MANAGEMENT") != "EBS_SNAPSHOT_MANAGEMENT":
                continue
            try:
                found = self._calls.call("dlm", region, "GetLifecyclePolicy", missing="gone",
                                         PolicyId=summary["PolicyId"])
            except NotFound:  # deleted since it was listed
                continue
            policies.append(found.get("Policy") or {})
        return policies


def snapshot_of(raw: Payload) -> Snapshot:
    """A snapshot as ``DescribeSnapshots`` (or ``CreateSnapshot``) describes it."""
    tags = tag_map(raw.get("Tags"))
    state = _STATES.get(str(raw.get("State", "")), SnapshotState.PENDING)
    if TAG_HUB in tags:
        made_by = "hubbot"
    elif tags.get(_DLM_POLICY):
        made_by = f"DLM policy {tags[_DLM_POLICY]}"
    elif _AWS_BACKUP in tags:
        made_by = "AWS Backup"
    else:
        made_by = SOMEONE
    return Snapshot(
        id=str(raw.get("SnapshotId", "")), volume=str(raw.get("VolumeId", "")), state=state,
        started=when(raw.get("StartTime"), what=f"snapshot {raw.get('SnapshotId', '')}"),
        size_gib=raw.get("VolumeSize"), progress=raw.get("Progress") or None, made_by=made_by,
        requested_by=tags.get(TAG_REQUESTED_BY), reason=tags.get(TAG_REASON) or None,
        expires=_expires(tags.get(_DLM_EXPIRES)),
        message=(raw.get("StateMessage") or None) if state is SnapshotState.FAILED else None,
    )


def _expires(text: str | None) -> datetime | None:
    try:
        found = datetime.fromisoformat(text or "")
    except ValueError:
        return None
    return found.replace(tzinfo=UTC) if found.tzinfo is None else found.astimezone(UTC)


def _volume(raw: Payload) -> Volume:
    tags = tag_map(raw.get("Tags"))
    return Volume(id=str(raw["VolumeId"]), name=tags.get("Name", ""), size_gib=raw.get("Size"),
                  where=str(raw.get("AvailabilityZone", "")), tags=tags)


def _matches(target: BackupTarget, volume: Payload) -> bool:
    if target.volumes:
        return volume.get("VolumeId") in target.volumes
    tags = tag_map(volume.get("Tags"))
    return bool(target.tags) and all(tags.get(k) == v for k, v in target.tags.items())


def _volumes_word(ids: Sequence[str]) -> str:
    return ("volume " if len(ids) == 1 else "volumes ") + ", ".join(ids)
