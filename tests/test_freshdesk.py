"""Freshdesk tickets for escalated questions, against a local stand-in of the v2 tickets API."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hubbot.adapters.freshdesk import FreshdeskTickets
from hubbot.domain import Ticket
from hubbot.errors import UpstreamError
from hubbot.fleet import FreshdeskConfig
from hubbot.outbox.delivery import deliver
from tests.support.fleet import MEMBER_A
from tests.support.memory import dispatcher, run
from tests.support.server import serve

KEY = "fd-api-key-SECRET-123"


class Desk:
    def __init__(self) -> None:
        self.tickets: list[dict[str, Any]] = []
        self.failures: list[int] = []
        self.app = Starlette(routes=[Route("/api/v2/tickets", self._create, methods=["POST"])])

    async def _create(self, request: Request) -> Response:
        if self.failures:
            status = self.failures.pop(0)
            return JSONResponse({"code": "error"}, status_code=status, headers={"Retry-After": "30"})
        expected = "Basic " + base64.b64encode(f"{KEY}:X".encode()).decode()
        if request.headers.get("authorization") != expected:
            return JSONResponse({"code": "invalid_credentials"}, status_code=401)
        body = await request.json()
        self.tickets.append(body)
        return JSONResponse({"id": 1000 + len(self.tickets), **body}, status_code=201)


@pytest.fixture
def desk() -> Iterator[tuple[Desk, str]]:
    d = Desk()
    with serve(d.app) as served:
        yield d, served.url


def tickets(url: str, key: str = KEY) -> FreshdeskTickets:
    conf = FreshdeskConfig(domain="example.freshdesk.com", email="help@example.org", api_url=url)
    return FreshdeskTickets(conf, api_key=SecretStr(key))


async def test_opens_a_ticket(desk: tuple[Desk, str]) -> None:
    d, url = desk
    assert await tickets(url).open_ticket(subject="s", description="d", tags=["hubbot"]) == "1001"
    assert d.tickets == [{"subject": "s", "description": "d", "email": "help@example.org", "status": 2,
                          "priority": 1, "tags": ["hubbot"]}]


@pytest.mark.parametrize("status,message", [(429, "rate limiting"), (500, "HTTP 500"), (503, "HTTP 503")])
async def test_failures_are_upstream_errors(desk: tuple[Desk, str], status: int, message: str) -> None:
    d, url = desk
    d.failures.append(status)
    with pytest.raises(UpstreamError, match=message) as err:
        await tickets(url).open_ticket(subject="s", description="d", tags=[])
    if status == 429:
        assert err.value.retry_after == 30.0


async def test_a_wrong_key_says_what_to_check_and_never_shows_it(desk: tuple[Desk, str]) -> None:
    _, url = desk
    with pytest.raises(UpstreamError) as err:
        await tickets(url, key="wrong-key-XYZ").open_ticket(subject="s", description="d", tags=[])
    assert "HUBBOT_FRESHDESK_API_KEY" in str(err.value) and "wrong-key-XYZ" not in str(err.value)


async def test_unreachable_desk(tmp_path: Path) -> None:
    with pytest.raises(UpstreamError, match="could not reach Freshdesk"):
        await tickets("http://127.0.0.1:9").open_ticket(subject="s", description="d", tags=[])


async def test_an_escalated_question_opens_a_ticket_and_retries_when_the_desk_is_down(
    desk: tuple[Desk, str], fleet_file: Path
) -> None:
    d, url = desk
    dsp, _ = dispatcher(fleet_file, tickets={"": tickets(url)})
    d.failures.append(500)
    reply = await run(dsp, "ask is sourdough better with rye?", user=MEMBER_A, channel="CALPHA001")
    assert "asked the support team" in reply.text and d.tickets == []
    pending = [a for a in await dsp.services.outbox.recent(communities=None, limit=10) if a.kind == "ticket"]
    assert [a.state for a in pending] == ["pending"]
    later = dsp.services.clock.now() + timedelta(minutes=10)
    await deliver(dsp.services, dsp.fleet, at=later, worker="retry")
    (ticket,) = d.tickets
    assert "is sourdough better with rye?" in ticket["description"] and MEMBER_A in ticket["description"]
    assert ticket["tags"] == ["hubbot", "alpha"]
    assert isinstance(pending[0].payload, Ticket)
    assert pending[0].payload.subject.startswith("Support question from alpha")
