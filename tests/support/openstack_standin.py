"""A local stand-in for JetStream2: Keystone's application-credential sign-in, the allocation
accounting API and the Block Storage API (Cinder v3), counting every call.

``POST /v3/auth/tokens`` answers 201 with the token in ``X-Subject-Token`` when the body carries
the expected application credential, 401 otherwise; the token is scoped to the credential's
project (``project``). ``GET /accounting/allocations`` answers that project's allocation list for
a token it issued and has not expired, 401 otherwise. The list has the accounting API's shape:
one row per allocation and resource (CPU, GPU, large memory and storage, named as JetStream2
names them), with ``description``, ``abstract``, SUs allocated and used (null until first use;
storage rows are not in SUs and usually null), ``start_date``/``end_date`` (the last day) and
``active``. Tests can make the next calls of either endpoint fail with a given status, expire
every issued token, or replace the accounting body with raw text.

The token carries a service catalog: Keystone itself, and block storage (as ``block-storage`` and
``volumev3``, public, internal and admin endpoints) in each of ``regions``; the public one is
``{base}/volume/{region}/v3/{project_id}``. Cinder's routes below it answer as Cinder v3 does at
its base microversion for a project member: ``volumes/detail`` and ``snapshots/detail`` paged with
``limit`` (capped at ``max_limit``, Cinder's ``osapi_max_limit``) and ``marker`` and a ``next``
link whenever a page is full (its href on the API's internal address, as Cinder writes it when
its ``public_endpoint`` is unset); ``metadata`` filtering as Cinder parses it (a Python literal of a
dict, matched key by key; anything else matches nothing); ``volumes/{id}``,
``snapshots/{id}``; ``POST snapshots`` validated like Cinder's schema (202, ``creating``), an
attached volume needing ``force``, and the project's snapshot quota (413 ``overLimit``). Errors
have Cinder's fault bodies (``{"itemNotFound": {"code": 404, "message": ...}}``). Tests move
snapshots on with :meth:`finish_snapshot` and fail the next Cinder calls with :meth:`fail`.
"""

from __future__ import annotations

import ast
import itertools
import json
import re
import threading
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

CREDENTIAL_ID = "4f1c0ffee0c0ffee0c0ffee0c0ffee01"
CREDENTIAL_SECRET = "s3cr3t-Application-Credential-Value"
ACCOUNTING_PATH = "/accounting/allocations"

_UNAUTHORIZED = {"error": {"code": 401, "title": "Unauthorized",
                           "message": "The request you have made requires authentication."}}

REGION = "IU"  # JetStream2's region
# Cinder's internal address, where the catalog's internal and admin endpoints and Cinder's own
# paging links point (a closed loopback port here: a client that follows them fails at once)
INTERNAL = "http://127.0.0.1:9"
NFS_SERVER = "6c1f5d0e-2f1b-4e57-9a0f-1d5e3c2b1a09"  # the instance home volumes are attached to
_FAULTS = {400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound", 409: "conflictingRequest",
           413: "overLimit", 503: "serviceUnavailable"}
_METADATA_KEY = re.compile(r"^[a-zA-Z0-9-_:. /]{1,255}$")  # Cinder's schema for metadata keys
_SNAPSHOT_FIELDS = {"name", "display_name", "description", "volume_id", "force", "metadata"}


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
        self._failures: dict[str, list[int]] = {"auth": [], "accounting": [], "cinder": []}
        self._tokens: set[str] = set()
        self._serial = itertools.count(1)
        self._lock = threading.Lock()
        # block storage
        self.regions = [REGION]
        self.catalog_types: tuple[str, ...] = ("block-storage", "volumev3")  # how the catalog lists Cinder
        self.volumes: dict[str, dict[str, dict[str, Any]]] = {}  # region -> id -> volume, in Cinder's shape
        self.snapshots: dict[str, dict[str, dict[str, Any]]] = {}  # region -> id -> snapshot, as stored
        self.max_limit = 1000  # Cinder's osapi_max_limit
        self.snapshot_quota: int | None = None  # the project's snapshots quota per region; None: unlimited
        self.metadata_filter = True  # False: a cloud whose resource filters leave `metadata` out (dropped silently)
        self.cinder_requests: list[tuple[str, str, str]] = []  # (method, region, path below the project)
        self.cinder_queries: list[dict[str, str]] = []  # the query of each GET of a list
        self._created = itertools.count()  # Cinder stamps what it makes with the time: each one a second later
        prefix = "/volume/{region}/v3/{project_id}"
        self.app = Starlette(routes=[
            Route("/v3/auth/tokens", self._tokens_endpoint, methods=["POST"]),
            Route(ACCOUNTING_PATH, self._accounting_endpoint, methods=["GET"]),
            Route(f"{prefix}/volumes/detail", self._volumes_detail, methods=["GET"]),
            Route(f"{prefix}/volumes/{{volume_id}}", self._volume_show, methods=["GET"]),
            Route(f"{prefix}/snapshots/detail", self._snapshots_detail, methods=["GET"]),
            Route(f"{prefix}/snapshots/{{snapshot_id}}", self._snapshot_show, methods=["GET"]),
            Route(f"{prefix}/snapshots", self._snapshot_create, methods=["POST"]),
        ])

    # -- test controls ----------------------------------------------------------------

    def fail(self, endpoint: str, status: int, *, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``auth``, ``accounting`` or ``cinder`` (any Cinder
        route; with its fault body, a 403 naming the policy the route checks) with ``status``."""
        with self._lock:
            self._failures[endpoint].extend([status] * times)

    def expire_tokens(self) -> None:
        """Forget every issued token, as if they had expired or been revoked."""
        with self._lock:
            self._tokens.clear()

    def add_volume(self, *, metadata: Mapping[str, str], size: int = 100, name: str | None = None,
                   region: str = REGION, attached: bool = True) -> dict[str, Any]:
        """A volume as terraform makes a hub's home volume (attached to the NFS server: in-use)."""
        vid, made = str(uuid.uuid4()), self._stamp()
        attachments = [{"id": vid, "attachment_id": str(uuid.uuid4()), "volume_id": vid, "server_id": NFS_SERVER,
                        "host_name": None, "device": "/dev/sdb", "attached_at": made}] if attached else []
        row = {
            "id": vid, "name": name, "description": None, "size": size,
            "status": "in-use" if attached else "available", "availability_zone": "nova",
            "metadata": dict(metadata), "attachments": attachments, "bootable": "false", "encrypted": False,
            "multiattach": False, "created_at": made, "updated_at": made, "volume_type": "__DEFAULT__",
            "snapshot_id": None, "source_volid": None, "replication_status": None, "consistencygroup_id": None,
            "user_id": "a1b2", "os-vol-tenant-attr:tenant_id": self.project["id"],
            "links": [{"href": f"{INTERNAL}/v3/{self.project['id']}/volumes/{vid}", "rel": "self"},
                      {"href": f"{INTERNAL}/{self.project['id']}/volumes/{vid}", "rel": "bookmark"}],
        }
        with self._lock:
            self.volumes.setdefault(region, {})[vid] = row
        return row

    def add_snapshot(self, volume_id: str, *, status: str = "available", region: str = REGION,
                     metadata: Mapping[str, str] | None = None, name: str = "manual") -> dict[str, Any]:
        """A snapshot someone made (in the dashboard, with the CLI)."""
        volume = self.volumes[region][volume_id]
        return self._store_snapshot(region, volume, name=name, description=None, metadata=dict(metadata or {}),
                                    status=status)

    def finish_snapshot(self, snapshot_id: str, status: str = "available") -> None:
        """Move a snapshot on, as the volume backend does: ``available`` (100%) or ``error``."""
        with self._lock:
            row = next(r[snapshot_id] for r in self.snapshots.values() if snapshot_id in r)
            row["status"] = status
            row["updated_at"] = self._stamp()
            if status == "available":
                row["progress"] = "100%"

    def _stamp(self) -> str:
        return (self.now + timedelta(seconds=next(self._created))).strftime("%Y-%m-%dT%H:%M:%S.%f")

    def _store_snapshot(self, region: str, volume: dict[str, Any], *, name: str | None, description: str | None,
                        metadata: dict[str, str], status: str = "creating") -> dict[str, Any]:
        sid, made = str(uuid.uuid4()), self._stamp()
        row = {"id": sid, "name": name, "description": description, "volume_id": volume["id"], "status": status,
               "size": volume["size"], "created_at": made, "updated_at": None, "metadata": metadata,
               "progress": "100%" if status == "available" else "0%"}
        with self._lock:
            self.snapshots.setdefault(region, {})[sid] = row
        return row

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
            "catalog": self._catalog(),
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

    # -- block storage (Cinder v3) -------------------------------------------------------

    def _catalog(self) -> list[dict[str, Any]]:
        def endpoints(public: str, other: str) -> list[dict[str, Any]]:
            return [{"id": uuid.uuid4().hex, "interface": interface, "region": region, "region_id": region,
                     "url": (public if interface == "public" else other).format(region=region)}
                    for region in self.regions for interface in ("public", "internal", "admin")]

        project = self.project["id"]
        catalog = [{"id": uuid.uuid4().hex, "type": "identity", "name": "keystone",
                    "endpoints": endpoints(f"{self.base_url}/v3/", f"{INTERNAL}/identity/v3/")}]
        cinder = endpoints(f"{self.base_url}/volume/{{region}}/v3/{project}", f"{INTERNAL}/v3/{project}")
        catalog += [{"id": uuid.uuid4().hex, "type": kind, "name": "cinderv3" if kind == "volumev3" else "cinder",
                     "endpoints": cinder} for kind in self.catalog_types]
        return catalog

    async def _cinder(self, request: Request, policy: str) -> Response | str:
        """Count the call and check it as the cloud would: a failure asked for, the region's
        endpoint, the token, the URL's project. The region, or the response to give instead."""
        region, path = request.path_params["region"], request.url.path.split("/", 5)[-1]
        with self._lock:
            self.cinder_requests.append((request.method, region, path))
            known = request.headers.get("X-Auth-Token", "") in self._tokens
        failure = self._next_failure("cinder")
        if failure is not None:
            return _fault(failure, f"Policy doesn't allow {policy} to be performed." if failure == 403 else
                          "The server has either erred or is incapable of performing the requested operation.")
        if region not in self.regions:
            return Response("404 Not Found", status_code=404)  # no such endpoint
        if not known:
            return JSONResponse(_UNAUTHORIZED, status_code=401)
        if request.path_params["project_id"] != self.project["id"]:
            return _fault(400, f"Malformed request URL: URL's project_id '{request.path_params['project_id']}' "
                               f"doesn't match Context's project_id '{self.project['id']}'")
        return str(region)

    def _page(self, request: Request, rows: list[dict[str, Any]], collection: str) -> Response:
        """Cinder's paging: newest first, ``limit`` capped, after ``marker``, a next link when full."""
        params = dict(request.query_params)
        with self._lock:
            self.cinder_queries.append(params)
        try:
            limit = min(int(params.get("limit", self.max_limit)), self.max_limit)
        except ValueError:
            return _fault(400, "limit param must be an integer")
        rows = sorted(rows, key=lambda r: (r["created_at"], r["id"]), reverse=True)
        if "marker" in params:
            ids = [r["id"] for r in rows]
            if params["marker"] not in ids:
                return _fault(404, f"Marker {params['marker']} could not be found.")
            rows = rows[ids.index(params["marker"]) + 1:]
        page = rows[:limit]
        body: dict[str, Any] = {collection: page}
        if page and limit <= len(page):
            query = urlencode({**params, "marker": page[-1]["id"]})
            path = request.url.path.split("/v3/", 1)[1]
            body[f"{collection}_links"] = [{"rel": "next", "href": f"{INTERNAL}/v3/{path}?{query}"}]
        return JSONResponse(body)

    async def _volumes_detail(self, request: Request) -> Response:
        region = await self._cinder(request, "volume:get_all")
        if isinstance(region, Response):
            return region
        rows = list(self.volumes.get(region, {}).values())
        wanted = request.query_params.get("metadata")
        if wanted is not None and self.metadata_filter:
            try:
                parsed = ast.literal_eval(wanted)
            except (ValueError, SyntaxError):
                parsed = wanted  # Cinder keeps what it cannot evaluate as a string
            # the database query matches a dict key by key; anything else matches no volume
            rows = [r for r in rows if isinstance(parsed, dict)
                    and all(r["metadata"].get(k) == v for k, v in parsed.items())]
        return self._page(request, rows, "volumes")

    async def _volume_show(self, request: Request) -> Response:
        region = await self._cinder(request, "volume:get")
        if isinstance(region, Response):
            return region
        row = self.volumes.get(region, {}).get(request.path_params["volume_id"])
        if row is None:
            return _fault(404, f"Volume {request.path_params['volume_id']} could not be found.")
        return JSONResponse({"volume": row})

    async def _snapshots_detail(self, request: Request) -> Response:
        region = await self._cinder(request, "volume:get_all_snapshots")
        if isinstance(region, Response):
            return region
        rows = [self._snapshot_view(r) for r in self.snapshots.get(region, {}).values()]
        return self._page(request, rows, "snapshots")

    async def _snapshot_show(self, request: Request) -> Response:
        region = await self._cinder(request, "volume:get_snapshot")
        if isinstance(region, Response):
            return region
        row = self.snapshots.get(region, {}).get(request.path_params["snapshot_id"])
        if row is None:
            return _fault(404, f"Snapshot {request.path_params['snapshot_id']} could not be found.")
        return JSONResponse({"snapshot": self._snapshot_view(row)})

    async def _snapshot_create(self, request: Request) -> Response:
        region = await self._cinder(request, "volume:create_snapshot")
        if isinstance(region, Response):
            return region
        try:
            body = json.loads(await request.body())
            snapshot = body["snapshot"]
        except (ValueError, KeyError, TypeError):
            return _fault(400, "Invalid input received: 'snapshot' is a required property")
        problem = _invalid_snapshot(snapshot)
        if problem:
            return _fault(400, f"Invalid input for field/attribute {problem}.")
        volume = self.volumes.get(region, {}).get(snapshot["volume_id"])
        if volume is None:
            return _fault(404, f"Volume {snapshot['volume_id']} could not be found.")
        if volume["status"] != "available" and snapshot.get("force") is not True:
            return _fault(400, f"Invalid volume: Volume {volume['id']} status must be available, but current "
                               f"status is: {volume['status']}.")
        if self.snapshot_quota is not None and len(self.snapshots.get(region, {})) >= self.snapshot_quota:
            return _fault(413, f"Maximum number of snapshots allowed ({self.snapshot_quota}) exceeded")
        row = self._store_snapshot(region, volume, name=snapshot.get("name"), description=snapshot.get("description"),
                                   metadata=dict(snapshot.get("metadata") or {}))
        view = {k: v for k, v in row.items() if k != "progress"}  # the extended attributes are on show and list
        return JSONResponse({"snapshot": view}, status_code=202)

    def _snapshot_view(self, row: dict[str, Any]) -> dict[str, Any]:
        view = {k: v for k, v in row.items() if k != "progress"}
        view["os-extended-snapshot-attributes:progress"] = row["progress"]
        view["os-extended-snapshot-attributes:project_id"] = self.project["id"]
        return view


def _fault(status: int, message: str) -> Response:
    body: dict[str, Any] = {"code": status, "message": message}
    headers = {}
    if status == 413:
        body["retryAfter"] = "0"
        headers["Retry-After"] = "0"
    return JSONResponse({_FAULTS.get(status, "computeFault"): body}, status_code=status, headers=headers)


def _invalid_snapshot(snapshot: Any) -> str | None:
    """What Cinder's create schema would refuse, by field; None when it passes."""
    if not isinstance(snapshot, dict) or not isinstance(snapshot.get("volume_id"), str):
        return "volume_id"
    extra = set(snapshot) - _SNAPSHOT_FIELDS
    if extra:
        return f"snapshot: additional properties are not allowed ({', '.join(sorted(extra))})"
    try:
        uuid.UUID(snapshot["volume_id"])
    except ValueError:
        return "volume_id"
    for key in ("name", "description"):
        value = snapshot.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > 255):
            return key
    if "force" in snapshot and not isinstance(snapshot["force"], bool):
        return "force"
    metadata = snapshot.get("metadata")
    if metadata is not None and (not isinstance(metadata, dict) or not all(
            isinstance(k, str) and _METADATA_KEY.match(k) and isinstance(v, str) and len(v) <= 255
            for k, v in metadata.items())):
        return "metadata"
    return None
