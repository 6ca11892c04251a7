"""Home-directory backups: the volumes a hub's home directories live on, the snapshots (or
recovery points) of them, and what a provider says about a hub's backups at once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

# The tags hubbot puts on what it makes (GCP labels cannot hold ':' or upper case: its adapter
# writes them as hubbot-hub, hubbot-requested-by, and keeps the reason in the description).
TAG_HUB = "hubbot:hub"
TAG_REQUESTED_BY = "hubbot:requested-by"
TAG_REASON = "hubbot:reason"


class BackupKind(StrEnum):
    EBS = "ebs"  # an EBS volume behind the hub's home NFS server: EC2 snapshots
    EFS = "efs"  # an EFS file system: AWS Backup recovery points
    GCP_DISK = "gcp-disk"  # a persistent disk: Compute Engine snapshots
    CINDER = "cinder"  # an OpenStack (JetStream2) volume: Cinder snapshots


class SnapshotState(StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class BackupTarget:
    """What to back up for one hub, as its fleet config says: the volumes by ID, or found by
    ``tags`` (labels on GCP, metadata on Cinder); where (region or zone, project); for EFS, the
    AWS Backup vault and the role it runs as."""

    hub: str  # cluster/hub
    provider: str
    kind: BackupKind
    volumes: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    region: str | None = None  # AWS region; OpenStack region
    project: str | None = None  # GCP project
    zone: str | None = None  # GCP zone of the disks
    vault: str | None = None
    role_arn: str | None = None


@dataclass(frozen=True, slots=True)
class Volume:
    id: str
    name: str = ""
    size_gib: int | None = None
    where: str = ""  # availability zone, zone
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A snapshot or recovery point of one of a hub's volumes. ``made_by`` says who or what
    made it (``hubbot``, a schedule or backup plan, a person in the console); ``requested_by``
    and ``reason`` are hubbot's tags, when hubbot made it."""

    id: str
    volume: str
    state: SnapshotState
    started: datetime
    size_gib: int | None = None
    progress: str | None = None  # e.g. "45%"
    made_by: str = ""
    requested_by: str | None = None
    reason: str | None = None
    expires: datetime | None = None  # when its retention deletes it, where the provider says
    message: str | None = None  # the provider's word on a failure


@dataclass(frozen=True, slots=True)
class BackupView:
    """A hub's backups as its provider sees them now: snapshots newest first, and the schedule
    (DLM policy, backup plan, snapshot schedule) that makes them, or None when there is none."""

    hub: str
    snapshots: tuple[Snapshot, ...] = ()
    schedule: str | None = None
    problem: str | None = None  # the provider could not say (the reason), for this hub alone
