"""EFS home file systems, backed up by AWS Backup: found by ID or tags (``DescribeFileSystems``),
backed up on demand (``StartBackupJob`` into the hub's vault, run as its role) and followed
(``DescribeBackupJob``).

An overview of one region reads, whatever the number of hubs: every file system (one paged
``DescribeFileSystems``); the backup plans (one paged ``ListBackupPlans``, and per plan one
``ListBackupSelections`` and a ``GetBackupSelection`` per selection, plus ``GetBackupPlan`` for a
plan that takes one of the hubs' file systems); and for each vault involved (the hubs' own, and
those the covering plans fill) one paged ``ListRecoveryPointsByBackupVault`` and one paged
``ListBackupJobs`` (jobs still running, and failures, have no recovery point).

AWS Backup lists jobs and recovery points without their tags (reading those costs a call per
recovery point), so who made a backup is inferred: a plan's backups name the plan, and an
on-demand backup run as a hub's ``role_arn`` is hubbot's. ``requested_by`` and ``reason`` are
known only to :meth:`EfsBackups.start`'s caller.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from hubbot.adapters.aws_backups.calls import AwsCalls, Payload, when
from hubbot.adapters.aws_backups.ebs import SOMEONE
from hubbot.adapters.aws_backups.schedules import plan_text, plan_vaults, selects, tag_map
from hubbot.domain import TAG_REASON, TAG_REQUESTED_BY, BackupTarget, BackupView, Snapshot, SnapshotState, Volume
from hubbot.errors import HubbotError, NotFound, UpstreamError, UserError

_GIB = 1 << 30
_PAGE = 1000
_FS_PAGE = 100
_JOB_ID = re.compile(r"^[0-9A-Za-z-]{8,80}$")
_P, _C, _F = SnapshotState.PENDING, SnapshotState.COMPLETED, SnapshotState.FAILED
_JOB_STATES = {"CREATED": _P, "PENDING": _P, "RUNNING": _P, "COMPLETED": _C, "ABORTING": _F, "ABORTED": _F,
               "FAILED": _F, "EXPIRED": _F, "PARTIAL": _F}
_POINT_STATES = {"CREATING": _P, "COMPLETED": _C, "AVAILABLE": _C, "PARTIAL": _F, "STOPPED": _F}
# Recovery points being deleted, or expired and not deleted, cannot be restored: they are left out.
_GONE = frozenset({"DELETING", "EXPIRED"})
# AWS Backup takes tag values of letters, digits, spaces and + - = . _ : / @ only.
_NOT_IN_TAG = re.compile(r"[^\w\s+\-=.:/@]")


class EfsBackups:
    def __init__(self, calls: AwsCalls) -> None:
        self._calls = calls

    def volumes(self, target: BackupTarget, region: str) -> list[Volume]:
        if target.volumes:
            found = [fs for fs_id in target.volumes for fs in self._one(target, region, fs_id)]
        else:
            found = [fs for fs in self._all(region) if _matches(target, fs)] if target.tags else []
        return sorted((_volume(fs, region) for fs in found), key=lambda v: v.id)

    def _one(self, target: BackupTarget, region: str, fs_id: str) -> list[Payload]:
        missing = (f"no EFS file system {fs_id[:80]} of {target.hub} in {region}: check the hub's backup volumes "
                   "in the fleet config")
        found = self._calls.call("efs", region, "DescribeFileSystems", missing=missing, FileSystemId=fs_id)
        return list(found.get("FileSystems", []))

    def _all(self, region: str) -> list[Payload]:
        return [fs for page in self._calls.pages("efs", region, "DescribeFileSystems", page_in="Marker",
                                                 page_out="NextMarker", MaxItems=_FS_PAGE)
                for fs in page.get("FileSystems", [])]

    def start(self, target: BackupTarget, region: str, volume: Volume, tags: Mapping[str, str],
              description: str) -> Snapshot:
        if not target.vault or not target.role_arn:
            raise UserError(f"{target.hub}'s backup config needs vault and role_arn: AWS Backup runs an EFS "
                            "backup in a vault, as a role")
        found = self._one(target, region, volume.id)
        if not found:
            raise NotFound(f"no EFS file system {volume.id} of {target.hub} in {region}")
        wanted = {k: _tag_value(v) for k, v in tags.items()}
        wanted.setdefault("Name", _tag_value(description or f"hubbot backup of {target.hub}"))
        job = self._calls.call(
            "backup", region, "StartBackupJob", also=("iam:PassRole",),
            missing=f"AWS Backup vault {target.vault} not found in {region}: check the hub's backup vault in the "
                    "fleet config",
            BackupVaultName=target.vault, ResourceArn=str(found[0]["FileSystemArn"]), IamRoleArn=target.role_arn,
            RecoveryPointTags=wanted, IdempotencyToken=uuid.uuid4().hex,
        )
        if not job.get("BackupJobId"):
            raise UpstreamError(f"AWS Backup in {region} started a backup of {volume.id} without saying its job; "
                                "look for it in the AWS Backup console before starting another.")
        return Snapshot(id=str(job["BackupJobId"]), volume=volume.id, state=_P,
                        started=when(job.get("CreationDate"), what="a backup job"), progress="0%", made_by="hubbot",
                        requested_by=tags.get(TAG_REQUESTED_BY), reason=tags.get(TAG_REASON) or None)

    def snapshot(self, target: BackupTarget, region: str, job_id: str) -> Snapshot:
        """A backup job as it is now (what :meth:`start` returned). A recovery point the overview
        lists without its job (by its ARN) is not looked up here: it is :class:`NotFound`."""
        missing = f"no AWS Backup job {job_id[:80]} of {target.hub}'s file systems in {region}"
        if not _JOB_ID.match(job_id):
            raise NotFound(missing)
        job = self._calls.call("backup", region, "DescribeBackupJob", missing=missing, BackupJobId=job_id)
        fs_id = _fs_id(job.get("ResourceArn"))
        if fs_id is None or not self._belongs(target, region, fs_id):
            raise NotFound(missing)
        return _job_snapshot(job, {target.role_arn} if target.role_arn else set(), {})

    def _belongs(self, target: BackupTarget, region: str, fs_id: str) -> bool:
        """Whether a file system is ``target``'s, so one hub's people see only its own backups."""
        if target.volumes or not target.tags:
            return fs_id in target.volumes
        try:
            return any(_matches(target, fs) for fs in self._one(target, region, fs_id))
        except NotFound:
            return False

    def overview(self, region: str, targets: Sequence[BackupTarget]) -> dict[str, BackupView]:
        systems = {str(fs["FileSystemId"]): fs for fs in self._all(region)}
        mine = {t.hub: sorted(i for i, fs in systems.items() if _matches(t, fs)) for t in targets}
        problems: dict[str, list[str]] = {t.hub: [] for t in targets}
        for t in targets:
            if lost := [v for v in t.volumes if v not in systems]:
                problems[t.hub].append(f"EFS file system {', '.join(lost)} not found in {region}: check the hub's "
                                       "backup volumes in the fleet config")
        arns = {str(systems[i]["FileSystemArn"]): i for ids in mine.values() for i in ids}
        schedules, names, plan_vaults_of, unknown = self._plans(region, arns, systems) if arns else ({}, {}, {}, None)
        roles = {t.role_arn for t in targets if t.role_arn}
        vaults = {t.vault for t in targets if t.vault and mine[t.hub]}
        vaults.update(v for found in plan_vaults_of.values() for v in found)
        backups: dict[str, list[Snapshot]] = {}
        failed: dict[str, str] = {}
        for vault in sorted(vaults):
            try:
                for shot in self._vault(region, vault, arns, roles, names):
                    backups.setdefault(shot.volume, []).append(shot)
            except HubbotError as exc:
                failed[vault] = str(exc)
        views = {}
        for t in targets:
            ids = mine[t.hub]
            mine_vaults = ({t.vault} if t.vault else set()) | {v for i in ids for v in plan_vaults_of.get(i, ())}
            if ids:
                problems[t.hub].extend(failed[v] for v in sorted(mine_vaults) if v in failed)
                if unknown:
                    problems[t.hub].append(unknown)
            found = sorted((s for i in ids for s in backups.get(i, [])), key=lambda s: (s.started, s.id), reverse=True)
            texts = sorted({text for i in ids for text in schedules.get(i, [])})
            views[t.hub] = BackupView(hub=t.hub, snapshots=tuple(found), schedule="; ".join(texts) or None,
                                      problem="; ".join(problems[t.hub]) or None)
        return views

    def _vault(self, region: str, vault: str, arns: Mapping[str, str], roles: set[str],
               plans: Mapping[str, str]) -> list[Snapshot]:
        """The backups of ``arns`` in one vault: each job (with its recovery point, once there is one),
        then the recovery points whose jobs AWS no longer lists."""
        missing = f"AWS Backup vault {vault} not found in {region}: check the hub's backup vault in the fleet config"
        points = {str(p.get("RecoveryPointArn")): p
                  for page in self._calls.pages("backup", region, "ListRecoveryPointsByBackupVault", missing=missing,
                                                BackupVaultName=vault, ByResourceType="EFS", MaxResults=_PAGE)
                  for p in page.get("RecoveryPoints", []) if p.get("ResourceArn") in arns}
        out = []
        for page in self._calls.pages("backup", region, "ListBackupJobs", ByBackupVaultName=vault,
                                      ByResourceType="EFS", MaxResults=_PAGE):
            for job in page.get("BackupJobs", []):
                if job.get("ResourceArn") not in arns:
                    continue
                point = points.pop(str(job.get("RecoveryPointArn")), None)
                if point is None or point.get("Status") not in _GONE:
                    out.append(_job_snapshot(job, roles, plans, point))
        out.extend(_point_snapshot(p, roles, plans) for p in points.values() if p.get("Status") not in _GONE)
        return out

    def _plans(self, region: str, arns: Mapping[str, str], systems: Mapping[str, Payload]
               ) -> tuple[dict[str, list[str]], dict[str, str], dict[str, set[str]], str | None]:
        """The rules of the plans that take each file system, the plans' names by ID, the vaults
        those plans fill for each file system, and why the plans could not be read, if so."""
        texts: dict[str, list[str]] = {}
        names: dict[str, str] = {}
        vaults: dict[str, set[str]] = {}
        try:
            for page in self._calls.pages("backup", region, "ListBackupPlans", MaxResults=_PAGE):
                for plan in page.get("BackupPlansList", []):
                    names[str(plan["BackupPlanId"])] = str(plan.get("BackupPlanName") or plan["BackupPlanId"])
            for plan_id, name in names.items():
                covered = self._covered(region, plan_id, arns, systems)
                if not covered:
                    continue
                try:
                    body = self._calls.call("backup", region, "GetBackupPlan", missing="gone", BackupPlanId=plan_id)
                except NotFound:  # deleted since it was listed
                    continue
                plan = body.get("BackupPlan") or {}
                for fs_id in covered:
                    texts.setdefault(fs_id, []).extend(plan_text(plan, name))
                    vaults.setdefault(fs_id, set()).update(plan_vaults(plan))
        except HubbotError as exc:
            return texts, names, vaults, f"its backup schedule could not be read: {exc}"
        return texts, names, vaults, None

    def _covered(self, region: str, plan_id: str, arns: Mapping[str, str], systems: Mapping[str, Payload]
                 ) -> set[str]:
        covered: set[str] = set()
        try:
            for page in self._calls.pages("backup", region, "ListBackupSelections", missing="gone",
                                          BackupPlanId=plan_id, MaxResults=_PAGE):
                for item in page.get("BackupSelectionsList", []):
                    if len(covered) == len(arns):
                        return covered
                    try:
                        got = self._calls.call("backup", region, "GetBackupSelection", missing="gone",
                                               BackupPlanId=plan_id, SelectionId=item["SelectionId"])
                    except NotFound:
                        continue
                    selection = got.get("BackupSelection") or {}
                    covered.update(fs_id for arn, fs_id in arns.items()
                                   if selects(selection, arn, tag_map(systems[fs_id].get("Tags"))))
        except NotFound:  # the plan was deleted since it was listed
            return set()
        return covered


def _job_snapshot(job: Payload, roles: set[str], plans: Mapping[str, str],
                  point: Payload | None = None) -> Snapshot:
    raw = str(job.get("State", ""))
    state = _JOB_STATES.get(raw, _P)
    message = job.get("StatusMessage") or None
    if raw == "PARTIAL" and not message:
        message = "only part of the file system was backed up"
    if state is _C and job.get("MessageCategory") in (None, "SUCCESS"):
        message = None
    return Snapshot(
        id=str(job.get("BackupJobId", "")), volume=_fs_id(job.get("ResourceArn")) or str(job.get("ResourceArn")),
        state=state, started=when(job.get("CreationDate"), what=f"backup job {job.get('BackupJobId', '')}"),
        size_gib=_gib(job.get("BackupSizeInBytes")),
        progress="100%" if state is _C else _percent(job.get("PercentDone")) if state is _P else None,
        made_by=_made_by(job, roles, plans), expires=_delete_at(point),
        message=message if state is not _P else None,
    )


def _point_snapshot(point: Payload, roles: set[str], plans: Mapping[str, str]) -> Snapshot:
    state = _POINT_STATES.get(str(point.get("Status", "")), _P)
    return Snapshot(
        id=str(point.get("RecoveryPointArn", "")),
        volume=_fs_id(point.get("ResourceArn")) or str(point.get("ResourceArn")), state=state,
        started=when(point.get("CreationDate"), what="a recovery point"), size_gib=_gib(point.get("BackupSizeInBytes")),
        progress="100%" if state is _C else None, made_by=_made_by(point, roles, plans), expires=_delete_at(point),
        message=(point.get("StatusMessage") or None) if state is _F else None,
    )


def _made_by(item: Payload, roles: set[str], plans: Mapping[str, str]) -> str:
    plan = (item.get("CreatedBy") or {}).get("BackupPlanId")
    if plan:
        return f"AWS Backup plan {plans.get(plan, plan)}"
    return "hubbot" if item.get("IamRoleArn") in roles else SOMEONE


def _delete_at(point: Payload | None) -> datetime | None:
    found = ((point or {}).get("CalculatedLifecycle") or {}).get("DeleteAt")
    return when(found, what="a recovery point") if found is not None else None


def _percent(value: object) -> str | None:
    try:
        return f"{float(str(value)):.0f}%"
    except ValueError:
        return None


def _gib(size: object) -> int | None:
    return math.ceil(size / _GIB) if isinstance(size, int) and size > 0 else None


def _fs_id(arn: object) -> str | None:
    text = str(arn or "")
    return text.rsplit("/", 1)[1] if ":elasticfilesystem:" in text and ":file-system/" in text else None


def _tag_value(text: str) -> str:
    return " ".join(_NOT_IN_TAG.sub(" ", text).split())[:256]


def _volume(fs: Payload, region: str) -> Volume:
    size = (fs.get("SizeInBytes") or {}).get("Value")
    tags = tag_map(fs.get("Tags"))
    return Volume(id=str(fs["FileSystemId"]), name=str(fs.get("Name") or tags.get("Name", "")),
                  size_gib=math.ceil(size / _GIB) if isinstance(size, int) else None,
                  where=str(fs.get("AvailabilityZoneName") or region), tags=tags)


def _matches(target: BackupTarget, fs: Payload) -> bool:
    if target.volumes:
        return fs.get("FileSystemId") in target.volumes
    tags = tag_map(fs.get("Tags"))
    return bool(target.tags) and all(tags.get(k) == v for k, v in target.tags.items())
