"""Roles granted to a Slack user group follow the group: membership is cached for five minutes,
then read again (the real slack_sdk client against the Web API stand-in; an injected clock)."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from hubbot.slack.directory import TTL, SlackDirectory
from tests.support.harness import BOT_TOKEN
from tests.support.server import serve
from tests.support.slack_standin import SlackStandIn

GROUP = "SLEADS001"


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_membership_changes_take_effect_after_the_cache_time() -> None:
    standin = SlackStandIn()
    standin.usergroups[GROUP] = ["UANN00001"]
    with serve(standin.app) as served:
        standin.base_url = served.url
        clock = Ticks()
        directory = SlackDirectory(AsyncWebClient(token=BOT_TOKEN, base_url=f"{served.url}/api/"), [GROUP],
                                   now=clock)

        def groups(user: str) -> frozenset[str]:
            return frozenset(served.call(directory.groups_of(user)))

        assert groups("UANN00001") == {GROUP} and groups("UBOB00001") == frozenset()
        standin.usergroups[GROUP] = ["UBOB00001"]  # Ann leaves the group, Bob joins
        clock.now += TTL - 1
        assert groups("UANN00001") == {GROUP}  # still cached: one lookup per five minutes, not per request
        assert len(standin.of("usergroups.users.list")) == 1
        clock.now += 2
        assert groups("UANN00001") == frozenset() and groups("UBOB00001") == {GROUP}
        assert len(standin.of("usergroups.users.list")) == 2

        standin.fail("usergroups.users.list", 500, times=10)  # Slack is down at the next refresh
        clock.now += TTL + 1
        assert groups("UBOB00001") == {GROUP}  # the last known members keep their role
