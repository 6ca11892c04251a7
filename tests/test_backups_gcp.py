"""Persistent-disk snapshots through the real Compute Engine client (REST transport, anonymous
credentials) against a local stand-in of the Compute REST API: the shared backup contract, and
what is GCP's own — labels, names, operations, paging, snapshot schedules, refusals.

The scene follows 2i2c's terraform for GCP hubs (terraform/gcp/persistent-disks.tf): one disk per
hub named ``hub-nfs-homedirs-<hub>`` in the cluster's zone, labelled only with what the hub's
``persistent_disks`` entry gives as ``tags`` (nothing by default), and a resource policy
``hub-nfs-homedirs-<hub>-snapshot-schedule`` in the region, daily at 00:00, keeping 5 days.
"""

from __future__ import annotations

import itertools
import re
import socket
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta

import pytest

from hubbot.adapters.gcp.backups import GcpBackups
from hubbot.adapters.gcp.schedules import schedule_text
from hubbot.adapters.memory import FrozenClock
from hubbot.domain import TAG_HUB, TAG_REASON, TAG_REQUESTED_BY, BackupKind, BackupTarget, SnapshotState, Volume
from hubbot.errors import NotFound, UpstreamError, UserError
from hubbot.fleet import GcpProvider
from tests.support.backup_contract import *  # noqa: F403  (the shared cases)
from tests.support.backup_contract import Backend, hubbot_tags
from tests.support.compute_standin import ComputeStandIn
from tests.support.server import serve

PROJECT = "two-eye-two-see"
ZONE = "us-central1-b"
REGION = "us-central1"
DAILY = {"dailySchedule": {"daysInCycle": 1, "startTime": "00:00", "duration": "PT14400S"}}
_IDS = itertools.count(1)
_STATUS = {SnapshotState.COMPLETED: "READY", SnapshotState.FAILED: "FAILED"}


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[ComputeStandIn, str]]:
    standin = ComputeStandIn()
    with serve(standin.app) as server:
        yield standin, server.url


@pytest.fixture
def standin(served: tuple[ComputeStandIn, str]) -> ComputeStandIn:
    served[0].reset()
    return served[0]


@pytest.fixture
def provider(served: tuple[ComputeStandIn, str]) -> GcpProvider:
    return GcpProvider(kind="gcp", project=PROJECT, endpoint=served[1])


@pytest.fixture
def source(provider: GcpProvider, standin: ComputeStandIn) -> GcpBackups:
    from google.auth.credentials import AnonymousCredentials

    return GcpBackups(provider, credentials=AnonymousCredentials(), clock=FrozenClock())


def target(hub: str, *, project: str | None = None, **kwargs: object) -> BackupTarget:
    options: dict[str, object] = {"tags": {"hub-name": hub.rsplit("/", 1)[-1], "volume-purpose": "home-nfs"}}
    options.update(kwargs)
    return BackupTarget(hub=hub, provider="gcp", kind=BackupKind.GCP_DISK, project=project, **options)


class _Scene:
    def __init__(self, standin: ComputeStandIn) -> None:
        self.standin = standin

    def add_volume(self, *, tags: Mapping[str, str], size_gib: int = 100) -> Volume:
        name = f"hub-nfs-homedirs-{tags.get('hub-name', 'x')}-{next(_IDS)}"
        self.standin.add_disk(PROJECT, ZONE, name, size_gb=size_gib, labels=dict(tags))
        return Volume(id=f"{ZONE}/{name}", name=name, size_gib=size_gib, where=ZONE, tags=dict(tags))

    def finish(self, snapshot_id: str, state: SnapshotState) -> None:
        self.standin.finish(PROJECT, snapshot_id, _STATUS[state])

    def add_schedule(self, volume: Volume) -> str:
        policy = f"{volume.name}-snapshot-schedule"
        self.standin.add_policy(PROJECT, REGION, policy, schedule=DAILY, max_retention_days=5)
        self.standin.attach(PROJECT, ZONE, volume.name, policy)
        return policy


@pytest.fixture
def backend(source: GcpBackups, standin: ComputeStandIn) -> Backend:
    return Backend(source=source, scene=_Scene(standin), target=target("pilot-hubs/prod"),
                   other=target("pilot-hubs/staging"),
                   extra={"unknown_id": "hubbot-pilot-hubs-prod-20240501-000000-beef"})


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# -- finding disks ----------------------------------------------------------------------------


async def test_tags_become_one_label_filter_on_the_aggregated_disk_list(
    source: GcpBackups, standin: ComputeStandIn
) -> None:
    standin.add_disk(PROJECT, ZONE, "hub-nfs-homedirs-prod", size_gb=250, labels={"hub-name": "prod"})
    standin.add_disk(PROJECT, "us-central1-c", "hub-nfs-homedirs-staging", labels={"hub-name": "staging"})
    found = await source.volumes(target("c/prod", tags={"Hub.Name": "Prod"}))
    assert found == [Volume(id=f"{ZONE}/hub-nfs-homedirs-prod", name="hub-nfs-homedirs-prod", size_gib=250,
                            where=ZONE, tags={"hub-name": "prod"})]
    (call,) = standin.of("disks.aggregatedList")
    assert call.path == f"/compute/v1/projects/{PROJECT}/aggregated/disks"
    assert call.query["filter"] == '(labels.hub-name = "prod")' and call.query["maxResults"] == "500"

    await source.volumes(target("c/prod", zone=ZONE))
    (zonal,) = standin.of("disks.list")
    assert zonal.path == f"/compute/v1/projects/{PROJECT}/zones/{ZONE}/disks"
    assert zonal.query["filter"] == '(labels.hub-name = "prod") (labels.volume-purpose = "home-nfs")'


async def test_disk_lists_are_followed_page_by_page(source: GcpBackups, standin: ComputeStandIn) -> None:
    standin.page_size = 2
    for n in range(5):
        standin.add_disk(PROJECT, ZONE, f"hub-nfs-homedirs-prod-{n}", labels={"hub-name": "prod"})
    found = await source.volumes(target("c/prod", tags={"hub-name": "prod"}))
    assert [v.name for v in found] == [f"hub-nfs-homedirs-prod-{n}" for n in range(5)]
    assert [c.query.get("pageToken") for c in standin.of("disks.aggregatedList")] == [None, "2", "4"]


async def test_a_tag_that_cannot_be_a_gcp_label_key_is_refused_before_any_call(
    source: GcpBackups, standin: ComputeStandIn
) -> None:
    with pytest.raises(UserError, match="label keys start with a lower-case letter"):
        await source.volumes(target("c/prod", tags={"2i2c:hub-name": "prod"}))
    assert standin.calls == []


async def test_disks_named_as_2i2c_names_them_are_read_one_by_one(source: GcpBackups, standin: ComputeStandIn) -> None:
    standin.add_disk(PROJECT, ZONE, "hub-nfs-homedirs-prod", size_gb=83)
    named = target("c/prod", tags={}, volumes=("hub-nfs-homedirs-prod",), zone=ZONE)
    (volume,) = await source.volumes(named)
    assert (volume.id, volume.size_gib, volume.where, volume.tags) == (f"{ZONE}/hub-nfs-homedirs-prod", 83, ZONE, {})
    assert [c.path for c in standin.of("disks.get")] == [
        f"/compute/v1/projects/{PROJECT}/zones/{ZONE}/disks/hub-nfs-homedirs-prod"]
    with pytest.raises(NotFound, match=f"no disk hub-nfs-homedirs-gone in zone {ZONE}"):
        await source.volumes(target("c/prod", tags={}, volumes=(f"{ZONE}/hub-nfs-homedirs-gone",)))
    with pytest.raises(UserError, match="say which zone"):
        await source.volumes(target("c/prod", tags={}, volumes=("hub-nfs-homedirs-prod",)))
    with pytest.raises(UserError, match="is not a GCP disk"):
        await source.volumes(target("c/prod", tags={}, volumes=("../../global/snapshots/x",), zone=ZONE))


# -- starting and reading snapshots -----------------------------------------------------------


async def test_a_snapshot_is_named_labelled_and_described_for_hubbot(source: GcpBackups,
                                                                     standin: ComputeStandIn) -> None:
    standin.add_disk(PROJECT, ZONE, "hub-nfs-homedirs-prod", size_gb=83)
    hub = "pilot-hubs/" + "a-very-long-community-hub-name-" * 3
    volume = Volume(id=f"{ZONE}/hub-nfs-homedirs-prod", size_gib=83)
    tags = {TAG_HUB: hub, TAG_REQUESTED_BY: "UENG00001", TAG_REASON: "before the\nupgrade"}
    started = await source.start(target(hub), volume, tags=tags, description="hubbot backup of the hub")
    (call,) = standin.of("disks.createSnapshot")
    assert call.path == f"/compute/v1/projects/{PROJECT}/zones/{ZONE}/disks/hub-nfs-homedirs-prod/createSnapshot"
    body = call.body
    assert re.fullmatch(r"hubbot-pilot-hubs-a-very-long-community-20260115-120000-[0-9a-f]{6}", body["name"])
    assert len(body["name"]) <= 63 and started.id == body["name"]
    assert body["labels"] == {"hubbot-hub": "pilot-hubs-a-very-long-community-hub-name-a-very-long-community",
                              "hubbot-requested-by": "ueng00001"}
    assert body["description"] == ("hubbot backup of the hub\nhubbot-requested-by: UENG00001\n"
                                   "hubbot-reason: before the upgrade")
    assert "storageLocations" not in body  # the project's default location
    assert (started.state, started.volume, started.size_gib) == (SnapshotState.PENDING, volume.id, 83)
    assert (started.requested_by, started.reason, started.made_by) == ("UENG00001", "before the\nupgrade", "hubbot")
    assert standin.of("zoneOperations.get") == []  # the operation is not waited on

    read = await source.snapshot(target(hub), started.id)
    assert (read.requested_by, read.reason, read.state) == ("UENG00001", "before the upgrade", SnapshotState.PENDING)
    assert read.started == datetime(2024, 5, 1, 9, 2, tzinfo=UTC)  # Compute's Pacific-time stamp, as UTC


@pytest.mark.parametrize(("status", "state"), [
    ("CREATING", SnapshotState.PENDING), ("UPLOADING", SnapshotState.PENDING), ("READY", SnapshotState.COMPLETED),
    ("FAILED", SnapshotState.FAILED), ("DELETING", SnapshotState.FAILED)])
async def test_compute_states_become_hubbots(source: GcpBackups, standin: ComputeStandIn, status: str,
                                             state: SnapshotState) -> None:
    standin.add_disk(PROJECT, ZONE, "hub-nfs-homedirs-prod")
    standin.add_snapshot(PROJECT, ZONE, "hub-nfs-homedirs-prod", "manual-1", status=status)
    found = await source.snapshot(target("c/prod"), "manual-1")
    assert found.state is state
    assert (found.message is not None) == (status == "DELETING")


async def test_who_made_a_snapshot(source: GcpBackups, standin: ComputeStandIn) -> None:
    standin.add_disk(PROJECT, ZONE, "hub-nfs-homedirs-prod")
    standin.add_snapshot(PROJECT, ZONE, "hub-nfs-homedirs-prod", "hub-nfs-homedi-us-central1-b-20240501000012-abcd1234",
                         policy="hub-nfs-homedirs-prod-snapshot-schedule")
    standin.add_snapshot(PROJECT, ZONE, "hub-nfs-homedirs-prod", "before-migration",
                         description="hubbot-reason: not ours", labels={"owner": "someone"})
    scheduled = await source.snapshot(target("c/prod"), "hub-nfs-homedi-us-central1-b-20240501000012-abcd1234")
    assert scheduled.made_by == "snapshot schedule hub-nfs-homedirs-prod-snapshot-schedule"
    console = await source.snapshot(target("c/prod"), "before-migration")
    assert (console.made_by, console.requested_by, console.reason) == ("someone (console or another tool)", None, None)


async def test_a_snapshot_not_shown_yet_reads_from_its_operation(
    source: GcpBackups, provider: GcpProvider, standin: ComputeStandIn
) -> None:
    standin.add_disk(PROJECT, ZONE, "hub-nfs-homedirs-prod")
    home = Volume(id=f"{ZONE}/hub-nfs-homedirs-prod")
    started = await source.start(target("c/prod"), home, tags=hubbot_tags(target("c/prod")), description="x")
    standin.remove_snapshot(PROJECT, started.id)
    assert (await source.snapshot(target("c/prod"), started.id)).state is SnapshotState.PENDING
    (call,) = standin.of("zoneOperations.get")
    assert re.fullmatch(rf"/compute/v1/projects/{PROJECT}/zones/{ZONE}/operations/operation-\d+-\d+", call.path)
    with pytest.raises(NotFound):  # another process never started it
        await GcpBackups(provider).snapshot(target("c/prod"), started.id)

    later = await source.start(target("c/prod"), home, tags=hubbot_tags(target("c/prod")), description="x")
    standin.finish(PROJECT, later.id, "FAILED", error=("RESOURCE_OPERATION_RATE_EXCEEDED",
                                                       "Operation rate exceeded for resource 'hub-nfs-homedirs-prod'."))
    failed = await source.snapshot(target("c/prod"), later.id)
    assert failed.state is SnapshotState.FAILED and failed.message is not None and "rate exceeded" in failed.message


async def test_an_unknown_or_malformed_snapshot_id_is_not_found(source: GcpBackups, standin: ComputeStandIn) -> None:
    with pytest.raises(NotFound, match=f"no snapshot hubbot-x in project {PROJECT}"):
        await source.snapshot(target("c/prod"), "hubbot-x")
    with pytest.raises(NotFound):
        await source.snapshot(target("c/prod"), "../disks/x")
    assert len(standin.of("snapshots.get")) == 1


# -- refusals -----------------------------------------------------------------------------------


async def test_a_missing_permission_is_named(source: GcpBackups, standin: ComputeStandIn) -> None:
    standin.add_disk(PROJECT, ZONE, "hub-nfs-homedirs-prod", labels={"hub-name": "prod"})
    home = Volume(id=f"{ZONE}/hub-nfs-homedirs-prod")
    standin.deny("disks.createSnapshot", "compute.disks.createSnapshot",
                 f"projects/{PROJECT}/zones/{ZONE}/disks/hub-nfs-homedirs-prod")
    with pytest.raises(UpstreamError) as refused:
        await source.start(target("c/prod"), home, tags=hubbot_tags(target("c/prod")), description="x")
    message = str(refused.value)
    assert "missing permission compute.disks.createSnapshot" in message
    assert "compute.snapshots.create" in message and "roles/compute.storageAdmin" in message

    standin.deny("snapshots.list", "compute.snapshots.list", f"projects/{PROJECT}")
    with pytest.raises(UpstreamError, match=r"missing permission compute\.snapshots\.list.*roles/compute\.viewer"):
        await source.overview([target("c/prod")])
    standin.deny("snapshots.get", "compute.snapshots.get", f"projects/{PROJECT}/global/snapshots/x")
    with pytest.raises(UpstreamError, match=r"missing permission compute\.snapshots\.get"):
        await source.snapshot(target("c/prod"), "x")
    standin.deny("disks.aggregatedList", "compute.disks.list", f"projects/{PROJECT}")
    with pytest.raises(UpstreamError, match=r"missing permission compute\.disks\.list"):
        await source.volumes(target("c/prod"))


async def test_a_used_up_snapshot_quota_is_for_the_user_to_fix(source: GcpBackups, standin: ComputeStandIn) -> None:
    standin.add_disk(PROJECT, ZONE, "hub-nfs-homedirs-prod")
    home = Volume(id=f"{ZONE}/hub-nfs-homedirs-prod")
    standin.snapshot_quota = 0
    with pytest.raises(UserError, match=r"Quota 'SNAPSHOTS' exceeded\.  Limit: 0\.0 globally\. Delete snapshots"):
        await source.start(target("c/prod"), home, tags=hubbot_tags(target("c/prod")), description="x")
    standin.snapshot_quota = None
    standin.operation_error = ("QUOTA_EXCEEDED", "Quota 'SNAPSHOTS' exceeded.  Limit: 5000.0 globally.")
    with pytest.raises(UserError, match=r"Limit: 5000\.0 globally"):
        await source.start(target("c/prod"), home, tags=hubbot_tags(target("c/prod")), description="x")
    standin.operation_error = ("RESOURCE_NOT_READY", "The resource is not ready")
    with pytest.raises(UpstreamError, match="refused to snapshot disk hub-nfs-homedirs-prod: The resource is not"):
        await source.start(target("c/prod"), home, tags=hubbot_tags(target("c/prod")), description="x")


async def test_a_missing_disk_and_an_unreachable_api_are_said_plainly(provider: GcpProvider,
                                                                     source: GcpBackups) -> None:
    with pytest.raises(NotFound, match=f"no disk hub-nfs-homedirs-gone in zone {ZONE} of project {PROJECT}"):
        await source.start(target("c/prod"), Volume(id=f"{ZONE}/hub-nfs-homedirs-gone"), tags={}, description="x")
    offline = GcpBackups(provider.model_copy(update={"endpoint": _closed_port_url()}))
    with pytest.raises(UpstreamError, match=r"Could not get an answer from the Compute Engine API .*Try again later"):
        await offline.volumes(target("c/prod"))


# -- the overview --------------------------------------------------------------------------------


async def test_thirty_hubs_cost_three_paged_lists_per_project(source: GcpBackups, standin: ComputeStandIn) -> None:
    standin.page_size = 10
    hubs = [f"hub{n:02d}" for n in range(30)]
    for hub in hubs:
        disk, policy = f"hub-nfs-homedirs-{hub}", f"hub-nfs-homedirs-{hub}-snapshot-schedule"
        standin.add_policy(PROJECT, REGION, policy, schedule=DAILY, max_retention_days=5)
        standin.add_disk(PROJECT, ZONE, disk, labels={"hub-name": hub}, policies=[policy])
        standin.add_snapshot(PROJECT, ZONE, disk, f"{disk}-scheduled", policy=policy)
        standin.add_snapshot(PROJECT, ZONE, disk, f"{disk}-manual", status="CREATING")
    standin.add_disk("second-project", "europe-west1-d", "hub-nfs-homedirs-eu", labels={"hub-name": "eu"})
    targets = [target(f"cloudbank/{hub}", tags={"hub-name": hub}) for hub in hubs]
    targets.append(target("eu/eu", tags={"hub-name": "eu"}, project="second-project"))

    views = await source.overview(targets)

    for route, pages in [("disks.aggregatedList", 3), ("snapshots.list", 6), ("resourcePolicies.aggregatedList", 3)]:
        calls = [c for c in standin.of(route) if f"/projects/{PROJECT}/" in c.path]
        assert [c.query.get("pageToken") for c in calls] == [None] + [str(10 * n) for n in range(1, pages)], route
    assert sorted(c.path for c in standin.calls if "second-project" in c.path) == [  # listed at once: any order
        "/compute/v1/projects/second-project/aggregated/disks", "/compute/v1/projects/second-project/global/snapshots"]
    assert not {c.route for c in standin.calls} & {"disks.get", "snapshots.get", "resourcePolicies.get", "disks.list"}

    view = views["cloudbank/hub07"]
    assert [s.id for s in view.snapshots] == ["hub-nfs-homedirs-hub07-manual", "hub-nfs-homedirs-hub07-scheduled"]
    assert view.schedule == ("snapshot schedule hub-nfs-homedirs-hub07-snapshot-schedule: daily at 00:00 UTC, "
                             "kept 5 days")
    scheduled = view.snapshots[1]
    assert scheduled.made_by == "snapshot schedule hub-nfs-homedirs-hub07-snapshot-schedule"
    assert scheduled.expires == scheduled.started + timedelta(days=5)
    assert view.snapshots[0].state is SnapshotState.PENDING and view.problem is None
    assert views["eu/eu"].snapshots == () and views["eu/eu"].schedule is None and views["eu/eu"].problem is None
    assert len(views) == 31


async def test_one_hubs_problem_stays_its_own(source: GcpBackups, standin: ComputeStandIn) -> None:
    standin.add_disk(PROJECT, ZONE, "hub-nfs-homedirs-prod", labels={"hub-name": "prod"})
    standin.add_disk("second-project", ZONE, "hub-nfs-homedirs-x")
    views = await source.overview([
        target("c/prod", tags={"hub-name": "prod"}),
        target("c/bad-tag", tags={"2i2c:hub-name": "x"}),
        target("c/gone", tags={}, volumes=("hub-nfs-homedirs-gone",), zone=ZONE),
        target("c/unlabelled", tags={"hub-name": "nobody"}),
        target("d/refused", project="second-project"),
    ])
    assert views["c/prod"].problem is None
    assert "cannot be a GCP label" in (views["c/bad-tag"].problem or "")
    assert views["c/gone"].problem == f"no disk {ZONE}/hub-nfs-homedirs-gone in project {PROJECT}"
    assert views["c/unlabelled"].problem == f"no disk in project {PROJECT} is labelled hub-name=nobody"
    assert views["d/refused"].problem == ("no disk in project second-project is labelled hub-name=refused, "
                                          "volume-purpose=home-nfs")

    # A project that refuses is a problem for its hubs alone (the projects are read at once).
    standin.deny("snapshots.list", "compute.snapshots.list", "projects/second-project", project="second-project")
    views = await source.overview([target("d/refused", project="second-project"),
                                   target("c/prod", tags={"hub-name": "prod"})])
    assert views["c/prod"].problem is None
    assert "missing permission compute.snapshots.list" in (views["d/refused"].problem or "")


@pytest.mark.parametrize(("schedule", "retention", "status", "text"), [
    (DAILY, 5, "READY", "daily at 00:00 UTC, kept 5 days"),
    ({"dailySchedule": {"daysInCycle": 2, "startTime": "03:00"}}, 1, "READY", "every 2 days at 03:00 UTC, kept 1 day"),
    ({"hourlySchedule": {"hoursInCycle": 6, "startTime": "01:00"}}, None, "READY", "every 6 hours from 01:00 UTC"),
    ({"hourlySchedule": {"hoursInCycle": 1, "startTime": "00:00"}}, 3, "READY", "hourly from 00:00 UTC, kept 3 days"),
    ({"weeklySchedule": {"dayOfWeeks": [{"day": "MONDAY", "startTime": "03:00"},
                                        {"day": "THURSDAY", "startTime": "03:00"}]}}, 14, "READY",
     "weekly on Monday and Thursday at 03:00 UTC, kept 14 days"),
    ({"weeklySchedule": {"dayOfWeeks": [{"day": "SUNDAY", "startTime": "22:00"},
                                        {"day": "WEDNESDAY", "startTime": "04:00"}]}}, 14, "EXPIRED",
     "weekly on Sunday at 22:00 and Wednesday at 04:00 UTC, kept 14 days (its status is EXPIRED)"),
])
async def test_schedules_are_said_in_a_line(source: GcpBackups, standin: ComputeStandIn, schedule: dict[str, object],
                                            retention: int | None, status: str, text: str) -> None:
    standin.add_policy(PROJECT, REGION, "daily-home", schedule=schedule, max_retention_days=retention, status=status)
    standin.add_disk(PROJECT, ZONE, "hub-nfs-homedirs-prod", labels={"hub-name": "prod"}, policies=["daily-home"])
    views = await source.overview([target("c/prod", tags={"hub-name": "prod"})])
    assert views["c/prod"].schedule == f"snapshot schedule daily-home: {text}"


def test_a_policy_that_is_no_snapshot_schedule_says_nothing() -> None:
    from google.cloud import compute_v1

    placement = compute_v1.ResourcePolicy(name="spread", group_placement_policy={"vm_count": 2})
    assert schedule_text(placement) is None
