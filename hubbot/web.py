"""The HTTP surface: ``POST /slack/events`` (commands, events, interactivity), health probes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from slack_bolt.adapter.starlette.async_handler import to_async_bolt_request, to_starlette_response

from hubbot.slack import SlackTransport
from hubbot.slack.verify import RequestCheck


def create_app(
    *,
    slack: SlackTransport,
    check: RequestCheck,
    ready: Callable[[], Awaitable[str | None]],
    on_shutdown: Callable[[], Awaitable[None]],
) -> FastAPI:
    """``ready`` returns None when hubbot can serve, else the reason it cannot."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await slack.drain()
        await on_shutdown()

    app = FastAPI(title="hubbot", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.slack = slack

    @app.post("/slack/events")
    async def slack_events(request: Request) -> Response:
        body = await request.body()
        problem = check.problem(body, request.headers)
        if problem is not None:
            return JSONResponse({"ok": False, "error": problem[1]}, status_code=problem[0])
        return to_starlette_response(await slack.app.async_dispatch(to_async_bolt_request(request, body)))

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        return JSONResponse({"ok": True})

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        problem = await ready()
        if problem is None:
            return JSONResponse({"ok": True})
        return JSONResponse({"ok": False, "reason": problem}, status_code=503)

    return app
