"""The pipeline with in-memory ports: help, unknown commands, errors, audit, redaction, fuzzing."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubbot.domain import Outcome
from tests.support.extra_commands import EXTRA
from tests.support.fleet import CHANNEL_A, CHANNEL_OPS, ENGINEER, LEADER_A, OUTSIDER
from tests.support.memory import dispatcher, run


async def test_empty_text_is_help(fleet_file: Path) -> None:
    d, _ = dispatcher(fleet_file)
    for text in ("", "/hub", "   "):
        reply = await run(d, text, user=OUTSIDER)
        assert reply.ok and "/hub hubs" in reply.text


async def test_help_for_one_command_is_generated_from_its_declaration(fleet_file: Path) -> None:
    d, _ = dispatcher(fleet_file)
    reply = await run(d, "help audit", user=OUTSIDER)
    assert "Usage:* `/hub audit [<target>] [--limit LIMIT]`" in reply.text
    assert "`--limit` — how many entries" in reply.text
    assert "community leaders and engineers" in reply.text


@pytest.mark.parametrize(("text", "members"), [
    ("help binder", ["/hub binder deploy", "/hub binder status"]),
    ("binder", ["/hub binder deploy", "/hub binder status"]),
    ("help budget", ["/hub budget show", "/hub budget set"]),
    ("budget", ["/hub budget show", "/hub budget set"]),
    ("help FAQ", ["/hub faq stats"]),
])
async def test_help_for_a_command_group_lists_its_commands(fleet_file: Path, text: str, members: list[str]) -> None:
    d, _ = dispatcher(fleet_file)
    reply = await run(d, text, user=LEADER_A)
    assert reply.ok and "did you mean" not in reply.text, reply.text
    assert all(f"`{m} " in reply.text or f"`{m}`" in reply.text for m in members), reply.text
    assert "not for your role" in reply.text if "binder" in text else True


async def test_help_marks_commands_a_role_cannot_run(fleet_file: Path) -> None:
    d, _ = dispatcher(fleet_file)
    assert "not for your role" in (await run(d, "help", user=OUTSIDER)).text
    assert "not for your role" not in (await run(d, "help", user=ENGINEER)).text


@pytest.mark.parametrize("text,hint", [("hbus", "/hub hubs"), ("audti", "/hub audit"), ("whoam", "/hub whoami")])
async def test_unknown_command_did_you_mean(fleet_file: Path, text: str, hint: str) -> None:
    d, audit = dispatcher(fleet_file)
    reply = await run(d, text, user=ENGINEER)
    assert reply.kind == "not_found" and f"did you mean `{hint}`" in reply.text
    assert audit.entries[-1].outcome is Outcome.NOT_FOUND


async def test_unknown_hub_or_community_did_you_mean(fleet_file: Path) -> None:
    d, _ = dispatcher(fleet_file)
    reply = await run(d, "hubs alpah", user=ENGINEER)
    assert reply.kind == "not_found" and "neither a community nor a hub" in reply.text


async def test_ambiguous_hub_asks_for_the_cluster(fleet_file: Path) -> None:
    d, _ = dispatcher(fleet_file)
    reply = await run(d, "audit staging", user=ENGINEER)
    assert "aws-cluster/staging" in reply.text and "gcp-cluster/staging" in reply.text


async def test_every_invocation_is_audited_with_who_where_what_outcome(fleet_file: Path) -> None:
    d, audit = dispatcher(fleet_file)
    await run(d, "hubs alpha", user=LEADER_A, channel=CHANNEL_A)
    e = audit.entries[-1]
    assert (e.user, e.channel, e.command, e.args, e.outcome, e.community, e.transport) == (
        LEADER_A, CHANNEL_A, "hubs", "hubs alpha", Outcome.OK, "alpha", "console")
    assert e.duration_ms >= 0 and e.reference


async def test_audit_by_hub(fleet_file: Path) -> None:
    d, _ = dispatcher(fleet_file)
    await run(d, "hubs aws-cluster/prod", user=ENGINEER)
    await run(d, "hubs alpha", user=ENGINEER)
    reply = await run(d, "audit aws-cluster/prod", user=ENGINEER)
    assert reply.text.splitlines()[0] == "Audit log (1)"
    assert reply.text.count("\n") == 1 and "[aws-cluster/prod]" in reply.text


async def test_unexpected_error_is_logged_under_a_reference_with_secrets_redacted(
    fleet_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from hubbot.redact import RedactingFilter, Redactor

    d, audit = dispatcher(fleet_file, extra=EXTRA)
    handler_filter = RedactingFilter(Redactor())
    caplog.handler.addFilter(handler_filter)
    with caplog.at_level(logging.ERROR, logger="hubbot"):
        reply = await run(d, "crash", user=ENGINEER)
    ref = audit.entries[-1].reference
    assert reply.kind == "error" and f"reference {ref}" in reply.text
    assert "hunter2" not in reply.text
    assert any(ref in r.getMessage() for r in caplog.records)
    assert "hunter2" not in caplog.text and "[redacted]" in caplog.text


async def test_secrets_in_arguments_are_redacted_in_the_audit_log(fleet_file: Path) -> None:
    d, audit = dispatcher(fleet_file, secrets=("s3cr3t-signing-value",))
    await run(d, "hubs xoxb-1234-5678-abcdefgh token=abc s3cr3t-signing-value", user=ENGINEER)
    args = audit.entries[-1].args
    assert "xoxb-1234" not in args and "abc" not in args.split("token=")[1] and "s3cr3t" not in args


async def test_unicode_oddities_get_a_clear_answer(fleet_file: Path) -> None:
    d, _ = dispatcher(fleet_file)
    for text in ("hubs \u202ealpha", "h\u0301ubs", "\U0001f680", "hubs \ud800".encode("utf-8", "replace").decode()):
        reply = await run(d, text, user=ENGINEER)
        assert reply.kind in ("ok", "usage", "not_found"), reply.text
        assert "Traceback" not in reply.text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200), user=st.sampled_from([ENGINEER, LEADER_A, OUTSIDER, ""]),
       channel=st.sampled_from([CHANNEL_A, CHANNEL_OPS, "", "D123"]))
async def test_random_text_through_the_pipeline_never_crashes(fleet_file: Path, text: str, user: str,
                                                              channel: str) -> None:
    d, audit = dispatcher(fleet_file)
    for prefix in ("", "hubs ", "audit ", "help "):
        reply = await run(d, prefix + text, user=user, channel=channel)
        assert reply.kind != "error", reply.text
    assert len(audit.entries) == 4
