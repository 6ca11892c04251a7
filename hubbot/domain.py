"""Plain values shared by the core, the store and the transports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class Outcome(StrEnum):
    OK = "ok"
    USAGE = "usage"
    NOT_FOUND = "not_found"
    DENIED = "denied"
    UPSTREAM = "upstream"
    ERROR = "error"
    CONFIRMED = "confirmed"
    CHANGED = "changed"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the audit log. ``args`` is already redacted."""

    at: datetime
    user: str
    channel: str
    transport: str
    command: str
    args: str
    outcome: Outcome
    community: str | None = None
    hub: str | None = None
    detail: str = ""
    duration_ms: int = 0
    reference: str | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class PendingAction:
    """A change waiting for its requester's confirmation, or for a second engineer's approval.

    ``kind`` is ``confirm`` or ``approve``; ``state`` moves once from ``pending`` to one of
    ``confirmed``, ``approved``, ``cancelled``, ``rejected`` or ``expired``.
    """

    id: str
    command: str
    action: str
    payload: str
    summary: str
    kind: str
    requested_by: str
    channel: str
    created_at: datetime
    expires_at: datetime
    community: str | None = None
    hub: str | None = None
    state: str = "pending"
    decided_by: str | None = None
    decided_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CostLine:
    """One day's cost of one hub (or of untagged, shared resources) for one service, as a
    provider reports it. ``hub_tag`` is the raw value of the provider's hub tag or label
    (``None``: untagged, shown as "shared"); ``estimated`` marks figures the provider may
    still revise (AWS ``Estimated``, today's partial day)."""

    day: date
    hub_tag: str | None
    service: str
    amount: Decimal
    currency: str
    estimated: bool = False


@dataclass(frozen=True, slots=True)
class CostReading:
    """A to-date total the provider states directly, rather than daily lines: a JetStream2
    allocation's service units used, or a GCP budget notification's ``costAmount``.
    ``allocated`` is the provider's own budget for the period, when it has one."""

    start: date
    end: date
    amount: Decimal
    currency: str
    as_of: datetime
    allocated: Decimal | None = None
    source: str = ""


@dataclass(frozen=True, slots=True)
class CostBatch:
    """What one fetch from one provider returned, and how many API requests it took."""

    lines: list[CostLine] = field(default_factory=list)
    readings: list[CostReading] = field(default_factory=list)
    requests: int = 0


@dataclass(frozen=True, slots=True)
class LedgerLine:
    """A cost line attributed to a hub (``cluster/hub``; None: shared) and its community."""

    day: date
    provider: str
    hub: str | None
    community: str | None
    service: str
    amount: Decimal
    currency: str
    estimated: bool = False


@dataclass(frozen=True, slots=True)
class ProviderStatus:
    provider: str
    ok_at: datetime | None
    error_at: datetime | None
    error: str | None
    requests: int = 0

    @property
    def stale(self) -> bool:
        """The last attempt failed (or none succeeded yet): figures are older than they look."""
        return self.ok_at is None or (self.error_at is not None and self.error_at >= self.ok_at)


@dataclass(frozen=True, slots=True)
class Budget:
    amount: Decimal
    currency: str
    period: str
    thresholds: tuple[int, ...]
    forecast: bool = True
    timezone: str = "UTC"
    set_by: str | None = None
    set_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert in the outbox. ``basis``: actual, forecast, spike, digest, billing, undelivered."""

    key: str
    community: str
    channel: str | None
    basis: str
    period_start: date
    period_end: date
    currency: str
    text: str
    blocks: str  # Block Kit JSON
    state: str
    created_at: datetime
    threshold: int | None = None
    spend: Decimal | None = None
    budget: Decimal | None = None
    forecast: Decimal | None = None
    id: int | None = None
    sent_at: datetime | None = None
    attempts: int = 0
    last_error: str | None = None
    acked_by: str | None = None
    acked_at: datetime | None = None
    muted_until: date | None = None


@dataclass(frozen=True, slots=True)
class SupportQuestion:
    """A question hubbot answered or escalated, with what people said of the answer."""

    at: datetime
    user: str
    channel: str
    community: str | None
    question: str
    answered: bool
    confidence: float
    citation: str | None = None
    thread_ts: str | None = None
    helpful: bool | None = None
    escalated: bool = False
    id: int | None = None


@dataclass(frozen=True, slots=True)
class SupportStats:
    asked: int
    answered: int
    escalated: int
    helpful: int
    unhelpful: int
    top_escalated: list[tuple[str, int]] = field(default_factory=list)


# -- deploys ------------------------------------------------------------------------------


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


JOB_LOG_CHARS = 16_000  # the tail of a job's output that is kept
JOB_RESULT_CHARS = 2_000


@dataclass(frozen=True, slots=True)
class Job:
    """A deploy or rollback of one hub. ``hub`` is ``cluster/hub``; ``batch`` groups the jobs of
    one ``deploy --all``; ``log`` keeps the last lines of the tools' output (already redacted);
    ``message_ts`` is the live message updated as stages pass, in the thread ``thread_ts``."""

    kind: str  # deploy | rollback
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
    path, or a chart name in ``repo``), with values files applied in order (secret ones last)."""

    name: str
    namespace: str
    chart: str
    repo: str | None = None
    version: str | None = None
    values: tuple[str, ...] = ()
    secret_values: tuple[str, ...] = ()


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
