"""A local stand-in for JetStream2: Keystone's application-credential sign-in and the allocation
accounting API, counting every call.

``POST /v3/auth/tokens`` answers 201 with the token in ``X-Subject-Token`` when the body carries
the expected application credential, 401 otherwise. ``GET /accounting/allocations`` answers the
allocation list for a token it issued and has not expired, 401 otherwise. Tests can make the
next calls of either endpoint fail with a given status, expire every issued token, or replace
the accounting body with raw text.
"""

from __future__ import annotations

import itertools
import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

CREDENTIAL_ID = "4f1c0ffee0c0ffee0c0ffee0c0ffee01"
CREDENTIAL_SECRET = "s3cr3t-Application-Credential-Value"
ACCOUNTING_PATH = "/accounting/allocations"

_UNAUTHORIZED = {"error": {"code": 401, "title": "Unauthorized",
                           "message": "The request you have made requires authentication."}}


def allocation(title: str, resource: str = "jetstream2.indiana.edu", *, allocated: Any = 500000,
               used: Any = 12345.67, start: str = "2025-09-01", end: str = "2026-08-31") -> dict[str, Any]:
    """One entry of the accounting list, in the API's shape."""
    return {"title": title, "resource": resource, "service_units_allocated": allocated,
            "service_units_used": used, "start_date": start, "end_date": end}


class OpenStackStandIn:
    def __init__(self) -> None:
        self.base_url = ""  # set once served
        self.credential_id = CREDENTIAL_ID
        self.credential_secret = CREDENTIAL_SECRET
        self.now = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)  # what the issued tokens' lifetimes count from
        self.token_lifetime = timedelta(hours=1)
        self.allocations: list[dict[str, Any]] = [
            allocation("BIO250001"),
            allocation("BIO250001", "jetstream2-gpu.indiana.edu", allocated=20000, used=1500),
            allocation("BIO250001", start="2024-09-01", end="2025-08-31", used=499000),
            allocation("PHY250042", used=7),
        ]
        self.accounting_body: str | None = None  # raw text to answer instead of the list
        self.auth_calls = 0
        self.accounting_calls = 0
        self.auth_bodies: list[Any] = []
        self._failures: dict[str, list[int]] = {"auth": [], "accounting": []}
        self._tokens: set[str] = set()
        self._serial = itertools.count(1)
        self._lock = threading.Lock()
        self.app = Starlette(routes=[
            Route("/v3/auth/tokens", self._tokens_endpoint, methods=["POST"]),
            Route(ACCOUNTING_PATH, self._accounting_endpoint, methods=["GET"]),
        ])

    # -- test controls ----------------------------------------------------------------

    def fail(self, endpoint: str, status: int, *, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``auth`` or ``accounting`` with ``status``."""
        with self._lock:
            self._failures[endpoint].extend([status] * times)

    def expire_tokens(self) -> None:
        """Forget every issued token, as if they had expired or been revoked."""
        with self._lock:
            self._tokens.clear()

    # -- handlers -----------------------------------------------------------------------

    def _next_failure(self, endpoint: str) -> int | None:
        with self._lock:
            pending = self._failures[endpoint]
            return pending.pop(0) if pending else None

    async def _tokens_endpoint(self, request: Request) -> Response:
        with self._lock:
            self.auth_calls += 1
        failure = self._next_failure("auth")
        if failure is not None:
            return JSONResponse({"error": {"code": failure, "message": "stand-in failure"}}, status_code=failure)
        try:
            body = json.loads(await request.body())
            identity = body["auth"]["identity"]
            credential = identity["application_credential"]
            ok = (identity["methods"] == ["application_credential"] and credential["id"] == self.credential_id
                  and credential["secret"] == self.credential_secret and "scope" not in body["auth"])
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": {"code": 400, "message": "malformed request"}}, status_code=400)
        with self._lock:
            self.auth_bodies.append(body)
        if not ok:
            return JSONResponse(_UNAUTHORIZED, status_code=401)
        token = f"gAAAAstandin{next(self._serial)}"
        with self._lock:
            self._tokens.add(token)
        expires = self.now + self.token_lifetime
        payload = {"token": {
            "methods": ["application_credential"],
            "issued_at": self.now.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
            "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
            "application_credential": {"id": self.credential_id, "name": "hubbot", "restricted": True},
            "project": {"id": "0f0e", "name": "BIO250001", "domain": {"id": "default", "name": "ACCESS"}},
            "user": {"id": "a1b2", "name": "someone@access-ci.org", "domain": {"id": "default", "name": "ACCESS"}},
        }}
        return JSONResponse(payload, status_code=201, headers={"X-Subject-Token": token})

    async def _accounting_endpoint(self, request: Request) -> Response:
        with self._lock:
            self.accounting_calls += 1
            known = request.headers.get("X-Auth-Token", "") in self._tokens
        failure = self._next_failure("accounting")
        if failure is not None:
            return JSONResponse({"detail": "stand-in failure"}, status_code=failure)
        if not known:
            return JSONResponse(_UNAUTHORIZED, status_code=401)
        if self.accounting_body is not None:
            return Response(self.accounting_body, media_type="application/json")
        return JSONResponse(self.allocations)
