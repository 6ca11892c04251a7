"""A local stand-in for the Slack Web API and response URLs that records every call.

It answers with the shapes Slack documents (``{"ok": true, ...}``), merges arguments from the
query string, form and JSON bodies (slack_sdk uses all three), and can be told to fail the
next calls of a method with 429 (and Retry-After) or 5xx.

It says no where Slack says no: a token it did not issue (``invalid_auth``), a post to a channel
the bot is not in (``not_in_channel``) or that does not exist (``channel_not_found``), text over
40,000 characters (``msg_too_long``), no text and no blocks (``no_text``), blocks past Block
Kit's limits (``invalid_blocks``, see tests/support/blockkit.py), ``chat.update`` of a message
it never posted (``message_not_found``), and a sixth post to one ``response_url`` (``used_url``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.support import blockkit

BOT_USER = "UBOT"
BOT_TOKEN = "xoxb-1111-2222-SECRETbotTOKENvalue"
MAX_TEXT = 40_000
RESPONSE_URL_USES = 5


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class SlackStandIn:
    def __init__(self, *, bot_token: str = BOT_TOKEN) -> None:
        self.bot_token = bot_token
        self.calls: list[Call] = []
        self.base_url = ""  # set once served
        self._failures: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self._cond = threading.Condition()
        self._ts = itertools.count(1)
        self.usergroups: dict[str, list[str]] = {}
        self.socket_url = "ws://127.0.0.1:1/"  # what apps.connections.open hands out
        self.missing_channels: set[str] = set()  # chat.postMessage answers channel_not_found
        self.joined: set[str] | None = None  # channels the bot is in (None: all of them)
        self.posted: set[tuple[str, str]] = set()  # (channel, ts) of messages posted, for chat.update
        self.history: dict[str, list[dict[str, Any]]] = {}  # channel -> messages posted, oldest first
        self._outages: dict[str, list[tuple[float, int, dict[str, str]]]] = {}
        self._held: dict[str, int] = {}
        self._gate = threading.Event()
        self._gate.set()
        self._waiting = 0
        self._hook_uses: dict[str, int] = {}
        self.app = Starlette(routes=[
            Route("/api/{method}", self._api, methods=["GET", "POST"]),
            Route("/respond/{hook}", self._respond, methods=["POST"]),
            Route("/upload/{file_id}", self._upload, methods=["POST"]),
        ])

    # -- test controls ----------------------------------------------------------------

    def fail(self, method: str, status: int, *, times: int = 1, headers: dict[str, str] | None = None) -> None:
        self._failures.setdefault(method, []).extend([(status, headers or {})] * times)

    def fail_until(self, method: str, status: int, *, until: float, headers: dict[str, str] | None = None) -> None:
        """Answer ``method`` with ``status`` until ``time.monotonic()`` reaches ``until`` (an outage)."""
        with self._cond:
            self._outages.setdefault(method, []).append((until, status, headers or {}))

    def hold(self, method: str, *, after: int) -> None:
        """Let ``after`` more calls of ``method`` through, then keep the next ones waiting (in flight)
        until :meth:`release`: a sender killed now dies mid-send."""
        with self._cond:
            self._gate.clear()
            self._held[method] = after

    def release(self) -> None:
        with self._cond:
            self._held.clear()
        self._gate.set()

    def waiting(self) -> int:
        """Calls held in flight now."""
        with self._cond:
            return self._waiting

    def response_url(self, name: str = "r1") -> str:
        return f"{self.base_url}/respond/{name}"

    def of(self, method: str) -> list[Call]:
        with self._cond:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 15.0) -> list[Call]:
        """Block until ``count`` calls of ``method`` arrived (an event, not a sleep)."""
        with self._cond:
            ok = self._cond.wait_for(lambda: len([c for c in self.calls if c.method == method]) >= count, timeout)
            found = [c for c in self.calls if c.method == method]
        if not ok:
            raise AssertionError(f"expected {count} call(s) of {method}, got {len(found)}: {self.methods()}")
        return found

    def methods(self) -> list[str]:
        with self._cond:
            return [c.method for c in self.calls]

    def clear(self) -> None:
        with self._cond:
            self.calls.clear()
            self._failures.clear()
            self._hook_uses.clear()

    # -- handlers -----------------------------------------------------------------------

    def _record(self, method: str, args: dict[str, Any], request: Request) -> None:
        with self._cond:
            self.calls.append(Call(method, args, dict(request.headers)))
            self._cond.notify_all()

    async def _maybe_hold(self, method: str) -> None:
        with self._cond:
            if method not in self._held:
                return
            if self._held[method] > 0:
                self._held[method] -= 1
                return
            self._waiting += 1
        await asyncio.to_thread(self._gate.wait, 120)
        with self._cond:
            self._waiting -= 1

    def _failure(self, method: str) -> Response | None:
        with self._cond:
            outages = [o for o in self._outages.get(method, []) if o[0] > time.monotonic()]
            if outages:
                _, status, headers = outages[0]
                body = {"ok": False, "error": "ratelimited" if status == 429 else "internal_error"}
                return JSONResponse(body, status_code=status, headers=headers)
        queue = self._failures.get(method)
        if queue:
            status, headers = queue.pop(0)
            body = {"ok": False, "error": "ratelimited" if status == 429 else "internal_error"}
            return JSONResponse(body, status_code=status, headers=headers)
        return None

    async def _args(self, request: Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query_params)
        ctype = request.headers.get("content-type", "")
        if "json" in ctype:
            body = await request.json()
            if isinstance(body, dict):
                args.update(body)
        elif "form" in ctype:
            args.update(dict(parse_qsl((await request.body()).decode(), keep_blank_values=True)))
        return args

    async def _api(self, request: Request) -> Response:
        method = request.path_params["method"]
        args = await self._args(request)
        await self._maybe_hold(method)
        failed = self._failure(method)
        self._record(method if failed is None else f"{method}!{failed.status_code}", args, request)
        if failed is not None:
            return failed
        authorization = request.headers.get("authorization", "")
        if not authorization:
            return JSONResponse({"ok": False, "error": "not_authed"})
        if method == "apps.connections.open":
            valid = authorization.startswith("Bearer xapp-")
        else:
            valid = authorization == f"Bearer {self.bot_token}"
        if not valid:
            return JSONResponse({"ok": False, "error": "invalid_auth"})
        refused = self._refuse(method, args) if method in ("chat.postMessage", "chat.update", "chat.postEphemeral") \
            else None
        return JSONResponse(refused or self._answer(method, args))

    def _refuse(self, method: str, args: dict[str, Any]) -> dict[str, Any] | None:
        channel = str(args.get("channel", ""))
        if channel in self.missing_channels:
            return {"ok": False, "error": "channel_not_found"}
        if self.joined is not None and channel not in self.joined and not channel.startswith("D"):
            return {"ok": False, "error": "not_in_channel"}
        if method == "chat.update" and (channel, str(args.get("ts", ""))) not in self.posted:
            return {"ok": False, "error": "message_not_found"}
        blocks = args.get("blocks")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        text = str(args.get("text") or "")
        if not text and not blocks:
            return {"ok": False, "error": "no_text"}
        if len(text) > MAX_TEXT:
            return {"ok": False, "error": "msg_too_long"}
        if blocks is not None and (problems := blockkit.problems(blocks)):
            return {"ok": False, "error": "invalid_blocks", "errors": problems}
        return None

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        ts = f"1700000000.{next(self._ts):06d}"
        if method == "auth.test":
            return {"ok": True, "url": "https://test.slack.com/", "team": "Test", "user": "hubbot",
                    "team_id": "T0TEST", "user_id": BOT_USER, "bot_id": "B0BOT"}
        if method == "conversations.history":
            return self._history(args)
        if method in ("chat.postMessage", "chat.update"):
            with self._cond:
                self.posted.add((str(args.get("channel", "")), str(args.get("ts", ts))))
                if method == "chat.postMessage":
                    metadata = args.get("metadata")
                    if isinstance(metadata, str):
                        metadata = json.loads(metadata)
                    self.history.setdefault(str(args.get("channel", "")), []).append(
                        {"type": "message", "ts": ts, "text": args.get("text", ""), "user": BOT_USER,
                         "_at": time.time(), **({"metadata": metadata} if metadata else {})})
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts", ts),
                    "message": {"type": "message", "text": args.get("text", ""), "user": BOT_USER, "ts": ts}}
        if method == "chat.postEphemeral":  # shown to one user only; Slack answers with the message's ts
            if not args.get("user"):
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "message_ts": ts}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts):08d}"
            return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = json.loads(args.get("files", "[]"))
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title", "")} for f in files]}
        if method == "usergroups.users.list":
            return {"ok": True, "users": self.usergroups.get(str(args.get("usergroup")), [])}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.socket_url}
        return {"ok": False, "error": "unknown_method"}

    def _history(self, args: dict[str, Any]) -> dict[str, Any]:
        """conversations.history: newest first, from ``oldest``; message metadata only when asked
        for with ``include_all_metadata``."""
        oldest = float(args.get("oldest") or 0)
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        with self._cond:
            # this stand-in's ts values count messages; when each was posted is kept beside them
            found = [dict(m) for m in reversed(self.history.get(str(args.get("channel", "")), []))
                     if m["_at"] > oldest]
        for message in found:
            message.pop("_at")
            if not with_metadata:
                message.pop("metadata", None)
        limit = int(args.get("limit") or 100)
        return {"ok": True, "messages": found[:limit], "has_more": len(found) > limit,
                "response_metadata": {"next_cursor": ""}}

    async def _respond(self, request: Request) -> Response:
        args = await self._args(request)
        hook = request.path_params["hook"]
        failed = self._failure("response_url")
        with self._cond:
            uses = self._hook_uses[hook] = self._hook_uses.get(hook, 0) + 1
        if failed is None and uses > RESPONSE_URL_USES:
            failed = PlainTextResponse("used_url", status_code=404)
        blocks = args.get("blocks")
        if failed is None and blocks is not None and blockkit.problems(blocks):
            failed = PlainTextResponse("invalid_blocks", status_code=400)
        if failed is None and len(str(args.get("text") or "")) > MAX_TEXT:
            failed = PlainTextResponse("msg_too_long", status_code=400)
        self._record("response_url" if failed is None else f"response_url!{failed.status_code}", args, request)
        return failed or PlainTextResponse("ok")

    async def _upload(self, request: Request) -> Response:
        body = await request.body()
        self._record("upload", {"file_id": request.path_params["file_id"], "size": len(body), "body": body}, request)
        return PlainTextResponse("OK - 200")
