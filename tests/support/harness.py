"""hubbot's real web app (Bolt on FastAPI on uvicorn) wired to the Slack stand-in, for
end-to-end tests that speak signed HTTP like Slack does."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from commands import ALL
from hubbot.domain import AuditEntry
from hubbot.lifecycle import web_app
from hubbot.main import Runtime, build, open_fleet
from hubbot.pipeline.contract import Registry
from hubbot.ports import BackupSource, Clock, HubApi, PullRequests, UsageMetrics
from hubbot.settings import DatabaseSettings, Settings, SlackSettings
from hubbot.slack import SlackTransport
from tests.support import signing
from tests.support.extra_commands import EXTRA
from tests.support.fleet import LEADER_B, LEADERS_B_GROUP
from tests.support.server import Served, serve
from tests.support.slack_standin import BOT_TOKEN, SlackStandIn

_CLICKS = itertools.count(1)


@dataclass
class Harness:
    standin: SlackStandIn
    runtime: Runtime
    served: Served
    http: httpx.Client
    slack: SlackTransport
    waits: list[float] = field(default_factory=list)

    def post(self, body: bytes, *, content_type: str, extra: dict[str, str] | None = None,
             sign: bool = True, timestamp: int | None = None) -> httpx.Response:
        headers = signing.headers(body, content_type=content_type, timestamp=timestamp) if sign else {
            "Content-Type": content_type}
        headers.update(extra or {})
        return self.http.post(f"{self.served.url}/slack/events", content=body, headers=headers)

    def slash(self, text: str, *, user: str, channel: str, hook: str = "r1") -> httpx.Response:
        body = signing.slash_body(text, user=user, channel=channel, response_url=self.standin.response_url(hook))
        return self.post(body, content_type="application/x-www-form-urlencoded")

    def event(self, event: dict[str, Any], *, event_id: str, retry: int | None = None) -> httpx.Response:
        extra = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        return self.post(signing.event_body(event, event_id=event_id), content_type="application/json", extra=extra)

    def click(self, *, user: str, channel: str, action_id: str, value: str) -> httpx.Response:
        # every click has a response_url of its own, as in Slack
        body = signing.action_body(user=user, channel=channel, action_id=action_id, value=value,
                                   response_url=self.standin.response_url(f"click{next(_CLICKS)}"))
        return self.post(body, content_type="application/x-www-form-urlencoded")

    def settle(self) -> None:
        """Wait for replies still being sent in the background, and for audit writes."""
        self.served.call(self._settle())

    async def _settle(self) -> None:
        await asyncio.sleep(0)
        await self.slack.drain()
        await self.runtime.services.audit.flush()

    def audit(self, limit: int = 50) -> list[AuditEntry]:
        self.settle()
        return list(self.served.call(self.runtime.services.audit.query(communities=None, hub=None, limit=limit)))


@contextmanager
def fleet_harness(tmp: Path, **options: Any) -> Iterator[Harness]:
    """:func:`harness` over the test fleet (tests/support/fleet.py), written into ``tmp``."""
    from tests.support.fleet import FLEET_YAML

    fleet = tmp / "fleet.yaml"
    fleet.write_text(FLEET_YAML)
    with harness(tmp, fleet, **options) as h:
        yield h


@contextmanager
def harness(tmp: Path, fleet_file: Path, *, database_url: str | None = None, helm: str = "helm",
            clock: Clock | None = None, pause: Callable[[float], Awaitable[None]] | None = None,
            read_deadline: float = 10.0, hub_apis: dict[str, HubApi] | None = None,
            usage: dict[str, UsageMetrics] | None = None,
            backups: dict[str, BackupSource] | None = None, pulls: PullRequests | None = None) -> Iterator[Harness]:
    standin = SlackStandIn()
    standin.usergroups[LEADERS_B_GROUP] = [LEADER_B]
    with ExitStack() as stack:
        slack_served = stack.enter_context(serve(standin.app))
        standin.base_url = slack_served.url
        settings = Settings(
            slack=SlackSettings(bot_token=SecretStr(BOT_TOKEN), signing_secret=SecretStr(signing.SECRET),
                                api_url=f"{slack_served.url}/api/",
                                response_url_prefix=f"{slack_served.url}/respond/", read_deadline=read_deadline),
            database=DatabaseSettings(url=database_url or f"sqlite:///{tmp / 'hubbot.sqlite3'}"), helm=helm,
        )
        waits: list[float] = []

        async def record_sleep(seconds: float) -> None:
            waits.append(seconds)

        settings = settings.model_copy(update={"repository_cache": tmp / "repository-cache"})
        # a fleet with repository: is fetched and read from it, as `hubbot serve` does
        fleet, repository = open_fleet(settings, config=fleet_file, demo=False)
        runtime = build(settings, fleet, slack="http", sleep=record_sleep,
                        registry=Registry((*ALL, *EXTRA)), clock=clock, pause=pause, hub_apis=hub_apis,
                        usage=usage, backups=backups, repository=repository, pulls=pulls)
        app = web_app(runtime, ack_budget=0.2, schedule=False)
        served = stack.enter_context(serve(app))
        http = stack.enter_context(httpx.Client(timeout=30))
        yield Harness(standin=standin, runtime=runtime, served=served, http=http, slack=app.slack, waits=waits)
