"""A local stand-in for JetStream2: Keystone's application-credential sign-in and the allocation
accounting API, counting every call.

``POST /v3/auth/tokens`` answers 201 with the token in ``X-Subject-Token`` when the body carries
the expected application credential, 401 otherwise; the token is scoped to the credential's
project (``project``). ``GET /accounting/allocations`` answers that project's allocation list for
a token it issued and has not expired, 401 otherwise. The list has the accounting API's shape:
one row per allocation and resource (CPU, GPU, large memory and storage, named as JetStream2
names them), with ``description``, ``abstract``, SUs allocated and used (null until first use;
storage rows are not in SUs and usually null), ``start_date``/``end_date`` (the last day) and
``active``. Tests can make the next calls of either endpoint fail with a given status, expire
every issued token, or replace the accounting body with raw text.
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


CPU = "jetstream2.indiana.xsede.org"
GPU = "jetstream2-gpu.indiana.xsede.org"
LARGE_MEMORY = "jetstream2-lm.indiana.xsede.org"
STORAGE = "jetstream2-storage.indiana.xsede.org"


BIO_FLEET = """
providers:
  js2: {{kind: openstack, auth_url: "{base}/v3", project: BIO250001, accounting_url: "{base}{path}"}}
clusters:
  - name: js2-cluster
    provider: js2
    hubs:
      - {{name: lab, community: bio, domain: lab.bio.test}}
communities:
  - name: bio
    display_name: Bio Course
    channel: CBIO00001
    leaders: [{leader}]
    budget: {{amount: {amount}, currency: {currency}, period: allocation}}
roles:
  engineers: [UENG00001]
"""


def bio_fleet(base: str, *, leader: str = "ULEADB001", amount: int = 100000, currency: str = "SU") -> str:
    """A fleet with one community on a JetStream2 project served by the stand-in at ``base``."""
    return BIO_FLEET.format(base=base, path=ACCOUNTING_PATH, leader=leader, amount=amount, currency=currency)


def allocation(resource: str = CPU, *, allocated: Any = 500000.0, used: Any = 12345.67, start: str = "2025-09-01",
               end: str = "2026-08-31", active: Any = 1) -> dict[str, Any]:
    """One entry of the accounting list, in the API's shape."""
    return {"description": "Notebooks for a bioinformatics course", "abstract": "Students run JupyterHub labs.",
            "service_units_allocated": allocated, "service_units_used": used, "start_date": start,
            "end_date": end, "resource": resource, "active": active}


def project_allocations() -> list[dict[str, Any]]:
    """A project's list: this year's CPU, GPU, large-memory and storage allocations (storage with
    no usage recorded) and last year's CPU allocation, no longer active."""
    return [
        allocation(),
        allocation(GPU, allocated=20000.0, used=1500.0),
        allocation(LARGE_MEMORY, allocated=10000.0, used=250.5),
        allocation(STORAGE, allocated=10.0, used=None),
        allocation(start="2024-09-01", end="2025-08-31", used=499000.0, active=0),
    ]


class OpenStackStandIn:
    def __init__(self) -> None:
        self.base_url = ""  # set once served
        self.credential_id = CREDENTIAL_ID
        self.credential_secret = CREDENTIAL_SECRET
        self.now = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)  # what the issued tokens' lifetimes count from
        self.token_lifetime = timedelta(hours=1)
        self.project: dict[str, Any] = {"id": "0f0e5d2c4b3a49f8a7e6d5c4b3a29181", "name": "BIO250001",
                        "domain": {"id": "default", "name": "ACCESS"}}  # what the credential is scoped to
        self.allocations: list[dict[str, Any]] = project_allocations()
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
            "project": self.project,
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
