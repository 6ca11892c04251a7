"""``/hub backup ...`` through the dispatcher, on the in-memory twin (held to every real adapter
by the shared contract): who may do what, the rate limit, missing and ambiguous volumes,
following a snapshot to completed, failed or stuck, the list, the traffic lights, restore plans."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from hubbot.adapters.memory import FrozenClock, MemoryAuditLog, MemoryBackups
from hubbot.domain import Outcome, Snapshot, SnapshotState, Volume
from hubbot.pipeline.dispatch import Dispatcher
from tests.support.fleet import ENGINEER, FLEET_YAML, LEADER_A, LEADER_B, MEMBER_A
from tests.support.memory import dispatcher, run

HUB = "aws-cluster/prod"
TAGS = {"2i2c:hub-name": "prod", "2i2c:volume-purpose": "home-nfs"}


@pytest.fixture
def fleet_with_backups(tmp_path: Path) -> Path:
    text = FLEET_YAML.replace("{name: prod, community: alpha, domain: alpha.test, tier: prod}",
                              "{name: prod, community: alpha, domain: alpha.test, tier: prod, backup: {kind: ebs}}")
    text = text.replace("{name: staging, community: alpha, domain: staging.alpha.test, tier: staging}",
                        "{name: staging, community: alpha, domain: staging.alpha.test, tier: staging, "
                        "backup: {kind: ebs, max_age_hours: 48}}")
    path = tmp_path / "fleet.yaml"
    path.write_text(text)
    return path


@dataclasses.dataclass
class Bot:
    d: Dispatcher
    twin: MemoryBackups
    clock: FrozenClock
    waits: list[float]


def _bot(fleet_file: Path) -> Bot:
    d, _ = dispatcher(fleet_file)
    clock = d.services.clock
    assert isinstance(clock, FrozenClock)
    twin = MemoryBackups(clock)
    waits: list[float] = []

    async def pause(seconds: float) -> None:  # time passes only when hubbot waits
        waits.append(seconds)
        clock.advance(timedelta(seconds=seconds))

    d.services = dataclasses.replace(d.services, backups={"aws-test": twin}, pause=pause)
    return Bot(d, twin, clock, waits)


def _home(bot: Bot, hub: str = "prod", **extra: str) -> Volume:
    return bot.twin.add_volume(Volume(id=f"vol-{hub}-home", name=f"{hub}-nfs", size_gib=100, where="us-west-2a",
                                      tags={**TAGS, "2i2c:hub-name": hub, **extra}))


def _audit(bot: Bot) -> list[str]:
    audit = bot.d.services.audit
    assert isinstance(audit, MemoryAuditLog)
    return [e.detail or "" for e in audit.entries if e.outcome is Outcome.CHANGED]


class _Completes:
    """A twin whose snapshots complete after ``after`` looks (or fail, or never finish)."""

    def __init__(self, bot: Bot, *, after: int, state: SnapshotState | None) -> None:
        self.bot, self.after, self.state, self.looks = bot, after, state, 0
        original = bot.twin.snapshot

        async def look(target, snapshot_id):  # type: ignore[no-untyped-def]
            self.looks += 1
            if self.state is not None and self.looks >= self.after:
                bot.twin.finish(snapshot_id, self.state, message="volume busy" if self.state is SnapshotState.FAILED
                                else None)
            return await original(target, snapshot_id)

        bot.twin.snapshot = look  # type: ignore[method-assign]


async def test_a_leader_backs_up_now_and_sees_it_through(fleet_with_backups: Path) -> None:
    bot = _bot(fleet_with_backups)
    home = _home(bot)
    _Completes(bot, after=3, state=SnapshotState.COMPLETED)
    reply = await run(bot.d, f'backup now {HUB} --reason "before the upgrade"', user=LEADER_A)
    assert reply.ok, reply.text
    assert f"snap-00000001 of {home.id} completed (100 GiB)" in reply.text
    assert bot.waits == [5, 10, 15]  # looked less and less often
    snap = bot.twin.snapshots_["snap-00000001"]
    assert snap.requested_by == LEADER_A and snap.reason == "before the upgrade" and snap.made_by == "hubbot"
    assert any("started snap-00000001 of vol-prod-home" in d for d in _audit(bot))


async def test_a_failed_snapshot_is_said_and_audited_and_not_retried(fleet_with_backups: Path) -> None:
    bot = _bot(fleet_with_backups)
    _home(bot)
    _Completes(bot, after=2, state=SnapshotState.FAILED)
    reply = await run(bot.d, f"backup now {HUB}", user=ENGINEER)
    assert reply.kind == "upstream" and "failed: volume busy — nothing was retried" in reply.text
    assert len(bot.twin.snapshots_) == 1
    assert any("snap-00000001 failed: volume busy" in d for d in _audit(bot))


async def test_a_snapshot_stuck_pending_is_left_to_the_cloud_with_a_pointer(fleet_with_backups: Path) -> None:
    bot = _bot(fleet_with_backups)
    _home(bot)
    reply = await run(bot.d, f"backup now {HUB}", user=ENGINEER)
    assert "is still 0% after 15 min; it carries on in the cloud" in reply.text, reply.text
    assert sum(bot.waits) >= 15 * 60 and f"backup list {HUB}" in reply.text
    assert any("still pending after 15 min" in d for d in _audit(bot))


async def test_one_manual_backup_an_hour(fleet_with_backups: Path) -> None:
    bot = _bot(fleet_with_backups)
    _home(bot)
    _Completes(bot, after=1, state=SnapshotState.COMPLETED)
    assert (await run(bot.d, f"backup now {HUB}", user=ENGINEER)).ok
    again = await run(bot.d, f"backup now {HUB}", user=LEADER_A)
    assert again.kind == "usage" or not again.ok
    assert "had a manual backup less than 60 min ago (snap-00000001" in again.text
    assert "next can start after" in again.text
    assert len(bot.twin.snapshots_) == 1
    bot.clock.advance(timedelta(minutes=61))
    assert (await run(bot.d, f"backup now {HUB}", user=ENGINEER)).ok


async def test_no_volume_and_several_volumes_are_clear_and_change_nothing(fleet_with_backups: Path) -> None:
    bot = _bot(fleet_with_backups)
    none = await run(bot.d, f"backup now {HUB}", user=ENGINEER)
    assert "no home volume of aws-cluster/prod was found by tags 2i2c:hub-name=prod, 2i2c:volume-purpose=home-nfs" \
        in none.text
    _home(bot)
    bot.twin.add_volume(Volume(id="vol-prod-other", size_gib=5, tags=TAGS))
    several = await run(bot.d, f"backup now {HUB}", user=ENGINEER)
    assert "2 volumes carry aws-cluster/prod's tags (vol-prod-home (prod-nfs), vol-prod-other)" in several.text
    assert "backup.volumes" in several.text and bot.twin.snapshots_ == {}


@pytest.mark.parametrize(("user", "command", "allowed"), [
    (MEMBER_A, "backup now", False), (LEADER_B, "backup now", False), (LEADER_A, "backup list", True),
    (MEMBER_A, "backup list", False), (LEADER_A, "backup restore-plan", False), (ENGINEER, "backup restore-plan", True),
    (MEMBER_A, "backup status", True), (LEADER_B, "backup status", False),
])
async def test_who_may(fleet_with_backups: Path, user: str, command: str, allowed: bool) -> None:
    bot = _bot(fleet_with_backups)
    home = _home(bot)
    bot.twin.add_snapshot(Snapshot(id="snap-a", volume=home.id, state=SnapshotState.COMPLETED,
                                   started=bot.clock.now() - timedelta(hours=2), size_gib=100))
    _Completes(bot, after=1, state=SnapshotState.COMPLETED)
    reply = await run(bot.d, f"{command} {HUB}", user=user)
    assert (reply.kind != "denied") is allowed, reply.text


async def test_list_shows_when_what_who_and_the_schedule(fleet_with_backups: Path) -> None:
    bot = _bot(fleet_with_backups)
    home = _home(bot)
    now = bot.clock.now()
    bot.twin.schedules[home.id] = "DLM policy policy-0abc: every 24 h at 03:00, keep 7"
    bot.twin.add_snapshot(Snapshot(id="snap-old", volume=home.id, state=SnapshotState.COMPLETED,
                                   started=now - timedelta(days=1), size_gib=100, made_by="DLM policy policy-0abc",
                                   expires=now + timedelta(days=6)))
    bot.twin.add_snapshot(Snapshot(id="snap-new", volume=home.id, state=SnapshotState.FAILED,
                                   started=now - timedelta(hours=1), made_by="hubbot", requested_by=LEADER_A,
                                   reason="<!channel> test", message="InternalError"))
    reply = await run(bot.d, f"backup list {HUB} --limit 5", user=LEADER_A)
    lines = reply.text.splitlines()
    assert "(2 in all, newest first)" in lines[0]
    assert "snap-new · failed (InternalError)" in lines[1] and "<!channel> test" in lines[1]
    assert "snap-old · completed · 100 GiB · DLM policy policy-0abc" in lines[2] and "kept until" in lines[2]
    assert "Schedule: DLM policy policy-0abc: every 24 h at 03:00, keep 7" in reply.text


async def test_status_gives_each_hub_a_light_with_reasons(fleet_with_backups: Path) -> None:
    bot = _bot(fleet_with_backups)
    prod, staging = _home(bot), _home(bot, "staging")
    now = bot.clock.now()
    bot.twin.schedules[prod.id] = "daily"
    bot.twin.add_snapshot(Snapshot(id="snap-p", volume=prod.id, state=SnapshotState.COMPLETED,
                                   started=now - timedelta(hours=30)))
    bot.twin.add_snapshot(Snapshot(id="snap-s", volume=staging.id, state=SnapshotState.COMPLETED,
                                   started=now - timedelta(hours=30)))
    reply = await run(bot.d, "backup status alpha", user=MEMBER_A)
    assert ":red_circle: aws-cluster/prod: newest 30 h ago — the newest completed backup is 30 h old (policy: " \
           "younger than 26 h)" in reply.text
    # staging's policy allows 48 h, but nothing makes its backups
    assert ":large_yellow_circle: aws-cluster/staging: newest 30 h ago, no schedule" in reply.text
    assert ":white_circle: not set up (1): js2-cluster/class" in reply.text


async def test_the_restore_plan_names_the_snapshot_the_zone_and_the_users_folder(fleet_with_backups: Path) -> None:
    bot = _bot(fleet_with_backups)
    home = _home(bot)
    bot.twin.add_snapshot(Snapshot(id="snap-0123", volume=home.id, state=SnapshotState.COMPLETED,
                                   started=bot.clock.now() - timedelta(hours=3), size_gib=100))
    reply = await run(bot.d, f"backup restore-plan {HUB} --user ana.b@uni.edu", user=ENGINEER)
    assert reply.ok and not reply.public
    assert "aws ec2 create-volume --region us-west-2 --availability-zone us-west-2a" in reply.text
    assert "--snapshot-id snap-0123" in reply.text and "driver: ebs.csi.aws.com" in reply.text
    assert "rsync -a --update /restore/prod/ana-2eb-40uni-2eedu/ /home-live/ana-2eb-40uni-2eedu/" in reply.text
    assert "Nothing has been run" in reply.text


@pytest.mark.parametrize(("args", "message"), [
    ("--snapshot snap-nope", "no snapshot snap-nope"),
    ("--user '../../etc'", "is not a JupyterHub user name"),
])
async def test_restore_plan_refuses_what_it_cannot_plan(fleet_with_backups: Path, args: str, message: str) -> None:
    bot = _bot(fleet_with_backups)
    _home(bot)
    reply = await run(bot.d, f"backup restore-plan {HUB} {args}", user=ENGINEER)
    assert not reply.ok and message in reply.text, reply.text


async def test_a_hub_without_backups_says_how_to_set_them_up(fleet_with_backups: Path) -> None:
    bot = _bot(fleet_with_backups)
    reply = await run(bot.d, "backup now js2-cluster/class", user=ENGINEER)
    assert "js2-cluster/class has no backups set up: give the hub a `backup:` section" in reply.text
