"""``/hub backup ...`` end to end: signed Slack requests into the real app, the Cinder adapter
signing in to a Keystone stand-in and snapshotting on a Cinder stand-in (real payload shapes),
progress in the thread until the snapshot is available."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from hubbot.adapters.cinder import HUB_NAME, CinderBackups
from hubbot.adapters.memory import FrozenClock
from hubbot.fleet import OpenStackProvider
from tests.support.fleet import CHANNEL_A, ENGINEER, LEADER_A
from tests.support.harness import Harness, harness
from tests.support.openstack_standin import CREDENTIAL_ID, CREDENTIAL_SECRET, REGION, OpenStackStandIn
from tests.support.server import serve

HUB = "js2/class"


@pytest.fixture
def standin() -> Iterator[OpenStackStandIn]:
    s = OpenStackStandIn()
    with serve(s.app) as served:
        s.base_url = served.url
        yield s


@pytest.fixture
def bot(tmp_path: Path, standin: OpenStackStandIn) -> Iterator[Harness]:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(f"""
providers:
  js2-test: {{kind: openstack, auth_url: "{standin.base_url}/v3", project: BIO250001, region: {REGION}}}
clusters:
  - name: js2
    provider: js2-test
    hubs: [{{name: class, community: alpha, domain: class.alpha.test, backup: {{kind: cinder}}}}]
communities: [{{name: alpha, channel: {CHANNEL_A}, leaders: [{LEADER_A}]}}]
roles: {{engineers: [{ENGINEER}]}}
""")
    provider = OpenStackProvider(kind="openstack", auth_url=f"{standin.base_url}/v3", project="BIO250001",
                                 region=REGION)
    cinder = CinderBackups(provider, application_credential_id=CREDENTIAL_ID,
                           application_credential_secret=SecretStr(CREDENTIAL_SECRET), clock=FrozenClock())

    async def cloud_moves_on(seconds: float) -> None:  # while hubbot waits, the snapshot finishes
        for snapshot_id in list(standin.snapshots.get(REGION, {})):
            standin.finish_snapshot(snapshot_id, "available")

    with harness(tmp_path, fleet, backups={"js2-test": cinder}, pause=cloud_moves_on) as h:
        yield h


def ask(bot: Harness, text: str, *, user: str, hook: str) -> str:
    before = len(bot.standin.of("response_url"))
    bot.slash(text, user=user, channel=CHANNEL_A, hook=hook)
    bot.settle()
    return str(bot.standin.wait_for("response_url", before + 1)[-1].args["text"])


def test_a_leader_backs_up_a_jetstream2_hub_and_an_engineer_gets_the_restore_plan(
        bot: Harness, standin: OpenStackStandIn) -> None:
    standin.add_volume(metadata={HUB_NAME: "class"}, size=250, name="hub-nfs-homedirs-class")
    done = ask(bot, f'backup now {HUB} --reason "before the term starts"', user=LEADER_A, hook="b1")
    assert "completed (250 GiB)" in done, done
    listed = ask(bot, f"backup list {HUB}", user=LEADER_A, hook="b2")
    assert "completed · 250 GiB · hubbot" in listed and "before the term starts" in listed
    assert "Schedule: none — only manual backups are made" in listed
    status = ask(bot, "backup status", user=LEADER_A, hook="b3")
    assert f"{HUB}: newest" in status and "no schedule" in status
    plan = ask(bot, f"backup restore-plan {HUB} --user ana", user=ENGINEER, hook="b4")
    assert "openstack volume create --snapshot" in plan and "cinder.csi.openstack.org" in plan
    assert "/restore/class/ana/" in plan
    assert CREDENTIAL_SECRET not in str([c.args for c in bot.standin.calls])
