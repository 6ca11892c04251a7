"""The HTTP surface: ``POST /slack/events`` (commands, events, interactivity), health probes.

``/slack/events`` is a plain ASGI handler in front of FastAPI. For every request with a body, a
declared length over 1 MB is refused before reading, and the body must arrive within
``read_deadline`` seconds (else 408). Slack requests are verified (signature, age, shape) before
anything acts on them; slash commands, the hot path, go straight to the transport's
generic command handler, and everything else (events, buttons) through Bolt. FastAPI serves
the rest: health probes, provider webhooks and ``GET /metrics``.

Every Slack request gets a request id (:mod:`hubbot.reference`) on receipt, so each log line it
causes carries it, and the dispatcher's reference is the same id; its ack is timed from receipt
to the ack being sent (``hubbot_ack_seconds``).

``/metrics`` serves hubbot's Prometheus metrics (:mod:`hubbot.metrics`): counts and timings under
names hubbot chose, never user text or secrets. It is meant for Prometheus scraping from inside
the cluster; with ``HUBBOT_METRICS_TOKEN`` set it asks for that bearer token as well.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from slack_bolt.request.async_request import AsyncBoltRequest
from starlette.types import Message, Receive, Scope, Send

from hubbot import eager
from hubbot.errors import HubbotError
from hubbot.metrics import CONTENT_TYPE, Metrics
from hubbot.reference import handling
from hubbot.slack import SlackTransport
from hubbot.slack.verify import RequestCheck, classify

EVENTS_PATH = "/slack/events"
MAX_BODY = 1 << 20  # Slack payloads are a few KB; refuse anything absurd


class SlackEndpoint:
    """The ASGI app hubbot serves: it answers ``POST /slack/events`` itself and passes every
    other request (and the lifespan) to the FastAPI ``app``."""

    def __init__(self, app: FastAPI, *, slack: SlackTransport, check: RequestCheck, read_deadline: float) -> None:
        self.app = app
        self.slack = slack
        self.check = check
        self.read_deadline = read_deadline
        slack.checked_at_edge = True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (scope["method"] in ("GET", "HEAD") and scope["path"] != EVENTS_PATH):
            await self.app(scope, receive, send)
            return
        with handling():  # a new request id, which the dispatcher takes as its reference
            await self._request(scope, receive, send, time.perf_counter())

    async def _request(self, scope: Scope, receive: Receive, send: Send, received: float) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        body = await self._body(headers, receive, send)
        if body is None:
            return
        if scope["path"] != EVENTS_PATH:  # provider webhooks: FastAPI reads the body already received
            await self.app(scope, _replay(body, receive), send)
            return
        if scope["method"] != "POST":
            await _send(send, 405, b'{"ok":false,"error":"use POST"}')
            return
        problem = self.check.problem(body, headers)
        if problem is not None:
            await _send(send, problem[0], json.dumps({"ok": False, "error": problem[1]}).encode())
            return
        kind = classify(body, headers.get("content-type", ""))
        if isinstance(kind, str):
            await _send(send, 400, json.dumps({"ok": False, "error": kind}).encode())
            return
        if kind[0] == "command":
            ack = await self.slack.slash(kind[1])
            await _send(send, 200, ack.encoded)
            self.slack.metrics.ack(command=ack.command, outcome=ack.outcome, seconds=time.perf_counter() - received)
            return
        if await self._redelivered(body, headers, send):
            return
        query = scope.get("query_string", b"").decode("latin-1")
        response = await self.slack.app.async_dispatch(AsyncBoltRequest(body=body.decode(), query=query,
                                                                        headers=headers))
        extra = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.first_headers().items()
                 if k.lower() not in ("content-length", "set-cookie")]
        await _send(send, response.status, (response.body or "").encode(), extra_headers=extra,
                    content_type=response.first_headers().get("content-type", "text/plain;charset=utf-8"))
        # Bolt acks events and buttons before running them: the answer is not known yet
        self.slack.metrics.ack(command="button" if body.startswith(b"payload=") else "event", outcome="deferred",
                               seconds=time.perf_counter() - received)


    async def _redelivered(self, body: bytes, headers: dict[str, str], send: Send) -> bool:
        """Record an event's ID before acknowledging it: a redelivery (to this replica or another)
        is acknowledged and dropped; when the database cannot record it, the answer is 503 and
        Slack delivers the event again later, so an event is answered once, and never lost."""
        if not headers.get("content-type", "").startswith("application/json"):
            return False
        payload = json.loads(body)
        if not isinstance(payload, dict) or payload.get("type") != "event_callback":
            return False
        event_id = payload.get("event_id")
        if not isinstance(event_id, str):
            return False
        try:
            if await self.slack.first_delivery(event_id):
                return False
        except HubbotError:
            await _send(send, 503, b'{"ok":false,"error":"try again"}')
            return True
        await _send(send, 200, b"")
        return True

    async def _body(self, headers: dict[str, str], receive: Receive, send: Send) -> bytes | None:
        """The request body, or None once the request was answered 400, 408 or 413."""
        declared = headers.get("content-length", "0")
        if not (declared.isascii() and declared.isdigit()):
            await _send(send, 400, b'{"ok":false,"error":"bad Content-Length"}', close=True)
            return None
        if len(declared) > 9 or int(declared) > MAX_BODY:  # refused before reading a byte of it
            await _send(send, 413, b'{"ok":false,"error":"body too large"}', close=True)
            return None
        try:  # a client that sends less than it declared, or trickles it, is cut off
            read = eager.step(_read(receive))
            if isinstance(read, eager.Done):  # it had all arrived (a Slack request nearly always has)
                body = read.value
            else:
                async with asyncio.timeout(self.read_deadline):
                    body = await read
        except TimeoutError:
            await _send(send, 408, b'{"ok":false,"error":"body not received in time"}', close=True)
            return None
        if body is None:
            await _send(send, 413, b'{"ok":false,"error":"body too large"}', close=True)
        return body


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _read(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def _send(send: Send, status: int, body: bytes, *, content_type: str = "application/json",
                extra_headers: list[tuple[bytes, bytes]] | None = None, close: bool = False) -> None:
    headers = [(b"content-type", content_type.encode("latin-1")), (b"content-length", str(len(body)).encode()),
               *(extra_headers or []), *([(b"connection", b"close")] if close else [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def create_app(
    *,
    slack: SlackTransport,
    check: RequestCheck,
    ready: Callable[[], Awaitable[str | None]],
    on_shutdown: Callable[[], Awaitable[None]],
    on_startup: Callable[[], Awaitable[None]] | None = None,
    budget_push: Callable[[str, str | None, bytes], Awaitable[tuple[int, str]]] | None = None,
    read_deadline: float = 10.0,
    metrics: Metrics | None = None,
) -> SlackEndpoint:
    """``ready`` returns None when hubbot can serve, else the reason it cannot; ``metrics`` (by
    default the transport's) are served at ``/metrics``."""
    served = metrics or slack.metrics

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if on_startup is not None:
            await on_startup()
        yield
        await slack.drain()
        await on_shutdown()

    app = FastAPI(title="hubbot", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)

    if budget_push is not None:

        @app.post("/gcp/budget/{provider}")
        async def gcp_budget(provider: str, request: Request) -> Response:
            """Cloud Billing budget notifications, pushed by a Pub/Sub subscription with an OIDC token."""
            status, message = await budget_push(provider, request.headers.get("authorization"), await request.body())
            if status == 204:
                return Response(status_code=204)
            return JSONResponse({"ok": False, "error": message}, status_code=status)

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        return JSONResponse({"ok": True})

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        problem = await ready()
        if problem is None:
            return JSONResponse({"ok": True})
        return JSONResponse({"ok": False, "reason": problem}, status_code=503)

    @app.get("/metrics")
    async def metrics_text(request: Request) -> Response:
        token = served.scrape_token
        if token is not None and not hmac.compare_digest(request.headers.get("authorization", "").encode(),
                                                         f"Bearer {token}".encode()):
            return JSONResponse({"ok": False, "error": "this endpoint needs the metrics bearer token"},
                                status_code=401, headers={"WWW-Authenticate": "Bearer"})
        await served.refresh()  # the outbox figures: a query in a worker thread, at most every few seconds
        return Response(served.exposition(), media_type=CONTENT_TYPE)

    return SlackEndpoint(app, slack=slack, check=check, read_deadline=read_deadline)


