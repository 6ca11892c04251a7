"""A local stand-in for the two AWS APIs behind hubbot's backups that moto does not serve: Data
Lifecycle Manager (lifecycle policies) and AWS Backup (on-demand jobs, recovery points, backup
plans and their selections).

Real boto3 clients reach it through ``endpoint_url``. It reads each request's region from the
SigV4 credential scope and keeps each region apart. It answers with the shapes the API references
give (both are rest-json: AWS Backup's timestamps are epoch seconds, DLM's ISO 8601 strings) and
refuses what the real services refuse where hubbot could get it wrong: an unknown vault, a job
without a role, tag values with characters AWS Backup does not take. A job stays where the test
puts it: :meth:`BackupStandIn.finish` moves it on, and a completed job leaves a recovery point.

Any operation can be told to fail its next calls (:meth:`BackupStandIn.fail`); ``page_size`` makes
every list answer in pages that small, as AWS may whatever ``MaxResults`` says; ``requests``
records each call as (operation, region).
"""

from __future__ import annotations

import itertools
import json
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.aws import ACCOUNT
from tests.support.server import serve

_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/")
_TAG_VALUE = re.compile(r"^[\w\s+\-=.:/@]*$")
_STATUS = {"ResourceNotFoundException": 404, "AccessDeniedException": 403, "ThrottlingException": 429,
           "LimitExceededException": 400, "InvalidParameterValueException": 400, "InvalidRequestException": 400,
           "ServiceUnavailableException": 503}


@dataclass
class Region:
    name: str
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    vaults: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # vault -> point ARN -> point
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    plans: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> {"plan", "created", "selections"}


@dataclass
class BackupStandIn:
    clock: Callable[[], datetime]
    url: str = ""
    regions: dict[str, Region] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    failures: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    page_size: int | None = None
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def reset(self, clock: Callable[[], datetime]) -> None:
        """Forget everything, for the next test; date what comes next by ``clock``."""
        self.clock = clock
        self.page_size = None
        for held in (self.regions, self.failures, self.tokens):
            held.clear()
        self.requests.clear()

    def region(self, name: str) -> Region:
        return self.regions.setdefault(name, Region(name))

    # -- setting the scene ------------------------------------------------------------------------

    def add_policy(self, region: str, *, target_tags: Mapping[str, str] | None = None,
                   schedules: list[dict[str, Any]] | None = None, description: str = "home snapshots",
                   state: str = "ENABLED", resource_types: tuple[str, ...] = ("VOLUME",),
                   policy_type: str = "EBS_SNAPSHOT_MANAGEMENT", default: dict[str, Any] | None = None) -> str:
        """A lifecycle policy; ``default`` makes it a default policy with those details
        (``CreateInterval``, ``RetainInterval``, ``Exclusions``)."""
        policy_id = f"policy-{next(self._ids):017x}"
        if default is not None:
            details: dict[str, Any] = {"PolicyLanguage": "SIMPLIFIED", "ResourceType": "VOLUME", **default}
        else:
            details = {"PolicyType": policy_type, "ResourceTypes": list(resource_types), "ResourceLocations": ["CLOUD"],
                       "TargetTags": [{"Key": k, "Value": v} for k, v in (target_tags or {}).items()],
                       "Schedules": schedules or [daily_schedule()]}
        now = self.clock()
        self.region(region).policies[policy_id] = {
            "PolicyId": policy_id, "Description": description, "State": state, "StatusMessage": state,
            "ExecutionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/AWSDataLifecycleManagerDefaultRole",
            "DateCreated": now.isoformat(), "DateModified": now.isoformat(), "PolicyDetails": details, "Tags": {},
            "PolicyArn": f"arn:aws:dlm:{region}:{ACCOUNT}:policy/{policy_id}", "DefaultPolicy": default is not None,
        }
        return policy_id

    def add_vault(self, region: str, name: str) -> None:
        self.region(region).vaults.setdefault(name, {})

    def add_plan(self, region: str, name: str, *, rules: list[dict[str, Any]],
                 selections: list[dict[str, Any]]) -> str:
        plan_id = str(uuid.uuid4())
        self.region(region).plans[plan_id] = {
            "plan": {"BackupPlanName": name, "Rules": [{"RuleId": str(uuid.uuid4()), **r} for r in rules]},
            "created": self.clock(),
            "selections": {str(uuid.uuid4()): {"IamRoleArn": f"arn:aws:iam::{ACCOUNT}:role/backup", **s}
                           for s in selections},
        }
        return plan_id

    def add_recovery_point(self, region: str, vault: str, resource_arn: str, *, status: str = "COMPLETED",
                           plan_id: str | None = None, delete_after_days: int | None = 35) -> str:
        """A recovery point whose job AWS no longer lists (or that a plan made)."""
        arn = f"arn:aws:backup:{region}:{ACCOUNT}:recovery-point:{uuid.uuid4()}"
        point = self._point(region, vault, arn, resource_arn, role=f"arn:aws:iam::{ACCOUNT}:role/backup",
                            delete_after_days=delete_after_days)
        point["Status"] = status
        if plan_id:
            point["CreatedBy"] = {"BackupPlanId": plan_id, "BackupPlanArn": f"arn:aws:backup:{region}:{ACCOUNT}:"
                                  f"backup-plan:{plan_id}", "BackupPlanVersion": "v1", "BackupRuleId": "rule"}
        self.region(region).vaults[vault][arn] = point
        return arn

    def progress(self, job_id: str, percent: float) -> None:
        job = self._job(job_id)
        job.update(State="RUNNING", PercentDone=f"{percent:.1f}")

    def finish(self, job_id: str, state: str, *, message: str | None = None) -> None:
        """Move a job on (COMPLETED, FAILED, ABORTED, EXPIRED, PARTIAL); a completed or partial job's
        recovery point appears in its vault."""
        job = self._job(job_id)
        job.update(State=state, CompletionDate=self.clock().timestamp())
        if message:
            job["StatusMessage"] = message
        if state in ("COMPLETED", "PARTIAL"):
            job.update(PercentDone="100.0", BackupSizeInBytes=5 << 30)
            region = job["BackupVaultArn"].split(":")[3]
            point = self._point(region, job["BackupVaultName"], job["RecoveryPointArn"], job["ResourceArn"],
                                role=job["IamRoleArn"], delete_after_days=35)
            point.update(Status=state, CreationDate=job["CreationDate"], BackupSizeInBytes=5 << 30)
            self.region(region).vaults[job["BackupVaultName"]][job["RecoveryPointArn"]] = point

    def fail(self, operation: str, code: str, message: str = "", *, times: int = 1) -> None:
        self.failures.setdefault(operation, []).extend([(code, message)] * times)

    def calls(self, operation: str) -> int:
        return sum(1 for op, _ in self.requests if op == operation)

    def _job(self, job_id: str) -> dict[str, Any]:
        return next(r.jobs[job_id] for r in self.regions.values() if job_id in r.jobs)

    def _point(self, region: str, vault: str, arn: str, resource_arn: str, *, role: str,
               delete_after_days: int | None) -> dict[str, Any]:
        now = self.clock()
        point: dict[str, Any] = {
            "RecoveryPointArn": arn, "BackupVaultName": vault,
            "BackupVaultArn": f"arn:aws:backup:{region}:{ACCOUNT}:backup-vault:{vault}",
            "ResourceArn": resource_arn, "ResourceType": "EFS", "IamRoleArn": role, "Status": "COMPLETED",
            "CreationDate": now.timestamp(), "CompletionDate": now.timestamp(), "BackupSizeInBytes": 1 << 30,
            "IsEncrypted": True, "ResourceName": resource_arn.rsplit("/", 1)[-1],
        }
        if delete_after_days:
            point["Lifecycle"] = {"DeleteAfterDays": delete_after_days}
            point["CalculatedLifecycle"] = {"DeleteAt": (now + timedelta(days=delete_after_days)).timestamp()}
        return point

    # -- the APIs ---------------------------------------------------------------------------------

    def app(self) -> Starlette:
        def route(path: str, operation: str, handler: Callable[..., Any], method: str = "GET") -> Route:
            async def endpoint(request: Request) -> Response:
                region = _region(request)
                self.requests.append((operation, region))
                queued = self.failures.get(operation)
                if queued:
                    return _error(*queued.pop(0))
                body = json.loads(await request.body() or b"{}")
                answer = handler(self.region(region), request, body, **request.path_params)
                return answer if isinstance(answer, Response) else JSONResponse(answer)
            return Route(path, endpoint, methods=[method])

        return Starlette(routes=[
            route("/policies", "GetLifecyclePolicies", self._get_policies),
            route("/policies/{policy_id}", "GetLifecyclePolicy", self._get_policy),
            route("/backup-jobs", "StartBackupJob", self._start_job, "PUT"),
            route("/backup-jobs/", "ListBackupJobs", self._list_jobs),
            route("/backup-jobs/{job_id}", "DescribeBackupJob", self._describe_job),
            route("/backup-vaults/{vault}/recovery-points/", "ListRecoveryPointsByBackupVault", self._list_points),
            route("/backup/plans/", "ListBackupPlans", self._list_plans),
            route("/backup/plans/{plan_id}/", "GetBackupPlan", self._get_plan),
            route("/backup/plans/{plan_id}/selections/", "ListBackupSelections", self._list_selections),
            route("/backup/plans/{plan_id}/selections/{selection_id}", "GetBackupSelection", self._get_selection),
        ])

    def _get_policies(self, region: Region, request: Request, body: Any) -> Any:
        query = request.query_params
        wanted_types = set(query.getlist("resourceTypes"))
        found = [p for p in region.policies.values()
                 if (not query.get("state") or p["State"] == query["state"])
                 and (not wanted_types or wanted_types & set(p["PolicyDetails"].get("ResourceTypes", [])))]
        return {"Policies": [{"PolicyId": p["PolicyId"], "Description": p["Description"], "State": p["State"],
                              "Tags": p["Tags"], "PolicyType": p["PolicyDetails"].get("PolicyType",
                                                                                      "EBS_SNAPSHOT_MANAGEMENT"),
                              "DefaultPolicy": p["DefaultPolicy"]} for p in found]}

    def _get_policy(self, region: Region, request: Request, body: Any, policy_id: str) -> Any:
        if policy_id not in region.policies:
            return _error("ResourceNotFoundException", f"Policy {policy_id} not found")
        return {"Policy": region.policies[policy_id]}

    def _start_job(self, region: Region, request: Request, body: Any) -> Any:
        vault = body.get("BackupVaultName", "")
        if vault not in region.vaults:
            return _error("ResourceNotFoundException", f"Backup vault {vault} does not exist")
        if not str(body.get("IamRoleArn", "")).startswith("arn:aws:iam::"):
            return _error("InvalidParameterValueException", "Invalid IAM role ARN")
        if not re.fullmatch(r"arn:aws:elasticfilesystem:[a-z0-9-]+:\d{12}:file-system/fs-[0-9a-f]+",
                            str(body.get("ResourceArn", ""))):
            return _error("InvalidParameterValueException", "Invalid resource ARN")
        for key, value in (body.get("RecoveryPointTags") or {}).items():
            if len(value) > 256 or not _TAG_VALUE.match(value):
                return _error("InvalidParameterValueException", f"Invalid value for tag {key}")
        token = body.get("IdempotencyToken")
        if token and token in self.tokens:
            job = region.jobs[self.tokens[token]]
        else:
            job_id = str(uuid.uuid4()).upper()
            now = self.clock()
            job = region.jobs[job_id] = {
                "AccountId": ACCOUNT, "BackupJobId": job_id, "BackupVaultName": vault,
                "BackupVaultArn": f"arn:aws:backup:{region.name}:{ACCOUNT}:backup-vault:{vault}",
                "RecoveryPointArn": f"arn:aws:backup:{region.name}:{ACCOUNT}:recovery-point:{uuid.uuid4()}",
                "ResourceArn": body["ResourceArn"], "CreationDate": now.timestamp(), "State": "CREATED",
                "PercentDone": "0.0", "BackupSizeInBytes": 0, "IamRoleArn": body["IamRoleArn"], "ResourceType": "EFS",
                "RecoveryPointTags": dict(body.get("RecoveryPointTags") or {}),  # the stand-in's record, not sent
            }
            if token:
                self.tokens[token] = job_id
        return {"BackupJobId": job["BackupJobId"], "RecoveryPointArn": job["RecoveryPointArn"],
                "CreationDate": job["CreationDate"], "IsParent": False}

    def _describe_job(self, region: Region, request: Request, body: Any, job_id: str) -> Any:
        if job_id not in region.jobs:
            return _error("ResourceNotFoundException", f"Backup job {job_id} not found")
        return _shown(region.jobs[job_id])

    def _list_jobs(self, region: Region, request: Request, body: Any) -> Any:
        query = request.query_params
        jobs = [_shown(j) for j in region.jobs.values()
                if query.get("backupVaultName") in (None, j["BackupVaultName"])
                and query.get("resourceType") in (None, j["ResourceType"]) and query.get("state") in (None, j["State"])]
        return self._page(request, "BackupJobs", jobs)

    def _list_points(self, region: Region, request: Request, body: Any, vault: str) -> Any:
        if vault not in region.vaults:
            return _error("ResourceNotFoundException", f"Backup vault {vault} does not exist")
        kind = request.query_params.get("resourceType")
        points = [p for p in region.vaults[vault].values() if kind in (None, p["ResourceType"])]
        return self._page(request, "RecoveryPoints", points)

    def _list_plans(self, region: Region, request: Request, body: Any) -> Any:
        plans = [{"BackupPlanArn": f"arn:aws:backup:{region.name}:{ACCOUNT}:backup-plan:{plan_id}",
                  "BackupPlanId": plan_id, "CreationDate": p["created"].timestamp(), "VersionId": "v1",
                  "BackupPlanName": p["plan"]["BackupPlanName"]} for plan_id, p in region.plans.items()]
        return self._page(request, "BackupPlansList", plans)

    def _get_plan(self, region: Region, request: Request, body: Any, plan_id: str) -> Any:
        if plan_id not in region.plans:
            return _error("ResourceNotFoundException", f"Backup plan {plan_id} not found")
        return {"BackupPlan": region.plans[plan_id]["plan"], "BackupPlanId": plan_id, "VersionId": "v1",
                "BackupPlanArn": f"arn:aws:backup:{region.name}:{ACCOUNT}:backup-plan:{plan_id}",
                "CreationDate": region.plans[plan_id]["created"].timestamp()}

    def _list_selections(self, region: Region, request: Request, body: Any, plan_id: str) -> Any:
        if plan_id not in region.plans:
            return _error("ResourceNotFoundException", f"Backup plan {plan_id} not found")
        items = [{"SelectionId": sid, "SelectionName": s.get("SelectionName", "homes"), "BackupPlanId": plan_id,
                  "CreationDate": region.plans[plan_id]["created"].timestamp(), "IamRoleArn": s["IamRoleArn"]}
                 for sid, s in region.plans[plan_id]["selections"].items()]
        return self._page(request, "BackupSelectionsList", items)

    def _get_selection(self, region: Region, request: Request, body: Any, plan_id: str, selection_id: str) -> Any:
        selection = region.plans.get(plan_id, {}).get("selections", {}).get(selection_id)
        if selection is None:
            return _error("ResourceNotFoundException", f"Selection {selection_id} not found")
        return {"BackupSelection": {"SelectionName": "homes", **selection}, "SelectionId": selection_id,
                "BackupPlanId": plan_id, "CreationDate": region.plans[plan_id]["created"].timestamp()}

    def _page(self, request: Request, key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
        start = int(request.query_params.get("nextToken") or 0)
        size = min(int(request.query_params.get("maxResults") or 1000), self.page_size or 1000)
        answer: dict[str, Any] = {key: items[start:start + size]}
        if start + size < len(items):
            answer["NextToken"] = str(start + size)
        return answer


def daily_schedule(*, at: str = "03:00", keep: int = 7) -> dict[str, Any]:
    return {"Name": "daily", "CopyTags": False,
            "CreateRule": {"Location": "CLOUD", "Interval": 24, "IntervalUnit": "HOURS", "Times": [at]},
            "RetainRule": {"Count": keep}}


def _shown(job: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in job.items() if k != "RecoveryPointTags"}


def _region(request: Request) -> str:
    found = _SCOPE.search(request.headers.get("authorization", ""))
    return found.group(1) if found else "us-east-1"


def _error(code: str, message: str = "") -> Response:
    return JSONResponse({"__type": code, "message": message or code}, status_code=_STATUS.get(code, 400),
                        headers={"x-amzn-ErrorType": code})


@contextmanager
def backup_standin(clock: Callable[[], datetime] | None = None) -> Iterator[BackupStandIn]:
    """The stand-in on an ephemeral loopback port; ``clock`` dates what it makes."""
    standin = BackupStandIn(clock or (lambda: datetime.now(UTC)))
    with serve(standin.app()) as served:
        standin.url = served.url
        yield standin
