"""A local stand-in for the Compute Engine v1 REST API, as much of it as hubbot's disk backups call,
recording every call. Paths, field names (camelCase JSON) and nesting are Compute's own:

* disks: ``GET /compute/v1/projects/{project}/aggregated/disks`` (items keyed by ``zones/<zone>``,
  a zone without disks carrying Compute's ``NO_RESULTS_ON_PAGE`` warning), ``GET .../zones/{zone}/disks``
  and ``GET .../zones/{zone}/disks/{disk}``;
* ``POST .../zones/{zone}/disks/{disk}/createSnapshot`` with a Snapshot body: the snapshot appears at
  once as ``CREATING`` and the answer is a zonal Operation, ``RUNNING`` until a test finishes the
  snapshot; ``GET .../zones/{zone}/operations/{operation}``;
* snapshots: ``GET /compute/v1/projects/{project}/global/snapshots[/{snapshot}]``;
* resource policies (snapshot schedules): ``GET .../aggregated/resourcePolicies`` and
  ``GET .../regions/{region}/resourcePolicies/{policy}``.

Lists page with ``maxResults`` / ``pageToken`` / ``nextPageToken`` and honour Compute's ``filter``
for the expressions hubbot sends (``field = "value"``, several in parentheses meaning AND); any
other filter is refused with 400, as a malformed one is. int64 fields are JSON strings (``"sizeGb":
"100"``), as Compute sends them. Compute's enum-typed fields are strings in its protos, except
``Operation.status``: it is a number when the request asks ``$alt=json;enum-encoding=int`` and a
name otherwise (the Compute client does not ask; other Google clients do).

Errors have Compute's shape: ``{"error": {"code", "message", "errors": [{"message", "domain",
"reason"}]}}`` — a missing permission reads ``Required 'compute.x.y' permission for '<resource>'``
(reason ``forbidden``), a used-up quota ``Quota 'SNAPSHOTS' exceeded.  Limit: N globally.``
(reason ``quotaExceeded``). Any other path is answered 404 and recorded as ``unknown``.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

BASE = "https://www.googleapis.com/compute/v1"
OPERATION_STATUS = {"PENDING": 35394935, "RUNNING": 121282975, "DONE": 2104194}  # Operation.Status numbers
_PACIFIC = timezone(timedelta(hours=-7))  # Compute writes timestamps in US Pacific time, with the offset
_NAME = re.compile(r"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?")
_LABEL_KEY = re.compile(r"[a-z][a-z0-9_-]{0,62}")
_LABEL_VALUE = re.compile(r"[a-z0-9_-]{0,63}")
_TERM = re.compile(r'\s*([A-Za-z][A-Za-z0-9_.-]*)\s*(=|!=)\s*("([^"]*)"|[^\s()"]+)\s*')


@dataclass
class Call:
    route: str
    method: str
    path: str
    query: dict[str, str]
    body: Any


@dataclass
class Failure:
    status: int
    message: str
    reason: str
    domain: str = "global"
    project: str | None = None  # only calls for this project, when set


def compute_error(status: int, message: str, *, reason: str, domain: str = "global") -> dict[str, Any]:
    return {"error": {"code": status, "message": message,
                      "errors": [{"message": message, "domain": domain, "reason": reason}]}}


@dataclass
class _Project:
    disks: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (zone, name)
    snapshots: dict[str, dict[str, Any]] = field(default_factory=dict)
    policies: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (region, name)
    operations: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (zone, name)


class ComputeStandIn:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(4_000_000_000_000_000_001)
        self.reset()
        self.app = FastAPI()
        p = "/compute/v1/projects/{project}"
        for path, handler, methods in [
            (f"{p}/aggregated/disks", self._aggregated_disks, ["GET"]),
            (f"{p}/zones/{{zone}}/disks", self._zone_disks, ["GET"]),
            (f"{p}/zones/{{zone}}/disks/{{disk}}", self._disk, ["GET"]),
            (f"{p}/zones/{{zone}}/disks/{{disk}}/createSnapshot", self._create_snapshot, ["POST"]),
            (f"{p}/zones/{{zone}}/operations/{{operation}}", self._operation, ["GET"]),
            (f"{p}/global/snapshots", self._snapshots, ["GET"]),
            (f"{p}/global/snapshots/{{snapshot}}", self._snapshot, ["GET"]),
            (f"{p}/aggregated/resourcePolicies", self._aggregated_policies, ["GET"]),
            (f"{p}/regions/{{region}}/resourcePolicies/{{policy}}", self._policy, ["GET"]),
            ("/{rest:path}", self._unknown, ["GET", "POST", "PATCH", "PUT", "DELETE"]),
        ]:
            self.app.add_api_route(path, handler, methods=methods)

    # -- test controls ----------------------------------------------------------------

    def reset(self) -> None:
        """Forget calls, failures and every resource, as a fresh stand-in."""
        with self._lock:
            self.calls = []
            self._failures: dict[str, list[Failure]] = {}
            self._projects: dict[str, _Project] = {}
            self.page_size = 500  # Compute's most per page (maxResults)
            self.snapshot_quota: int | None = None  # SNAPSHOTS quota per project; None: unlimited
            # (code, message): createSnapshot answers with an operation already DONE with this error and
            # makes no snapshot, as Compute does for some refusals it finds after accepting the call.
            self.operation_error: tuple[str, str] | None = None
            # Creation times: a fixed start, one minute later for each new resource, so order is certain.
            self._clock = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)

    def fail(self, route: str, status: int, *, message: str = "", reason: str = "backendError",
             domain: str = "global", times: int = 1, project: str | None = None) -> None:
        """Answer the next ``times`` calls of ``route`` (``disks.aggregatedList``, ``disks.list``,
        ``disks.get``, ``disks.createSnapshot``, ``zoneOperations.get``, ``snapshots.list``,
        ``snapshots.get``, ``resourcePolicies.aggregatedList``, ``resourcePolicies.get``) with an error."""
        with self._lock:
            self._failures.setdefault(route, []).extend(
                [Failure(status, message or f"stand-in failure {status}", reason, domain, project)] * times)

    def deny(self, route: str, permission: str, resource: str, *, times: int = 1, project: str | None = None) -> None:
        """Refuse ``route`` as IAM does when the caller lacks ``permission`` on ``resource`` (only
        for ``project``'s calls, when given)."""
        self.fail(route, 403, message=f"Required '{permission}' permission for '{resource}'", reason="forbidden",
                  times=times, project=project)

    def of(self, route: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.route == route]

    def add_disk(self, project: str, zone: str, name: str, *, size_gb: int = 100, labels: dict[str, str] | None = None,
                 policies: list[str] | None = None) -> dict[str, Any]:
        """A persistent disk, as terraform or an engineer made it; ``policies`` are resource policy
        names in the zone's region, attached to it."""
        region = zone.rsplit("-", 1)[0]
        disk = {
            "kind": "compute#disk", "id": self._id(), "creationTimestamp": self._stamp(), "name": name,
            "sizeGb": str(size_gb), "zone": f"{BASE}/projects/{project}/zones/{zone}", "status": "READY",
            "selfLink": f"{BASE}/projects/{project}/zones/{zone}/disks/{name}",
            "type": f"{BASE}/projects/{project}/zones/{zone}/diskTypes/pd-balanced",
            "labelFingerprint": "42WmSpB8rSM=", "physicalBlockSizeBytes": "4096", "architecture": "X86_64",
            "users": [f"{BASE}/projects/{project}/zones/{zone}/instances/nfs-server"],
        }
        if labels:
            disk["labels"] = dict(labels)
        if policies:
            disk["resourcePolicies"] = [f"{BASE}/projects/{project}/regions/{region}/resourcePolicies/{p}"
                                        for p in policies]
        with self._lock:
            self._project(project).disks[(zone, name)] = disk
        return disk

    def attach(self, project: str, zone: str, disk: str, policy: str) -> None:
        """Attach resource policy ``policy`` (in the zone's region) to a disk, as addResourcePolicies does."""
        region = zone.rsplit("-", 1)[0]
        with self._lock:
            found = self._project(project).disks[(zone, disk)]
            found.setdefault("resourcePolicies", []).append(
                f"{BASE}/projects/{project}/regions/{region}/resourcePolicies/{policy}")

    def add_policy(self, project: str, region: str, name: str, *, schedule: dict[str, Any],
                   max_retention_days: int | None = None, status: str = "READY") -> dict[str, Any]:
        """A snapshot schedule; ``schedule`` is Compute's ``{"dailySchedule": {...}}``,
        ``{"hourlySchedule": {...}}`` or ``{"weeklySchedule": {"dayOfWeeks": [...]}}``."""
        snapshot_policy: dict[str, Any] = {"schedule": schedule,
                                           "snapshotProperties": {"storageLocations": [region]}}
        if max_retention_days is not None:
            snapshot_policy["retentionPolicy"] = {"maxRetentionDays": max_retention_days,
                                                  "onSourceDiskDelete": "KEEP_AUTO_SNAPSHOTS"}
        policy = {
            "kind": "compute#resourcePolicy", "id": self._id(), "creationTimestamp": self._stamp(),
            "selfLink": f"{BASE}/projects/{project}/regions/{region}/resourcePolicies/{name}",
            "region": f"{BASE}/projects/{project}/regions/{region}", "name": name, "status": status,
            "snapshotSchedulePolicy": snapshot_policy,
        }
        with self._lock:
            self._project(project).policies[(region, name)] = policy
        return policy

    def add_snapshot(self, project: str, zone: str, disk: str, name: str, *, status: str = "READY",
                     policy: str | None = None, labels: dict[str, str] | None = None,
                     description: str | None = None) -> dict[str, Any]:
        """A snapshot someone or something else made: a snapshot schedule (``policy``, its name in
        the zone's region) or a person in the console."""
        with self._lock:
            source = self._project(project).disks[(zone, disk)]
            snapshot = self._new_snapshot(project, source, {"name": name, "labels": labels or {},
                                                            "description": description or ""})
            snapshot["status"] = status
            if policy is not None:
                region = zone.rsplit("-", 1)[0]
                snapshot["autoCreated"] = True
                snapshot["sourceSnapshotSchedulePolicy"] = (
                    f"{BASE}/projects/{project}/regions/{region}/resourcePolicies/{policy}")
                snapshot["sourceSnapshotSchedulePolicyId"] = self._id()
            self._project(project).snapshots[name] = snapshot
        return snapshot

    def remove_snapshot(self, project: str, name: str) -> None:
        """Take a snapshot out of the lists, as in the moment before Compute shows a new one."""
        with self._lock:
            del self._project(project).snapshots[name]

    def snapshot(self, project: str, name: str) -> dict[str, Any]:
        with self._lock:
            return dict(self._project(project).snapshots[name])

    def finish(self, project: str, name: str, status: str, *, error: tuple[str, str] | None = None) -> None:
        """Move a snapshot on (``UPLOADING``, ``READY``, ``FAILED``, ``DELETING``), and the
        operation that made it to ``DONE`` once it is ready or failed; with ``error`` (code,
        message) the operation failed and the snapshot is gone, as when Compute refuses it late."""
        with self._lock:
            state = self._project(project)
            snapshot = state.snapshots[name]
            if status == "READY":
                snapshot["storageBytes"], snapshot["storageBytesStatus"] = "1073741824", "UP_TO_DATE"
            snapshot["status"] = status
            for operation in state.operations.values():
                if operation.get("targetSnapshot") == name and status in ("READY", "FAILED"):
                    operation.update(status="DONE", progress=100, endTime=self._stamp())
                    if error is not None:
                        operation["error"] = {"errors": [{"code": error[0], "message": error[1]}]}
                        operation["httpErrorStatusCode"], operation["httpErrorMessage"] = 403, "FORBIDDEN"
                        del state.snapshots[name]

    # -- plumbing ---------------------------------------------------------------------

    def _project(self, project: str) -> _Project:
        return self._projects.setdefault(project, _Project())

    def _id(self) -> str:
        return str(next(self._ids))

    def _stamp(self) -> str:
        self._clock += timedelta(minutes=1)
        return self._clock.astimezone(_PACIFIC).isoformat(timespec="milliseconds")

    async def _record(self, route: str, request: Request) -> Call:
        raw = await request.body()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        call = Call(route, request.method, request.url.path, dict(request.query_params), body)
        with self._lock:
            self.calls.append(call)
        return call

    def _failure(self, route: str, path: str = "") -> Response | None:
        with self._lock:
            queue = self._failures.get(route) or []
            failure = next((f for f in queue if f.project is None or f"/projects/{f.project}/" in path), None)
            if failure is not None:
                queue.remove(failure)
        if failure is None:
            return None
        return JSONResponse(compute_error(failure.status, failure.message, reason=failure.reason,
                                          domain=failure.domain), status_code=failure.status)

    async def _start(self, route: str, request: Request) -> tuple[Call, Response | None]:
        call = await self._record(route, request)
        return call, self._failure(route, call.path)

    def _page(self, call: Call, items: list[Any]) -> tuple[list[Any], str | None] | Response:
        try:
            size = min(int(call.query.get("maxResults") or self.page_size), self.page_size)
            offset = int(call.query.get("pageToken") or 0)
        except ValueError:
            return _bad_request("Invalid value for field 'pageToken'.")
        if size < 1:
            return _bad_request("Invalid value for field 'maxResults': must be at least 1.")
        end = offset + size
        return items[offset:end], (str(end) if end < len(items) else None)

    # -- disks ------------------------------------------------------------------------

    async def _aggregated_disks(self, project: str, request: Request) -> Response:
        call, failed = await self._start("disks.aggregatedList", request)
        if failed:
            return failed
        chosen = _filtered(call, self._disks(project))
        if isinstance(chosen, Response):
            return chosen
        paged = self._page(call, chosen)
        if isinstance(paged, Response):
            return paged
        page, token = paged
        items: dict[str, Any] = {}
        for disk in page:
            items.setdefault(f"zones/{_last(disk['zone'])}", {"disks": []})["disks"].append(disk)
        for zone in ("us-east1-b", "europe-west1-d"):  # zones without disks, as Compute lists them
            scope = f"zones/{zone}"
            items.setdefault(scope, {"warning": {
                "code": "NO_RESULTS_ON_PAGE", "message": f"There are no results for scope '{scope}' on this page.",
                "data": [{"key": "scope", "value": scope}]}})
        body: dict[str, Any] = {"kind": "compute#diskAggregatedList", "id": f"projects/{project}/aggregated/disks",
                                "items": items, "selfLink": f"{BASE}/projects/{project}/aggregated/disks"}
        if token:
            body["nextPageToken"] = token
        return JSONResponse(body)

    async def _zone_disks(self, project: str, zone: str, request: Request) -> Response:
        call, failed = await self._start("disks.list", request)
        if failed:
            return failed
        chosen = _filtered(call, [d for d in self._disks(project) if _last(d["zone"]) == zone])
        if isinstance(chosen, Response):
            return chosen
        paged = self._page(call, chosen)
        if isinstance(paged, Response):
            return paged
        page, token = paged
        body: dict[str, Any] = {"kind": "compute#diskList", "id": f"projects/{project}/zones/{zone}/disks",
                                "items": page, "selfLink": f"{BASE}/projects/{project}/zones/{zone}/disks"}
        if token:
            body["nextPageToken"] = token
        return JSONResponse(body)

    async def _disk(self, project: str, zone: str, disk: str, request: Request) -> Response:
        _, failed = await self._start("disks.get", request)
        if failed:
            return failed
        with self._lock:
            found = self._project(project).disks.get((zone, disk))
        if found is None:
            return _not_found(f"projects/{project}/zones/{zone}/disks/{disk}")
        return JSONResponse(found)

    def _disks(self, project: str) -> list[dict[str, Any]]:
        with self._lock:
            state = self._project(project)
            return [state.disks[key] for key in sorted(state.disks)]

    # -- snapshots ----------------------------------------------------------------------

    async def _create_snapshot(self, project: str, zone: str, disk: str, request: Request) -> Response:
        call, failed = await self._start("disks.createSnapshot", request)
        if failed:
            return failed
        body = call.body if isinstance(call.body, dict) else {}
        name = body.get("name")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            return _bad_request(f"Invalid value for field 'resource.name': '{name}'. Must be a match of regex "
                                "'(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'")
        for key, value in (body.get("labels") or {}).items():
            if not _LABEL_KEY.fullmatch(key) or not _LABEL_VALUE.fullmatch(value):
                return _bad_request(f"Invalid value for field 'resource.labels': ''. Label '{key}' or its value "
                                    f"'{value}' violates format constraints.")
        with self._lock:
            state = self._project(project)
            source = state.disks.get((zone, disk))
            if source is None:
                return _not_found(f"projects/{project}/zones/{zone}/disks/{disk}")
            if name in state.snapshots:
                message = f"The resource 'projects/{project}/global/snapshots/{name}' already exists"
                return JSONResponse(compute_error(409, message, reason="alreadyExists"), status_code=409)
            if self.snapshot_quota is not None and len(state.snapshots) >= self.snapshot_quota:
                message = f"Quota 'SNAPSHOTS' exceeded.  Limit: {float(self.snapshot_quota)} globally."
                return JSONResponse(compute_error(403, message, reason="quotaExceeded", domain="usageLimits"),
                                    status_code=403)
            if self.operation_error is None:
                state.snapshots[name] = self._new_snapshot(project, source, body)
            operation_name = f"operation-{int(self._clock.timestamp() * 1000)}-{self._id()[-8:]}"
            now = self._stamp()
            operation = {
                "kind": "compute#operation", "id": self._id(), "name": operation_name,
                "zone": f"{BASE}/projects/{project}/zones/{zone}", "operationType": "createSnapshot",
                "targetLink": source["selfLink"], "targetId": source["id"], "status": "RUNNING",
                "user": "hubbot@hub-project.iam.gserviceaccount.com", "progress": 0, "insertTime": now,
                "startTime": now, "selfLink": f"{BASE}/projects/{project}/zones/{zone}/operations/{operation_name}",
                "targetSnapshot": name,  # the stand-in's own bookkeeping; stripped from answers
            }
            if self.operation_error is not None:
                code, message = self.operation_error
                operation.update(status="DONE", progress=100, endTime=now, httpErrorStatusCode=403,
                                 httpErrorMessage="FORBIDDEN", error={"errors": [{"code": code, "message": message}]})
            state.operations[(zone, operation_name)] = operation
            return JSONResponse(_operation_json(operation, call))

    def _new_snapshot(self, project: str, source: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        name = body["name"]
        snapshot = {
            "kind": "compute#snapshot", "id": self._id(), "creationTimestamp": self._stamp(), "name": name,
            "status": "CREATING", "sourceDisk": source["selfLink"], "sourceDiskId": source["id"],
            "diskSizeGb": source["sizeGb"], "storageBytes": "0", "storageBytesStatus": "UPDATING",
            "selfLink": f"{BASE}/projects/{project}/global/snapshots/{name}", "labelFingerprint": "42WmSpB8rSM=",
            "storageLocations": body.get("storageLocations") or ["us"], "snapshotType": "STANDARD",
            "architecture": "X86_64", "creationSizeBytes": "0",
        }
        if body.get("description"):
            snapshot["description"] = body["description"]
        if body.get("labels"):
            snapshot["labels"] = dict(body["labels"])
        return snapshot

    async def _operation(self, project: str, zone: str, operation: str, request: Request) -> Response:
        call, failed = await self._start("zoneOperations.get", request)
        if failed:
            return failed
        with self._lock:
            found = self._project(project).operations.get((zone, operation))
            answer = _operation_json(found, call) if found is not None else None
        if answer is None:
            return _not_found(f"projects/{project}/zones/{zone}/operations/{operation}")
        return JSONResponse(answer)

    async def _snapshots(self, project: str, request: Request) -> Response:
        call, failed = await self._start("snapshots.list", request)
        if failed:
            return failed
        with self._lock:
            snapshots = [dict(s) for s in self._project(project).snapshots.values()]
        chosen = _filtered(call, snapshots)
        if isinstance(chosen, Response):
            return chosen
        paged = self._page(call, chosen)
        if isinstance(paged, Response):
            return paged
        page, token = paged
        body: dict[str, Any] = {"kind": "compute#snapshotList", "id": f"projects/{project}/global/snapshots",
                                "items": page, "selfLink": f"{BASE}/projects/{project}/global/snapshots"}
        if token:
            body["nextPageToken"] = token
        return JSONResponse(body)

    async def _snapshot(self, project: str, snapshot: str, request: Request) -> Response:
        _, failed = await self._start("snapshots.get", request)
        if failed:
            return failed
        with self._lock:
            found = self._project(project).snapshots.get(snapshot)
            answer = dict(found) if found is not None else None
        if answer is None:
            return _not_found(f"projects/{project}/global/snapshots/{snapshot}")
        return JSONResponse(answer)

    # -- resource policies --------------------------------------------------------------

    async def _aggregated_policies(self, project: str, request: Request) -> Response:
        call, failed = await self._start("resourcePolicies.aggregatedList", request)
        if failed:
            return failed
        with self._lock:
            state = self._project(project)
            policies = [dict(state.policies[key]) for key in sorted(state.policies)]
        paged = self._page(call, policies)
        if isinstance(paged, Response):
            return paged
        page, token = paged
        items: dict[str, Any] = {}
        for policy in page:
            items.setdefault(f"regions/{_last(policy['region'])}", {"resourcePolicies": []})[
                "resourcePolicies"].append(policy)
        body: dict[str, Any] = {"kind": "compute#resourcePolicyAggregatedList",
                                "id": f"projects/{project}/aggregated/resourcePolicies", "items": items,
                                "selfLink": f"{BASE}/projects/{project}/aggregated/resourcePolicies"}
        if token:
            body["nextPageToken"] = token
        return JSONResponse(body)

    async def _policy(self, project: str, region: str, policy: str, request: Request) -> Response:
        _, failed = await self._start("resourcePolicies.get", request)
        if failed:
            return failed
        with self._lock:
            found = self._project(project).policies.get((region, policy))
        if found is None:
            return _not_found(f"projects/{project}/regions/{region}/resourcePolicies/{policy}")
        return JSONResponse(found)

    async def _unknown(self, rest: str, request: Request) -> Response:
        await self._record("unknown", request)
        return JSONResponse(compute_error(404, f"no such method: {request.method} /{rest}", reason="notFound"),
                            status_code=404)


def _operation_json(operation: dict[str, Any], call: Call) -> dict[str, Any]:
    answer = {k: v for k, v in operation.items() if k != "targetSnapshot"}
    if "enum-encoding=int" in call.query.get("$alt", ""):
        answer["status"] = OPERATION_STATUS[answer["status"]]
    return answer


def _last(link: str) -> str:
    return link.rstrip("/").rsplit("/", 1)[-1]


def _bad_request(message: str) -> Response:
    return JSONResponse(compute_error(400, message, reason="invalid"), status_code=400)


def _not_found(resource: str) -> Response:
    return JSONResponse(compute_error(404, f"The resource '{resource}' was not found", reason="notFound"),
                        status_code=404)


def _filtered(call: Call, items: list[dict[str, Any]]) -> list[dict[str, Any]] | Response:
    """``items`` that Compute's ``filter`` keeps, for a single ``field = "value"`` (or ``!=``) or
    several such in parentheses (all must hold), fields dotted into nested objects."""
    text = call.query.get("filter", "").strip()
    if not text:
        return items
    terms = re.findall(r"\(([^()]*)\)", text) if text.startswith("(") else [text]
    if text.startswith("(") and re.sub(r"\([^()]*\)", "", text).strip():
        return _bad_request(f"Invalid value for field 'filter': '{text}'. Invalid list filter expression.")
    parsed = []
    for term in terms:
        match = _TERM.fullmatch(term)
        if match is None:
            return _bad_request(f"Invalid value for field 'filter': '{text}'. Invalid list filter expression.")
        value = match.group(4) if match.group(4) is not None else match.group(3)
        parsed.append((match.group(1).split("."), match.group(2), value))

    def keeps(item: dict[str, Any]) -> bool:
        for path, op, value in parsed:
            found: Any = item
            for part in path:
                found = found.get(part) if isinstance(found, dict) else None
            if (str(found) == value if found is not None else False) != (op == "="):
                return False
        return True

    return [item for item in items if keeps(item)]
