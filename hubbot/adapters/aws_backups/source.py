"""The :class:`hubbot.ports.BackupSource` for one AWS account: EBS volumes (EC2 snapshots, DLM
schedules) and EFS file systems (AWS Backup jobs, recovery points and plans), by each target's
kind and region."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from hubbot.adapters.aws_backups.calls import AwsCalls, ClientFactory
from hubbot.adapters.aws_backups.ebs import EbsBackups
from hubbot.adapters.aws_backups.efs import EfsBackups
from hubbot.domain import BackupKind, BackupTarget, BackupView, Snapshot, Volume
from hubbot.errors import HubbotError, UserError

if TYPE_CHECKING:
    from hubbot.fleet import AwsProvider


class AwsBackups:
    """Backups of hubs' home storage in one AWS account.

    ``client_factory(service, region)`` returns a boto3 client (``ec2``, ``dlm``, ``efs``,
    ``backup``); each is made once, on first use, in a worker thread. By default the clients use
    the ambient AWS credentials (environment, profile or instance role), which need:
    ``ec2:DescribeVolumes``, ``ec2:DescribeSnapshots``, ``ec2:CreateSnapshot`` and
    ``ec2:CreateTags`` (on snapshots), ``dlm:GetLifecyclePolicies`` and ``dlm:GetLifecyclePolicy``
    for EBS; ``elasticfilesystem:DescribeFileSystems``, ``backup:StartBackupJob`` with
    ``iam:PassRole`` on the hubs' ``role_arn``, ``backup:DescribeBackupJob``,
    ``backup:ListBackupJobs``, ``backup:ListRecoveryPointsByBackupVault``,
    ``backup:ListBackupPlans``, ``backup:GetBackupPlan``, ``backup:ListBackupSelections`` and
    ``backup:GetBackupSelection`` for EFS.

    ``calls`` counts the requests sent, by IAM action. An overview sends a fixed number per
    region and kind, whatever the number of hubs there (see :mod:`.ebs` and :mod:`.efs`).
    """

    def __init__(self, provider: AwsProvider, *, client_factory: ClientFactory | None = None) -> None:
        self.provider = provider
        self._calls = AwsCalls(account=provider.account_id, factory=client_factory)
        self._ebs = EbsBackups(self._calls)
        self._efs = EfsBackups(self._calls)

    @property
    def calls(self) -> Counter[str]:
        return self._calls.counted

    def _region(self, target: BackupTarget) -> str:
        return target.region or self.provider.region

    def _kind(self, target: BackupTarget) -> EbsBackups | EfsBackups:
        if target.kind is BackupKind.EBS:
            return self._ebs
        if target.kind is BackupKind.EFS:
            return self._efs
        raise UserError(f"{target.hub}'s backups are {target.kind.value}, which AWS does not hold: "
                        "use ebs or efs with an AWS provider")

    async def volumes(self, target: BackupTarget) -> list[Volume]:
        kind = self._kind(target)
        return await asyncio.to_thread(kind.volumes, target, self._region(target))

    async def start(self, target: BackupTarget, volume: Volume, *, tags: Mapping[str, str],
                    description: str) -> Snapshot:
        kind = self._kind(target)
        return await asyncio.to_thread(kind.start, target, self._region(target), volume, dict(tags), description)

    async def snapshot(self, target: BackupTarget, snapshot_id: str) -> Snapshot:
        kind = self._kind(target)
        return await asyncio.to_thread(kind.snapshot, target, self._region(target), snapshot_id)

    async def overview(self, targets: Sequence[BackupTarget]) -> dict[str, BackupView]:
        """Every target's backups, one region (and kind) at a time, the regions concurrently. A
        region that fails gives each of its hubs a view with ``problem`` set; when every region
        fails, the first failure is raised."""
        views: dict[str, BackupView] = {}
        groups: dict[tuple[BackupKind, str], list[BackupTarget]] = {}
        for target in targets:
            try:
                self._kind(target)
            except UserError as exc:
                views[target.hub] = BackupView(hub=target.hub, problem=str(exc))
                continue
            groups.setdefault((target.kind, self._region(target)), []).append(target)
        keys = list(groups)
        results = await asyncio.gather(
            *(asyncio.to_thread(self._kind(groups[key][0]).overview, key[1], groups[key]) for key in keys),
            return_exceptions=True)
        failures: list[HubbotError] = []
        for key, result in zip(keys, results, strict=True):
            if isinstance(result, HubbotError):
                failures.append(result)
                views.update({t.hub: BackupView(hub=t.hub, problem=str(result)) for t in groups[key]})
            elif isinstance(result, BaseException):
                raise result
            else:
                views.update(result)
        if failures and len(failures) == len(keys):
            raise failures[0]
        return {t.hub: views[t.hub] for t in targets}
