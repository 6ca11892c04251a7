"""A pretend node for the test control plane: no kubelet and no scheduler run there, so this does
their part through the API, as the official ``kubernetes`` client would see it done.

:class:`TestNode` registers a Node (Ready, with cpu/memory/pods capacity), binds pods to it (the
``pods/binding`` subresource, as the scheduler does) and writes pod status through the ``pods/status``
subresource, as a kubelet would: Running and Ready, stuck pulling the image (``ImagePullBackOff``),
crash-looping (``CrashLoopBackOff`` with restarts) or not schedulable (``PodScheduled`` False).

The addresses it writes (node 192.0.2.10, pods 198.51.100.x) are documentation ranges: they are
data for the controllers to copy around, never dialled.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

NODE_IP = "192.0.2.10"
MERGE = "application/merge-patch+json"
_pod_ips = (f"198.51.100.{n}" for n in itertools.cycle(range(2, 255)))


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _condition(kind: str, status: bool, reason: str | None = None, message: str | None = None) -> dict[str, Any]:
    condition: dict[str, Any] = {"type": kind, "status": "True" if status else "False",
                                 "lastTransitionTime": _now(), "lastProbeTime": None}
    if reason:
        condition["reason"] = reason
    if message:
        condition["message"] = message
    return condition


def _containers(pod: Any) -> list[Any]:
    return list(pod.spec.containers or [])


def running_and_ready(pod: Any) -> bool:
    status = pod.status
    if status is None or status.phase != "Running":
        return False
    return any(c.type == "Ready" and c.status == "True" for c in status.conditions or [])


class TestNode:
    """One Node of the test cluster, and the kubelet-and-scheduler work for pods placed on it."""

    __test__ = False  # not a pytest test class

    def __init__(self, api: Any, name: str = "hubbot-test-node", *, cpu: str = "8", memory: str = "32Gi",
                 pods: str = "110") -> None:
        self.api = api
        self.core = client.CoreV1Api(api)
        self.name = name
        self.capacity = {"cpu": cpu, "memory": memory, "pods": pods}

    # -- the node ----------------------------------------------------------------------------------

    def register(self) -> None:
        """Create the Node (if missing) and report it Ready with its capacity."""
        try:
            self.core.read_node(self.name)
        except ApiException as e:
            if e.status != 404:
                raise
            self.core.create_node({"apiVersion": "v1", "kind": "Node", "metadata": {
                "name": self.name, "labels": {"kubernetes.io/hostname": self.name, "kubernetes.io/os": "linux",
                                              "kubernetes.io/arch": "amd64"}}})
        now = _now()
        self.core.patch_node_status(self.name, _content_type=MERGE, body={"status": {
            "capacity": self.capacity, "allocatable": self.capacity,
            "addresses": [{"type": "InternalIP", "address": NODE_IP}, {"type": "Hostname", "address": self.name}],
            "conditions": [
                {"type": "Ready", "status": "True", "reason": "KubeletReady",
                 "message": "kubelet is posting ready status", "lastHeartbeatTime": now, "lastTransitionTime": now},
                *({"type": kind, "status": "False", "reason": f"KubeletHas{reason}", "lastHeartbeatTime": now,
                   "lastTransitionTime": now}
                  for kind, reason in (("MemoryPressure", "SufficientMemory"), ("DiskPressure", "NoDiskPressure"),
                                       ("PIDPressure", "SufficientPID"))),
            ],
            "nodeInfo": {"kubeletVersion": "v0.0.0-test", "containerRuntimeVersion": "test://0",
                         "architecture": "amd64", "operatingSystem": "linux", "osImage": "test",
                         "kernelVersion": "0", "kubeProxyVersion": "", "machineID": "", "systemUUID": "",
                         "bootID": ""},
        }})
        # The API server taints a new node not-ready (NoSchedule); the node lifecycle controller,
        # off here (no kubelet heartbeats), would lift it once the node reports Ready. DaemonSet
        # pods do not tolerate that taint, so lift it as that controller would.
        self.core.patch_node(self.name, {"spec": {"taints": None}}, _content_type=MERGE)

    # -- pods --------------------------------------------------------------------------------------

    def pods(self, namespace: str, selector: str | None = None) -> list[Any]:
        """The namespace's pods (matching the label ``selector``) that are not being deleted."""
        found = self.core.list_namespaced_pod(namespace, label_selector=selector or "").items
        return [pod for pod in found if pod.metadata.deletion_timestamp is None]

    def bind(self, pod: Any) -> None:
        """Place ``pod`` on this node, as the scheduler would (no-op if it is bound already)."""
        if pod.spec.node_name:
            return
        body = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": pod.metadata.name},
                "target": {"apiVersion": "v1", "kind": "Node", "name": self.name}}
        # The API answers a Status, which the generated client cannot read back as a Binding.
        self.core.create_namespaced_binding(pod.metadata.namespace, body, _preload_content=False)
        pod.spec.node_name = self.name

    def _patch_status(self, pod: Any, status: dict[str, Any]) -> None:
        # A merge patch replaces the lists whole (a strategic one would keep a container's old state beside the new).
        self.core.patch_namespaced_pod_status(pod.metadata.name, pod.metadata.namespace, {"status": status},
                                              _content_type=MERGE)

    def _placed(self, pod: Any, ip: str | None = None) -> dict[str, Any]:
        address = ip or (pod.status.pod_ip if pod.status and pod.status.pod_ip else next(_pod_ips))
        started = pod.status.start_time if pod.status and pod.status.start_time else None
        return {"hostIP": NODE_IP, "hostIPs": [{"ip": NODE_IP}], "podIP": address, "podIPs": [{"ip": address}],
                "startTime": started.strftime("%Y-%m-%dT%H:%M:%SZ") if started else _now()}

    def run(self, namespace: str, selector: str | None = None) -> list[str]:
        """Bind the matching pods and report them Running and Ready; returns the names of those that were
        not already (so calling it again while controllers work changes only the new pods)."""
        names = []
        for pod in self.pods(namespace, selector):
            if running_and_ready(pod):
                continue
            self.bind(pod)
            self._patch_status(pod, {
                "phase": "Running", **self._placed(pod),
                "conditions": [_condition("PodReadyToStartContainers", True), _condition("Initialized", True),
                               _condition("ContainersReady", True), _condition("Ready", True),
                               _condition("PodScheduled", True)],
                "containerStatuses": [
                    {"name": c.name, "image": c.image, "imageID": f"{c.image}@sha256:{'0' * 64}",
                     "containerID": f"test://{pod.metadata.uid}-{c.name}", "ready": True, "started": True,
                     "restartCount": 0, "state": {"running": {"startedAt": _now()}}}
                    for c in _containers(pod)],
            })
            names.append(pod.metadata.name)
        return names

    def _not_ready(self, pod: Any, phase: str, waiting: dict[str, str], restarts: int = 0,
                   last_state: dict[str, Any] | None = None) -> None:
        names = ",".join(c.name for c in _containers(pod))
        message = f"containers with unready status: [{names}]"
        self._patch_status(pod, {
            "phase": phase, **self._placed(pod),
            "conditions": [_condition("PodReadyToStartContainers", True), _condition("Initialized", True),
                           _condition("ContainersReady", False, "ContainersNotReady", message),
                           _condition("Ready", False, "ContainersNotReady", message),
                           _condition("PodScheduled", True)],
            "containerStatuses": [
                {"name": c.name, "image": c.image, "imageID": "", "ready": False, "started": False,
                 "restartCount": restarts, "state": {"waiting": waiting}, "lastState": last_state or {}}
                for c in _containers(pod)],
        })

    def fail_image_pull(self, namespace: str, selector: str | None = None) -> list[str]:
        """Bind the matching pods and report them Pending, their image not pulled (``ImagePullBackOff``)."""
        names = []
        for pod in self.pods(namespace, selector):
            self.bind(pod)
            image = _containers(pod)[0].image
            self._not_ready(pod, "Pending", {"reason": "ImagePullBackOff",
                                             "message": f'Back-off pulling image "{image}"'})
            names.append(pod.metadata.name)
        return names

    def crash_loop(self, namespace: str, selector: str | None = None, restarts: int = 3) -> list[str]:
        """Bind the matching pods and report them Running but crash-looping (``CrashLoopBackOff``)."""
        names = []
        for pod in self.pods(namespace, selector):
            self.bind(pod)
            first = _containers(pod)[0].name
            self._not_ready(
                pod, "Running",
                {"reason": "CrashLoopBackOff",
                 "message": f"back-off 40s restarting failed container={first} pod={pod.metadata.name}"},
                restarts=restarts,
                last_state={"terminated": {"exitCode": 1, "reason": "Error", "startedAt": _now(),
                                           "finishedAt": _now(), "containerID": f"test://{pod.metadata.uid}"}})
            names.append(pod.metadata.name)
        return names

    def unschedulable(self, namespace: str, selector: str | None = None,
                      message: str = "0/1 nodes are available: 1 Insufficient cpu.") -> list[str]:
        """Report the matching pods that are not bound yet as the scheduler does when none fits."""
        names = []
        for pod in self.pods(namespace, selector):
            if pod.spec.node_name:
                continue
            self._patch_status(pod, {"phase": "Pending", "conditions": [
                _condition("PodScheduled", False, "Unschedulable", message)]})
            names.append(pod.metadata.name)
        return names

    def reap(self, namespace: str, selector: str | None = None, *, all_pods: bool = False) -> list[str]:
        """Remove the matching pods that are being deleted (or, with ``all_pods``, every matching pod) at
        once, as a kubelet does when their containers have stopped: without one they would stay
        Terminating for good."""
        names = []
        for pod in self.core.list_namespaced_pod(namespace, label_selector=selector or "").items:
            if all_pods or pod.metadata.deletion_timestamp is not None:
                try:
                    self.core.delete_namespaced_pod(pod.metadata.name, namespace, grace_period_seconds=0)
                except ApiException as e:
                    if e.status != 404:
                        raise
                names.append(pod.metadata.name)
        return names
