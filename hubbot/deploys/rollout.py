"""Judging rollouts from Kubernetes objects, the way ``kubectl rollout status`` does.

Everything here is a pure function of the objects' JSON (as the API serves them, see
:mod:`hubbot.deploys.objects`), so it can be tested without a cluster. A status field the API
left out counts as 0: the API omits zero-valued counts, and a controller that has not looked at
an object yet writes no status.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

from hubbot.deploys.objects import (
    Condition,
    ObjectMeta,
    PodObject,
    PodStatus,
    RollingUpdate,
    UpdateStrategy,
    WorkloadObject,
    WorkloadSpec,
    WorkloadStatus,
)
from hubbot.domain import Workload

DEADLINE_REASON = "ProgressDeadlineExceeded"
KINDS = ("Deployment", "DaemonSet", "StatefulSet")


# Why a container keeps not starting, as its kubelet reports it: worth telling the engineer
# while the rollout waits (the workload itself only says "not ready yet").
STUCK_REASONS = frozenset({"ImagePullBackOff", "ErrImagePull", "InvalidImageName", "CrashLoopBackOff",
                           "CreateContainerConfigError", "CreateContainerError", "RunContainerError"})


def workload(kind: str, obj: WorkloadObject) -> Workload:
    """The rollout state of one Deployment, DaemonSet or StatefulSet given as API JSON.

    Raises :class:`ValueError` for any other ``kind``.
    """
    judge = _JUDGES.get(kind)
    if judge is None:
        raise ValueError(f"cannot judge the rollout of a {kind!r} (only {', '.join(KINDS)})")
    return judge(obj)


def explained(found: Workload, obj: WorkloadObject, pods: Sequence[PodObject]) -> Workload:
    """``found`` (judged from ``obj``) saying why one of its pods is not starting, from the
    namespace's ``pods``, while its rollout is not done."""
    if found.done:
        return found
    stuck = stuck_pod(_spec(obj).get("selector"), pods)
    return replace(found, stuck=stuck) if stuck else found


def stuck_pod(selector: object, pods: Sequence[PodObject]) -> str | None:
    """The first of ``pods`` the ``selector`` (its ``matchLabels``) picks whose container waits
    for a reason it will not get over alone, or that cannot be scheduled: ``pod NAME: REASON``."""
    wanted = selector.get("matchLabels") if isinstance(selector, Mapping) else None
    if not isinstance(wanted, Mapping) or not wanted:
        return None
    for pod in pods:
        meta = pod.get("metadata") if isinstance(pod, Mapping) else None
        labels = meta.get("labels") if isinstance(meta, Mapping) else None
        if not isinstance(labels, Mapping) or any(labels.get(k) != v for k, v in wanted.items()):
            continue
        status = _pod_status(pod)
        name = str(meta.get("name") or "") if isinstance(meta, Mapping) else ""
        for container in status.get("containerStatuses") or []:
            state = container.get("state") if isinstance(container, Mapping) else None
            waiting = state.get("waiting") if isinstance(state, Mapping) else None
            reason = waiting.get("reason") if isinstance(waiting, Mapping) else None
            if reason in STUCK_REASONS:
                return f"pod {name}: {reason}"
        scheduled = _condition(status.get("conditions"), "PodScheduled")
        if scheduled is not None and scheduled.get("status") == "False" and scheduled.get("reason") == "Unschedulable":
            return f"pod {name}: Unschedulable"
    return None


def pod_ready(obj: PodObject) -> bool:
    """Whether a Pod's ``Ready`` condition is ``True``."""
    condition = _condition(_pod_status(obj).get("conditions"), "Ready")
    return condition is not None and condition.get("status") == "True"


def summary(workloads: Iterable[Workload]) -> str:
    """One line for people, e.g. ``3/4 workloads ready (hub: 0/1)``; failed ones say so."""
    items = list(workloads)
    if not items:
        return "no workloads"
    done = sum(1 for w in items if w.done)
    line = f"{done}/{len(items)} workloads ready"
    waiting = [
        f"{w.name}: {w.ready}/{w.desired}" + (f" failed, {w.failed}" if w.failed else "")
        + (f", {w.stuck}" if w.stuck and not w.failed else "")
        for w in items if not w.done
    ]
    return f"{line} ({', '.join(waiting)})" if waiting else line


def _deployment(obj: WorkloadObject) -> Workload:
    spec, status = _spec(obj), _status(obj)
    desired = _int(spec.get("replicas"), default=1)
    replicas, updated = _int(status.get("replicas")), _int(status.get("updatedReplicas"))
    available = _int(status.get("availableReplicas"))
    name, ready = _name(obj), min(updated, available)
    if not _observed(obj):
        return Workload("Deployment", name, ready, desired, done=False)
    # kubectl looks at the deadline only once the controller has seen the current spec: a
    # condition from an earlier rollout says nothing about the new one.
    progressing = _condition(status.get("conditions"), "Progressing")
    if progressing is not None and progressing.get("reason") == DEADLINE_REASON:
        message = str(progressing.get("message") or "").strip()
        failed = f"exceeded its progress deadline ({DEADLINE_REASON})" + (f": {message}" if message else "")
        return Workload("Deployment", name, ready, desired, done=False, failed=failed)
    done = updated >= desired and replicas <= updated and available >= updated
    return Workload("Deployment", name, ready, desired, done=done)


def _daemonset(obj: WorkloadObject) -> Workload:
    status = _status(obj)
    desired = _int(status.get("desiredNumberScheduled"))
    updated, available = _int(status.get("updatedNumberScheduled")), _int(status.get("numberAvailable"))
    name = _name(obj)
    if not _observed(obj):
        return Workload("DaemonSet", name, min(updated, available), desired, done=False)
    if _strategy(obj) != "RollingUpdate":
        # With OnDelete, pods change only when someone deletes them: nothing is left to wait for.
        return Workload("DaemonSet", name, available, desired, done=True)
    done = updated >= desired and available >= desired
    return Workload("DaemonSet", name, min(updated, available), desired, done=done)


def _statefulset(obj: WorkloadObject) -> Workload:
    spec, status = _spec(obj), _status(obj)
    desired = _int(spec.get("replicas"), default=1)
    ready, updated = _int(status.get("readyReplicas")), _int(status.get("updatedReplicas"))
    name = _name(obj)
    # A StatefulSet's status always carries observedGeneration once the controller has seen it.
    if _int(status.get("observedGeneration")) == 0 or not _observed(obj):
        return Workload("StatefulSet", name, ready, desired, done=False)
    if ready < desired:
        return Workload("StatefulSet", name, ready, desired, done=False)
    if _strategy(obj) != "RollingUpdate":
        return Workload("StatefulSet", name, ready, desired, done=True)
    partition = _int(_rolling_update(spec).get("partition"))
    if partition > 0:
        # Pods below the partition keep the old revision on purpose, so the revisions never
        # match; the rollout is complete once every pod at or above it is updated.
        done = updated >= desired - partition
    else:
        done = updated >= desired and status.get("currentRevision") == status.get("updateRevision")
    return Workload("StatefulSet", name, ready, desired, done=done)


_JUDGES: dict[str, Callable[[WorkloadObject], Workload]] = {
    "Deployment": _deployment, "DaemonSet": _daemonset, "StatefulSet": _statefulset,
}


def _observed(obj: WorkloadObject) -> bool:
    generation = _int(_metadata(obj).get("generation"))
    return _int(_status(obj).get("observedGeneration")) >= generation


def _strategy(obj: WorkloadObject) -> str:
    strategy = _update_strategy(_spec(obj)).get("type")
    return str(strategy) if strategy else "RollingUpdate"  # the API's default for both kinds


def _condition(conditions: list[Condition] | None, kind: str) -> Condition | None:
    for condition in conditions or []:
        if isinstance(condition, Mapping) and condition.get("type") == kind:
            return condition
    return None


def _name(obj: WorkloadObject) -> str:
    return str(_metadata(obj).get("name") or "")


# Each of these reads one nested object, or an empty one when it is missing or not an object.

def _metadata(obj: WorkloadObject) -> ObjectMeta:
    metadata = obj.get("metadata")
    return metadata if isinstance(metadata, Mapping) else {}


def _spec(obj: WorkloadObject) -> WorkloadSpec:
    spec = obj.get("spec")
    return spec if isinstance(spec, Mapping) else {}


def _status(obj: WorkloadObject) -> WorkloadStatus:
    status = obj.get("status")
    return status if isinstance(status, Mapping) else {}


def _pod_status(obj: PodObject) -> PodStatus:
    status = obj.get("status")
    return status if isinstance(status, Mapping) else {}


def _update_strategy(spec: WorkloadSpec) -> UpdateStrategy:
    strategy = spec.get("updateStrategy")
    return strategy if isinstance(strategy, Mapping) else {}


def _rolling_update(spec: WorkloadSpec) -> RollingUpdate:
    rolling = _update_strategy(spec).get("rollingUpdate")
    return rolling if isinstance(rolling, Mapping) else {}


def _int(value: int | None, *, default: int = 0) -> int:
    """A count as the API serves it (an integer); missing counts as ``default``, and so does a value
    ``int()`` cannot read, since nothing checked the JSON's types on the way in."""
    if value is None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
