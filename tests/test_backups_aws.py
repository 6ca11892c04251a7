"""EBS and EFS backups on AWS (:class:`hubbot.adapters.aws_backups.AwsBackups`): the shared
backup contract on moto (EC2, EFS) and the local DLM / AWS Backup stand-in, then what the contract
does not say: DLM schedules, paging, a fixed number of calls per region, failures and what they
tell the user. Cases moto cannot set up (a pending snapshot's progress, paging, refusals) use
botocore's Stubber on a real client."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.stub import Stubber
from moto import mock_aws

from hubbot.adapters.aws_backups import AwsBackups
from hubbot.domain import (
    TAG_HUB,
    TAG_REASON,
    TAG_REQUESTED_BY,
    BackupKind,
    BackupTarget,
    BackupView,
    SnapshotState,
    Volume,
)
from hubbot.errors import NotFound, UpstreamError, UserError
from hubbot.fleet import AwsProvider
from tests.support.aws import ACCOUNT, fake_credentials
from tests.support.aws_backup_standin import BackupStandIn, backup_standin
from tests.support.aws_backups import (
    ONE_ATTEMPT,
    REGION,
    ROLE,
    TAGS,
    VAULT,
    Clients,
    EbsScene,
    EfsScene,
    StepClock,
    daily_rule,
    session,
    tag_list,
)
from tests.support.backup_contract import *  # noqa: F403  (the shared cases)
from tests.support.backup_contract import Backend

SECRETS = ("testing-secret", "testing-token")


def provider(**overrides: Any) -> AwsProvider:
    return AwsProvider(**{"kind": "aws", "account_id": ACCOUNT, **overrides})


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_credentials(monkeypatch)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> StepClock:
    step = StepClock()
    monkeypatch.setattr("moto.ec2.models.elastic_block_store.utcnow", step.naive)
    return step


@pytest.fixture(scope="module")
def standin_server() -> Iterator[BackupStandIn]:
    with backup_standin() as server:
        yield server


@pytest.fixture
def standin(standin_server: BackupStandIn, clock: StepClock) -> BackupStandIn:
    standin_server.reset(clock)
    return standin_server


@pytest.fixture
def moto(aws_env: None) -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture(params=["ebs", "efs"])
def backend(request: pytest.FixtureRequest, moto: None, standin: BackupStandIn) -> Backend:
    source = AwsBackups(provider(), client_factory=Clients(standin.url))
    if request.param == "ebs":
        target = BackupTarget(hub="c1/prod", provider="aws", kind=BackupKind.EBS, tags=TAGS)
        scene: EbsScene | EfsScene = EbsScene(standin)
        extra: dict[str, object] = {}
    else:
        target = BackupTarget(hub="c1/prod", provider="aws", kind=BackupKind.EFS, tags=TAGS, vault=VAULT,
                              role_arn=ROLE)
        scene = EfsScene(standin)
        extra = {"unknown_id": str(uuid.uuid4()).upper()}
    other = replace(target, hub="c1/staging", tags={**TAGS, "2i2c:hub-name": "staging"})
    return Backend(source=source, scene=scene, target=target, other=other, extra=extra)


# --- helpers ---------------------------------------------------------------------------------------


def ebs_target(hub: str = "c1/prod", **overrides: Any) -> BackupTarget:
    return BackupTarget(**{"hub": hub, "provider": "aws", "kind": BackupKind.EBS,
                           "tags": {**TAGS, "2i2c:hub-name": hub.split("/")[-1]}, **overrides})


def stubbed(service: str, region: str = REGION) -> tuple[Any, Stubber]:
    client = session().client(service, region_name=region, config=ONE_ATTEMPT)
    return client, Stubber(client)


def snapshot_payload(snapshot_id: str, volume_id: str, *, state: str = "completed", progress: str = "100%",
                     tags: dict[str, str] | None = None, **more: Any) -> dict[str, Any]:
    """A DescribeSnapshots item, as the EC2 API reference shows it."""
    return {"SnapshotId": snapshot_id, "VolumeId": volume_id, "State": state, "Progress": progress,
            "StartTime": datetime(2024, 5, 1, 3, 0, tzinfo=UTC), "OwnerId": ACCOUNT, "Description": "",
            "VolumeSize": 100, "Encrypted": True, "StorageTier": "standard", "Tags": tag_list(tags or {}), **more}


def volume_payload(volume_id: str, tags: Mapping[str, str]) -> dict[str, Any]:
    return {"VolumeId": volume_id, "Size": 100, "AvailabilityZone": f"{REGION}a", "State": "in-use",
            "VolumeType": "gp3", "CreateTime": datetime(2024, 1, 1, tzinfo=UTC), "Encrypted": True,
            "Tags": tag_list(tags)}


def no_secrets(message: str) -> bool:
    return not any(secret in message for secret in SECRETS)


# --- DLM schedules and who made a snapshot ----------------------------------------------------------


async def test_dlm_schedules_are_read_from_each_snapshot_policy_that_targets_the_volume(
        moto: None, standin: BackupStandIn) -> None:
    scene = EbsScene(standin)
    prod = scene.add_volume(tags={**ebs_target().tags, "backup": "daily"})
    staging = scene.add_volume(tags={**ebs_target("c1/staging").tags, "dlm-exclude": "true"})
    daily = standin.add_policy(REGION, target_tags={"backup": "daily"}, description="home dailies")
    weekly = standin.add_policy(REGION, target_tags={"backup": "daily"}, description="home weeklies", schedules=[
        {"Name": "weekly", "CreateRule": {"CronExpression": "cron(0 4 ? * SUN *)"},
         "RetainRule": {"Interval": 4, "IntervalUnit": "WEEKS"}}])
    default = standin.add_policy(REGION, default={"CreateInterval": 1, "RetainInterval": 7, "Exclusions": {
        "ExcludeBootVolumes": True, "ExcludeTags": [{"Key": "dlm-exclude", "Value": "true"}]}}, description="")
    standin.add_policy(REGION, target_tags={"backup": "daily"}, resource_types=("INSTANCE",))  # their volumes
    standin.add_policy(REGION, target_tags={"backup": "daily"}, policy_type="IMAGE_MANAGEMENT")
    standin.add_policy(REGION, target_tags={"backup": "daily"}, state="DISABLED")
    source = AwsBackups(provider(), client_factory=Clients(standin.url))

    views = await source.overview([ebs_target(), ebs_target("c1/staging")])

    assert views["c1/prod"].schedule == "; ".join([
        f"DLM default policy {default}: a snapshot when there is none from the last 1 day, keep 7 days",
        f"DLM policy {daily} (home dailies): every 24 h at 03:00 UTC, keep 7",
        f"DLM policy {weekly} (home weeklies): weekly on Sun at 04:00 UTC, keep 4 weeks",
    ])
    assert views["c1/staging"].schedule is None and views["c1/staging"].problem is None
    # the AMI policy is skipped by its summary, the disabled one is not listed
    assert source.calls["dlm:GetLifecyclePolicies"] == 1 and source.calls["dlm:GetLifecyclePolicy"] == 4
    assert (prod.id, staging.id) != ("", "")


async def test_who_made_a_snapshot_and_when_dlm_deletes_it(moto: None, standin: BackupStandIn) -> None:
    scene = EbsScene(standin)
    home = scene.add_volume(tags=ebs_target().tags)
    dlm_made = scene.ec2.create_snapshot(VolumeId=home.id, TagSpecifications=[{"ResourceType": "snapshot", "Tags": [
        {"Key": "aws:dlm:lifecycle-policy-id", "Value": "policy-0123456789abcdef0"},
        {"Key": "aws:dlm:expirationTime", "Value": "2024-05-08T03:00:00.000Z"}, {"Key": "dlm:managed", "Value": "true"},
    ]}])
    by_hand = scene.ec2.create_snapshot(VolumeId=home.id, Description="before resizing")
    backed_up = scene.ec2.create_snapshot(VolumeId=home.id, TagSpecifications=[{"ResourceType": "snapshot", "Tags": [
        {"Key": "aws:backup:source-resource", "Value": f"{home.id}:backup-job"}]}])
    source = AwsBackups(provider(), client_factory=Clients(standin.url))

    shots = {s.id: s for s in (await source.overview([ebs_target()]))["c1/prod"].snapshots}

    assert shots[dlm_made["SnapshotId"]].made_by == "DLM policy policy-0123456789abcdef0"
    assert shots[dlm_made["SnapshotId"]].expires == datetime(2024, 5, 8, 3, tzinfo=UTC)
    assert shots[by_hand["SnapshotId"]].made_by == "someone (console or another tool)"
    assert shots[by_hand["SnapshotId"]].expires is None and shots[by_hand["SnapshotId"]].requested_by is None
    assert shots[backed_up["SnapshotId"]].made_by == "AWS Backup"


@pytest.mark.parametrize(("state", "progress", "message", "expected"), [
    ("pending", "45%", None, SnapshotState.PENDING),
    ("completed", "100%", None, SnapshotState.COMPLETED),
    ("error", "12%", "The volume was deleted while the snapshot was being made", SnapshotState.FAILED),
    ("recoverable", "100%", "Snapshot restore failed", SnapshotState.FAILED),
])
async def test_a_snapshots_state_progress_and_failure_message(state: str, progress: str, message: str | None,
                                                              expected: SnapshotState) -> None:
    ec2, stub = stubbed("ec2")
    more = {"StateMessage": message} if message else {}
    stub.add_response("describe_snapshots", {"Snapshots": [snapshot_payload(
        "snap-0123456789abcdef0", "vol-0123456789abcdef0", state=state, progress=progress,
        tags={TAG_HUB: "c1/prod", TAG_REQUESTED_BY: "UENG00001", TAG_REASON: "before the upgrade"}, **more)]},
        {"SnapshotIds": ["snap-0123456789abcdef0"]})
    source = AwsBackups(provider(), client_factory=Clients("http://unused", {("ec2", REGION): ec2}))

    with stub:
        shot = await source.snapshot(ebs_target(), "snap-0123456789abcdef0")

    assert (shot.state, shot.progress, shot.message) == (expected, progress, message)
    assert (shot.made_by, shot.requested_by, shot.reason) == ("hubbot", "UENG00001", "before the upgrade")
    stub.assert_no_pending_responses()


async def test_one_hubs_snapshots_are_not_anothers(moto: None, standin: BackupStandIn) -> None:
    scene = EbsScene(standin)
    scene.add_volume(tags=ebs_target().tags)
    theirs = scene.add_volume(tags=ebs_target("c1/staging").tags)
    source = AwsBackups(provider(), client_factory=Clients(standin.url))
    made = await source.start(ebs_target("c1/staging"), theirs, tags={TAG_HUB: "c1/staging"}, description="x")
    by_hand = scene.ec2.create_snapshot(VolumeId=theirs.id)["SnapshotId"]

    for snapshot_id in (made.id, by_hand):
        with pytest.raises(NotFound):
            await source.snapshot(ebs_target(), snapshot_id)
        assert (await source.snapshot(ebs_target("c1/staging"), snapshot_id)).id == snapshot_id
    with pytest.raises(NotFound):
        await source.snapshot(ebs_target(), "not-a-snapshot-id")


async def test_a_snapshot_is_tagged_with_hubbots_tags_and_a_name(moto: None, standin: BackupStandIn) -> None:
    scene = EbsScene(standin)
    home = scene.add_volume(tags=ebs_target().tags)
    source = AwsBackups(provider(), client_factory=Clients(standin.url))

    made = await source.start(ebs_target(), home, tags={TAG_HUB: "c1/prod", TAG_REASON: "x" * 300},
                              description="hubbot backup of c1/prod")

    found = scene.ec2.describe_snapshots(SnapshotIds=[made.id])["Snapshots"][0]
    assert {t["Key"]: t["Value"] for t in found["Tags"]} == {
        TAG_HUB: "c1/prod", TAG_REASON: "x" * 256, "Name": "hubbot backup of c1/prod"}
    assert found["Description"] == "hubbot backup of c1/prod" and found["VolumeId"] == home.id


# --- paging, and a fixed number of calls per region ---------------------------------------------


async def test_snapshots_are_read_page_by_page_with_at_most_200_volumes_per_filter(standin: BackupStandIn) -> None:
    """moto never pages DescribeSnapshots, so EC2 is a Stubber here: 450 volumes are three filters
    of 200, 200 and 50 volume IDs, and the first answers in two pages."""
    ec2, stub = stubbed("ec2")
    ids = [f"vol-{n:017x}" for n in range(450)]
    stub.add_response("describe_volumes", {"Volumes": [volume_payload(i, ebs_target().tags) for i in ids]},
                      {"MaxResults": 500, "Filters": [{"Name": "tag-key", "Values": sorted(TAGS)}]})
    chunks = [sorted(ids)[:200], sorted(ids)[200:400], sorted(ids)[400:]]

    def asked(chunk: list[str], **more: Any) -> dict[str, Any]:
        return {"OwnerIds": ["self"], "Filters": [{"Name": "volume-id", "Values": chunk}], "MaxResults": 1000, **more}

    stub.add_response("describe_snapshots", {"Snapshots": [snapshot_payload("snap-00000000000000001", ids[0])],
                                             "NextToken": "page-2"}, asked(chunks[0]))
    stub.add_response("describe_snapshots", {"Snapshots": [snapshot_payload("snap-00000000000000002", ids[1])]},
                      asked(chunks[0], NextToken="page-2"))
    stub.add_response("describe_snapshots", {"Snapshots": []}, asked(chunks[1]))
    stub.add_response("describe_snapshots", {"Snapshots": [snapshot_payload("snap-00000000000000003", ids[449])]},
                      asked(chunks[2]))
    source = AwsBackups(provider(), client_factory=Clients(standin.url, {("ec2", REGION): ec2}))

    with stub:
        view = (await source.overview([ebs_target()]))["c1/prod"]

    stub.assert_no_pending_responses()
    assert sorted(s.id for s in view.snapshots) == [f"snap-0000000000000000{n}" for n in (1, 2, 3)]
    assert source.calls["ec2:DescribeSnapshots"] == 4 and source.calls["ec2:DescribeVolumes"] == 1


@pytest.mark.parametrize("hubs", [2, 30])
async def test_an_overview_makes_the_same_calls_per_region_for_2_hubs_or_30(
        hubs: int, moto: None, standin: BackupStandIn) -> None:
    regions = ["us-east-1", "eu-west-1"]
    scenes = {r: EbsScene(standin, r) for r in regions}
    source = AwsBackups(provider(), client_factory=Clients(standin.url))
    targets = []
    for n in range(hubs):
        region = regions[n % 2]
        target = ebs_target(f"c{n}/hub{n}", region=region if region != REGION else None)
        home = scenes[region].add_volume(tags={**target.tags, "backup": "daily"})
        await source.start(target, home, tags={TAG_HUB: target.hub}, description=f"hubbot backup of {target.hub}")
        targets.append(target)
    for region in regions:
        standin.add_policy(region, target_tags={"backup": "daily"})
    source.calls.clear()

    views = await source.overview(targets)

    assert all(len(v.snapshots) == 1 and v.schedule and v.problem is None for v in views.values())
    assert dict(source.calls) == {"ec2:DescribeVolumes": 2, "ec2:DescribeSnapshots": 2,
                                  "dlm:GetLifecyclePolicies": 2, "dlm:GetLifecyclePolicy": 2}
    assert sorted(r for op, r in standin.requests if op == "GetLifecyclePolicies") == sorted(regions)


# --- failures, and what they tell the user ----------------------------------------------------------


async def test_a_refused_snapshot_names_the_iam_actions_hubbot_needs() -> None:
    ec2, stub = stubbed("ec2")
    stub.add_client_error("create_snapshot", service_error_code="UnauthorizedOperation", http_status_code=403,
                          service_message="You are not authorized to perform this operation. Encoded authorization "
                                          "failure message: Zm9vYmFyc2VjcmV0")
    source = AwsBackups(provider(), client_factory=Clients("http://unused", {("ec2", REGION): ec2}))

    with stub, pytest.raises(UpstreamError) as caught:
        await source.start(ebs_target(), Volume(id="vol-0123456789abcdef0"), tags={TAG_HUB: "c1/prod"},
                           description="x")

    message = str(caught.value)
    assert "ec2:CreateSnapshot and ec2:CreateTags" in message and ACCOUNT in message and REGION in message
    assert "Zm9vYmFy" not in message and no_secrets(message)


@pytest.mark.parametrize(("code", "kind", "words"), [
    ("RequestLimitExceeded", UpstreamError, "try again later"),
    ("SnapshotLimitExceeded", UserError, "The maximum number of snapshots has been reached."),
    ("ConcurrentSnapshotLimitExceeded", UserError, "The maximum number of snapshots has been reached."),
    ("ExpiredToken", UpstreamError, "renew them"),
    ("InternalError", UpstreamError, "try again later"),
])
async def test_what_a_failed_snapshot_request_tells_the_user(code: str, kind: type[Exception], words: str) -> None:
    ec2, stub = stubbed("ec2")
    stub.add_client_error("create_snapshot", service_error_code=code,
                          service_message="The maximum number of snapshots has been reached.", http_status_code=400,
                          response_meta={"HTTPHeaders": {"retry-after": "30"}})
    source = AwsBackups(provider(), client_factory=Clients("http://unused", {("ec2", REGION): ec2}))

    with stub, pytest.raises(kind) as caught:
        await source.start(ebs_target(), Volume(id="vol-0123456789abcdef0"), tags={}, description="x")

    assert type(caught.value) is kind and words in str(caught.value) and no_secrets(str(caught.value))
    if code == "RequestLimitExceeded":
        assert isinstance(caught.value, UpstreamError) and caught.value.retry_after == 30


async def test_a_volume_that_is_not_there_is_not_found(moto: None, standin: BackupStandIn) -> None:
    source = AwsBackups(provider(), client_factory=Clients(standin.url))
    gone = Volume(id="vol-0123456789abcdef0")

    with pytest.raises(NotFound, match="vol-0123456789abcdef0 of c1/prod not found in us-east-1"):
        await source.start(ebs_target(), gone, tags={}, description="x")
    with pytest.raises(NotFound, match="check the hub's backup volumes in the fleet config"):
        await source.volumes(ebs_target(volumes=(gone.id,)))
    view = (await source.overview([ebs_target(volumes=(gone.id,))]))["c1/prod"]
    assert view.snapshots == () and view.problem is not None and gone.id in view.problem


async def test_an_unreachable_endpoint_says_to_try_again_later() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    ec2 = session().client("ec2", region_name=REGION, endpoint_url=closed, config=ONE_ATTEMPT)
    source = AwsBackups(provider(), client_factory=Clients(closed, {("ec2", REGION): ec2}))

    with pytest.raises(UpstreamError, match=r"Could not get an answer from AWS EC2 in us-east-1 \(EndpointConnection"):
        await source.volumes(ebs_target())


async def test_without_credentials_hubbot_says_what_to_configure(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    source = AwsBackups(provider())  # the default clients: boto3 with the ambient credentials

    with pytest.raises(UpstreamError, match=r"no usable AWS credentials .* allow ec2:DescribeVolumes"):
        await source.volumes(ebs_target())


async def test_a_failed_region_gives_its_hubs_a_problem_and_the_others_their_backups(
        moto: None, standin: BackupStandIn) -> None:
    EbsScene(standin).add_volume(tags=ebs_target().tags)
    ec2, stub = stubbed("ec2", "eu-west-1")
    stub.add_client_error("describe_volumes", service_error_code="UnauthorizedOperation", http_status_code=403)
    source = AwsBackups(provider(), client_factory=Clients(standin.url, {("ec2", "eu-west-1"): ec2}))
    abroad = [ebs_target(f"c2/hub{n}", region="eu-west-1") for n in range(2)]

    with stub:
        views = await source.overview([ebs_target(), *abroad])

    assert views["c1/prod"].problem is None
    for target in abroad:
        assert "ec2:DescribeVolumes" in (views[target.hub].problem or "")


async def test_when_every_region_fails_the_overview_raises(standin: BackupStandIn) -> None:
    ec2, stub = stubbed("ec2")
    stub.add_client_error("describe_volumes", service_error_code="AuthFailure", http_status_code=401)
    source = AwsBackups(provider(), client_factory=Clients(standin.url, {("ec2", REGION): ec2}))

    with stub, pytest.raises(UpstreamError, match="did not accept hubbot's credentials"):
        await source.overview([ebs_target(), ebs_target("c1/staging")])


async def test_unreadable_dlm_policies_leave_the_snapshots_and_say_why(moto: None, standin: BackupStandIn) -> None:
    scene = EbsScene(standin)
    home = scene.add_volume(tags=ebs_target().tags)
    scene.ec2.create_snapshot(VolumeId=home.id)
    standin.fail("GetLifecyclePolicies", "AccessDeniedException", "User: arn:aws:sts::123456789012:assumed-role/"
                 "hubbot/i-0 is not authorized to perform: dlm:GetLifecyclePolicies on resource: *")
    source = AwsBackups(provider(), client_factory=Clients(standin.url))

    view = (await source.overview([ebs_target()]))["c1/prod"]

    assert len(view.snapshots) == 1 and view.schedule is None
    assert view.problem is not None and "its backup schedule could not be read" in view.problem
    assert "dlm:GetLifecyclePolicies" in view.problem and no_secrets(view.problem)


async def test_a_kind_aws_does_not_hold_is_refused() -> None:
    source = AwsBackups(provider())
    disk = BackupTarget(hub="c1/prod", provider="aws", kind=BackupKind.GCP_DISK)

    with pytest.raises(UserError, match="use ebs or efs"):
        await source.volumes(disk)
    view = (await source.overview([disk]))["c1/prod"]
    assert view.problem is not None and "use ebs or efs" in view.problem


# --- EFS: AWS Backup jobs, recovery points and plans -------------------------------------------------


def efs_target(hub: str = "c1/prod", **overrides: Any) -> BackupTarget:
    return BackupTarget(**{"hub": hub, "provider": "aws", "kind": BackupKind.EFS, "vault": VAULT, "role_arn": ROLE,
                           "tags": {**TAGS, "2i2c:hub-name": hub.split("/")[-1]}, **overrides})


FS = "fs-0123456789abcdef0"
FS_ARN = f"arn:aws:elasticfilesystem:{REGION}:{ACCOUNT}:file-system/{FS}"


def job_payload(state: str, **more: Any) -> dict[str, Any]:
    """A DescribeBackupJob answer, as the AWS Backup API reference shows it."""
    return {"AccountId": ACCOUNT, "BackupJobId": "D2F1C3A4-0000-4000-8000-000000000001", "BackupVaultName": VAULT,
            "BackupVaultArn": f"arn:aws:backup:{REGION}:{ACCOUNT}:backup-vault:{VAULT}",
            "RecoveryPointArn": f"arn:aws:backup:{REGION}:{ACCOUNT}:recovery-point:3c1f7c52-0000-4000-8000-1",
            "ResourceArn": FS_ARN, "CreationDate": datetime(2024, 5, 1, 3, tzinfo=UTC), "State": state,
            "IamRoleArn": ROLE, "ResourceType": "EFS", "BackupSizeInBytes": 0, **more}


@pytest.mark.parametrize(("state", "more", "expected", "progress", "message"), [
    ("CREATED", {"PercentDone": "0.0"}, SnapshotState.PENDING, "0%", None),
    ("RUNNING", {"PercentDone": "45.0"}, SnapshotState.PENDING, "45%", None),
    ("COMPLETED", {"PercentDone": "100.0", "BackupSizeInBytes": 3 << 30, "MessageCategory": "SUCCESS"},
     SnapshotState.COMPLETED, "100%", None),
    ("FAILED", {"StatusMessage": "Insufficient privileges to perform this action."}, SnapshotState.FAILED, None,
     "Insufficient privileges to perform this action."),
    ("ABORTED", {"StatusMessage": "Aborted by user"}, SnapshotState.FAILED, None, "Aborted by user"),
    ("EXPIRED", {"StatusMessage": "The job did not start in its start window"}, SnapshotState.FAILED, None,
     "The job did not start in its start window"),
    ("PARTIAL", {}, SnapshotState.FAILED, None, "only part of the file system was backed up"),
])
async def test_a_backup_jobs_state_progress_and_failure_message(
        state: str, more: dict[str, Any], expected: SnapshotState, progress: str | None, message: str | None) -> None:
    backup, stub = stubbed("backup")
    job = job_payload(state, **more)
    stub.add_response("describe_backup_job", job, {"BackupJobId": job["BackupJobId"]})
    source = AwsBackups(provider(), client_factory=Clients("http://unused", {("backup", REGION): backup}))

    with stub:
        found = await source.snapshot(efs_target(volumes=(FS,)), job["BackupJobId"])

    assert (found.state, found.progress, found.message, found.volume) == (expected, progress, message, FS)
    assert found.made_by == "hubbot" and found.started == datetime(2024, 5, 1, 3, tzinfo=UTC)


async def test_who_made_a_backup_job(standin: BackupStandIn) -> None:
    backup, stub = stubbed("backup")
    planned = job_payload("COMPLETED", CreatedBy={"BackupPlanId": "8f1c", "BackupRuleId": "daily"})
    by_hand = job_payload("COMPLETED", IamRoleArn=f"arn:aws:iam::{ACCOUNT}:role/service-role/AWSBackupDefault")
    for job in (planned, by_hand):
        stub.add_response("describe_backup_job", job, {"BackupJobId": job["BackupJobId"]})
    source = AwsBackups(provider(), client_factory=Clients(standin.url, {("backup", REGION): backup}))

    with stub:
        made = [(await source.snapshot(efs_target(volumes=(FS,)), planned["BackupJobId"])).made_by for _ in range(2)]

    assert made == ["AWS Backup plan 8f1c", "someone (console or another tool)"]


async def test_backup_tags_are_made_acceptable_and_each_request_has_its_own_token(
        moto: None, standin: BackupStandIn) -> None:
    home = EfsScene(standin).add_volume(tags=efs_target().tags)
    source = AwsBackups(provider(), client_factory=Clients(standin.url))
    tags = {TAG_HUB: "c1/prod", TAG_REQUESTED_BY: "UENG00001", TAG_REASON: "before the upgrade, see #42!"}

    first = await source.start(efs_target(), home, tags=tags, description="hubbot backup of c1/prod")
    second = await source.start(efs_target(), home, tags=tags, description="hubbot backup of c1/prod")

    assert first.id != second.id and len(standin.tokens) == 2
    assert first.reason == "before the upgrade, see #42!" and first.requested_by == "UENG00001"
    sent = standin.region(REGION).jobs[first.id]["RecoveryPointTags"]
    assert sent == {TAG_HUB: "c1/prod", TAG_REQUESTED_BY: "UENG00001", TAG_REASON: "before the upgrade see 42",
                    "Name": "hubbot backup of c1/prod"}


async def test_a_backup_refused_for_the_role_names_pass_role(moto: None, standin: BackupStandIn) -> None:
    home = EfsScene(standin).add_volume(tags=efs_target().tags)
    standin.fail("StartBackupJob", "AccessDeniedException", f"User: arn:aws:sts::{ACCOUNT}:assumed-role/hubbot/x "
                 f"is not authorized to perform: iam:PassRole on resource: {ROLE}")
    source = AwsBackups(provider(), client_factory=Clients(standin.url))

    with pytest.raises(UpstreamError) as caught:
        await source.start(efs_target(), home, tags={}, description="x")

    assert "backup:StartBackupJob and iam:PassRole" in str(caught.value) and no_secrets(str(caught.value))


async def test_an_efs_backup_needs_a_vault_a_role_and_the_file_system(moto: None, standin: BackupStandIn) -> None:
    home = EfsScene(standin).add_volume(tags=efs_target().tags)
    source = AwsBackups(provider(), client_factory=Clients(standin.url))

    with pytest.raises(UserError, match="needs vault and role_arn"):
        await source.start(efs_target(role_arn=None), home, tags={}, description="x")
    with pytest.raises(NotFound, match="no EFS file system fs-0123456789abcdef0 of c1/prod in us-east-1"):
        await source.start(efs_target(), Volume(id=FS), tags={}, description="x")
    with pytest.raises(NotFound, match="AWS Backup vault elsewhere not found in us-east-1"):
        await source.start(efs_target(vault="elsewhere"), home, tags={}, description="x")


async def test_one_hubs_backup_jobs_are_not_anothers(moto: None, standin: BackupStandIn) -> None:
    scene = EfsScene(standin)
    theirs = scene.add_volume(tags=efs_target("c1/staging").tags)
    source = AwsBackups(provider(), client_factory=Clients(standin.url))
    job = await source.start(efs_target("c1/staging"), theirs, tags={}, description="x")

    with pytest.raises(NotFound):
        await source.snapshot(efs_target(), job.id)
    assert (await source.snapshot(efs_target("c1/staging"), job.id)).volume == theirs.id


async def test_the_efs_overview_merges_jobs_and_recovery_points_and_reads_plans(
        moto: None, standin: BackupStandIn) -> None:
    scene = EfsScene(standin)
    home = scene.add_volume(tags=efs_target().tags)
    theirs = scene.add_volume(tags=efs_target("c1/staging").tags)
    arn = scene.arns[home.id]
    standin.add_vault(REGION, "nightly")
    plan = standin.add_plan(REGION, "homes-daily", rules=[daily_rule(vault="nightly")], selections=[{
        "SelectionName": "homes", "Resources": [f"arn:aws:elasticfilesystem:*:{ACCOUNT}:file-system/*"],
        "NotResources": [scene.arns[theirs.id]],
        "Conditions": {"StringEquals": [{"ConditionKey": "aws:ResourceTag/2i2c:volume-purpose",
                                         "ConditionValue": "home-nfs"}]}}])
    standin.add_plan(REGION, "databases", rules=[daily_rule()], selections=[{"ListOfTags": [
        {"ConditionType": "STRINGEQUALS", "ConditionKey": "purpose", "ConditionValue": "database"}]}])
    old = standin.add_recovery_point(REGION, "nightly", arn, plan_id=plan)
    standin.add_recovery_point(REGION, "nightly", arn, status="DELETING")
    standin.add_recovery_point(REGION, VAULT, arn, status="EXPIRED")
    source = AwsBackups(provider(), client_factory=Clients(standin.url))
    partial = await source.start(efs_target(), home, tags={}, description="x")
    standin.finish(partial.id, "PARTIAL")
    running = await source.start(efs_target(), home, tags={}, description="x")
    standin.progress(running.id, 45)

    views = await source.overview([efs_target(), efs_target("c1/staging")])

    mine = views["c1/prod"]
    assert [s.id for s in mine.snapshots] == [running.id, partial.id, old]
    assert [(s.state, s.progress) for s in mine.snapshots] == [
        (SnapshotState.PENDING, "45%"), (SnapshotState.FAILED, None), (SnapshotState.COMPLETED, "100%")]
    assert mine.snapshots[1].message == "only part of the file system was backed up"
    assert mine.snapshots[2].made_by == "AWS Backup plan homes-daily" and mine.snapshots[2].expires is not None
    assert mine.snapshots[0].made_by == "hubbot" and mine.problem is None
    assert mine.schedule == "AWS Backup plan homes-daily: daily at 05:00 UTC, keep 35 days"
    assert views["c1/staging"] == BackupView(hub="c1/staging")


async def test_a_missing_vault_is_a_problem_for_its_hubs_only(moto: None, standin: BackupStandIn) -> None:
    scene = EfsScene(standin)
    scene.add_volume(tags=efs_target().tags)
    scene.add_volume(tags=efs_target("c1/staging").tags)
    source = AwsBackups(provider(), client_factory=Clients(standin.url))

    views = await source.overview([efs_target(), efs_target("c1/staging", vault="elsewhere")])

    assert views["c1/prod"].problem is None
    assert views["c1/staging"].problem == (
        "AWS Backup vault elsewhere not found in us-east-1: check the hub's backup vault in the fleet config")


async def test_file_systems_jobs_and_recovery_points_are_read_page_by_page(moto: None, standin: BackupStandIn) -> None:
    scene = EfsScene(standin)
    for n in range(101):
        scene.add_volume(tags={"2i2c:hub-name": f"other{n}"})
    home = scene.add_volume(tags=efs_target().tags)
    for _ in range(5):
        standin.add_recovery_point(REGION, VAULT, scene.arns[home.id])
    source = AwsBackups(provider(), client_factory=Clients(standin.url))
    for _ in range(3):
        await source.start(efs_target(), home, tags={}, description="x")
    standin.page_size = 2
    source.calls.clear()

    view = (await source.overview([efs_target()]))["c1/prod"]

    assert len(view.snapshots) == 8
    assert source.calls["elasticfilesystem:DescribeFileSystems"] == 2  # 100 a page
    assert source.calls["backup:ListRecoveryPointsByBackupVault"] == 3 and source.calls["backup:ListBackupJobs"] == 2


@pytest.mark.parametrize("hubs", [2, 30])
async def test_an_efs_overview_makes_the_same_calls_per_region_for_2_hubs_or_30(
        hubs: int, moto: None, standin: BackupStandIn) -> None:
    regions = ["us-east-1", "eu-west-1"]
    scenes = {r: EfsScene(standin, r) for r in regions}
    source = AwsBackups(provider(), client_factory=Clients(standin.url))
    targets = []
    for n in range(hubs):
        region = regions[n % 2]
        target = efs_target(f"c{n}/hub{n}", region=region)
        home = scenes[region].add_volume(tags=target.tags)
        await source.start(target, home, tags={}, description="x")
        targets.append(target)
    for region in regions:
        standin.add_plan(region, "homes", rules=[daily_rule()], selections=[{"Conditions": {"StringEquals": [
            {"ConditionKey": "aws:ResourceTag/2i2c:volume-purpose", "ConditionValue": "home-nfs"}]}}])
    source.calls.clear()

    views = await source.overview(targets)

    assert all(len(v.snapshots) == 1 and v.schedule and v.problem is None for v in views.values())
    assert dict(source.calls) == {
        "elasticfilesystem:DescribeFileSystems": 2, "backup:ListBackupPlans": 2, "backup:ListBackupSelections": 2,
        "backup:GetBackupSelection": 2, "backup:GetBackupPlan": 2, "backup:ListRecoveryPointsByBackupVault": 2,
        "backup:ListBackupJobs": 2}
