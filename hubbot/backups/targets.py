"""A hub's :class:`BackupTarget` from its fleet config: the volumes, or the tags that find them
(2i2c's conventions by default), and where they are."""

from __future__ import annotations

from hubbot.domain import BackupKind, BackupTarget
from hubbot.errors import UserError
from hubbot.fleet import AwsProvider, BackupConfig, Fleet, GcpProvider, HubRef, OpenStackProvider

# The tags 2i2c's terraform puts on a hub's home-directory volume (EBS); its JetStream2 (Cinder)
# home volumes carry the hub's name alone as metadata. Its GCP home disks carry no labels (and a
# label key cannot start with a digit): they are found by their name, hub-nfs-homedirs-<hub>.
DEFAULT_TAGS: dict[BackupKind, tuple[str, str | None]] = {
    BackupKind.EBS: ("2i2c:hub-name", "2i2c:volume-purpose"),
    BackupKind.EFS: ("2i2c:hub-name", "2i2c:volume-purpose"),
    BackupKind.CINDER: ("2i2c:hub-name", None),
}
GCP_DISK = "hub-nfs-homedirs-{hub}"
HOME = "home-nfs"
PROVIDER_KINDS = {BackupKind.EBS: "aws", BackupKind.EFS: "aws", BackupKind.GCP_DISK: "gcp",
                  BackupKind.CINDER: "openstack"}


def config_of(ref: HubRef) -> BackupConfig:
    if ref.hub.backup is None:
        raise UserError(f"{ref.qualified} has no backups set up: give the hub a `backup:` section in the fleet "
                        "config (kind: ebs, efs, gcp-disk or cinder)")
    return ref.hub.backup


def target_of(fleet: Fleet, ref: HubRef) -> BackupTarget:
    """What to back up for ``ref``; a :class:`UserError` when its config and provider disagree."""
    conf = config_of(ref)
    kind = BackupKind(conf.kind)
    provider = fleet.config.providers.get(ref.provider)
    # a csv provider (the demo, tests) stands for whichever cloud the backups say
    if provider is None or provider.kind not in (PROVIDER_KINDS[kind], "csv"):
        raise UserError(f"{ref.qualified} backs up with kind {kind.value}, which needs an "
                        f"{PROVIDER_KINDS[kind]} provider, but its cluster's provider {ref.provider} is "
                        f"{getattr(provider, 'kind', 'missing')}")
    volumes = tuple(conf.volumes)
    if kind is BackupKind.GCP_DISK:
        tags = dict(conf.tags or {})
        if not volumes and not tags:
            volumes = (GCP_DISK.format(hub=ref.hub.name),)
        if volumes and conf.zone is None and not all("/" in v for v in volumes):
            raise UserError(f"{ref.qualified}'s gcp-disk backups need the zone of its disks: add backup.zone "
                            "(e.g. us-central1-b), or give each volume as zone/disk, in the fleet config")
    else:
        hub_key, purpose_key = DEFAULT_TAGS[kind]
        defaults = {hub_key: ref.hub.name, **({purpose_key: HOME} if purpose_key else {})}
        tags = dict(conf.tags) if conf.tags is not None else ({} if volumes else defaults)
    region = conf.region
    project = None
    if isinstance(provider, AwsProvider):
        region = region or provider.region
    elif isinstance(provider, GcpProvider):
        project = provider.project
    elif isinstance(provider, OpenStackProvider):
        region = region or provider.region
    return BackupTarget(hub=ref.qualified, provider=ref.provider, kind=kind, volumes=volumes,
                        tags=tags, region=region, project=project, zone=conf.zone, vault=conf.vault,
                        role_arn=conf.role_arn)
