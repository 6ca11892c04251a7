"""A local stand-in for the Google Cloud REST APIs hubbot's GCP adapters call, recording every call.

It answers with the shapes the real services document:

* BigQuery ``jobs.query`` (``POST /bigquery/v2/projects/{project}/queries``): a finished query with
  ``schema.fields`` and ``rows: [{"f": [{"v": ...}]}]``; the rows are whatever the test set. The
  export table is partitioned by the day each row was written (``_PARTITIONTIME``) and, as a table
  with ``require_partition_filter`` does, refuses a query without a filter on it, so a query that
  would scan the table's whole history cannot pass.
* Cloud Billing Budgets v1: list, create and patch (with ``updateMask`` and etag checks); a budget's
  filter is checked as the API checks it (a calendar period it knows; ``labels`` a map of one label
  key to a list of one value, the most the API takes).
* Cloud Billing v1: ``GET /v1/projects/{project}/billingInfo``.
* Google's OAuth2 v1 certificate endpoint: PEM certificates keyed by key id, with Cache-Control.

Any route can be told to fail its next calls with an HTTP status, Google's error JSON and
headers. Anything else is answered 404 and recorded, so a test sees unexpected calls.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

_STATUS = {
    400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 409: "ABORTED",
    429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE",
}
_BQ_REASON = {
    400: "invalidQuery", 403: "accessDenied", 404: "notFound", 429: "rateLimitExceeded",
    500: "backendError", 503: "backendError",
}

# The columns hubbot's cost query selects, in order, as BigQuery describes them.
COST_FIELDS = [
    {"name": "usage_day", "type": "DATE", "mode": "NULLABLE"},
    {"name": "hub", "type": "STRING", "mode": "NULLABLE"},
    {"name": "service_name", "type": "STRING", "mode": "NULLABLE"},
    {"name": "currency_code", "type": "STRING", "mode": "NULLABLE"},
    {"name": "cost_type", "type": "STRING", "mode": "NULLABLE"},
    {"name": "amount", "type": "NUMERIC", "mode": "NULLABLE"},
]


@dataclass
class Call:
    route: str
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Failure:
    status: int
    message: str
    headers: dict[str, str]
    details: list[dict[str, Any]]
    reason: str | None


def google_error(status: int, message: str, *, bigquery: bool = False, reason: str | None = None,
                 details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Google's JSON error body; BigQuery adds its legacy ``errors`` list with a reason."""
    error: dict[str, Any] = {"code": status, "message": message, "status": _STATUS.get(status, "UNKNOWN")}
    if bigquery:
        reason = reason or _BQ_REASON.get(status, "invalid")
        error["errors"] = [{"message": message, "domain": "global", "reason": reason}]
    if details:
        error["details"] = details
    return {"error": error}


def permission_detail(permission: str) -> dict[str, Any]:
    return {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "IAM_PERMISSION_DENIED",
            "domain": "cloudbilling.googleapis.com", "metadata": {"permission": permission}}


def retry_detail(seconds: int) -> dict[str, Any]:
    return {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{seconds}s"}


class SigningKey:
    """An RSA key with a self-signed certificate, as Google publishes its token-signing keys."""

    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        now = datetime.now(UTC)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "standin.example")])
        cert = (
            x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=2))
            .sign(self.key, hashes.SHA256())
        )
        self.cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
        self.private_pem = self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()


class GcpStandIn:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._failures: dict[str, list[Failure]] = {}
        self._etags = itertools.count(1)
        # BigQuery: the rows the next queries return, as lists of cell values (strings or None). A row
        # may carry one value past the fields: the day the export wrote it (its partition); without
        # it, the row was written on its usage day.
        self.bq_fields: list[dict[str, str]] = list(COST_FIELDS)
        self.bq_rows: list[list[str | None]] = []
        # Rows per project (the query's @project), for an export that holds several projects' costs;
        # a project not named here gets bq_rows.
        self.bq_by_project: dict[str, list[list[str | None]]] = {}
        # Budgets by billing account ID, then by budget ID, in REST JSON form.
        self.budgets: dict[str, dict[str, dict[str, Any]]] = {}
        # Project billing info by project ID, in REST JSON form.
        self.billing: dict[str, dict[str, Any]] = {}
        self.signing_keys: list[SigningKey] = []
        self.certs_max_age = 3600
        self.budget_page_size = 50  # the most budgets one list page holds (the API's own default is 50)
        # With a service account set (its email and key), every API call must carry a credential of
        # it (``Authorization: Bearer``), as Google checks: the access token POST /token hands out
        # for a JWT assertion the key signed, or a JWT the key signed itself (what GAPIC clients send).
        self.service_account: tuple[str, SigningKey] | None = None
        self.access_token = "ya29.standin-access-token"
        self.app = Starlette(routes=[
            Route("/bigquery/v2/projects/{project}/queries", self._bq_query, methods=["POST"]),
            Route("/v1/billingAccounts/{account}/budgets", self._budgets, methods=["GET", "POST"]),
            Route("/v1/billingAccounts/{account}/budgets/{budget}", self._budget, methods=["GET", "PATCH"]),
            Route("/v1/projects/{project}/billingInfo", self._billing_info, methods=["GET"]),
            Route("/oauth2/v1/certs", self._certs, methods=["GET"]),
            Route("/token", self._token, methods=["POST"]),
            Route("/{rest:path}", self._unknown, methods=["GET", "POST", "PATCH", "PUT", "DELETE"]),
        ])

    # -- test controls ----------------------------------------------------------------

    def fail(self, route: str, status: int, *, message: str = "", times: int = 1, reason: str | None = None,
             headers: dict[str, str] | None = None, details: list[dict[str, Any]] | None = None) -> None:
        """Answer the next ``times`` calls of ``route`` (``bq.query``, ``budgets.list``,
        ``budgets.create``, ``budgets.patch``, ``billing.info``, ``certs``) with an error;
        ``reason`` overrides BigQuery's error reason (it answers 403 ``rateLimitExceeded``)."""
        failure = Failure(status, message or f"stand-in failure {status}", headers or {}, details or [], reason)
        with self._lock:
            self._failures.setdefault(route, []).extend([failure] * times)

    def of(self, route: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.route == route]

    def routes(self) -> list[str]:
        with self._lock:
            return [c.route for c in self.calls]

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()
            self._failures.clear()

    def reset(self) -> None:
        """Forget calls, failures and every stored thing, as a fresh stand-in."""
        self.clear()
        with self._lock:
            self.bq_fields = list(COST_FIELDS)
            self.bq_rows = []
            self.bq_by_project = {}
            self.budgets.clear()
            self.billing.clear()
            self.signing_keys.clear()
            self.budget_page_size = 50
            self.certs_max_age = 3600

    def add_budget(self, account: str, budget: dict[str, Any]) -> str:
        """Store a budget as if someone had made it; returns its resource name."""
        budget_id = str(uuid.uuid4())
        name = f"billingAccounts/{account}/budgets/{budget_id}"
        with self._lock:
            self.budgets.setdefault(account, {})[budget_id] = {**budget, "name": name, "etag": self._etag()}
        return name

    def new_signing_key(self, kid: str) -> SigningKey:
        key = SigningKey(kid)
        with self._lock:
            self.signing_keys.append(key)
        return key

    # -- plumbing ---------------------------------------------------------------------

    def _etag(self) -> str:
        return f"etag-{next(self._etags)}"

    async def _record(self, route: str, request: Request) -> Call:
        raw = await request.body()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        call = Call(route, request.method, request.url.path, dict(request.query_params), body, dict(request.headers))
        with self._lock:
            self.calls.append(call)
        return call

    def _failure(self, route: str) -> Response | None:
        with self._lock:
            queue = self._failures.get(route)
            failure = queue.pop(0) if queue else None
        if failure is None:
            return None
        body = google_error(failure.status, failure.message, bigquery=route.startswith("bq."),
                            reason=failure.reason, details=failure.details)
        return JSONResponse(body, status_code=failure.status, headers=failure.headers)

    # -- BigQuery ---------------------------------------------------------------------

    async def _bq_query(self, request: Request) -> Response:
        call = await self._record("bq.query", request)
        failed = self._failure("bq.query") or self._unauthenticated(request)
        if failed is not None:
            return failed
        body = call.body if isinstance(call.body, dict) else {}
        if not isinstance(body.get("query"), str) or body.get("useLegacySql") is not False:
            return JSONResponse(google_error(400, "expected a standard SQL query", bigquery=True), status_code=400)
        params = _query_parameters(body)
        if isinstance(params, str):
            return JSONResponse(google_error(400, params, bigquery=True, reason="invalidQuery"), status_code=400)
        first_partition = _first_partition(body, params)
        if first_partition is None:
            table = _TABLE_IN_QUERY.search(body["query"])
            message = (f"Cannot query over table '{table.group(1) if table else '?'}' without a filter over "
                       "column(s) '_PARTITIONTIME' that can be used for partition elimination")
            return JSONResponse(google_error(400, message, bigquery=True, reason="invalidQuery"), status_code=400)
        project = request.path_params["project"]
        job_id = f"job_{uuid.uuid4().hex}"
        start, end = params.get("start_day"), params.get("end_day")
        with self._lock:  # the partitions and the day window are applied as the query's WHERE would
            fields = list(self.bq_fields)
            day = next((i for i, f in enumerate(fields) if f.get("name") == "usage_day"), None)
            rows = []
            for row in self.bq_by_project.get(str(params.get("project")), self.bq_rows):
                written = row[len(fields)] if len(row) > len(fields) else row[day] if day is not None else None
                if written is not None and str(written) < first_partition:
                    continue
                if start is None or end is None or day is None or start <= str(row[day]) < end:
                    rows.append({"f": [{"v": value} for value in row[:len(fields)]]})
        return JSONResponse({
            "kind": "bigquery#queryResponse",
            "schema": {"fields": fields},
            "jobReference": {"projectId": project, "jobId": job_id, "location": "US"},
            "queryId": job_id,
            "totalRows": str(len(rows)),
            "rows": rows,
            "totalBytesProcessed": "1024",
            "jobComplete": True,
            "cacheHit": False,
        })

    # -- Cloud Billing Budgets ----------------------------------------------------------

    async def _budgets(self, request: Request) -> Response:
        account = request.path_params["account"]
        if request.method == "GET":
            await self._record("budgets.list", request)
            failed = self._failure("budgets.list") or self._unauthenticated(request)
            if failed is not None:
                return failed
            query = dict(request.query_params)
            size = min(int(query.get("pageSize") or self.budget_page_size), self.budget_page_size)
            offset = int(query.get("pageToken") or 0)
            with self._lock:
                budgets = list(self.budgets.get(account, {}).values())
            page: dict[str, Any] = {}
            if budgets[offset:offset + size]:
                page["budgets"] = budgets[offset:offset + size]
            if offset + size < len(budgets):
                page["nextPageToken"] = str(offset + size)
            return JSONResponse(page)
        call = await self._record("budgets.create", request)
        failed = self._failure("budgets.create") or self._unauthenticated(request)
        if failed is not None:
            return failed
        budget = dict(call.body) if isinstance(call.body, dict) else {}
        if "amount" not in budget:
            return JSONResponse(google_error(400, "Budget amount is required."), status_code=400)
        problem = _filter_problem(budget.get("budgetFilter"))
        if problem is not None:
            return JSONResponse(google_error(400, problem), status_code=400)
        name = self.add_budget(account, budget)
        with self._lock:
            stored = self.budgets[account][name.rsplit("/", 1)[1]]
        return JSONResponse(stored)

    async def _budget(self, request: Request) -> Response:
        account, budget_id = request.path_params["account"], request.path_params["budget"]
        route = "budgets.get" if request.method == "GET" else "budgets.patch"
        call = await self._record(route, request)
        failed = self._failure(route) or self._unauthenticated(request)
        if failed is not None:
            return failed
        with self._lock:
            stored = self.budgets.get(account, {}).get(budget_id)
        if stored is None:
            return JSONResponse(google_error(404, "Budget not found."), status_code=404)
        if request.method == "GET":
            return JSONResponse(stored)
        update = call.body if isinstance(call.body, dict) else {}
        if update.get("etag") and update["etag"] != stored["etag"]:
            return JSONResponse(google_error(409, "The budget was modified concurrently."), status_code=409)
        mask = call.query.get("updateMask", "")
        paths = [_camel(p.strip()) for p in mask.split(",") if p.strip()]
        if not paths:
            return JSONResponse(google_error(400, "update_mask is required."), status_code=400)
        problem = _filter_problem(update.get("budgetFilter")) if "budgetFilter" in paths else None
        if problem is not None:
            return JSONResponse(google_error(400, problem), status_code=400)
        with self._lock:
            for path in paths:
                if path in update:
                    stored[path] = update[path]
                else:
                    stored.pop(path, None)
            stored["etag"] = self._etag()
            answer = dict(stored)
        return JSONResponse(answer)

    # -- Cloud Billing ------------------------------------------------------------------

    async def _billing_info(self, request: Request) -> Response:
        await self._record("billing.info", request)
        failed = self._failure("billing.info") or self._unauthenticated(request)
        if failed is not None:
            return failed
        project = request.path_params["project"]
        with self._lock:
            info = self.billing.get(project)
        if info is None:
            return JSONResponse(google_error(403, f"The caller does not have permission on project {project}",
                                             details=[permission_detail("resourcemanager.projects.get")]),
                                status_code=403)
        return JSONResponse({"name": f"projects/{project}/billingInfo", "projectId": project, **info})

    # -- OAuth2 certificates ------------------------------------------------------------

    async def _certs(self, request: Request) -> Response:
        await self._record("certs", request)
        failed = self._failure("certs")
        if failed is not None:
            return failed
        with self._lock:
            certs = {k.kid: k.cert_pem for k in self.signing_keys}
        return JSONResponse(certs, headers={"Cache-Control": f"public, max-age={self.certs_max_age}, must-revalidate"})

    def _unauthenticated(self, request: Request) -> Response | None:
        if self.service_account is None:
            return None
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        if bearer == self.access_token or self._signed_by_the_account(bearer):
            return None
        message = ("Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie "
                   "or other valid authentication credential.")
        return JSONResponse(google_error(401, message), status_code=401,
                            headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'})

    def _signed_by_the_account(self, token: str, audience: str | None = None) -> bool:
        from google.auth import exceptions, jwt

        assert self.service_account is not None
        email, key = self.service_account
        try:
            claims = jwt.decode(token, certs={key.kid: key.cert_pem}, audience=audience)
        except (exceptions.GoogleAuthError, ValueError):
            return False
        return bool(claims.get("iss") == email)

    async def _token(self, request: Request) -> Response:
        await self._record("token", request)
        form = dict(parse_qsl((await request.body()).decode()))
        if (self.service_account is None or form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer"
                or not self._signed_by_the_account(form.get("assertion", ""))):
            return JSONResponse({"error": "invalid_grant", "error_description": "Invalid JWT Signature."},
                                status_code=400)
        return JSONResponse({"access_token": self.access_token, "expires_in": 3599, "token_type": "Bearer"})

    async def _unknown(self, request: Request) -> Response:
        await self._record("unknown", request)
        return JSONResponse(google_error(404, f"no such method: {request.method} {request.url.path}"), status_code=404)


_PARAM = re.compile(r"@([A-Za-z_][A-Za-z0-9_]*)")
_PARTITION_FILTER = re.compile(r"\b_PARTITIONTIME\s*>=\s*TIMESTAMP\(\s*@([A-Za-z_][A-Za-z0-9_]*)\s*\)")
_TABLE_IN_QUERY = re.compile(r"\bFROM\s+`([^`]+)`")
_PARAM_TYPES = {"STRING", "DATE", "INT64", "TIMESTAMP", "BOOL", "NUMERIC", "FLOAT64"}


def _query_parameters(body: dict[str, Any]) -> dict[str, str] | str:
    """The named parameters' values, or the error BigQuery would give: every ``@name`` in the
    query must be declared, named, typed and given a value of its type."""
    declared: dict[str, str] = {}
    for param in body.get("queryParameters") or []:
        kind = (param.get("parameterType") or {}).get("type")
        value = (param.get("parameterValue") or {}).get("value")
        name = param.get("name")
        if not name or kind not in _PARAM_TYPES or not isinstance(value, str):
            return f"Query parameter {name!r} needs a name, a type and a value"
        if kind == "DATE" and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return f"Invalid DATE value {value!r} for query parameter {name!r}"
        declared[name] = value
    used = set(_PARAM.findall(body["query"]))
    if used and body.get("parameterMode") != "NAMED":
        return "Query parameters are used but parameterMode is not NAMED"
    missing = sorted(used - set(declared))
    if missing:
        return f"Query parameter '{missing[0]}' not found at [1:1]"
    return declared


def _first_partition(body: dict[str, Any], params: dict[str, str]) -> str | None:
    """The first partition day a query reads (``_PARTITIONTIME >= TIMESTAMP(@name)`` with a DATE
    parameter), or None when it reads every partition."""
    found = _PARTITION_FILTER.search(body["query"])
    if found is None:
        return None
    name = found.group(1)
    kinds = {p.get("name"): (p.get("parameterType") or {}).get("type") for p in body.get("queryParameters") or []}
    return params.get(name) if kinds.get(name) == "DATE" else None


# Filter.calendar_period: MONTH, QUARTER, YEAR (as numbers when the client asks for enum-encoding=int)
_CALENDAR_PERIODS = {1, 2, 3, "MONTH", "QUARTER", "YEAR"}


def _filter_problem(budget_filter: Any) -> str | None:
    """What the Budget API would say about a budget's filter, or None when it accepts it."""
    if budget_filter is None:
        return None
    if not isinstance(budget_filter, dict):
        return "Invalid value for budget_filter: expected an object."
    period = budget_filter.get("calendarPeriod")
    if period is not None and period not in _CALENDAR_PERIODS:
        return f"Invalid value for budget_filter.calendar_period: {period!r}."
    if period is not None and budget_filter.get("customPeriod") is not None:
        return "Only one of budget_filter.calendar_period and budget_filter.custom_period may be set."
    labels = budget_filter.get("labels")
    if labels is not None:
        if not isinstance(labels, dict) or not all(
                isinstance(values, list) and all(isinstance(v, str) for v in values) for values in labels.values()):
            return "Invalid value for budget_filter.labels: expected label keys mapped to lists of values."
        if len(labels) > 1 or any(len(values) != 1 for values in labels.values()):
            return "budget_filter.labels may hold a single label key with a single value."
    return None


def _camel(path: str) -> str:
    head, *rest = path.split("_")
    return head + "".join(part.capitalize() for part in rest)
