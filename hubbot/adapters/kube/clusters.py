"""The :class:`hubbot.ports.Clusters` port: how to reach each cluster of the fleet, and the rollout
state and pods of a namespace, read as raw JSON and judged by :mod:`hubbot.deploys.rollout`; and
the :class:`hubbot.ports.usage.NamespaceQuotas` port, handed on to :mod:`~hubbot.adapters.kube.quotas`.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import tempfile
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hubbot.adapters.kube.calls import list_items
from hubbot.adapters.kube.clients import ApiClients
from hubbot.adapters.kube.eks import EksTargets
from hubbot.adapters.kube.gke import GkeTargets
from hubbot.adapters.kube.quotas import KubeQuotas
from hubbot.adapters.sops import INSTALL_HINT, SopsCli
from hubbot.deploys import rollout
from hubbot.deploys.objects import PodObject, WorkloadObject
from hubbot.domain import KubeTarget, NamespaceQuota, PodCount, Workload
from hubbot.errors import NotFound, UserError
from hubbot.fleet import EksAccess, Fleet, GkeAccess, KubeconfigAccess, did_you_mean
from hubbot.fleet.repository import has_sops_metadata

# kind, what the API calls a list of them, and the AppsV1Api method that lists them
_LISTS = (
    ("Deployment", "deployments", "list_namespaced_deployment"),
    ("DaemonSet", "daemonsets", "list_namespaced_daemon_set"),
    ("StatefulSet", "statefulsets", "list_namespaced_stateful_set"),
)


class KubeClusters:
    """The :class:`hubbot.ports.Clusters` and :class:`hubbot.ports.usage.NamespaceQuotas` ports
    for the clusters of one fleet.

    ``gke_credentials`` returns the Google credentials for GKE (default: the application default
    credentials); ``clock`` tells the time for reusing EKS tokens (default: the system clock).
    """

    def __init__(self, fleet: Fleet, *, gke_credentials: Callable[[], Any] | None = None,
                 clock: Callable[[], datetime] | None = None, sops: SopsCli | None = None) -> None:
        self.fleet = fleet
        self._sops = sops
        self._private: Path | None = None  # decrypted kubeconfigs of this process (mode 0700)
        self._eks = EksTargets(clock or (lambda: datetime.now(UTC)))
        self._gke = GkeTargets(gke_credentials)
        self._clients = ApiClients()
        self._quotas = KubeQuotas(self._clients)

    def close(self) -> None:
        """Close the API clients kept between calls; remove the decrypted kubeconfigs."""
        self._clients.close()
        if self._private is not None:
            shutil.rmtree(self._private, ignore_errors=True)
            self._private = None

    async def target(self, cluster: str) -> KubeTarget:
        """How to reach ``cluster``'s API now. Raises :class:`NotFound` for an unknown cluster,
        :class:`UserError` when it has no usable ``kubernetes:`` section, and
        :class:`UpstreamError` when its provider or credentials fail."""
        config = self.fleet.clusters.get(cluster)
        if config is None:
            raise NotFound(f"unknown cluster '{cluster}'{did_you_mean(cluster, list(self.fleet.clusters))}")
        access = config.kubernetes
        if access is None:
            raise UserError(
                f"cluster '{cluster}' has no kubernetes: section in the fleet config, so hubbot cannot reach it; "
                "add one saying how: kind: eks (cluster_name, region), kind: gke (project, location, "
                "cluster_name) or kind: kubeconfig (path)"
            )
        if isinstance(access, EksAccess):
            return await self._eks.target(cluster, access)
        if isinstance(access, GkeAccess):
            return await self._gke.target(cluster, access)
        return await self._kubeconfig(cluster, access)

    async def workloads(self, target: KubeTarget, namespace: str) -> list[Workload]:
        """Every Deployment, DaemonSet and StatefulSet in ``namespace``, judged like
        ``kubectl rollout status``; empty when the namespace does not exist."""
        return await asyncio.to_thread(self._workloads_sync, target, namespace)

    async def pods(self, target: KubeTarget, namespace: str) -> PodCount:
        """How many of ``namespace``'s pods are Ready, of how many."""
        return await asyncio.to_thread(self._pods_sync, target, namespace)

    async def resource_quotas(self, target: KubeTarget, namespace: str) -> list[NamespaceQuota]:
        """Every ResourceQuota in ``namespace`` by name; none when the namespace does not exist."""
        return await self._quotas.resource_quotas(target, namespace)

    async def set_resource_quota(self, target: KubeTarget, namespace: str, *, name: str,
                                 hard: Mapping[str, str | None]) -> NamespaceQuota:
        """Merge ``hard`` into ResourceQuota ``name`` (None removes a limit), creating it labelled as
        hubbot's when absent. Raises :class:`UserError` when the API refuses the values (its reason,
        trimmed), when the namespace does not exist, or when there is no quota and only removals;
        :class:`UpstreamError` when the credentials are refused or the cluster fails."""
        return await self._quotas.set_resource_quota(target, namespace, name=name, hard=hard)

    # -- kubeconfig ----------------------------------------------------------------------------

    async def _kubeconfig(self, cluster: str, access: KubeconfigAccess) -> KubeTarget:
        path, dest = self._kubeconfig_file(cluster, access)
        if dest is not None:  # a fleet repository's sops-encrypted enc-deployer-credentials file
            await self._decrypt(cluster, path, dest)
        return KubeTarget(cluster=cluster, kubeconfig=str(dest or path), context=access.context)

    def _kubeconfig_file(self, cluster: str, access: KubeconfigAccess) -> tuple[Path, Path | None]:
        """The kubeconfig file, and where its decrypted copy goes when it is sops-encrypted: this
        process's private folder, once per version of the file (the folder goes with the process)."""
        path = Path(access.path).expanduser()
        if not path.is_absolute():
            path = self.fleet.base / path
        if not path.is_file():
            raise UserError(
                f"the kubeconfig file {path} for cluster '{cluster}' does not exist; fix kubernetes.path in the "
                "fleet config (relative paths start at the config file's folder) or mount the file there"
            )
        if not has_sops_metadata(path):
            return path, None
        if self._private is None:
            self._private = Path(tempfile.mkdtemp(prefix="hubbot-kubeconfigs-"))
        stat = path.stat()
        key = hashlib.sha256(f"{path}:{stat.st_mtime_ns}:{stat.st_size}".encode()).hexdigest()[:24]
        return path, self._private / f"{key}.yaml"

    async def _decrypt(self, cluster: str, path: Path, dest: Path) -> None:
        if self._sops is None:
            raise UserError(f"the kubeconfig of cluster '{cluster}' is sops-encrypted and hubbot has no sops: "
                            f"{INSTALL_HINT}")
        if not await asyncio.to_thread(dest.is_file):
            await self._sops.decrypt(path, dest, name=f"the kubeconfig of cluster '{cluster}'")

    # -- reading the cluster -------------------------------------------------------------------

    def _workloads_sync(self, target: KubeTarget, namespace: str) -> list[Workload]:
        from kubernetes import client

        with self._clients.use(target) as api:
            apps = client.AppsV1Api(api)
            judged: list[tuple[Workload, WorkloadObject]] = []
            for kind, plural, method in _LISTS:
                items = list_items(target, namespace, plural, getattr(apps, method), WorkloadObject)
                if items is None:
                    return []
                judged += [(rollout.workload(kind, item), item) for item in items]
            if all(w.done for w, _ in judged):
                return [w for w, _ in judged]
            # something is still rolling out: its pods say why it is not done yet
            pods = list_items(target, namespace, "pods", client.CoreV1Api(api).list_namespaced_pod, PodObject) or []
            return [rollout.explained(w, item, pods) for w, item in judged]

    def _pods_sync(self, target: KubeTarget, namespace: str) -> PodCount:
        from kubernetes import client

        with self._clients.use(target) as api:
            items = list_items(target, namespace, "pods", client.CoreV1Api(api).list_namespaced_pod, PodObject)
        if items is None:
            return PodCount(ready=0, total=0)
        return PodCount(ready=sum(1 for pod in items if rollout.pod_ready(pod)), total=len(items))

