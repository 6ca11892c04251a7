"""Every button by role and community: who may press it, what a press does, and that an action
meant to run only after a confirmation or an approval can never be pressed directly.

Through the real dispatcher over the in-memory ports; the expectations are written out by hand.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from commands import ALL
from hubbot.domain import Alert, Basis, DeliveryState, Job, JobState, OutboxKind, OutboxMessage, Post
from hubbot.pipeline.contract import Invocation, Reply
from hubbot.pipeline.dispatch import Dispatcher
from tests.support.fleet import (
    CHANNEL_A,
    CHANNEL_B,
    CHANNEL_OPS,
    ENGINEER,
    ENGINEER_2,
    LEADER_A,
    LEADER_B,
    MEMBER_A,
    OUTSIDER,
)
from tests.support.memory import dispatcher, run
from tests.test_permissions import ROLES


async def press(d: Dispatcher, action_id: str, value: str, *, user: str, channel: str = CHANNEL_OPS) -> Reply:
    return await d.run_action(Invocation(user_id=user, channel_id=channel, text=""), action_id=action_id,
                              value=value)


def buttons(reply: Reply) -> dict[str, tuple[str, str]]:
    """Label -> (action_id, value) of the buttons a reply carries."""
    return {e["text"]["text"]: (e["action_id"], e.get("value", "")) for blk in reply.blocks
            if blk.get("type") == "actions" for e in blk["elements"]}


async def _failed_deploy(d: Dispatcher, hub: str) -> int:
    assert d.services.deploys is not None
    job = await d.services.deploys.jobs.create(Job(
        kind="deploy", hub=hub, community="alpha", state=JobState.QUEUED, requested_by=ENGINEER,
        channel=CHANNEL_A, created_at=d.services.clock.now(), previous_revision=3))
    assert isinstance(job, Job) and job.id is not None
    await d.services.deploys.jobs.update(job.id, state=JobState.FAILED, stage="upgrade")  # frees the hub
    return job.id


async def _jobs(d: Dispatcher) -> list[Job]:
    assert d.services.deploys is not None
    return list(await d.services.deploys.jobs.recent(communities=None, active_only=False, limit=50))


# -- actions that run only after a decision -----------------------------------------------------

APPROVAL_ONLY = [(spec.name, a.name) for spec in ALL for a in spec.actions if not a.button]


def test_the_changes_behind_a_decision_are_all_approval_only() -> None:
    assert sorted(APPROVAL_ONLY) == sorted([("deploy", "start"), ("deploy", "rollback-run"),
                                            ("binder deploy", "start"), ("budget set", "apply"),
                                            ("group delete", "delete"), ("group remove", "remove"),
                                            ("quota set", "apply"), ("quota set", "namespace"),
                                            ("quota reset", "apply"), ("quota reset", "namespace"),
                                            ("quota set", "start"), ("quota reset", "start")])


@pytest.mark.parametrize(("command", "action"), APPROVAL_ONLY)
@pytest.mark.parametrize("role", list(ROLES))
async def test_an_approval_only_action_pressed_directly_does_nothing(
        fleet_file: Path, command: str, action: str, role: str) -> None:
    d, _ = dispatcher(fleet_file)
    job_id = await _failed_deploy(d, "aws-cluster/prod")
    payloads = {"deploy": json.dumps({"job": job_id, "hubs": ["aws-cluster/prod"]}),
                "binder deploy": json.dumps({"hubs": ["gcp-cluster/beta-binder"]}),
                "budget set": json.dumps({"community": "alpha", "amount": "1", "currency": "USD"}),
                "group delete": json.dumps({"hub": "aws-cluster/prod", "group": "students"}),
                "group remove": json.dumps({"hub": "aws-cluster/prod", "group": "students", "users": ["ana"]}),
                "quota set": json.dumps({"hub": "aws-cluster/prod", "overlay": "x: 1\n", "expected": 0, "echo": "x",
                                         "quota": "hubbot", "hard": {"pods": "1"}})}
    payloads["quota reset"] = payloads["quota set"]
    before = len(await _jobs(d))
    reply = await press(d, f"hubbot:{command}:{action}", payloads[command], user=ROLES[role])
    assert reply.kind == "not_found" and "no longer does anything" in reply.text
    assert len(await _jobs(d)) == before
    assert await d.services.budgets.get("alpha") is None
    assert (await d.services.hub_apis["aws-cluster/prod"].group("students")).users == ("ana",)
    assert d.services.overlays is not None and await d.services.overlays.get("aws-cluster/prod") is None


# -- Roll back ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "expected"), [("engineer", "asks approval"), ("leader_a", "denied"),
                                                ("leader_b", "denied"), ("member_a", "denied"),
                                                ("outsider", "denied")])
async def test_roll_back_of_a_prod_hub_by_role(fleet_file: Path, role: str, expected: str) -> None:
    d, _ = dispatcher(fleet_file)
    job_id = await _failed_deploy(d, "aws-cluster/prod")
    reply = await press(d, "hubbot:deploy:rollback", str(job_id), user=ROLES[role], channel=CHANNEL_A)
    jobs = await _jobs(d)
    assert [j.kind for j in jobs] == ["deploy"]  # nothing rolled back yet, whoever pressed
    if expected == "denied":
        assert reply.kind == "denied"
    else:
        assert reply.ok and set(buttons(reply)) == {"Approve", "Reject"}


async def test_a_prod_roll_back_runs_only_when_a_second_engineer_approves(fleet_file: Path) -> None:
    d, _ = dispatcher(fleet_file)
    job_id = await _failed_deploy(d, "aws-cluster/prod")
    asked = await press(d, "hubbot:deploy:rollback", str(job_id), user=ENGINEER, channel=CHANNEL_A)
    approve, pending = buttons(asked)["Approve"]
    for user, says in ((ENGINEER, "cannot approve your own"), (LEADER_A, "only hub engineers"),
                       (MEMBER_A, "only hub engineers"), (OUTSIDER, "only hub engineers")):
        refused = await press(d, approve, pending, user=user, channel=CHANNEL_A)
        assert refused.kind == "denied" and says in refused.text
        assert [j.kind for j in await _jobs(d)] == ["deploy"]
    done = await press(d, approve, pending, user=ENGINEER_2, channel=CHANNEL_A)
    assert done.ok, done.text
    rollback = [j for j in await _jobs(d) if j.kind == "rollback"]
    assert len(rollback) == 1 and rollback[0].approved_by == ENGINEER_2 and rollback[0].requested_by == ENGINEER
    again = await press(d, approve, pending, user=ENGINEER_2, channel=CHANNEL_A)
    assert not again.ok and len([j for j in await _jobs(d) if j.kind == "rollback"]) == 1


# -- Confirm (budget set) -----------------------------------------------------------------------


@pytest.mark.parametrize(("role", "allowed"), [("leader_a", True), ("engineer", False), ("leader_b", False),
                                              ("member_a", False), ("outsider", False)])
async def test_only_the_requester_can_confirm(fleet_file: Path, role: str, allowed: bool) -> None:
    d, _ = dispatcher(fleet_file)
    asked = await run(d, "budget set alpha 1500", user=LEADER_A, channel=CHANNEL_A)
    confirm, pending = buttons(asked)["Confirm"]
    reply = await press(d, confirm, pending, user=ROLES[role], channel=CHANNEL_A)
    stored = await d.services.budgets.get("alpha")
    if allowed:
        assert reply.ok and stored is not None and stored.amount == Decimal("1500")
    else:
        assert reply.kind == "denied" and stored is None


async def test_a_confirmation_runs_with_the_requesters_permission_as_of_now(fleet_file: Path) -> None:
    d, _ = dispatcher(fleet_file)
    asked = await run(d, "budget set beta 900", user=LEADER_B, channel=CHANNEL_B)
    confirm, pending = buttons(asked)["Confirm"]
    d.services.directory._groups.clear()  # type: ignore[attr-defined]  # left the leaders' group meanwhile
    reply = await press(d, confirm, pending, user=LEADER_B, channel=CHANNEL_B)
    assert reply.kind == "denied" and await d.services.budgets.get("beta") is None


# -- Acknowledge and Mute -----------------------------------------------------------------------

ALERT_BUTTONS = {  # (role, where pressed) -> (may acknowledge, may mute) an alert of alpha
    ("engineer", CHANNEL_OPS): (True, True), ("leader_a", CHANNEL_OPS): (True, True),
    ("member_a", CHANNEL_OPS): (True, False), ("leader_b", CHANNEL_OPS): (False, False),
    ("outsider", CHANNEL_OPS): (False, False), ("leader_b", CHANNEL_B): (False, False),
    # anyone in alpha's own channel counts as one of its members (see "Who may do what")
    ("outsider", CHANNEL_A): (True, False), ("leader_b", CHANNEL_A): (True, False),
}


@pytest.mark.parametrize(("role", "channel"), list(ALERT_BUTTONS))
async def test_acknowledge_and_mute_by_role_and_community(fleet_file: Path, role: str, channel: str) -> None:
    d, _ = dispatcher(fleet_file)
    now = d.services.clock.now()
    [alert] = await d.services.outbox.add([OutboxMessage(
        key="budget:2026-01-01:alpha:actual:80@CALPHA001", kind=OutboxKind.ALERT, community="alpha",
        channel=CHANNEL_A, payload=Post(text="alpha used 85%"), state=DeliveryState.SENT, created_at=now,
        alert=Alert(basis=Basis.ACTUAL, threshold=80, period_start=date(2026, 1, 1), period_end=date(2026, 2, 1),
                    spend=Decimal("85"), budget=Decimal("100"), currency="USD"))])
    may_ack, may_mute = ALERT_BUTTONS[(role, channel)]
    ack = await press(d, "hubbot:alerts:ack", str(alert.id), user=ROLES[role], channel=channel)
    mute = await press(d, "hubbot:alerts:mute", str(alert.id), user=ROLES[role], channel=channel)
    stored = await d.services.outbox.get(alert.id or 0)
    assert stored is not None
    assert (ack.ok, stored.acked_by == ROLES[role]) == (may_ack, may_ack), ack.text
    assert (mute.ok, stored.muted_until is not None) == (may_mute, may_mute), mute.text
