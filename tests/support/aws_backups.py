"""The scene for :class:`hubbot.adapters.aws_backups.AwsBackups` tests: EC2 and EFS from moto (in
process, ``mock_aws``), Data Lifecycle Manager and AWS Backup from the local stand-in
(:mod:`tests.support.aws_backup_standin`), all through real boto3 clients.

What moto does, and what the scenes do about it:

* a new EBS snapshot is ``completed`` at once, with ``Progress`` always ``100%`` and no
  ``StateMessage``; :meth:`EbsScene.finish` sets a failed snapshot's state on moto's own snapshot
  object (``error``), and tests of pending progress and failure messages use botocore's Stubber;
* ``DescribeVolumes`` and ``DescribeSnapshots`` ignore ``MaxResults`` and never page (paging is
  tested with the Stubber); ``DescribeFileSystems`` pages by ``MaxItems``/``Marker``;
* a new file system is empty (``SizeInBytes.Value`` 0): :meth:`EfsScene.add_volume` sets the size
  on moto's file system object;
* snapshots take their ``StartTime`` from moto's clock, which :class:`StepClock` replaces so that
  what is made one after another sorts that way;
* DLM and AWS Backup jobs, recovery points and plans are not served (``Not yet implemented``).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.config import Config

from hubbot.domain import SnapshotState, Volume
from tests.support.aws import ACCOUNT
from tests.support.aws_backup_standin import BackupStandIn

REGION = "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/hubbot-backups"
VAULT = "homes"
TAGS = {"2i2c:hub-name": "prod", "2i2c:volume-purpose": "home-nfs"}
ONE_ATTEMPT = Config(retries={"mode": "standard", "total_max_attempts": 1})


@functools.cache
def session() -> Any:
    """One session for the tests' clients, so each service's model is loaded once per run. Every
    test has the same fake credentials (:func:`tests.support.aws.fake_credentials`)."""
    return boto3.session.Session()


class StepClock:
    """Each reading a minute after the last."""

    def __init__(self) -> None:
        self.at = datetime(2024, 5, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.at += timedelta(minutes=1)
        return self.at

    def naive(self) -> datetime:
        """For moto, which keeps naive UTC times."""
        return self().replace(tzinfo=None)


class Clients:
    """The client factory the adapter gets: real boto3 clients, EC2 and EFS for moto, DLM and AWS
    Backup for the stand-in; ``preset`` ones (e.g. wrapped in a Stubber) instead, where given."""

    def __init__(self, standin_url: str, preset: Mapping[tuple[str, str], Any] | None = None) -> None:
        self.url = standin_url
        self.preset = dict(preset or {})

    def __call__(self, service: str, region: str) -> Any:
        if (service, region) in self.preset:
            return self.preset[(service, region)]
        endpoint = self.url if service in ("dlm", "backup") else None
        return session().client(service, region_name=region, endpoint_url=endpoint, config=ONE_ATTEMPT)


def tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


class EbsScene:
    def __init__(self, standin: BackupStandIn, region: str = REGION) -> None:
        self.standin = standin
        self.region = region
        self.ec2 = session().client("ec2", region_name=region)

    def add_volume(self, *, tags: Mapping[str, str], size_gib: int = 100) -> Volume:
        made = self.ec2.create_volume(Size=size_gib, AvailabilityZone=f"{self.region}a",
                                      TagSpecifications=[{"ResourceType": "volume", "Tags": tag_list(tags)}])
        return Volume(id=made["VolumeId"], size_gib=size_gib, where=f"{self.region}a", tags=dict(tags))

    def finish(self, snapshot_id: str, state: SnapshotState) -> None:
        from moto.ec2.models import ec2_backends

        snapshot = ec2_backends[ACCOUNT][self.region].snapshots[snapshot_id]
        snapshot.status = "completed" if state is SnapshotState.COMPLETED else "error"

    def add_schedule(self, volume: Volume) -> str:
        value = f"daily-{volume.id}"
        self.ec2.create_tags(Resources=[volume.id], Tags=[{"Key": "backup-policy", "Value": value}])
        return self.standin.add_policy(self.region, target_tags={"backup-policy": value})


class EfsScene:
    def __init__(self, standin: BackupStandIn, region: str = REGION) -> None:
        self.standin = standin
        self.region = region
        self.efs = session().client("efs", region_name=region)
        self.arns: dict[str, str] = {}
        standin.add_vault(region, VAULT)

    def add_volume(self, *, tags: Mapping[str, str], size_gib: int = 100) -> Volume:
        from moto.efs.models import efs_backends

        made = self.efs.create_file_system(CreationToken=uuid.uuid4().hex, Tags=tag_list(tags))
        efs_backends[ACCOUNT][self.region].file_systems_by_id[made["FileSystemId"]]._size_value = size_gib << 30
        self.arns[made["FileSystemId"]] = made["FileSystemArn"]
        return Volume(id=made["FileSystemId"], size_gib=size_gib, where=self.region, tags=dict(tags))

    def finish(self, snapshot_id: str, state: SnapshotState) -> None:
        if state is SnapshotState.COMPLETED:
            self.standin.finish(snapshot_id, "COMPLETED")
        else:
            self.standin.finish(snapshot_id, "FAILED", message="The file system was deleted during the backup")

    def add_schedule(self, volume: Volume) -> str:
        name = f"homes-{volume.id}"
        self.standin.add_plan(self.region, name, rules=[daily_rule()],
                              selections=[{"SelectionName": "home", "Resources": [self.arns[volume.id]]}])
        return name


def daily_rule(*, vault: str = VAULT, keep_days: int = 35) -> dict[str, Any]:
    return {"RuleName": "daily", "TargetBackupVaultName": vault, "ScheduleExpression": "cron(0 5 ? * * *)",
            "StartWindowMinutes": 60, "CompletionWindowMinutes": 180, "Lifecycle": {"DeleteAfterDays": keep_days}}
