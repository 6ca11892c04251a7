"""The Kubernetes objects hubbot reads, in the JSON the API serves: only the fields the rollout
judgement (:mod:`hubbot.deploys.rollout`) reads, with the types the API documents.

Every field may be missing: the API leaves out zero-valued counts, and a controller that has not
looked at an object yet writes no status. Nothing checked these objects on the way in, so the
judgement still reads each value defensively (a value of another type counts as missing).
"""

from __future__ import annotations

from typing import Generic, TypedDict, TypeVar

_Item = TypeVar("_Item")


class ObjectMeta(TypedDict, total=False):
    name: str
    generation: int  # bumped on every change to the spec
    labels: dict[str, str]


class LabelSelector(TypedDict, total=False):
    matchLabels: dict[str, str]


class Condition(TypedDict, total=False):
    type: str  # "Progressing" (Deployments), "Ready" (pods)
    status: str  # "True", "False" or "Unknown"
    reason: str  # e.g. "ProgressDeadlineExceeded"
    message: str


class RollingUpdate(TypedDict, total=False):
    partition: int  # StatefulSets: pods below this ordinal keep the old revision


class UpdateStrategy(TypedDict, total=False):
    type: str  # "RollingUpdate" or "OnDelete"
    rollingUpdate: RollingUpdate


class WorkloadSpec(TypedDict, total=False):
    replicas: int  # Deployments and StatefulSets
    updateStrategy: UpdateStrategy  # DaemonSets and StatefulSets
    selector: LabelSelector  # which pods are the workload's


class WorkloadStatus(TypedDict, total=False):
    observedGeneration: int
    # Deployments
    replicas: int
    updatedReplicas: int  # and StatefulSets
    availableReplicas: int
    conditions: list[Condition]
    # StatefulSets
    readyReplicas: int
    currentRevision: str
    updateRevision: str
    # DaemonSets
    desiredNumberScheduled: int
    updatedNumberScheduled: int
    numberAvailable: int


class WorkloadObject(TypedDict, total=False):
    """A Deployment, DaemonSet or StatefulSet."""

    metadata: ObjectMeta
    spec: WorkloadSpec
    status: WorkloadStatus


class ContainerStateWaiting(TypedDict, total=False):
    reason: str  # e.g. "ImagePullBackOff", "CrashLoopBackOff"
    message: str


class ContainerState(TypedDict, total=False):
    waiting: ContainerStateWaiting


class ContainerStatus(TypedDict, total=False):
    name: str
    restartCount: int
    state: ContainerState


class PodStatus(TypedDict, total=False):
    conditions: list[Condition]
    containerStatuses: list[ContainerStatus]


class PodObject(TypedDict, total=False):
    metadata: ObjectMeta
    status: PodStatus


class ObjectList(TypedDict, Generic[_Item], total=False):
    """What the API answers to a list request (``items`` left out only by something that is not the API)."""

    items: list[_Item]
