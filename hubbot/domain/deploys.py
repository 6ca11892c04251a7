"""Deploy jobs, locks, cluster targets, Helm releases and rollout state."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"

    @property
    def active(self) -> bool:
        return self in (JobState.QUEUED, JobState.RUNNING)


class JobKind(StrEnum):
    """What a job does to its hub; stored as its value."""

    DEPLOY = "deploy"
    ROLLBACK = "rollback"


JOB_LOG_CHARS = 16_000  # the tail of a job's output that is kept
JOB_RESULT_CHARS = 2_000


@dataclass(frozen=True, slots=True)
class Job:
    """A deploy or rollback of one hub. ``hub`` is ``cluster/hub``; ``batch`` groups the jobs of
    one ``deploy --all``; ``log`` keeps the last lines of the tools' output (already redacted);
    ``message_ts`` is the live message updated as stages pass, in the thread ``thread_ts``."""

    kind: JobKind
    hub: str
    community: str
    state: JobState
    requested_by: str
    channel: str
    created_at: datetime
    id: int | None = None
    stage: str = ""
    approved_by: str | None = None
    thread_ts: str | None = None
    message_ts: str | None = None
    batch: str | None = None
    chart_version: str | None = None
    commit: str | None = None  # the fleet repository's commit deployed (None: a fleet without a repository)
    ref: str | None = None  # the branch, tag or commit that was asked for
    revision: int | None = None
    previous_revision: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    heartbeat_at: datetime | None = None
    worker: str = ""
    result: str = ""
    log: str = ""
    cancel_requested: bool = False


@dataclass(frozen=True, slots=True)
class HubLock:
    hub: str
    job_id: int
    holder: str
    since: datetime


@dataclass(frozen=True, slots=True)
class KubeTarget:
    """How to reach one cluster's API, as the credentials stage resolved it: a server with a
    bearer token (EKS, GKE) or a kubeconfig file and context. The token is a secret: it is kept
    out of ``repr`` and must never be logged or shown."""

    cluster: str
    server: str | None = None
    token: str | None = field(default=None, repr=False)
    ca_data: str | None = None  # base64-encoded PEM of the API server's CA
    kubeconfig: str | None = None
    context: str | None = None


@dataclass(frozen=True, slots=True)
class ReleasePlan:
    """One ``helm upgrade --install``: release ``name`` in ``namespace`` from ``chart`` (a local
    path, or a chart name in ``repo``), with values files applied in order (hubbot's overlay after
    the hub's own, secret ones last)."""

    name: str
    namespace: str
    chart: str
    repo: str | None = None
    version: str | None = None
    values: tuple[str, ...] = ()
    secret_values: tuple[str, ...] = ()
    overlay: str = ""  # hubbot's values overlay (YAML), applied after ``values``, before the secret ones


@dataclass(frozen=True, slots=True)
class ReleaseInfo:
    """A Helm release as ``helm status``/``helm upgrade -o json`` describe it."""

    name: str
    namespace: str
    revision: int
    status: str
    chart: str = ""  # name-version, e.g. basehub-1.2.3
    app_version: str = ""
    updated: str = ""


@dataclass(frozen=True, slots=True)
class Workload:
    """The rollout of one Deployment, DaemonSet or StatefulSet: ``done`` when every replica
    runs the new spec and is available; ``failed`` says why it never will (deadline exceeded)."""

    kind: str
    name: str
    ready: int
    desired: int
    done: bool
    failed: str | None = None
    stuck: str | None = None  # why one of its pods is not starting, e.g. "pod hub-7c9f: ImagePullBackOff"


@dataclass(frozen=True, slots=True)
class PodCount:
    ready: int
    total: int


@dataclass(frozen=True, slots=True)
class Health:
    ok: bool
    status: int | None
    detail: str
    elapsed_ms: int = 0

    def expecting(self, status: int | None) -> Health:
        """Judged against the one status a hub is expected to answer (a hub behind basic auth
        answers 401); None keeps any 2xx as healthy."""
        if status is None:
            return self
        return Health(ok=self.status == status, status=self.status, detail=self.detail, elapsed_ms=self.elapsed_ms)
