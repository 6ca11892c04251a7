"""Run an ASGI app on a real uvicorn server, on an ephemeral loopback port, in a thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn


@dataclass(frozen=True)
class Served:
    url: str
    loop: asyncio.AbstractEventLoop

    def call(self, coro: Any, timeout: float = 30.0) -> Any:
        """Run a coroutine on the server's event loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)


@contextmanager
def serve(app: Any, *, tls: tuple[Path, Path] | None = None) -> Iterator[Served]:
    """Yield the base URL (``http://127.0.0.1:PORT``, or ``https://`` with ``tls``, a certificate
    and key file) and loop while the server runs."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, access_log=False, lifespan="on",
                            timeout_graceful_shutdown=2,  # clients that keep connections open do not hold it up
                            ssl_certfile=str(tls[0]) if tls else None, ssl_keyfile=str(tls[1]) if tls else None)
    server = uvicorn.Server(config)
    started = threading.Event()
    loop = asyncio.new_event_loop()

    def run() -> None:
        asyncio.set_event_loop(loop)

        async def main() -> None:
            await server._serve()
        loop.run_until_complete(main())

    original_startup = server.startup

    async def startup(sockets: Any = None) -> None:
        await original_startup(sockets=sockets)
        started.set()

    server.startup = startup  # type: ignore[method-assign]
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    if not started.wait(timeout=30) or not server.servers:
        raise RuntimeError("test server did not start")
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Served(f"{'https' if tls else 'http'}://127.0.0.1:{port}", loop)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        if not thread.is_alive():
            loop.close()  # its self-pipe sockets would otherwise wait for the garbage collector
