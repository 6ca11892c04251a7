"""Judging rollouts from Kubernetes objects, the way ``kubectl rollout status`` does.

Everything here is a pure function of the objects' JSON (as the API serves them), so it can
be tested without a cluster. A status field the API left out counts as 0: the API omits
zero-valued counts, and a controller that has not looked at an object yet writes no status.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hubbot.domain import Workload

DEADLINE_REASON = "ProgressDeadlineExceeded"
KINDS = ("Deployment", "DaemonSet", "StatefulSet")


def workload(kind: str, obj: Mapping[str, Any]) -> Workload:
    """The rollout state of one Deployment, DaemonSet or StatefulSet given as API JSON.

    Raises :class:`ValueError` for any other ``kind``.
    """
    judge = _JUDGES.get(kind)
    if judge is None:
        raise ValueError(f"cannot judge the rollout of a {kind!r} (only {', '.join(KINDS)})")
    return judge(obj)


def pod_ready(obj: Mapping[str, Any]) -> bool:
    """Whether a Pod's ``Ready`` condition is ``True``."""
    condition = _condition(_status(obj), "Ready")
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
        for w in items if not w.done
    ]
    return f"{line} ({', '.join(waiting)})" if waiting else line


def _deployment(obj: Mapping[str, Any]) -> Workload:
    spec, status = _spec(obj), _status(obj)
    desired = _int(spec.get("replicas"), default=1)
    replicas, updated = _int(status.get("replicas")), _int(status.get("updatedReplicas"))
    available = _int(status.get("availableReplicas"))
    name, ready = _name(obj), min(updated, available)
    if not _observed(obj):
        return Workload("Deployment", name, ready, desired, done=False)
    # kubectl looks at the deadline only once the controller has seen the current spec: a
    # condition from an earlier rollout says nothing about the new one.
    progressing = _condition(status, "Progressing")
    if progressing is not None and progressing.get("reason") == DEADLINE_REASON:
        message = str(progressing.get("message") or "").strip()
        failed = f"exceeded its progress deadline ({DEADLINE_REASON})" + (f": {message}" if message else "")
        return Workload("Deployment", name, ready, desired, done=False, failed=failed)
    done = updated >= desired and replicas <= updated and available >= updated
    return Workload("Deployment", name, ready, desired, done=done)


def _daemonset(obj: Mapping[str, Any]) -> Workload:
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


def _statefulset(obj: Mapping[str, Any]) -> Workload:
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
    rolling = _mapping(_mapping(spec.get("updateStrategy")).get("rollingUpdate"))
    partition = _int(rolling.get("partition"))
    if partition > 0:
        # Pods below the partition keep the old revision on purpose, so the revisions never
        # match; the rollout is complete once every pod at or above it is updated.
        done = updated >= desired - partition
    else:
        done = updated >= desired and status.get("currentRevision") == status.get("updateRevision")
    return Workload("StatefulSet", name, ready, desired, done=done)


_JUDGES = {"Deployment": _deployment, "DaemonSet": _daemonset, "StatefulSet": _statefulset}


def _observed(obj: Mapping[str, Any]) -> bool:
    generation = _int(_mapping(obj.get("metadata")).get("generation"))
    return _int(_status(obj).get("observedGeneration")) >= generation


def _strategy(obj: Mapping[str, Any]) -> str:
    strategy = _mapping(_spec(obj).get("updateStrategy")).get("type")
    return str(strategy) if strategy else "RollingUpdate"  # the API's default for both kinds


def _condition(status: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    for condition in status.get("conditions") or []:
        if isinstance(condition, Mapping) and condition.get("type") == kind:
            return condition
    return None


def _name(obj: Mapping[str, Any]) -> str:
    return str(_mapping(obj.get("metadata")).get("name") or "")


def _spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return _mapping(obj.get("spec"))


def _status(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return _mapping(obj.get("status"))


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _int(value: Any, *, default: int = 0) -> int:
    if value is None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
