"""Where usage and limits come from: a cluster's Prometheus, a namespace's ResourceQuotas, and
hubbot's own values overlay of each hub."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol, runtime_checkable

from hubbot.domain import ComputeUse, DailyActive, HomeUse, KubeTarget, NamespaceQuota, Overlay


class UsageMetrics(Protocol):
    """One cluster's Prometheus, read with the series a z2jh hub's cluster publishes (cAdvisor,
    kube-state-metrics with the ``hub.jupyter.org/username`` pod annotation, JupyterHub's own
    metrics, the home server's quota exporter). A Prometheus that cannot be reached or refuses
    raises :class:`hubbot.errors.UpstreamError`; no series is an empty answer, not an error."""

    async def compute(self, namespace: str, *, end: datetime, days: int, requested: bool = False
                      ) -> dict[str, ComputeUse]:
        """Each user's compute over the ``days`` before ``end``, by JupyterHub user name: used
        (default) or requested (what jupyterhub-usage-quotas counts against a policy)."""
        ...

    async def homes(self, namespace: str, *, at: datetime) -> list[HomeUse]:
        """Every home directory's size (and hard limit) at ``at``, by folder name."""
        ...

    async def daily_active(self, namespace: str, *, end: datetime, days: int) -> list[DailyActive]:
        """Daily active users for each of the ``days`` days up to ``end``, oldest first; days
        without a reading are left out."""
        ...


@runtime_checkable
class NamespaceQuotas(Protocol):
    """A namespace's ResourceQuotas through the Kubernetes API."""

    async def target(self, cluster: str) -> KubeTarget:
        """How to reach ``cluster`` now (as :meth:`hubbot.ports.Clusters.target`)."""
        ...

    async def resource_quotas(self, target: KubeTarget, namespace: str) -> list[NamespaceQuota]:
        """Every ResourceQuota in ``namespace`` (none when the namespace does not exist), by name."""
        ...

    async def set_resource_quota(self, target: KubeTarget, namespace: str, *, name: str,
                                 hard: Mapping[str, str | None]) -> NamespaceQuota:
        """Merge ``hard`` into ResourceQuota ``name`` (a None value removes that limit), creating
        it, labelled as hubbot's, when absent; the quota as the API holds it afterwards (quantities
        as the API writes them, ``used`` as the quota controller last wrote it, if it has).

        Raises :class:`hubbot.errors.UserError`, changing nothing, when the API refuses a name or
        value (with its reason), when the namespace does not exist, or when the quota does not
        exist and ``hard`` only removes limits; :class:`hubbot.errors.UpstreamError` when the
        cluster refuses hubbot's credentials or fails."""
        ...


class Overlays(Protocol):
    """hubbot's values overlay of each hub, in the database (every replica sees the same one)."""

    async def get(self, hub: str) -> Overlay | None: ...

    async def put(self, hub: str, values: str, *, expected: int, user: str, at: datetime) -> Overlay:
        """Store ``values`` as revision ``expected + 1``; raise :class:`hubbot.errors.UserError`
        when the overlay is no longer at revision ``expected`` (someone changed it meanwhile), and
        change nothing then. ``expected`` is 0 for a hub without an overlay yet."""
        ...
