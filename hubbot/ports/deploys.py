"""Deploy ports: helm, the clusters, health checks, background tasks and the job store."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from hubbot.domain import (
    Health,
    HubLock,
    Job,
    JobState,
    KubeTarget,
    PodCount,
    ReleaseInfo,
    ReleasePlan,
    Workload,
)

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
        """Active jobs whose worker may be gone: run by another process of this worker's host
        (workers are named ``host:pid:instance``; the caller asks whether that pid still runs), or
        silent since ``stale_before``."""
        ...


@dataclass(frozen=True, slots=True)
class DeployPorts:
    """What deploys need, bundled: absent where a process cannot deploy."""

    jobs: JobStore
    helm: Helm
    clusters: Clusters
    health: HealthProbe
    background: Background
    worker: str = "local:0:0"  # host:pid:instance of this process (the instance tells a restart from itself)
    # whether a process of this host still runs (a sibling replica's jobs are never marked interrupted);
    # by default every process is taken to be alive, and only a silent heartbeat ends a job
    alive: Callable[[int], bool] = lambda pid: True
    pause: Callable[[float], Awaitable[None]] = asyncio.sleep  # how rollout polling waits (tests pass their own)
