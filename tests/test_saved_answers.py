"""Saving the support team's answers, end to end through signed Slack requests into the real app:
a question is escalated, a person answers in the support channel's thread, saves the reply, and
the next person who asks the same in other words is answered from it, attributed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.fleet import CHANNEL_A, ENGINEER, ENGINEER_2, LEADER_A, MEMBER_A, OUTSIDER
from tests.support.harness import Harness, fleet_harness

SUPPORT = "CSUPPORT1"


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    with fleet_harness(tmp_path_factory.mktemp("saved")) as h:
        yield h


@pytest.fixture(autouse=True)
def fresh(bot: Harness) -> Iterator[None]:
    bot.settle()
    bot.standin.clear()
    yield


def _mention(text: str, *, user: str, ts: str, channel: str = CHANNEL_A) -> dict[str, object]:
    return {"type": "app_mention", "user": user, "text": f"<@UBOT> {text}", "ts": ts, "channel": channel,
            "event_ts": ts}


def _reply(text: str, *, user: str, ts: str, thread: str, channel: str = SUPPORT) -> dict[str, object]:
    return {"type": "message", "channel_type": "channel", "user": user, "text": text, "ts": ts,
            "thread_ts": thread, "channel": channel}


def _buttons(args: dict[str, Any]) -> dict[str, dict[str, str]]:
    blocks = args["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    return {e["text"]["text"]: e for blk in blocks if blk["type"] == "actions" for e in blk["elements"]}


def _escalate(bot: Harness, question: str, *, ts: str, event_id: str) -> str:
    """Ask something the docs do not answer; return the ts of its post in the support channel."""
    bot.event(_mention(question, user=MEMBER_A, ts=ts), event_id=event_id)
    posts = bot.standin.wait_for("chat.postMessage", 2)
    assert any(p.args["channel"] == SUPPORT for p in posts)
    bot.settle()
    posted = sorted(ts for channel, ts in bot.standin.posted if channel == SUPPORT)
    return posted[-1]


def test_a_saved_human_answer_answers_the_next_paraphrase(bot: Harness) -> None:
    thread = _escalate(bot, "is sourdough bread better with rye flour?", ts="1700005000.000100", event_id="EvS1")
    bot.standin.clear()

    # the support team answers in the escalation's thread: only the author is offered the button
    bot.event(_reply("Yes — rye makes sourdough tangier and denser. See <https://docs.test.org/guide/storage.html"
                     "|our guide> &amp; ask <!here> or &lt;!channel&gt; nothing.", user=ENGINEER,
                     ts="1700005001.000100", thread=thread), event_id="EvS2")
    offer = bot.standin.wait_for("chat.postEphemeral")[0].args
    assert offer["user"] == ENGINEER and offer["channel"] == SUPPORT and offer["thread_ts"] == thread
    save = _buttons(offer)["Save as answer"]
    # a ping the author wrote is plain text by the time anyone sees it; what they typed is escaped
    shown = json.dumps(offer["blocks"])
    assert "<!channel>" not in shown and "<!here>" not in shown and "&lt;!channel&gt;" in shown

    # someone else may not save another person's reply
    bot.click(user=OUTSIDER, channel=SUPPORT, action_id=save["action_id"], value=save["value"])
    assert f"only <@{ENGINEER}>" in bot.standin.wait_for("response_url")[0].args["text"]
    bot.standin.clear()

    bot.click(user=ENGINEER, channel=SUPPORT, action_id=save["action_id"], value=save["value"])
    bot.settle()
    saved = bot.standin.wait_for("response_url")[0].args["text"]
    assert "Saved as answer #1" in saved
    # the asker's thread gets the human's answer, escaped: it pings nobody
    to_asker = [c.args for c in bot.standin.of("chat.postMessage") if c.args["channel"] == CHANNEL_A]
    assert len(to_asker) == 1 and to_asker[0]["thread_ts"] == "1700005000.000100"
    assert "rye makes sourdough tangier" in to_asker[0]["text"] and f"<@{ENGINEER}>" in to_asker[0]["text"]
    assert "<!channel>" not in to_asker[0]["text"] and "<!here>" not in to_asker[0]["text"]
    assert "&lt;!channel&gt;" in to_asker[0]["text"] and "&amp; ask" in to_asker[0]["text"]
    # saving twice does nothing more
    bot.standin.clear()
    bot.click(user=ENGINEER, channel=SUPPORT, action_id=save["action_id"], value=save["value"])
    assert "already saved as answer #1" in bot.standin.wait_for("response_url")[0].args["text"]
    bot.settle()
    assert not bot.standin.of("chat.postMessage")

    # the next person asks the same in other words: answered from the saved answer, attributed
    bot.event(_mention("does rye flour make a better sourdough bread?", user=LEADER_A, ts="1700005100.000100"),
              event_id="EvS3")
    answer = bot.standin.wait_for("chat.postMessage")[0].args
    assert answer["thread_ts"] == "1700005100.000100"
    assert f"Answered before by <@{ENGINEER}>" in answer["text"] and "tangier and denser" in answer["text"]
    assert set(_buttons(answer)) == {"This answered it", "Ask a human"}
    bot.settle()
    assert not [c for c in bot.standin.of("chat.postMessage") if c.args["channel"] == SUPPORT]

    # it is listed, and once retired it answers no more (the question goes to a human again)
    bot.standin.clear()
    listed = bot.slash("faq entries", user=ENGINEER_2, channel=CHANNEL_A).json()
    assert "#1 is sourdough bread better with rye flour?" in listed["text"] and "used 1×" in listed["text"]
    retired = bot.slash("faq retire 1", user=LEADER_A, channel=CHANNEL_A).json()
    assert "no longer answers" in retired["text"]
    bot.event(_mention("does rye flour make a better sourdough bread?", user=OUTSIDER, ts="1700005200.000100"),
              event_id="EvS4")
    bot.standin.wait_for("chat.postMessage", 2)
    bot.settle()
    assert any(c.args["channel"] == SUPPORT for c in bot.standin.of("chat.postMessage"))
    audit = [e.command for e in bot.audit(limit=50)]
    assert "faq save" in audit and "faq retire" in audit


def test_replies_outside_escalation_threads_are_left_alone(bot: Harness) -> None:
    bot.event(_reply("morning all", user=ENGINEER, ts="1700006001.000100", thread="1699999999.000100"),
              event_id="EvS10")
    bot.event(_reply("an unrelated thread", user=ENGINEER, ts="1700006002.000100", thread="1700006000.000100",
                     channel="CRANDOM01"), event_id="EvS11")
    bot.event(_mention("whoami", user=ENGINEER, ts="1700006003.000100"), event_id="EvS12")  # a marker
    bot.standin.wait_for("chat.postMessage")
    bot.settle()
    assert not bot.standin.of("chat.postEphemeral")


def test_not_certain_shows_the_closest_pages_then_a_human_on_request(bot: Harness) -> None:
    bot.event(_mention("who pays for the cloud?", user=MEMBER_A, ts="1700007000.000100"), event_id="EvS20")
    reply = bot.standin.wait_for("chat.postMessage")[0].args
    assert reply["thread_ts"] == "1700007000.000100"
    assert "I'm not certain — these look closest:" in reply["text"]
    shown = json.dumps(reply["blocks"])
    assert "<https://docs.test.org/admin/billing.html#billing-and-invoices|Billing and invoices>" in shown
    assert "We send an invoice" in shown
    bot.settle()
    assert not [c for c in bot.standin.of("chat.postMessage") if c.args["channel"] == SUPPORT]
    human = _buttons(reply)["Ask a human"]
    bot.click(user=MEMBER_A, channel=CHANNEL_A, action_id=human["action_id"], value=human["value"])
    assert "asked the support team" in bot.standin.wait_for("response_url")[0].args["text"]
    bot.settle()
    assert [c for c in bot.standin.of("chat.postMessage") if c.args["channel"] == SUPPORT]
