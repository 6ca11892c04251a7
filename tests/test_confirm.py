"""Confirmations and approvals: who may decide, once only, before expiry, re-authorised."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from hubbot.adapters.memory import FrozenClock
from hubbot.domain import Outcome
from hubbot.pipeline.contract import Invocation
from tests.support.extra_commands import APPLIED, EXTRA
from tests.support.fleet import CHANNEL_A, ENGINEER, ENGINEER_2, LEADER_A, MEMBER_A, OUTSIDER
from tests.support.memory import buttons, click, dispatcher, run


@pytest.fixture(autouse=True)
def clean() -> None:
    APPLIED.clear()


async def test_staging_change_asks_the_requester_to_confirm(fleet_file: Path) -> None:
    d, audit = dispatcher(fleet_file, extra=EXTRA)
    ask = await run(d, "change aws-cluster/staging", user=LEADER_A, channel=CHANNEL_A)
    assert ask.ok and set(buttons(ask)) == {"Confirm", "Cancel"} and not ask.public
    assert APPLIED == []  # nothing changes before the decision
    assert (await click(d, ask, "Confirm", user=ENGINEER)).kind == "denied"  # only the requester
    done = await click(d, ask, "Confirm", user=LEADER_A)
    assert done.text == "applied change aws-cluster/staging" and done.replace
    again = await click(d, ask, "Confirm", user=LEADER_A)
    assert "already confirmed" in again.text
    assert APPLIED == [("change aws-cluster/staging", LEADER_A, None)]
    assert [e.outcome for e in audit.entries[-3:]] == [Outcome.DENIED, Outcome.CONFIRMED, Outcome.USAGE]


async def test_cancel_changes_nothing(fleet_file: Path) -> None:
    d, _ = dispatcher(fleet_file, extra=EXTRA)
    ask = await run(d, "change aws-cluster/staging", user=LEADER_A)
    assert "Cancelled by" in (await click(d, ask, "Cancel", user=LEADER_A)).text
    assert "already cancelled" in (await click(d, ask, "Confirm", user=LEADER_A)).text
    assert APPLIED == []


async def test_requests_expire(fleet_file: Path) -> None:
    d, _ = dispatcher(fleet_file, extra=EXTRA)
    ask = await run(d, "change aws-cluster/staging", user=LEADER_A)
    clock = d.services.clock
    assert isinstance(clock, FrozenClock)
    clock.advance(timedelta(minutes=16))
    late = await click(d, ask, "Confirm", user=LEADER_A)
    assert "expired" in late.text and APPLIED == []
    assert "already expired" in (await click(d, ask, "Confirm", user=LEADER_A)).text


async def test_prod_change_needs_another_engineer(fleet_file: Path) -> None:
    d, _ = dispatcher(fleet_file, extra=EXTRA)
    ask = await run(d, "change aws-cluster/prod", user=ENGINEER)
    assert set(buttons(ask)) == {"Approve", "Reject"} and ask.public
    assert "cannot approve your own" in (await click(d, ask, "Approve", user=ENGINEER)).text
    assert "only hub engineers" in (await click(d, ask, "Approve", user=LEADER_A)).text
    assert "only hub engineers" in (await click(d, ask, "Approve", user=MEMBER_A)).text
    assert (await click(d, ask, "Approve", user=ENGINEER_2)).text == "applied change aws-cluster/prod"
    assert APPLIED == [("change aws-cluster/prod", ENGINEER, ENGINEER_2)]


async def test_reject_by_an_engineer_or_withdrawal_by_the_requester(fleet_file: Path) -> None:
    d, _ = dispatcher(fleet_file, extra=EXTRA)
    first = await run(d, "change aws-cluster/prod", user=LEADER_A)
    assert "only hub engineers" in (await click(d, first, "Reject", user=OUTSIDER)).text
    assert "Rejected by" in (await click(d, first, "Reject", user=ENGINEER)).text
    second = await run(d, "change aws-cluster/prod", user=LEADER_A)
    assert "Rejected by" in (await click(d, second, "Reject", user=LEADER_A)).text
    assert APPLIED == []


async def test_the_requesters_permission_is_checked_again_when_it_runs(fleet_file: Path, tmp_path: Path) -> None:
    d, _ = dispatcher(fleet_file, extra=EXTRA)
    ask = await run(d, "change aws-cluster/prod", user=LEADER_A)
    # LEADER_A stops leading alpha before the approval arrives
    demoted = tmp_path / "demoted.yaml"
    demoted.write_text(fleet_file.read_text().replace(f"leaders: [{LEADER_A}]", "leaders: []"))
    d2, _ = dispatcher(demoted, extra=EXTRA)
    d2.services = d.services  # same database, new config
    reply = await click(d2, ask, "Approve", user=ENGINEER)
    assert reply.kind == "denied" and APPLIED == []


@pytest.mark.parametrize("action_id,value,expected", [
    ("hubbot:_pending:approve", "no-such-request", "no longer known"),
    ("hubbot:_pending:explode", "x", "no longer does anything"),
    ("hubbot:_pending:approve", "", "no longer known"),
    ("hubbot:_pending:approve", "x" * 5000, "no longer known"),
])
async def test_hostile_or_stalebuttons(fleet_file: Path, action_id: str, value: str, expected: str) -> None:
    d, _ = dispatcher(fleet_file, extra=EXTRA)
    reply = await d.run_action(Invocation(user_id=ENGINEER, channel_id=CHANNEL_A, text=""), action_id=action_id,
                               value=value)
    assert expected in reply.text and reply.kind == "not_found"


async def test_a_confirm_button_cannot_decide_an_approval(fleet_file: Path) -> None:
    d, _ = dispatcher(fleet_file, extra=EXTRA)
    ask = await run(d, "change aws-cluster/prod", user=LEADER_A)
    _, value = buttons(ask)["Approve"]
    reply = await d.run_action(Invocation(user_id=LEADER_A, channel_id=CHANNEL_A, text=""),
                               action_id="hubbot:_pending:confirm", value=value)
    assert "does not belong" in reply.text and APPLIED == []
