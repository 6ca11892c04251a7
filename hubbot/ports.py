"""The seams the core calls out through. Each has a real adapter and an in-memory twin."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from hubbot.domain import (
    Answer,
    AuditEntry,
    Budget,
    CostBatch,
    CostReading,
    Health,
    HubLock,
    Job,
    JobState,
    KubeTarget,
    LedgerLine,
    OutboxMessage,
    PendingAction,
    PodCount,
    ProviderStatus,
    ReleaseInfo,
    ReleasePlan,
    SupportQuestion,
    SupportStats,
    Workload,
)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


class AuditLog(Protocol):
    async def record(self, entry: AuditEntry) -> None:
        """Append an entry. May buffer; :meth:`query` and :meth:`flush` see everything recorded."""
        ...

    async def flush(self) -> None: ...

    async def query(
        self, *, communities: list[str] | None, hub: str | None, limit: int
    ) -> list[AuditEntry]:
        """Newest first. ``communities=None`` means all; ``[]`` matches only fleet-wide entries."""
        ...


class EventLedger(Protocol):
    async def first_time(self, key: str, *, at: datetime) -> bool:
        """Record ``key``; True the first time it is seen by any replica, False afterwards."""
        ...


class CostSource(Protocol):
    """One provider account/project. ``fetch`` returns every hub's daily cost for
    ``start <= day < end`` in as few API requests as the provider allows (never one per hub),
    and raises :class:`hubbot.errors.UpstreamError` (with ``retry_after`` when throttled) rather
    than returning partial or empty data."""

    async def fetch(self, *, start: date, end: date) -> CostBatch: ...


@runtime_checkable
class ForecastSource(Protocol):
    """A cost source that can also forecast (AWS Cost Explorer's get_cost_forecast)."""

    async def forecast(self, *, start: date, end: date) -> Decimal | None:
        """The provider's forecast of the account's cost for ``start <= day < end`` (start today or
        later), or None when it has too little history."""
        ...


class CostLedger(Protocol):
    """Daily costs per hub, to-date readings, and each provider's freshness."""

    async def replace(
        self, *, provider: str, start: date, end: date, lines: Sequence[LedgerLine], at: datetime
    ) -> None:
        """Replace ``provider``'s lines for ``start <= day < end`` in one transaction."""
        ...

    async def put_readings(self, *, provider: str, community: str | None, readings: Sequence[CostReading]) -> None: ...

    async def record_status(self, *, provider: str, at: datetime, error: str | None, requests: int) -> None: ...

    async def status(self) -> dict[str, ProviderStatus]: ...

    async def totals(
        self, *, start: date, end: date, currency: str, communities: Sequence[str] | None
    ) -> dict[str, Decimal]:
        """Spend per community over ``start <= day < end`` in ``currency``."""
        ...

    async def period_sums(
        self, *, start: date, end: date, recent: tuple[date, date], today: date, currency: str
    ) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
        """Per community, in one pass: spend over the period, over the ``recent`` run-rate
        days, and on ``today`` so far."""
        ...

    async def daily(
        self, *, start: date, end: date, currency: str, communities: Sequence[str] | None
    ) -> dict[str, dict[date, Decimal]]: ...

    async def hub_daily(
        self, *, start: date, end: date, communities: Sequence[str] | None
    ) -> dict[str, dict[date, tuple[Decimal, bool]]]:
        """Per hub and day: (amount, whether any of it is estimated)."""
        ...

    async def breakdown(
        self, *, community: str, start: date, end: date, currency: str, by: str, hub: str | None = None
    ) -> list[tuple[str, Decimal]]:
        """Spend by ``hub``, ``service`` or ``day``, largest first (by day: in date order)."""
        ...

    async def readings(self, *, communities: Sequence[str] | None) -> list[tuple[str, CostReading]]: ...

    async def put_forecast(self, *, provider: str, start: date, end: date, amount: Decimal, at: datetime) -> None:
        """Record a provider's own forecast of its remaining cost for ``start <= day < end``."""
        ...

    async def forecasts(self) -> dict[str, tuple[date, date, Decimal]]:
        """The latest forecast per provider: (start, end, amount)."""
        ...

    async def hub_totals(self, *, start: date, end: date, currency: str) -> dict[str, list[tuple[str, Decimal]]]:
        """Per community, its hubs' spend over the span, largest first."""
        ...


class Budgets(Protocol):
    async def get(self, community: str) -> Budget | None: ...

    async def set(self, community: str, budget: Budget) -> None: ...

    async def all(self) -> dict[str, Budget]: ...


class Outbox(Protocol):
    """Messages waiting to be delivered (cost alerts, escalations, tickets): recorded at most
    once by key, claimed with a lease, marked delivered or failed."""

    async def add(self, messages: Sequence[OutboxMessage]) -> list[OutboxMessage]:
        """Record the messages whose key is new; return those (with ids) that this call added."""
        ...

    async def keys(self, *, prefix: str) -> set[str]: ...

    async def claim(
        self, *, worker: str, at: datetime, lease_seconds: int, limit: int, key: str | None = None
    ) -> list[OutboxMessage]:
        """Take pending messages (only the one with ``key``, if given) nobody else claimed within the lease."""
        ...

    async def delivered(self, message_id: int, *, at: datetime) -> None: ...

    async def failed(self, message_id: int, *, at: datetime, error: str, give_up: bool) -> None:
        """Record a failed attempt; pending again for the next try, or failed for good with ``give_up``."""
        ...

    async def recent(self, *, communities: Sequence[str] | None, limit: int) -> list[OutboxMessage]:
        """Newest first, without the skipped ones."""
        ...

    async def get(self, message_id: int) -> OutboxMessage | None: ...

    async def acknowledge(self, message_id: int, *, by: str, at: datetime) -> bool:
        """True if this call acknowledged it (False: someone already had)."""
        ...

    async def mute(self, message_id: int, *, until: date) -> bool: ...

    async def muted(self, *, on: date) -> set[str]:
        """Communities with an alert muted past ``on``."""
        ...


class Notifier(Protocol):
    async def post(
        self, *, channel: str, text: str, blocks: Sequence[dict[str, object]], thread_ts: str | None = None
    ) -> str | None:
        """Post a message (in a thread, if given); its timestamp, which names it for :meth:`update`.
        Raise :class:`hubbot.errors.UpstreamError` if it could not be delivered."""
        ...

    async def update(self, *, channel: str, ts: str, text: str, blocks: Sequence[dict[str, object]]) -> None:
        """Replace a message posted earlier. Raise :class:`hubbot.errors.UpstreamError` on failure."""
        ...


class BudgetMirror(Protocol):
    async def mirror(self, *, community: str, amount: Decimal, currency: str, thresholds: list[int]) -> str:
        """Create or update the provider's own budget for ``community``; return its name."""
        ...


class BudgetPush(Protocol):
    """Budget notifications a provider pushes to hubbot (GCP Pub/Sub)."""

    async def read(self, authorization: str | None, body: bytes, *, now: datetime) -> CostReading | None:
        """The to-date cost the push states; None for a message that is not a budget
        notification. Raises NotAllowed for a request the provider did not sign, UpstreamError
        when that cannot be checked now (the provider retries), UserError for a body no retry
        would fix."""
        ...


class BillingCheck(Protocol):
    async def check(self) -> str | None:
        """None if the project bills to the expected account, else what is wrong."""
        ...


class SupportLog(Protocol):
    async def add(self, question: SupportQuestion) -> int: ...

    async def get(self, question_id: int) -> SupportQuestion | None: ...

    async def feedback(self, question_id: int, *, helpful: bool) -> bool:
        """Record the asker's verdict; False if one was recorded already."""
        ...

    async def escalate(self, question_id: int) -> None: ...

    async def stats(self, *, communities: Sequence[str] | None, since: datetime | None) -> SupportStats: ...


class Ticketing(Protocol):
    async def open_ticket(self, *, subject: str, description: str, tags: list[str]) -> str:
        """Open a ticket; return its ID. Raise :class:`hubbot.errors.UpstreamError` if the desk is unavailable."""
        ...


class Knowledge(Protocol):
    """A searchable documentation collection (see :mod:`hubbot.support.faq`)."""

    def answer(self, question: str) -> Answer: ...

    def url(self, path: str, anchor: str) -> str:
        """Where a cited section is published."""
        ...

    def refresh(self) -> bool:
        """Re-read the docs if files changed; True if it did."""
        ...


class Directory(Protocol):
    async def groups_of(self, user_id: str) -> frozenset[str]:
        """The chat user-group IDs the user belongs to (for roles granted to a group)."""
        ...


class PendingActions(Protocol):
    async def create(self, action: PendingAction) -> None: ...

    async def get(self, action_id: str) -> PendingAction | None: ...

    async def decide(self, action_id: str, *, state: str, by: str, at: datetime) -> bool:
        """Move a pending action to ``state``; False if it was no longer pending (someone,
        on any replica, decided first). This is what makes a double click run nothing twice."""
        ...


LineSink = Callable[[str], None]


class Helm(Protocol):
    """The helm executable. Every call takes a ``time_limit`` in seconds after which the process
    is killed (also passed to helm's own ``--timeout``); failures raise
    :class:`hubbot.errors.ToolFailed` with the last lines of output, and a missing executable
    raises :class:`hubbot.errors.UserError` saying how to install one. Output lines are passed to
    ``on_line`` as they arrive (already redacted)."""

    async def template(self, plan: ReleasePlan, *, time_limit: float) -> str:
        """Render the chart locally (no cluster needed); the manifests as multi-document YAML."""
        ...

    async def upgrade(
        self, plan: ReleasePlan, *, target: KubeTarget, time_limit: float, on_line: LineSink
    ) -> ReleaseInfo:
        """``helm upgrade --install`` (creating the namespace); the new release."""
        ...

    async def rollback(
        self, name: str, namespace: str, *, revision: int | None, target: KubeTarget, time_limit: float,
        on_line: LineSink,
    ) -> None:
        """Roll ``name`` back to ``revision`` (None: the previous one)."""
        ...

    async def status(self, name: str, namespace: str, *, target: KubeTarget, time_limit: float) -> ReleaseInfo | None:
        """The deployed release, or None when there is none."""
        ...

    async def manifest(self, name: str, namespace: str, *, target: KubeTarget, time_limit: float) -> str | None:
        """The live release's manifests, or None when there is no release."""
        ...


class Clusters(Protocol):
    """The Kubernetes side: credentials, rollouts and pods."""

    async def target(self, cluster: str) -> KubeTarget:
        """Resolve credentials for ``cluster`` (EKS token, GKE endpoint and token, kubeconfig);
        raise :class:`hubbot.errors.UpstreamError` (or ``UserError`` when not configured)."""
        ...

    async def workloads(self, target: KubeTarget, namespace: str) -> list[Workload]:
        """Rollout state of every Deployment, DaemonSet and StatefulSet in ``namespace``."""
        ...

    async def pods(self, target: KubeTarget, namespace: str) -> PodCount: ...


class HealthProbe(Protocol):
    async def check(self, url: str, *, time_limit: float) -> Health:
        """GET ``url``; never raises for HTTP or network failures (they are an unhealthy result)."""
        ...


class Background(Protocol):
    """Work that outlives the request that started it (deploy jobs), by name."""

    def start(self, name: str, work: Coroutine[Any, Any, JobState]) -> None: ...

    def cancel(self, name: str) -> bool:
        """Cancel the named work if it runs in this process; False if it does not."""
        ...

    def running(self) -> list[str]: ...

    async def drain(self) -> list[JobState]:
        """Wait for all started work; what each ended as."""
        ...


class JobStore(Protocol):
    """Deploy jobs and the one-job-per-hub locks. :meth:`create` takes the hub's lock in the
    same transaction, so two replicas can never both start a deploy of one hub."""

    async def create(self, job: Job) -> Job | HubLock:
        """Store a new job holding its hub's lock; if another job holds it, that lock instead."""
        ...

    async def get(self, job_id: int) -> Job | None: ...

    async def update(self, job_id: int, **changes: Any) -> Job:
        """Change fields of a job (ending it — a state that is not active — frees its lock)."""
        ...

    async def request_cancel(self, job_id: int) -> bool:
        """Flag an active job to stop; False if it had already ended."""
        ...

    async def recent(
        self, *, communities: Sequence[str] | None, active_only: bool, limit: int, batch: str | None = None
    ) -> list[Job]:
        """Newest first."""
        ...

    async def last(self, hub: str) -> Job | None:
        """The newest deploy or rollback of ``hub`` that ended."""
        ...

    async def lock(self, hub: str) -> HubLock | None: ...

    async def orphans(self, *, worker: str, stale_before: datetime) -> list[Job]:
        """Active jobs whose worker is gone: run by another process on this worker's host
        (workers are named ``host:pid``), or silent since ``stale_before``."""
        ...


@dataclass(frozen=True, slots=True)
class DeployPorts:
    """What deploys need, bundled: absent where a process cannot deploy."""

    jobs: JobStore
    helm: Helm
    clusters: Clusters
    health: HealthProbe
    background: Background
    worker: str = "local:0"  # host:pid of this process
    pause: Callable[[float], Awaitable[None]] = asyncio.sleep  # how rollout polling waits (tests pass their own)


@dataclass(frozen=True, slots=True)
class Services:
    """The ports a command or alert may use, bundled so handlers take one parameter."""

    audit: AuditLog
    clock: Clock
    events: EventLedger
    directory: Directory
    pending: PendingActions
    ledger: CostLedger
    budgets: Budgets
    outbox: Outbox
    notifier: Notifier
    sources: Mapping[str, CostSource] = field(default_factory=dict)
    mirrors: Mapping[str, BudgetMirror] = field(default_factory=dict)
    billing: Mapping[str, BillingCheck] = field(default_factory=dict)
    support: SupportLog | None = None
    knowledge: Mapping[str, Knowledge] = field(default_factory=dict)  # by community; "" for the whole fleet
    tickets: Mapping[str, Ticketing] = field(default_factory=dict)  # by community; "" for the whole fleet
    deploys: DeployPorts | None = None
