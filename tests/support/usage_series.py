"""The series a z2jh hub's cluster publishes, generated from what ran (:class:`ServerRun`), as
OpenMetrics text for ``promtool tsdb create-blocks-from openmetrics``: the same facts the
in-memory Prometheus twin is given, so the two can be held to each other.

Names and labels are the real ones: cAdvisor's ``container_cpu_usage_seconds_total`` and
``container_memory_working_set_bytes`` (per container, with ``name`` set, and again for the pod's
own cgroup with ``container`` and ``name`` empty, as the kubelet reports them), kube-state-metrics'
``kube_pod_annotations`` (with the ``hub.jupyter.org/username`` annotation allowed) and
``kube_pod_container_resource_requests``, the home server's ``dirsize_total_size_bytes`` and
``dirsize_hard_limit_bytes``, and JupyterHub's ``jupyterhub_active_users``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from hubbot.adapters.memory import ServerRun
from hubbot.domain import DailyActive, HomeUse
from tests.support.prometheus_server import MetricsText

SCRAPE = 60  # seconds between samples, as a typical scrape interval


def _times(start: datetime, end: datetime, step: int = SCRAPE) -> list[float]:
    t, stop, out = start.timestamp(), end.timestamp(), []
    while t <= stop:
        out.append(t)
        t += step
    return out


def add_runs(text: MetricsText, namespace: str, runs: Sequence[ServerRun], *, step: int = SCRAPE) -> MetricsText:
    """The series of each server run, sampled every ``step`` seconds while it ran."""
    for i, run in enumerate(runs):
        pod = run.pod
        times = _times(run.start, run.end, step)
        # the container's own series, and the pod cgroup's (container and name empty)
        for container, name in (("notebook", f"k8s_notebook_{pod}_{i}"), ("", "")):
            labels = {"namespace": namespace, "pod": pod, "container": container, "name": name}
            if not name:
                labels["id"] = f"/kubepods/pod-{pod}-{i}"  # a restarted pod's cgroup is a new series
            text.counter("container_cpu_usage_seconds", labels, [(t, run.cpu * (t - times[0])) for t in times],
                         help="Cumulative cpu time consumed in seconds.")
            text.gauge("container_memory_working_set_bytes", labels, [(t, run.memory) for t in times],
                       help="Current working set in bytes.")
        text.gauge("kube_pod_annotations", {"namespace": namespace, "pod": pod,
                                            "annotation_hub_jupyter_org_username": run.user},
                   [(t, 1) for t in times], help="Kubernetes annotations converted to Prometheus labels.")
        for resource, unit, value in (("cpu", "core", run.cpu_request), ("memory", "byte", run.memory_request)):
            text.gauge("kube_pod_container_resource_requests",
                       {"namespace": namespace, "pod": pod, "container": "notebook", "node": "node-1",
                        "resource": resource, "unit": unit}, [(t, value) for t in times],
                       help="The number of requested request resource by a container.")
    return text


def add_homes(text: MetricsText, namespace: str, homes: Sequence[HomeUse], *, at: datetime) -> MetricsText:
    """Each home directory's size (and hard limit) over the hour before ``at``."""
    hour = _times(at - timedelta(hours=1), at, 300)
    for home in homes:
        labels = {"namespace": namespace, "directory": home.directory}
        text.gauge("dirsize_total_size_bytes", labels, [(t, home.used) for t in hour],
                   help="Total size of the directory.")
        if home.limit:
            text.gauge("dirsize_hard_limit_bytes", labels, [(t, home.limit) for t in hour],
                       help="Hard quota of the directory.")
    return text


def add_active(text: MetricsText, namespace: str, active: Sequence[DailyActive]) -> MetricsText:
    """JupyterHub's daily active users, published through each day's last half hour."""
    points = []
    for day in sorted(active, key=lambda d: d.day):
        end = datetime(day.day.year, day.day.month, day.day.day, tzinfo=UTC) + timedelta(days=1)
        points += [(t, day.users) for t in _times(end - timedelta(minutes=30), end - timedelta(minutes=1))]
    return text.gauge("jupyterhub_active_users", {"namespace": namespace, "period": "24h"}, points,
                      help="Number of users who were active in the given time period")


def openmetrics(namespace: str, runs: Sequence[ServerRun], *, homes: Sequence[HomeUse] = (),
                active: Sequence[DailyActive] = (), at: datetime | None = None) -> str:
    """One hub's series as OpenMetrics text. Homes are sampled over the hour before ``at``."""
    text = add_runs(MetricsText(), namespace, runs)
    if homes and at is not None:
        add_homes(text, namespace, homes, at=at)
    if active:
        add_active(text, namespace, active)
    return text.text()
