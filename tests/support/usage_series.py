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

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta

from hubbot.adapters.memory import ServerRun
from hubbot.domain import DailyActive, HomeUse

SCRAPE = 60  # seconds between samples, as a typical scrape interval


def _labels(**labels: str) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return "{" + inner + "}"


def _times(start: datetime, end: datetime, step: int = SCRAPE) -> Iterator[float]:
    t, stop = start.timestamp(), end.timestamp()
    while t <= stop:
        yield t
        t += step


def _family(name: str, kind: str, help_text: str, rows: Iterable[str]) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", *rows]


def openmetrics(namespace: str, runs: Sequence[ServerRun], *, homes: Sequence[HomeUse] = (),
                active: Sequence[DailyActive] = (), at: datetime | None = None) -> str:
    """One hub's series. Homes are sampled over the hour before ``at``; a day's active users at its end."""
    out: list[str] = []
    cpu_rows: list[str] = []
    mem_rows: list[str] = []
    ann_rows: list[str] = []
    req_rows: list[str] = []
    for i, run in enumerate(runs):
        pod = run.pod
        times = list(_times(run.start, run.end))
        for container, name in (("notebook", f"k8s_notebook_{pod}_{i}"), ("", "")):
            series = _labels(namespace=namespace, pod=pod, container=container, name=name)
            cpu_rows += [f"container_cpu_usage_seconds_total{series} {run.cpu * (t - times[0]):.3f} {t:.0f}"
                         for t in times]
            mem_rows += [f"container_memory_working_set_bytes{series} {run.memory} {t:.0f}" for t in times]
        ann = _labels(namespace=namespace, pod=pod, annotation_hub_jupyter_org_username=run.user)
        ann_rows += [f"kube_pod_annotations{ann} 1 {t:.0f}" for t in times]
        for resource, unit, value in (("cpu", "core", run.cpu_request), ("memory", "byte", run.memory_request)):
            req = _labels(namespace=namespace, pod=pod, container="notebook", node="node-1", resource=resource,
                          unit=unit)
            req_rows += [f"kube_pod_container_resource_requests{req} {value} {t:.0f}" for t in times]
    out += _family("container_cpu_usage_seconds", "counter", "Cumulative cpu time consumed in seconds.", cpu_rows)
    out += _family("container_memory_working_set_bytes", "gauge", "Current working set in bytes.", mem_rows)
    out += _family("kube_pod_annotations", "gauge", "Kubernetes annotations converted to Prometheus labels.",
                   ann_rows)
    out += _family("kube_pod_container_resource_requests", "gauge",
                   "The number of requested request resource by a container.", req_rows)
    if homes and at is not None:
        hour = list(_times(at - timedelta(hours=1), at, 300))
        size_rows = [f"dirsize_total_size_bytes{_labels(namespace=namespace, directory=h.directory)} {h.used} {t:.0f}"
                     for h in homes for t in hour]
        limit_rows = [f"dirsize_hard_limit_bytes{_labels(namespace=namespace, directory=h.directory)} {h.limit} "
                      f"{t:.0f}" for h in homes if h.limit for t in hour]
        out += _family("dirsize_total_size_bytes", "gauge", "Total size of the directory.", size_rows)
        out += _family("dirsize_hard_limit_bytes", "gauge", "Hard quota of the directory.", limit_rows)
    if active:
        series = _labels(namespace=namespace, period="24h")
        rows = []
        for day in sorted(active, key=lambda d: d.day):
            end = datetime(day.day.year, day.day.month, day.day.day, tzinfo=at.tzinfo if at else None) \
                + timedelta(days=1)
            rows += [f"jupyterhub_active_users{series} {day.users} {t:.0f}"
                     for t in _times(end - timedelta(minutes=30), end - timedelta(minutes=1))]
        out += _family("jupyterhub_active_users", "gauge", "Number of users who were active in the given time period",
                       rows)
    return "\n".join(out) + "\n# EOF\n"
