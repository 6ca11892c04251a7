"""``/hub backup status --all`` over 200 hubs in 5 AWS accounts and 3 GCP projects, against the
bare list calls it needs made concurrently, side by side in the same run; and the number of cloud
API calls it makes (the goal: a few paged list calls per account or project and region, however
many hubs).

EC2 is moto (in process); DLM is the AWS stand-in of the tests; Compute Engine is the Compute
stand-in of the tests; every request to them waits ``--latency`` first, as a cloud API's round
trip would. hubbot runs the command through its dispatcher with the real AWS and GCP adapters.
The baseline makes the same list requests (volumes, snapshots, schedules) with the same boto3
and HTTP clients, all at once, and reads nothing.

    python benchmarks/backups.py [--latency 0.08] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

AWS_ACCOUNTS, GCP_PROJECTS, HUBS_EACH = 5, 3, 25
REGION, ZONE, GCP_REGION = "us-west-2", "us-central1-b", "us-central1"


def fleet_yaml(compute_url: str) -> str:
    lines = ["providers:"]
    for a in range(AWS_ACCOUNTS):
        lines.append(f'  aws-{a}: {{kind: aws, account_id: "{a + 1:012d}", region: {REGION}}}')
    for g in range(GCP_PROJECTS):
        lines.append(f'  gcp-{g}: {{kind: gcp, project: proj-{g}, endpoint: "{compute_url}"}}')
    lines.append("clusters:")
    for name, kind in [*((f"aws-{a}", "ebs") for a in range(AWS_ACCOUNTS)),
                       *((f"gcp-{g}", "gcp-disk") for g in range(GCP_PROJECTS))]:
        lines += [f"  - name: {name}", f"    provider: {name}", "    hubs:"]
        zone = f", zone: {ZONE}" if kind == "gcp-disk" else ""
        lines += [f"      - {{name: hub{h:02d}, community: all, domain: hub{h:02d}.{name}.test, "
                  f"backup: {{kind: {kind}{zone}}}}}" for h in range(HUBS_EACH)]
    lines += ["communities: [{name: all}]", "roles: {engineers: [UENG00001]}"]
    return "\n".join(lines) + "\n"


def with_latency(app: Any, latency: float) -> Any:
    async def slowed(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await asyncio.sleep(latency)
        await app(scope, receive, send)
    return slowed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.08, help="seconds each cloud request waits")
    parser.add_argument("--rounds", type=int, default=5)
    opts = parser.parse_args()
    for key in [k for k in os.environ if k.startswith(("AWS_", "HUBBOT_"))]:
        del os.environ[key]
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                      AWS_DEFAULT_REGION=REGION, MOTO_EC2_LOAD_DEFAULT_AMIS="false")
    from moto import mock_aws

    with mock_aws(), tempfile.TemporaryDirectory() as tmp:
        run(Path(tmp), opts.latency, opts.rounds)


def run(folder: Path, latency: float, rounds: int) -> None:
    import boto3
    from google.auth.credentials import AnonymousCredentials

    from hubbot.adapters.aws_backups import AwsBackups
    from hubbot.adapters.gcp.backups import GcpBackups
    from hubbot.fleet import load_fleet
    from hubbot.lifecycle import io_threads
    from tests.support.aws_backup_standin import BackupStandIn
    from tests.support.aws_backups import ONE_ATTEMPT
    from tests.support.compute_standin import ComputeStandIn
    from tests.support.memory import dispatcher
    from tests.support.memory import run as ask
    from tests.support.server import serve

    dlm, compute = BackupStandIn(clock=lambda: datetime.now(UTC)), ComputeStandIn()
    with serve(with_latency(dlm.app(), latency)) as dlm_served, serve(with_latency(compute.app, latency)) as gcp_served:
        fleet_file = folder / "fleet.yaml"
        fleet_file.write_text(fleet_yaml(gcp_served.url))
        fleet = load_fleet(fleet_file)
        # each account its own: moto keeps what an assumed role's credentials make in that account
        sts = boto3.client("sts", region_name=REGION)
        sessions = []
        for a in range(AWS_ACCOUNTS):
            role = f"arn:aws:iam::{a + 1:012d}:role/hubbot"
            creds = sts.assume_role(RoleArn=role, RoleSessionName="bench")["Credentials"]
            sessions.append(boto3.session.Session(aws_access_key_id=creds["AccessKeyId"],
                                                  aws_secret_access_key=creds["SecretAccessKey"],
                                                  aws_session_token=creds["SessionToken"]))
        for session in sessions:
            ec2 = session.client("ec2", region_name=REGION)
            for h in range(HUBS_EACH):
                volume = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=100, TagSpecifications=[{
                    "ResourceType": "volume", "Tags": [{"Key": "2i2c:hub-name", "Value": f"hub{h:02d}"},
                                                       {"Key": "2i2c:volume-purpose", "Value": "home-nfs"}]}])
                for _ in range(3):
                    ec2.create_snapshot(VolumeId=volume["VolumeId"], Description="daily")
        dlm.add_policy(REGION, target_tags={"2i2c:volume-purpose": "home-nfs"})
        for g in range(GCP_PROJECTS):
            compute.add_policy(f"proj-{g}", GCP_REGION, "daily-homes", max_retention_days=5, schedule={
                "dailySchedule": {"daysInCycle": 1, "startTime": "04:00", "duration": "PT14400S"}})
            for h in range(HUBS_EACH):
                disk = f"hub-nfs-homedirs-hub{h:02d}"
                compute.add_disk(f"proj-{g}", ZONE, disk)
                compute.attach(f"proj-{g}", ZONE, disk, "daily-homes")
                for s in range(3):
                    compute.add_snapshot(f"proj-{g}", ZONE, disk, f"{disk}-{s}")

        def clients(session: Any) -> Callable[[str, str], Any]:
            """The account's clients: EC2 from moto (its round trip waited here, moto answering in
            process), DLM from the stand-in (which waits itself)."""
            def make(service: str, region: str) -> Any:
                endpoint = dlm_served.url if service in ("dlm", "backup") else None
                client = session.client(service, region_name=region, endpoint_url=endpoint, config=ONE_ATTEMPT)
                if endpoint is None:
                    client.meta.events.register_first("before-send", lambda **_: time.sleep(latency))
                return client
            return make

        factories = [clients(session) for session in sessions]
        sources: dict[str, Any] = {f"aws-{a}": AwsBackups(fleet.config.providers[f"aws-{a}"],  # type: ignore[arg-type]
                                                          client_factory=factories[a]) for a in range(AWS_ACCOUNTS)}
        sources.update({f"gcp-{g}": GcpBackups(fleet.config.providers[f"gcp-{g}"],  # type: ignore[arg-type]
                                               credentials=AnonymousCredentials()) for g in range(GCP_PROJECTS)})
        d, _ = dispatcher(fleet_file)
        d.services = dataclasses.replace(d.services, backups=sources)

        async def status() -> float:
            io_threads()  # as hubbot's processes run (hubbot.lifecycle)
            began = time.perf_counter()
            reply = await ask(d, "backup status --all", user="UENG00001")
            assert reply.ok and "fine" in reply.text, reply.text[:300]
            return time.perf_counter() - began

        compute_before = len(compute.calls)
        first = asyncio.run(status())
        per_aws: Counter[str] = Counter()
        for a in range(AWS_ACCOUNTS):
            per_aws.update(sources[f"aws-{a}"].calls)
        aws_calls, gcp_calls = sum(per_aws.values()), len(compute.calls) - compute_before

        async def bare() -> float:
            """The same lists, with bare clients, all at once."""
            io_threads()
            began = time.perf_counter()
            def aws_lists(a: int) -> None:
                client, policies = factories[a]("ec2", REGION), factories[a]("dlm", REGION)
                found = client.describe_volumes(Filters=[
                    {"Name": "tag:2i2c:volume-purpose", "Values": ["home-nfs"]}])["Volumes"]
                client.describe_snapshots(OwnerIds=["self"], Filters=[
                    {"Name": "volume-id", "Values": [v["VolumeId"] for v in found]}])
                listed = policies.get_lifecycle_policies(State="ENABLED")["Policies"]
                for p in listed:
                    policies.get_lifecycle_policy(PolicyId=p["PolicyId"])

            async with httpx.AsyncClient(base_url=f"{gcp_served.url}/compute/v1/projects") as http:
                async def gcp_lists(g: int) -> None:
                    await asyncio.gather(http.get(f"/proj-{g}/aggregated/disks"),
                                         http.get(f"/proj-{g}/global/snapshots"),
                                         http.get(f"/proj-{g}/aggregated/resourcePolicies"))

                await asyncio.gather(*(asyncio.to_thread(aws_lists, a) for a in range(AWS_ACCOUNTS)),
                                     *(gcp_lists(g) for g in range(GCP_PROJECTS)))
            return time.perf_counter() - began

        ours, theirs = [], []
        for _ in range(rounds):
            theirs.append(asyncio.run(bare()))
            ours.append(asyncio.run(status()))
    mine, base = statistics.median(ours), statistics.median(theirs)
    print(f"/hub backup status --all: {AWS_ACCOUNTS * HUBS_EACH + GCP_PROJECTS * HUBS_EACH} hubs, "
          f"{AWS_ACCOUNTS} AWS accounts and {GCP_PROJECTS} GCP projects, {latency * 1000:.0f} ms a request "
          f"(median of {rounds}):")
    print(f"  hubbot   {mine:6.2f} s   (first {first:.2f} s)")
    print(f"  bare     {base:6.2f} s   (the same list calls, all at once)")
    print(f"  ratio    {mine / base:6.2f}x   goal: within 1.5x")
    print(f"  calls    AWS {aws_calls} ({', '.join(f'{k} {v}' for k, v in per_aws.items())}) for "
          f"{AWS_ACCOUNTS} accounts; Compute {gcp_calls} for {GCP_PROJECTS} projects "
          f"(goal: a few list calls per account or project and region, not one per hub)")


if __name__ == "__main__":
    main()
