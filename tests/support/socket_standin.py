"""A local Socket Mode peer: the websocket Slack hands out through apps.connections.open.

It greets with ``hello``, sends the envelopes a test queues, and records what the app sends
back (acks carry the ``envelope_id`` and, for slash commands, the response payload).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp import WSMsgType, web


class SocketStandIn:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.connected = threading.Event()
        self._cond = threading.Condition()
        self._outbox: asyncio.Queue[dict[str, Any]] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def send(self, envelope: dict[str, Any]) -> None:
        assert self._loop is not None and self._outbox is not None
        self._loop.call_soon_threadsafe(self._outbox.put_nowait, envelope)

    def wait_for_ack(self, envelope_id: str, timeout: float = 20.0) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            return next((m for m in self.received if m.get("envelope_id") == envelope_id), None)

        with self._cond:
            if not self._cond.wait_for(lambda: found() is not None, timeout):
                raise AssertionError(f"no ack for {envelope_id}; got {self.received}")
            result = found()
        assert result is not None
        return result

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"type": "hello", "num_connections": 1,
                                      "debug_info": {"host": "local", "approximate_connection_time": 3600}}))
        self.connected.set()
        assert self._outbox is not None

        async def pump() -> None:
            assert self._outbox is not None
            while True:
                await ws.send_str(json.dumps(await self._outbox.get()))

        sender = asyncio.create_task(pump())
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    with self._cond:
                        self.received.append(json.loads(msg.data))
                        self._cond.notify_all()
        finally:
            sender.cancel()
        return ws

    @contextmanager
    def serve(self) -> Iterator[str]:
        started = threading.Event()
        holder: dict[str, Any] = {}

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            self._outbox = asyncio.Queue()
            app = web.Application()
            app.router.add_get("/link", self._socket)
            runner = web.AppRunner(app)
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            holder["port"] = runner.addresses[0][1]
            holder["runner"] = runner
            started.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        started.wait(10)
        try:
            yield f"ws://127.0.0.1:{holder['port']}/link"
        finally:
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self._loop.stop)
            thread.join(10)
