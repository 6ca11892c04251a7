"""The permission matrix: every command × role × community, through the real dispatcher.

The expectations are written out here by hand (not computed from hubbot.pipeline.access), so a
change in the rules has to change this table too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from commands import ALL
from hubbot.markup import to_mrkdwn
from tests.support.fleet import (
    CHANNEL_A,
    CHANNEL_B,
    CHANNEL_OPS,
    ENGINEER,
    LEADER_A,
    LEADER_B,
    MEMBER_A,
    OUTSIDER,
)
from tests.support.memory import dispatcher, run

ROLES = {"engineer": ENGINEER, "leader_a": LEADER_A, "leader_b": LEADER_B, "member_a": MEMBER_A,
         "outsider": OUTSIDER}
TARGETS = {"none": "", "alpha": "alpha", "beta": "beta", "hub_a": "aws-cluster/prod", "hub_b": "beta-binder"}

# command -> role -> target -> expected kind ("ok" or "denied"); None: the command takes no target.
OK, NO = "ok", "denied"
READ = {
    "engineer": dict(none=OK, alpha=OK, beta=OK, hub_a=OK, hub_b=OK),
    "leader_a": dict(none=OK, alpha=OK, beta=NO, hub_a=OK, hub_b=NO),
    "leader_b": dict(none=OK, alpha=NO, beta=OK, hub_a=NO, hub_b=OK),
    "member_a": dict(none=OK, alpha=OK, beta=NO, hub_a=OK, hub_b=NO),
    "outsider": dict(none=NO, alpha=NO, beta=NO, hub_a=NO, hub_b=NO),
}
# `budget set` needs a community: without one the arguments are wrong, whoever asks
ADMIN_SET = {
    "engineer": dict(none="usage", alpha=OK, beta=OK, hub_a=OK, hub_b=OK),
    "leader_a": dict(none="usage", alpha=OK, beta=NO, hub_a=OK, hub_b=NO),
    "leader_b": dict(none="usage", alpha=NO, beta=OK, hub_a=NO, hub_b=OK),
    "member_a": dict(none="usage", alpha=NO, beta=NO, hub_a=NO, hub_b=NO),
    "outsider": dict(none="usage", alpha=NO, beta=NO, hub_a=NO, hub_b=NO),
}
# `status` acts on a hub: a community is the wrong argument for whoever may run it, and without one the
# arguments are wrong for anyone
HUB_READ = {
    "engineer": dict(none="usage", alpha="usage", beta="usage", hub_a=OK, hub_b=OK),
    "leader_a": dict(none="usage", alpha="usage", beta=NO, hub_a=OK, hub_b=NO),
    "leader_b": dict(none="usage", alpha=NO, beta="usage", hub_a=NO, hub_b=OK),
    "member_a": dict(none="usage", alpha="usage", beta=NO, hub_a=OK, hub_b=NO),
    "outsider": dict(none="usage", alpha=NO, beta=NO, hub_a=NO, hub_b=NO),
}
# `binder status` likewise, and hub_a is not a BinderHub
BINDER_READ = {role: {**row, "hub_a": "usage" if row["hub_a"] == OK else row["hub_a"]}
               for role, row in HUB_READ.items()}
# only engineers deploy; both test hubs are prod, so a deploy asks for approval (an "ok" reply)
NOT_ENGINEER = dict(none=NO, alpha=NO, beta=NO, hub_a=NO, hub_b=NO)
DEPLOY = {"engineer": dict(none="usage", alpha="usage", beta="usage", hub_a=OK, hub_b=OK),
          **{role: NOT_ENGINEER for role in ("leader_a", "leader_b", "member_a", "outsider")}}
# `binder deploy` needs its hub argument before anything else is checked
BINDER_DEPLOY = {"engineer": dict(none="usage", alpha="usage", beta="usage", hub_a="usage", hub_b=OK),
                 **{role: {**NOT_ENGINEER, "none": "usage"} for role in ("leader_a", "leader_b", "member_a",
                                                                         "outsider")}}
# `jobs` takes no target; `cancel 1` names a job that does not exist
JOBS = {role: {t: READ[role]["none"] for t in TARGETS} for role in ROLES}
CANCEL = {"engineer": {t: "not_found" for t in TARGETS},
          **{role: NOT_ENGINEER for role in ("leader_a", "leader_b", "member_a", "outsider")}}
# changing a hub's groups: its community's leaders and engineers; a community is the wrong argument
HUB_ADMIN = {
    "engineer": dict(none="usage", alpha="usage", beta="usage", hub_a=OK, hub_b=OK),
    "leader_a": dict(none="usage", alpha="usage", beta=NO, hub_a=OK, hub_b=NO),
    "leader_b": dict(none="usage", alpha=NO, beta="usage", hub_a=NO, hub_b=OK),
    "member_a": dict(none="usage", alpha=NO, beta=NO, hub_a=NO, hub_b=NO),
    "outsider": dict(none="usage", alpha=NO, beta=NO, hub_a=NO, hub_b=NO),
}
# `quota set|reset` without a hub reads its first setting as the hub, which is not one
QUOTA_CHANGE = {role: {**row, "none": "not_found"} for role, row in HUB_ADMIN.items()}
# backups: allowed through, then told the test fleet's hubs have no `backup:` section
NO_BACKUPS = {role: {t: "usage" if v == OK else v for t, v in row.items()} for role, row in HUB_ADMIN.items()}
# what community leaders and engineers may read
ADMIN_READ = {
    "engineer": dict(none=OK, alpha=OK, beta=OK, hub_a=OK, hub_b=OK),
    "leader_a": dict(none=OK, alpha=OK, beta=NO, hub_a=OK, hub_b=NO),
    "leader_b": dict(none=OK, alpha=NO, beta=OK, hub_a=NO, hub_b=OK),
    "member_a": dict(none=NO, alpha=NO, beta=NO, hub_a=NO, hub_b=NO),
    "outsider": dict(none=NO, alpha=NO, beta=NO, hub_a=NO, hub_b=NO),
}
ENTRY_CHANGE = {role: dict.fromkeys(TARGETS, "not_found" if role.startswith(("engineer", "leader")) else NO)
                for role in ROLES}
# how each command is typed with a target (default: "<command> <target>")
TEMPLATE = {"budget set": "budget set {target} 1500", "budget show": "budget show {target}",
            "faq edit": "faq edit 7 new words", "faq retire": "faq retire 7", "faq restore": "faq restore 7",
            "faq unlearn": "faq unlearn all {target}",
            "ask": "ask how do I install a package", "jobs": "jobs", "cancel": "cancel 1",
            "link": "link {target} https://github.com/org/repo", "group show": "group show {target} students",
            "group create": "group create {target} tutors", "group delete": "group delete {target} students",
            "group add": "group add {target} students bo", "group remove": "group remove {target} students ana",
            "quota set": "quota set {target} storage=20GiB", "quota reset": "quota reset {target} storage"}
EXPECTED: dict[str, dict[str, dict[str, str]] | None] = {
    "help": None,
    "whoami": None,
    "cost": READ,
    "budget show": {**READ, "engineer": dict(none="usage", alpha=OK, beta=OK, hub_a=OK, hub_b=OK)},
    "budget set": ADMIN_SET,
    "alerts": READ,
    "faq stats": ADMIN_READ,
    "faq entries": ADMIN_READ,
    # a saved answer is named by its number (none exists here): those allowed hear it is not found
    "faq edit": ENTRY_CHANGE,
    "faq retire": ENTRY_CHANGE,
    "faq restore": ENTRY_CHANGE,
    # forgetting verdicts needs a community: a leader who names none is asked for it
    "faq unlearn": {**ADMIN_READ, "leader_a": {**ADMIN_READ["leader_a"], "none": "usage"},
                    "leader_b": {**ADMIN_READ["leader_b"], "none": "usage"}},
    "ask": None,
    "hubs": {
        "engineer": dict(none=OK, alpha=OK, beta=OK, hub_a=OK, hub_b=OK),
        "leader_a": dict(none=OK, alpha=OK, beta=NO, hub_a=OK, hub_b=NO),
        "leader_b": dict(none=OK, alpha=NO, beta=OK, hub_a=NO, hub_b=OK),
        "member_a": dict(none=OK, alpha=OK, beta=NO, hub_a=OK, hub_b=NO),
        "outsider": dict(none=NO, alpha=NO, beta=NO, hub_a=NO, hub_b=NO),
    },
    "status": HUB_READ,
    "binder status": BINDER_READ,
    "link": HUB_READ,
    "book": HUB_READ,
    "deploy": DEPLOY,
    "binder deploy": BINDER_DEPLOY,
    "jobs": JOBS,
    "cancel": CANCEL,
    "group list": HUB_READ,
    "group show": HUB_READ,
    "group create": HUB_ADMIN,
    "group delete": HUB_ADMIN,
    "group add": HUB_ADMIN,
    "group remove": HUB_ADMIN,
    "usage": HUB_READ,
    "quota show": HUB_READ,
    "quota set": QUOTA_CHANGE,
    "quota reset": QUOTA_CHANGE,
    "quota diff": HUB_ADMIN,
    "backup now": NO_BACKUPS,
    "backup list": NO_BACKUPS,
    "backup status": READ,
    "backup restore-plan": {"engineer": NO_BACKUPS["engineer"],
                            **{role: {**NOT_ENGINEER, "none": "usage"}
                               for role in ("leader_a", "leader_b", "member_a", "outsider")}},
    # the test fleet has no service menu: whoever may run these hears that (a "usage" reply)
    "plans": {role: dict.fromkeys(TARGETS, "usage") for role in ROLES},
    "estimate": {role: dict.fromkeys(TARGETS, "usage") for role in ROLES},
    "request": {  # without a community the arguments are wrong, whoever asks
        "engineer": dict(none="usage", alpha="usage", beta="usage", hub_a="usage", hub_b="usage"),
        "leader_a": dict(none="usage", alpha="usage", beta=NO, hub_a="usage", hub_b=NO),
        "leader_b": dict(none="usage", alpha=NO, beta="usage", hub_a=NO, hub_b="usage"),
        "member_a": dict(none="usage", alpha=NO, beta=NO, hub_a=NO, hub_b=NO),
        "outsider": dict(none="usage", alpha=NO, beta=NO, hub_a=NO, hub_b=NO),
    },
    "requests": READ,
    "audit": {
        "engineer": dict(none=OK, alpha=OK, beta=OK, hub_a=OK, hub_b=OK),
        "leader_a": dict(none=OK, alpha=OK, beta=NO, hub_a=OK, hub_b=NO),
        "leader_b": dict(none=OK, alpha=NO, beta=OK, hub_a=NO, hub_b=OK),
        "member_a": dict(none=NO, alpha=NO, beta=NO, hub_a=NO, hub_b=NO),
        "outsider": dict(none=NO, alpha=NO, beta=NO, hub_a=NO, hub_b=NO),
    },
}


def test_the_matrix_covers_every_command() -> None:
    assert set(EXPECTED) == {c.name for c in ALL}


CASES = [
    (cmd, role, target, rows[role][target])
    for cmd, rows in EXPECTED.items() if rows is not None
    for role in ROLES for target in TARGETS
] + [(cmd, role, "none", OK) for cmd, rows in EXPECTED.items() if rows is None for role in ROLES]


@pytest.mark.parametrize("command,role,target,expected", CASES)
async def test_permission(fleet_file: Path, command: str, role: str, target: str, expected: str) -> None:
    d, audit = dispatcher(fleet_file)
    text = TEMPLATE.get(command, "{command} {target}").format(command=command, target=TARGETS[target]).strip()
    if target == "none" and command == "budget set":
        text = "budget set"
    reply = await run(d, " ".join(text.split()), user=ROLES[role], channel=CHANNEL_OPS)
    assert reply.kind == expected, reply.text
    assert audit.entries[-1].outcome.value == expected
    if expected == NO:
        assert "ask one of" in reply.text or "not among" in reply.text


async def test_a_leader_never_sees_another_communitys_hubs(fleet_file: Path) -> None:
    d, _ = dispatcher(fleet_file)
    reply = await run(d, "hubs", user=LEADER_A)
    assert "aws-cluster/prod" in reply.text and "beta" not in reply.text


async def test_a_leader_sees_only_their_communitys_audit(fleet_file: Path) -> None:
    d, _ = dispatcher(fleet_file)
    await run(d, "hubs beta", user=ENGINEER)
    await run(d, "hubs alpha", user=ENGINEER)
    reply = await run(d, "audit", user=LEADER_A)
    assert "[alpha]" in reply.text and "[beta]" not in reply.text
    assert "fleet" not in reply.text  # fleet-wide entries (help, whoami...) are engineers' only


async def test_anyone_in_a_community_channel_is_a_member_there(fleet_file: Path) -> None:
    d, _ = dispatcher(fleet_file)
    assert (await run(d, "hubs", user=OUTSIDER, channel=CHANNEL_A)).ok
    assert (await run(d, "hubs beta", user=OUTSIDER, channel=CHANNEL_A)).kind == "denied"
    assert (await run(d, "audit", user=OUTSIDER, channel=CHANNEL_A)).kind == "denied"


async def test_denial_names_who_can(fleet_file: Path) -> None:
    d, _ = dispatcher(fleet_file)
    reply = await run(d, "audit beta", user=LEADER_A)
    slack = to_mrkdwn(reply.text)
    assert "<!subteam^SLEADSB01>" in slack and f"<@{ENGINEER}>" in slack


@pytest.mark.parametrize(("text", "user", "says"), [
    ("audit beta", LEADER_A, "only hub engineers and leaders of 'beta' can run `/hub audit` for 'beta'"),
    ("cost beta", MEMBER_A, "only hub engineers and members and leaders of 'beta' can run `/hub cost` for 'beta'"),
    ("deploy aws-cluster/prod", LEADER_A, "only hub engineers can run `/hub deploy`"),
])
async def test_a_denial_says_who_may(fleet_file: Path, text: str, user: str, says: str) -> None:
    d, _ = dispatcher(fleet_file)
    reply = await run(d, text, user=user)
    assert reply.kind == "denied" and says in reply.text, reply.text


async def test_a_member_keeps_their_community_in_another_communitys_channel(fleet_file: Path) -> None:
    d, _ = dispatcher(fleet_file)
    assert (await run(d, "cost alpha", user=MEMBER_A, channel=CHANNEL_B)).ok  # listed as alpha's member
    assert (await run(d, "cost beta", user=MEMBER_A, channel=CHANNEL_B)).ok  # and in beta's channel, beta's too
    assert (await run(d, "cost beta", user=MEMBER_A, channel=CHANNEL_A)).kind == "denied"
