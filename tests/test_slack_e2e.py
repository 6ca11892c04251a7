"""End to end: signed Slack requests into the real Bolt/FastAPI app on uvicorn, with the Web
API stand-in recording what hubbot sends back."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubbot.domain import Outcome
from tests.support import signing
from tests.support.fleet import CHANNEL_A, CHANNEL_B, CHANNEL_OPS, ENGINEER, ENGINEER_2, LEADER_A, MEMBER_A, OUTSIDER
from tests.support.harness import BOT_TOKEN, Harness, fleet_harness


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    with fleet_harness(tmp_path_factory.mktemp("slack")) as h:
        yield h


@pytest.fixture(autouse=True)
def fresh(bot: Harness) -> Iterator[None]:
    bot.settle()
    bot.standin.clear()
    bot.waits.clear()
    yield


# -- request verification -------------------------------------------------------------------

def _audit_count(bot: Harness) -> int:
    return len(bot.audit(limit=1000))


def test_unsigned_request_is_rejected_and_runs_nothing(bot: Harness) -> None:
    before = _audit_count(bot)
    body = signing.slash_body("help", user=ENGINEER, channel=CHANNEL_OPS, response_url=bot.standin.response_url())
    assert bot.post(body, content_type="application/x-www-form-urlencoded", sign=False).status_code == 401
    assert _audit_count(bot) == before


def test_bad_signature_is_rejected(bot: Harness) -> None:
    body = signing.slash_body("hubs", user=ENGINEER, channel=CHANNEL_OPS, response_url=bot.standin.response_url())
    headers = signing.headers(body, content_type="application/x-www-form-urlencoded", secret="wrong-secret")
    before = _audit_count(bot)
    resp = bot.http.post(f"{bot.served.url}/slack/events", content=body, headers=headers)
    assert resp.status_code == 401
    assert _audit_count(bot) == before


def test_old_timestamp_is_rejected_even_with_a_valid_signature(bot: Harness) -> None:
    body = signing.slash_body("hubs", user=ENGINEER, channel=CHANNEL_OPS, response_url=bot.standin.response_url())
    before = _audit_count(bot)
    resp = bot.post(body, content_type="application/x-www-form-urlencoded", timestamp=int(time.time()) - 6 * 60)
    assert resp.status_code == 401
    assert _audit_count(bot) == before


def test_tampered_body_is_rejected(bot: Harness) -> None:
    body = signing.slash_body("hubs", user=OUTSIDER, channel=CHANNEL_OPS, response_url=bot.standin.response_url())
    headers = signing.headers(body, content_type="application/x-www-form-urlencoded")
    forged = body.replace(OUTSIDER.encode(), ENGINEER.encode())
    before = _audit_count(bot)
    resp = bot.http.post(f"{bot.served.url}/slack/events", content=forged, headers=headers)
    assert resp.status_code == 401
    assert _audit_count(bot) == before


# -- slash commands -------------------------------------------------------------------------

def test_help_answers_inside_the_ack(bot: Harness) -> None:
    resp = bot.slash("help", user=OUTSIDER, channel=CHANNEL_OPS)
    assert resp.status_code == 200
    payload = resp.json()
    assert payload["response_type"] == "ephemeral"
    assert "/hub hubs" in payload["text"]
    assert payload["blocks"][0]["type"] == "header"
    bot.settle()
    assert bot.standin.of("response_url") == []  # nothing more to send


def test_hubs_in_a_community_channel_defaults_to_that_community(bot: Harness) -> None:
    payload = bot.slash("hubs", user=LEADER_A, channel=CHANNEL_A).json()
    assert "aws-cluster/prod" in payload["text"]
    assert "beta" not in payload["text"]


def test_unknown_command_suggests(bot: Harness) -> None:
    payload = bot.slash("hbus", user=ENGINEER, channel=CHANNEL_OPS).json()
    assert "did you mean `/hub hubs`" in payload["text"]
    assert "Traceback" not in payload["text"]


def test_wrong_arguments_give_usage(bot: Harness) -> None:
    payload = bot.slash("audit --limit lots", user=ENGINEER, channel=CHANNEL_OPS).json()
    assert "--limit must be a whole number" in payload["text"]
    assert "Usage: `/hub audit" in payload["text"]


def test_denial_says_who_can_and_is_audited(bot: Harness) -> None:
    payload = bot.slash("hubs beta", user=LEADER_A, channel=CHANNEL_A).json()
    assert ":no_entry:" in payload["text"]
    assert "leaders of 'beta'" in payload["text"]
    entry = bot.audit(limit=1)[0]
    assert (entry.user, entry.command, entry.outcome, entry.community) == (LEADER_A, "hubs", Outcome.DENIED, "beta")


def test_slash_text_with_slack_markup_is_decoded(bot: Harness) -> None:
    payload = bot.slash("help &lt;hubs&gt;", user=ENGINEER, channel=CHANNEL_OPS).json()
    assert "no command `&lt;hubs&gt;`" in payload["text"]


def test_unexpected_error_gives_a_reference_and_no_details(bot: Harness) -> None:
    payload = bot.slash("crash", user=ENGINEER, channel=CHANNEL_OPS).json()
    assert "Something went wrong (reference " in payload["text"]
    assert "hunter2" not in payload["text"] and "RuntimeError" not in payload["text"]
    entry = bot.audit(limit=1)[0]
    assert entry.outcome is Outcome.ERROR and entry.reference and entry.reference in payload["text"]


def test_slow_command_acks_then_posts_progress_and_result_to_response_url(bot: Harness) -> None:
    resp = bot.slash("slow", user=LEADER_A, channel=CHANNEL_A, hook="slow1")
    assert resp.status_code == 200
    assert "Working on `/hub slow`" in resp.json()["text"]
    posts = bot.standin.wait_for("response_url", 2)
    bot.settle()
    posts = bot.standin.of("response_url")
    assert any("rendering" in p.args["text"] for p in posts)  # progress (throttled to one a second)
    # within Slack's five posts to one response_url: none was refused (used_url) or dropped
    assert not [m for m in bot.standin.methods() if m.startswith("response_url!")] and len(posts) <= 5
    final = posts[-1].args
    assert final["text"] == "slow work done" and final["response_type"] == "in_channel"
    assert final["replace_original"] is True
    upload = bot.standin.wait_for("files.completeUploadExternal")[0].args
    assert upload["channel_id"] == CHANNEL_A
    assert bot.standin.of("upload")[0].args["body"] == b"all good\n"


def test_a_quick_command_that_runs_long_is_acked_in_time_and_answers_later(bot: Harness) -> None:
    from tests.support.extra_commands import RELEASE

    RELEASE.clear()
    try:
        resp = bot.slash("stall", user=ENGINEER, channel=CHANNEL_OPS, hook="stall1")
        assert resp.status_code == 200 and "Working on it" in resp.json()["text"]
        assert bot.standin.of("response_url") == []
    finally:
        RELEASE.set()
    assert bot.standin.wait_for("response_url")[0].args["text"] == "finally done"


def test_response_url_429_is_retried_after_retry_after(bot: Harness) -> None:
    bot.standin.fail("response_url", 429, headers={"Retry-After": "7"})
    bot.slash("slow", user=ENGINEER, channel=CHANNEL_OPS)
    bot.standin.wait_for("response_url", 2)
    bot.settle()
    assert "response_url!429" in bot.standin.methods()
    assert 7.0 in bot.waits
    assert bot.standin.of("response_url")[-1].args["text"] == "slow work done"


# -- mentions and DMs ------------------------------------------------------------------------

def _mention(text: str, *, user: str, channel: str, ts: str = "1700000100.000100") -> dict[str, object]:
    return {"type": "app_mention", "user": user, "text": f"<@UBOT> {text}", "ts": ts, "channel": channel,
            "event_ts": ts}


def test_mention_runs_the_same_pipeline_and_replies_in_thread(bot: Harness) -> None:
    assert bot.event(_mention("whoami", user=LEADER_A, channel=CHANNEL_A), event_id="Ev001").status_code == 200
    call = bot.standin.wait_for("chat.postMessage")[0]
    assert call.args["channel"] == CHANNEL_A and call.args["thread_ts"] == "1700000100.000100"
    assert "leader of alpha" in call.args["text"]
    assert call.headers["authorization"] == f"Bearer {BOT_TOKEN}"


def test_direct_message_reaches_the_pipeline(bot: Harness) -> None:
    event = {"type": "message", "channel_type": "im", "user": ENGINEER, "text": "hubs alpha",
             "ts": "1700000200.000100", "channel": "D0DM00001"}
    bot.event(event, event_id="Ev002")
    call = bot.standin.wait_for("chat.postMessage")[0]
    assert "aws-cluster/prod" in call.args["text"] or "aws-cluster/prod" in json.dumps(call.args.get("blocks"))


def test_bot_messages_and_edits_are_ignored(bot: Harness) -> None:
    bot.event({"type": "message", "channel_type": "im", "bot_id": "B0BOT", "user": "UBOT", "text": "help",
               "ts": "1700000300.000100", "channel": "D0DM00001"}, event_id="Ev003")
    bot.event({"type": "message", "subtype": "message_changed", "channel_type": "im", "channel": "D0DM00001",
               "ts": "1700000300.000200"}, event_id="Ev004")
    bot.event(_mention("whoami", user=ENGINEER, channel=CHANNEL_OPS), event_id="Ev005")  # a marker
    bot.standin.wait_for("chat.postMessage")
    bot.settle()
    assert len(bot.standin.of("chat.postMessage")) == 1


def test_a_retried_event_never_runs_twice(bot: Harness) -> None:
    event = _mention("hubs", user=ENGINEER, channel=CHANNEL_OPS, ts="1700000400.000100")
    before = len([e for e in bot.audit(limit=1000) if e.command == "hubs"])
    assert bot.event(event, event_id="EvRetry1").status_code == 200
    bot.standin.wait_for("chat.postMessage")
    assert bot.event(event, event_id="EvRetry1", retry=1).status_code == 200
    assert bot.event(event, event_id="EvRetry1", retry=2).status_code == 200
    bot.settle()
    assert len(bot.standin.of("chat.postMessage")) == 1
    assert len([e for e in bot.audit(limit=1000) if e.command == "hubs"]) == before + 1


def test_post_message_429_waits_retry_after_then_succeeds(bot: Harness) -> None:
    bot.standin.fail("chat.postMessage", 429, headers={"Retry-After": "3"})
    bot.event(_mention("whoami", user=ENGINEER, channel=CHANNEL_OPS, ts="1700000500.000100"), event_id="Ev429")
    bot.standin.wait_for("chat.postMessage")
    assert bot.standin.methods().count("chat.postMessage!429") == 1
    assert 3.0 in bot.waits


def test_post_message_transient_5xx_is_retried(bot: Harness) -> None:
    bot.standin.fail("chat.postMessage", 503, times=2)
    bot.event(_mention("whoami", user=ENGINEER, channel=CHANNEL_OPS, ts="1700000600.000100"), event_id="Ev503")
    bot.standin.wait_for("chat.postMessage")
    assert bot.standin.methods().count("chat.postMessage!503") == 2
    assert bot.waits[:2] == [0.5, 1.0]


def test_slow_mention_updates_one_message_in_place(bot: Harness) -> None:
    bot.event(_mention("slow", user=ENGINEER, channel=CHANNEL_OPS, ts="1700000700.000100"), event_id="EvSlow")
    working = bot.standin.wait_for("chat.postMessage")[0]
    assert "Working on `/hub slow`" in working.args["text"]
    updates = bot.standin.wait_for("chat.update", 2)
    bot.settle()
    updates = bot.standin.of("chat.update")
    assert updates[-1].args["text"] == "slow work done"
    assert all(u.args["ts"] == updates[0].args["ts"] for u in updates)
    assert bot.standin.wait_for("files.completeUploadExternal")[0].args["thread_ts"] == "1700000700.000100"


# -- buttons ------------------------------------------------------------------------------------

def test_buttons_route_to_their_handler(bot: Harness) -> None:
    payload = bot.slash("ping", user=ENGINEER, channel=CHANNEL_OPS).json()
    button = payload["blocks"][1]["elements"][0]
    assert button["action_id"] == "hubbot:ping:pong"
    assert bot.click(user=ENGINEER_2, channel=CHANNEL_OPS, action_id=button["action_id"],
                     value=button["value"]).status_code == 200
    answer = bot.standin.wait_for("response_url")[0].args
    assert answer["text"] == f"pong ball-1 by {ENGINEER_2}" and answer["replace_original"] is True
    entry = bot.audit(limit=1)[0]
    assert entry.command == "button hubbot:ping:pong" and entry.outcome is Outcome.OK


def _buttons(payload: dict[str, object]) -> dict[str, dict[str, str]]:
    blocks = payload["blocks"]
    assert isinstance(blocks, list)
    return {e["text"]["text"]: e for blk in blocks if blk["type"] == "actions" for e in blk["elements"]}


def test_prod_change_needs_a_second_engineers_approval(bot: Harness) -> None:
    from tests.support.extra_commands import APPLIED

    APPLIED.clear()
    payload = bot.slash("change aws-cluster/prod", user=LEADER_A, channel=CHANNEL_A).json()
    assert payload["response_type"] == "in_channel" and "Approval needed" in payload["text"]
    approve = _buttons(payload)["Approve"]
    bot.click(user=LEADER_A, channel=CHANNEL_A, action_id=approve["action_id"], value=approve["value"])
    assert "cannot approve your own request" in bot.standin.wait_for("response_url")[0].args["text"]
    bot.click(user=ENGINEER, channel=CHANNEL_A, action_id=approve["action_id"], value=approve["value"])
    answer = bot.standin.wait_for("response_url", 2)[1].args
    assert answer["text"] == "applied change aws-cluster/prod" and answer["replace_original"] is True
    bot.click(user=ENGINEER_2, channel=CHANNEL_A, action_id=approve["action_id"], value=approve["value"])
    assert f"already approved by <@{ENGINEER}>" in bot.standin.wait_for("response_url", 3)[2].args["text"]
    assert APPLIED == [("change aws-cluster/prod", LEADER_A, ENGINEER)]
    outcomes = [(e.command, e.outcome, e.user, e.hub) for e in bot.audit(limit=4)]
    assert outcomes[:3] == [
        ("button approve change", Outcome.USAGE, ENGINEER_2, "aws-cluster/prod"),
        ("button approve change", Outcome.CONFIRMED, ENGINEER, "aws-cluster/prod"),
        ("button approve change", Outcome.DENIED, LEADER_A, "aws-cluster/prod"),
    ]


def test_a_button_checks_the_clickers_permission(bot: Harness) -> None:
    bot.click(user=LEADER_A, channel=CHANNEL_A, action_id="hubbot:ping:pong", value="ball-1")
    answer = bot.standin.wait_for("response_url")[0].args
    assert "only hub engineers" in answer["text"] and answer["replace_original"] is False
    assert bot.audit(limit=1)[0].outcome is Outcome.DENIED


def test_an_unknown_button_is_answered_not_crashed(bot: Harness) -> None:
    bot.click(user=ENGINEER, channel=CHANNEL_OPS, action_id="hubbot:nothing:here", value="x")
    assert "no longer does anything" in bot.standin.wait_for("response_url")[0].args["text"]


# -- malformed payloads and probes --------------------------------------------------------------

@pytest.mark.parametrize("body,ctype", [
    (b"", "application/x-www-form-urlencoded"),
    (b"payload=%7Bnot-json", "application/x-www-form-urlencoded"),
    (b"{\"type\": \"event_callback\", \"event\": 5}", "application/json"),
    (b"\xff\xfe\x00garbage", "application/octet-stream"),
])
def test_malformed_but_signed_payloads_do_not_crash(bot: Harness, body: bytes, ctype: str) -> None:
    resp = bot.post(body, content_type=ctype)
    assert resp.status_code == 400
    assert "Traceback" not in resp.text


def test_over_long_text_is_refused_clearly(bot: Harness) -> None:
    payload = bot.slash("hubs " + "x" * 5000, user=ENGINEER, channel=CHANNEL_OPS).json()
    assert "too long" in payload["text"]


def test_health_and_readiness(bot: Harness) -> None:
    assert bot.http.get(f"{bot.served.url}/healthz").json() == {"ok": True}
    assert bot.http.get(f"{bot.served.url}/readyz").json() == {"ok": True}


def test_channel_b_leader_via_user_group(bot: Harness) -> None:
    from tests.support.fleet import LEADER_B

    payload = bot.slash("audit", user=LEADER_B, channel=CHANNEL_B).json()
    assert ":no_entry:" not in payload["text"]


def test_files_dir_is_not_needed_for_slack(bot: Harness, tmp_path: Path) -> None:
    assert not (tmp_path / "hubbot-files").exists()


def test_cost_through_slack_uploads_the_chart(bot: Harness) -> None:
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    from hubbot.domain import LedgerLine

    today = datetime.now(UTC).date()
    start = today.replace(day=1)
    lines = [LedgerLine(day=start + timedelta(days=i), provider="aws-test", hub="aws-cluster/prod", community="alpha",
                        service="Amazon EC2", amount=Decimal("12.50"), currency="USD")
             for i in range((today - start).days + 1)]
    bot.served.call(bot.runtime.services.ledger.replace(provider="aws-test", start=start, end=today + timedelta(days=1),
                                                        lines=lines, at=datetime.now(UTC)))
    bot.served.call(bot.runtime.services.ledger.record_status(provider="aws-test", at=datetime.now(UTC), error=None,
                                                              requests=1))
    resp = bot.slash("cost alpha", user=LEADER_A, channel=CHANNEL_A, hook="cost1")
    assert "Working on `/hub cost`" in resp.json()["text"]
    final = bot.standin.wait_for("response_url")[-1].args
    assert f"Spend: ${Decimal('12.50') * len(lines):,}" in final["text"] and final["response_type"] == "in_channel"
    upload = bot.standin.wait_for("files.completeUploadExternal")[0].args
    assert upload["channel_id"] == CHANNEL_A
    body = bot.standin.of("upload")[0].args["body"]
    assert body[:8] == b"\x89PNG\r\n\x1a\n"
    # the chart says in words what it shows (files.getUploadURLExternal's alt_txt)
    alt = bot.standin.of("files.getUploadURLExternal")[0].args["alt_txt"]
    assert alt.startswith("Bar chart of daily spend, alpha") or alt.startswith("Bar chart of daily spend, Alpha")
    assert f"{len(lines)} days from {start:%Y-%m-%d}" in alt and "highest $12.50" in alt and "budget" not in alt


# -- support answers ------------------------------------------------------------------------------

def test_a_question_in_a_mention_is_answered_with_the_section_and_buttons(bot: Harness) -> None:
    bot.event(_mention("where is my home directory and who can read it?", user=OUTSIDER, channel=CHANNEL_A,
                       ts="1700001000.000100"), event_id="EvAsk1")
    reply = bot.standin.wait_for("chat.postMessage")[0].args
    assert reply["thread_ts"] == "1700001000.000100"
    assert "https://docs.test.org/guide/storage.html#your-home-directory" in reply["text"]
    labels = [e["text"]["text"] for blk in reply["blocks"] if blk["type"] == "actions" for e in blk["elements"]]
    assert labels == ["This answered it", "Ask a human"]


def test_helpful_and_ask_a_human_buttons(bot: Harness) -> None:
    bot.event({"type": "message", "channel_type": "im", "user": MEMBER_A, "channel": "D0DM00002",
               "text": "how do I delete a file permanently?", "ts": "1700001100.000100"}, event_id="EvAsk2")
    reply = bot.standin.wait_for("chat.postMessage")[0].args
    buttons = {e["text"]["text"]: e for blk in reply["blocks"] if blk["type"] == "actions" for e in blk["elements"]}
    helpful = buttons["This answered it"]
    bot.click(user=OUTSIDER, channel="D0DM00002", action_id=helpful["action_id"], value=helpful["value"])
    assert "only <@" in bot.standin.wait_for("response_url")[0].args["text"]
    human = buttons["Ask a human"]
    bot.click(user=MEMBER_A, channel="D0DM00002", action_id=human["action_id"], value=human["value"])
    escalated = bot.standin.wait_for("chat.postMessage", 2)[1].args
    assert escalated["channel"] == "CSUPPORT1" and "how do I delete a file permanently?" in escalated["text"]
    assert f"<@{MEMBER_A}>" in escalated["text"]
    assert "asked the support team" in bot.standin.wait_for("response_url", 2)[1].args["text"]


def test_an_unanswerable_question_goes_to_the_support_channel(bot: Harness) -> None:
    bot.event(_mention("is sourdough better with rye?", user=MEMBER_A, channel=CHANNEL_A, ts="1700001200.000100"),
              event_id="EvAsk3")
    posts = bot.standin.wait_for("chat.postMessage", 2)
    by_channel = {p.args["channel"]: p.args["text"] for p in posts}
    assert "sourdough" in by_channel["CSUPPORT1"]
    assert f"https://slack.com/archives/{CHANNEL_A}/p1700001200000100" in by_channel["CSUPPORT1"]
    assert "I'm not sure" in by_channel[CHANNEL_A]


def test_support_channel_down_keeps_the_question_for_later(bot: Harness) -> None:
    from datetime import UTC, datetime, timedelta

    bot.standin.fail("chat.postMessage", 500, times=4)  # the escalation's first try and its retries
    bot.event(_mention("does kombucha need extra sugar?", user=MEMBER_A, channel=CHANNEL_A, ts="1700001300.000100"),
              event_id="EvAsk4")
    bot.standin.wait_for("chat.postMessage")  # the "not sure" reply in the thread
    bot.settle()
    assert not [c for c in bot.standin.of("chat.postMessage") if c.args["channel"] == "CSUPPORT1"]
    pending = [a for a in bot.served.call(bot.runtime.services.outbox.recent(communities=None, limit=20))
               if a.kind == "escalation" and "kombucha" in getattr(a.payload, "text", "")]
    assert [a.state for a in pending] == ["pending"]
    from hubbot.outbox.delivery import deliver

    later = datetime.now(UTC) + timedelta(minutes=10)
    bot.served.call(deliver(bot.runtime.services, bot.runtime.fleet, at=later, worker="retry"))
    assert any("kombucha" in c.args["text"] for c in bot.standin.of("chat.postMessage")
               if c.args["channel"] == "CSUPPORT1")


def test_questions_in_a_support_channel_are_answered_only_when_sure(bot: Harness) -> None:
    sure = {"type": "message", "channel_type": "channel", "user": OUTSIDER, "channel": "CHELP0001",
            "text": "how do I reset my password?", "ts": "1700001400.000100"}
    unsure = dict(sure, text="is sourdough better with rye?", ts="1700001400.000200")
    chatter = dict(sure, text="good morning everyone", ts="1700001400.000300")
    elsewhere = dict(sure, channel="CRANDOM01", ts="1700001400.000400")
    for i, event in enumerate((unsure, chatter, elsewhere, sure)):
        bot.event(event, event_id=f"EvUnprompted{i}")
    reply = bot.standin.wait_for("chat.postMessage")[0].args
    bot.settle()
    assert len(bot.standin.of("chat.postMessage")) == 1
    assert reply["channel"] == "CHELP0001" and "reset-your-password" in reply["text"]
