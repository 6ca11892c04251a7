"""Compute Engine disks and snapshots as hubbot's backup values, and back: labels, names, links.

**Tags as labels.** A tag becomes a disk or snapshot label the way GCP allows labels: lower-cased,
every character other than ``a-z``, ``0-9``, ``_`` and ``-`` turned into ``-``, cut to 63
characters (``Hub.Name: Prod`` is ``hub-name: prod``). A label key must start with a letter, so a
tag such as ``2i2c:hub-name`` cannot be one: hubbot says so rather than guessing another key.

**Disks.** A volume's id is ``<zone>/<disk>``; a hub's backup ``volumes`` may also give just
``<disk>``, in the hub's ``zone``.

**What hubbot writes on a snapshot.** Its name is ``hubbot-<hub>-<yyyymmdd-hhmmss>-<6 hex>`` (UTC,
at most 63 characters); its labels are ``hubbot-hub`` (the hub, ``c1/prod`` as ``c1-prod``) and
``hubbot-requested-by`` (lower-cased, as labels must be). Labels cannot hold upper case or free
text, so the description keeps both exactly, on lines ``hubbot-requested-by: UENG00001`` and
``hubbot-reason: <reason>`` after the caller's description, and reading a snapshot back takes them
from there.

**States.** ``CREATING`` and ``UPLOADING`` are pending, ``READY`` completed, ``FAILED`` failed, and
``DELETING`` failed as well: a snapshot being deleted is no backup to count on.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from hubbot.domain import BackupTarget, Snapshot, SnapshotState, Volume
from hubbot.errors import UserError

if TYPE_CHECKING:
    from google.cloud import compute_v1

LABEL_HUB = "hubbot-hub"
LABEL_REQUESTED_BY = "hubbot-requested-by"
NAME = re.compile(r"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?")  # a disk's, snapshot's or resource policy's name
_ZONE = re.compile(r"[a-z]+-[a-z]+[0-9]+-[a-z]")
_LINK = re.compile(r"projects/([^/]+)/zones/([^/]+)/disks/([^/]+)$")
_NOT_LABEL = re.compile(r"[^a-z0-9_-]")
_TRAILER = re.compile(r"^hubbot-(requested-by|reason): (.*)$", re.MULTILINE)
_REASON_MAX = 1000
_STATES = {"CREATING": SnapshotState.PENDING, "UPLOADING": SnapshotState.PENDING, "READY": SnapshotState.COMPLETED,
           "FAILED": SnapshotState.FAILED, "DELETING": SnapshotState.FAILED}


def label_key(tag: str) -> str:
    """The GCP label key a tag key becomes; :class:`UserError` when none can be."""
    key = _NOT_LABEL.sub("-", tag.lower())[:63]
    if not key[:1].isalpha():
        raise UserError(f"tag {tag[:80]!r} cannot be a GCP label: label keys start with a lower-case letter. Give "
                        "this hub's backup tags as its disks' labels (like hub-name), or name its disks in volumes")
    return key


def label_value(value: str) -> str:
    return _NOT_LABEL.sub("-", value.lower())[:63]


def disk_labels(tags: Mapping[str, str]) -> dict[str, str]:
    return {label_key(k): label_value(v) for k, v in tags.items()}


def disk_filter(labels: Mapping[str, str]) -> str:
    """Compute's list filter for disks carrying every one of ``labels``."""
    return " ".join(f'(labels.{k} = "{v}")' for k, v in sorted(labels.items()))


def snapshot_name(hub: str, now: datetime) -> str:
    stamp = now.astimezone(UTC).strftime("%Y%m%d-%H%M%S")
    suffix = f"-{stamp}-{secrets.token_hex(3)}"
    room = 63 - len("hubbot-") - len(suffix)
    hub_part = re.sub(r"-+", "-", re.sub(r"[^a-z0-9]", "-", hub.lower())).strip("-")[:room].rstrip("-")
    return f"hubbot-{hub_part}{suffix}" if hub_part else f"hubbot{suffix}"


def describe(description: str, *, requested_by: str | None, reason: str | None) -> str:
    lines = [description.strip()] if description.strip() else []
    if requested_by:
        lines.append(f"hubbot-requested-by: {' '.join(requested_by.split())}")
    if reason:
        lines.append(f"hubbot-reason: {' '.join(reason.split())[:_REASON_MAX]}")
    return "\n".join(lines)


def snapshot_of(found: compute_v1.Snapshot, *, kept_days: int | None = None) -> Snapshot:
    """A Compute snapshot as hubbot's :class:`Snapshot`; ``kept_days`` is its schedule's retention."""
    labels = dict(found.labels)
    ours = LABEL_HUB in labels
    said = dict(_TRAILER.findall(found.description or "")) if ours else {}
    state = _STATES.get(found.status, SnapshotState.PENDING)
    message = "GCP is deleting this snapshot" if found.status == "DELETING" else None
    if found.status and found.status not in _STATES:
        message = f"GCP says its status is {found.status}"
    started = _instant(found.creation_timestamp)
    policy = found.source_snapshot_schedule_policy
    if ours:
        made_by = "hubbot"
    elif policy or found.auto_created:
        made_by = f"snapshot schedule {last_segment(policy)}" if policy else "a snapshot schedule"
    else:
        made_by = "someone (console or another tool)"
    return Snapshot(
        id=found.name, volume=volume_id(found.source_disk), state=state, started=started,
        size_gib=int(found.disk_size_gb) if "disk_size_gb" in found else None,
        progress="100%" if state is SnapshotState.COMPLETED else None, made_by=made_by,
        requested_by=(said.get("requested-by") or labels.get(LABEL_REQUESTED_BY)) if ours else None,
        reason=said.get("reason") if ours else None,
        expires=started + timedelta(days=kept_days) if kept_days else None, message=message)


def disk_ref(volume: str, target: BackupTarget) -> tuple[str, str]:
    """(zone, disk name) from ``<zone>/<disk>``, or ``<disk>`` in the target's zone."""
    zone, _, name = volume.rpartition("/")
    zone = zone or (target.zone or "")
    if not zone:
        raise UserError(f"say which zone disk {name[:80]!r} of {target.hub} is in: set the backup's zone, or give "
                        "the volume as <zone>/<disk>")
    if not _ZONE.fullmatch(zone) or not NAME.fullmatch(name):
        raise UserError(f"{volume[:120]!r} is not a GCP disk: give <zone>/<disk>, like us-central1-b/hub-nfs-homedirs")
    return zone, name


def volume_of(disk: compute_v1.Disk) -> Volume:
    zone = last_segment(disk.zone)
    return Volume(id=f"{zone}/{disk.name}", name=disk.name, size_gib=int(disk.size_gb) if "size_gb" in disk else None,
                  where=zone, tags=dict(disk.labels))


def volume_id(link: str) -> str:
    """``<zone>/<disk>`` from a disk's URL (``.../projects/p/zones/z/disks/d``); the URL if it is none."""
    match = _LINK.search(link or "")
    return f"{match.group(2)}/{match.group(3)}" if match else link


def resource_path(link: str) -> str:
    """A resource's URL without its host and API version (``projects/p/zones/z/disks/d``), to
    compare links however they were written."""
    at = (link or "").find("projects/")
    return link[at:] if at >= 0 else link


def last_segment(link: str) -> str:
    return link.rstrip("/").rsplit("/", 1)[-1]


def _instant(stamp: str) -> datetime:
    """Compute's RFC 3339 timestamps (``2024-05-01T03:00:00.123-07:00``) as UTC instants."""
    try:
        return datetime.fromisoformat(stamp).astimezone(UTC)
    except ValueError:
        return datetime.fromtimestamp(0, UTC)
