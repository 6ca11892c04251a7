"""A stand-in for deployed hubs' health endpoints: JupyterHub's ``/hub/api/`` (its version) and
BinderHub's ``/health`` (its checks), one per Host header, each told how to answer."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response


@dataclass
class HubStandIn:
    status: dict[str, int] = field(default_factory=dict)  # path prefix -> HTTP status (default 200)
    silent: set[str] = field(default_factory=set)  # paths that never answer (a hung hub)
    binder_checks: list[dict[str, Any]] = field(default_factory=lambda: [
        {"service": "Hub", "ok": True}, {"service": "Docker registry", "ok": True},
        {"service": "Pod quota", "ok": True, "total_pods": 3, "build_pods": 0, "quota": 100}])
    seen: list[str] = field(default_factory=list)
    release: asyncio.Event | None = None

    def __post_init__(self) -> None:
        self.app = FastAPI()
        self.app.add_api_route("/{path:path}", self._answer, methods=["GET"])

    async def _answer(self, path: str, request: Request) -> Response:
        route = "/" + path
        self.seen.append(route)
        if route in self.silent:
            self.release = self.release or asyncio.Event()
            await self.release.wait()
        code = next((c for prefix, c in self.status.items() if route.startswith(prefix)), 200)
        if route.endswith("/health"):
            ok = code == 200 and all(c.get("ok") for c in self.binder_checks)
            return JSONResponse({"ok": ok, "checks": self.binder_checks}, status_code=200 if ok else 503)
        if code != 200:
            return Response("<html><body>500 Internal Server Error</body></html>", status_code=code,
                            media_type="text/html")
        return JSONResponse({"version": "5.2.1"})
