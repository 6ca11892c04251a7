"""Alerts posted through the real Slack Web API client to the stand-in: retries on 429/5xx,
clear errors for channels that cannot be posted to."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from hubbot.errors import UpstreamError
from hubbot.slack.notifier import SlackNotifier
from hubbot.slack.retry import SlackRetry
from tests.support.harness import BOT_TOKEN
from tests.support.server import serve
from tests.support.slack_standin import SlackStandIn


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    s = SlackStandIn()
    with serve(s.app) as served:
        s.base_url = served.url
        yield s


def notifier(standin: SlackStandIn, waits: list[float]) -> SlackNotifier:
    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    return SlackNotifier(AsyncWebClient(token=BOT_TOKEN, base_url=f"{standin.base_url}/api/",
                                        retry_handlers=[SlackRetry(sleep=sleep)]))


async def test_posts_with_blocks(standin: SlackStandIn) -> None:
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "hi & bye"}}
    await notifier(standin, []).post(channel="C1", text="hello", blocks=[section])
    (call,) = standin.of("chat.postMessage")
    assert (call.args["channel"], call.args["text"]) == ("C1", "hello")
    assert call.args["blocks"] == [{"type": "section", "text": {"type": "mrkdwn", "text": "hi &amp; bye"}}]


async def test_whatever_hubbot_builds_fits_slacks_limits(standin: SlackStandIn) -> None:
    """The stand-in refuses what Slack refuses (msg_too_long, invalid_blocks); hubbot's own
    rendering keeps every message within the limits, however long the content."""
    from hubbot.render import blocks as b

    huge = "<&>" * 20_000
    blocks = [b.header(huge), b.section(huge), b.context(huge), b.fields([(huge, huge)] * 12),
              b.actions(*[b.button(huge, action_id="hubbot:x:y", value=huge) for _ in range(30)])] * 12
    ts = await notifier(standin, []).post(channel="C1", text=huge, blocks=blocks)
    assert ts is not None
    (call,) = standin.of("chat.postMessage")
    assert len(call.args["blocks"]) == 50 and len(call.args["text"]) <= 40_000
    await notifier(standin, []).update(channel="C1", ts=ts, text=huge, blocks=blocks)
    assert standin.methods() == ["chat.postMessage", "chat.update"]


@pytest.mark.parametrize(("setup", "error", "hint"), [
    ("not joined", "not_in_channel", "/invite @hubbot"),
    ("wrong token", "invalid_auth", "bot token is not valid"),
])
async def test_refusals_say_what_to_do(standin: SlackStandIn, setup: str, error: str, hint: str) -> None:
    if setup == "not joined":
        standin.joined = {"COTHER001"}
    else:
        standin.bot_token = "xoxb-another-token"
    with pytest.raises(UpstreamError) as err:
        await notifier(standin, []).post(channel="C1", text="x", blocks=[])
    assert error in str(err.value) and hint in str(err.value) and BOT_TOKEN not in str(err.value)


async def test_updating_a_message_that_was_never_posted_is_refused(standin: SlackStandIn) -> None:
    with pytest.raises(UpstreamError, match="message_not_found"):
        await notifier(standin, []).update(channel="C1", ts="1700000000.999999", text="x", blocks=[])


async def test_rate_limits_and_server_errors_are_retried(standin: SlackStandIn) -> None:
    waits: list[float] = []
    standin.fail("chat.postMessage", 429, headers={"Retry-After": "12"})
    standin.fail("chat.postMessage", 502)
    await notifier(standin, waits).post(channel="C1", text="x", blocks=[])
    assert standin.methods() == ["chat.postMessage!429", "chat.postMessage!502", "chat.postMessage"]
    assert waits == [12.0, 1.0]


async def test_persistent_failure_is_an_upstream_error(standin: SlackStandIn) -> None:
    standin.fail("chat.postMessage", 503, times=10)
    with pytest.raises(UpstreamError, match="C1"):
        await notifier(standin, []).post(channel="C1", text="x", blocks=[])
    assert len(standin.of("chat.postMessage!503")) == 4  # the first try and three retries


async def test_unknown_channel_says_what_to_do(standin: SlackStandIn) -> None:
    standin.missing_channels.add("CGONE0001")
    with pytest.raises(UpstreamError) as err:
        await notifier(standin, []).post(channel="CGONE0001", text="x", blocks=[])
    assert "channel_not_found" in str(err.value) and "hubbot is not in it" in str(err.value)
    assert BOT_TOKEN not in str(err.value)
