"""A cluster's Prometheus (:class:`hubbot.ports.UsageMetrics`), read over its HTTP API with the
series a z2jh hub's cluster publishes:

- user servers' CPU and memory from cAdvisor (``container_cpu_usage_seconds_total``,
  ``container_memory_working_set_bytes``), or their requests from kube-state-metrics
  (``kube_pod_container_resource_requests``, what jupyterhub-usage-quotas counts), joined to the
  JupyterHub user name through kube-state-metrics' ``kube_pod_annotations`` (the
  ``hub.jupyter.org/username`` annotation KubeSpawner sets; the pod label is a lossy slug);
- home directories from the home server's quota exporter (``dirsize_total_size_bytes``,
  ``dirsize_hard_limit_bytes``, by ``directory``);
- daily active users from JupyterHub's own ``jupyterhub_active_users{period="24h"}``.

Usage over a window joins pods that ran at any time in it (``last_over_time`` of the annotation),
so a server stopped three weeks ago still counts. Errors say what to fix, never the credential.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from hubbot.adapters.lazy import LoopClient
from hubbot.domain import ComputeUse, DailyActive, HomeUse
from hubbot.errors import UpstreamError, UserError

USER = "annotation_hub_jupyter_org_username"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _owners(namespace: str, days: int) -> str:
    """Each user server pod of the window, with its user's name."""
    return (f'group by (namespace, pod, {USER}) (last_over_time(kube_pod_annotations{{namespace="{_label(namespace)}", '
            f'{USER}!=""}}[{days}d]))')


def compute_queries(namespace: str, days: int, *, requested: bool, scrape: int = 60) -> tuple[str, str]:
    """The PromQL for each user's CPU core-seconds and memory byte-seconds over ``days`` days.
    A gauge's samples are summed and weighed by the ``scrape`` interval (each sample stands for
    one interval), which is exact for regular scrapes and cheaper than a subquery."""
    ns = _label(namespace)
    owners = _owners(namespace, days)
    if requested:
        cpu_series = f'kube_pod_container_resource_requests{{resource="cpu", namespace="{ns}", node!=""}}'
        memory_series = f'kube_pod_container_resource_requests{{resource="memory", namespace="{ns}", node!=""}}'
        cpu = f"sum_over_time({cpu_series}[{days}d]) * {scrape}"
    else:
        # name!="": cAdvisor also reports each pod's own cgroup without it, which would count twice
        cpu = f'increase(container_cpu_usage_seconds_total{{name!="", namespace="{ns}"}}[{days}d])'
        memory_series = f'container_memory_working_set_bytes{{name!="", namespace="{ns}"}}'
    memory = f"sum_over_time({memory_series}[{days}d]) * {scrape}"
    join = f" * on (namespace, pod) group_left({USER}) {owners}"
    return f"sum by ({USER}) ({cpu}{join})", f"sum by ({USER}) ({memory}{join})"


def home_queries(namespace: str) -> tuple[str, str]:
    ns = _label(namespace)
    return (f'max by (directory) (last_over_time(dirsize_total_size_bytes{{namespace="{ns}"}}[1h]))',
            f'max by (directory) (last_over_time(dirsize_hard_limit_bytes{{namespace="{ns}"}}[1h]))')


def active_query(namespace: str) -> str:
    return f'max(last_over_time(jupyterhub_active_users{{period="24h", namespace="{_label(namespace)}"}}[1h]))'


class PrometheusMetrics:
    """The :class:`hubbot.ports.UsageMetrics` of cluster ``cluster``, whose Prometheus is at ``url``
    and scrapes every ``scrape`` seconds. ``auth`` is (user, password) for basic auth, or a bearer
    token; ``client`` is shared and left open (one per process); without one, the adapter keeps
    its own."""

    def __init__(self, url: str, *, cluster: str, auth: tuple[str, str] | str | None = None,
                 timeout: float = 30.0, scrape: int = 60, client: httpx.AsyncClient | None = None) -> None:
        self.url = url.rstrip("/")
        self.scrape = scrape
        self.cluster = cluster
        self._auth = auth
        self._timeout = timeout
        self._client = client
        self._own = LoopClient()

    async def compute(self, namespace: str, *, end: datetime, days: int, requested: bool = False
                      ) -> dict[str, ComputeUse]:
        cpu_query, memory_query = compute_queries(namespace, days, requested=requested, scrape=self.scrape)
        cpu, memory = await asyncio.gather(self._vector(cpu_query, end), self._vector(memory_query, end))
        users = sorted({*cpu, *memory})
        return {u: ComputeUse(cpu_seconds=cpu.get(u, 0.0), memory_byte_seconds=memory.get(u, 0.0)) for u in users}

    async def homes(self, namespace: str, *, at: datetime) -> list[HomeUse]:
        used_query, limit_query = home_queries(namespace)
        used, limits = await asyncio.gather(self._vector(used_query, at, "directory"),
                                            self._vector(limit_query, at, "directory"))
        return [HomeUse(directory=d, used=int(used[d]), limit=int(limits[d]) if limits.get(d) else None)
                for d in sorted(used)]

    async def daily_active(self, namespace: str, *, end: datetime, days: int) -> list[DailyActive]:
        # a day's figure is what JupyterHub said at its end, so the last whole day before ``end``
        read_last = end.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        read_first = read_last - timedelta(days=days - 1)
        data = await self._query("query_range", {
            "query": active_query(namespace), "start": _ts(read_first), "end": _ts(read_last), "step": "86400"})
        found: list[DailyActive] = []
        for series in _results(data, "matrix", self._unreadable):
            for at, value in series.get("values") or []:
                day = datetime.fromtimestamp(float(at), UTC).date() - timedelta(days=1)
                found.append(DailyActive(day=day, users=int(float(value))))
        return sorted(found, key=lambda d: d.day)

    # -- the wire ---------------------------------------------------------------------------------

    async def _vector(self, query: str, at: datetime, label: str = USER) -> dict[str, float]:
        data = await self._query("query", {"query": query, "time": _ts(at)})
        found: dict[str, float] = {}
        for series in _results(data, "vector", self._unreadable):
            name = (series.get("metric") or {}).get(label)
            value = series.get("value")
            if isinstance(name, str) and name and isinstance(value, list) and len(value) == 2:
                number = float(value[1])
                if number == number and number >= 0:  # NaN (a counter reset at the edge) counts as nothing
                    found[name] = found.get(name, 0.0) + number
        return found

    async def _query(self, endpoint: str, form: dict[str, str]) -> Any:
        form = {**form, "timeout": f"{self._timeout:g}s"}
        headers = {"Accept": "application/json"}
        auth: httpx.BasicAuth | None = None
        if isinstance(self._auth, tuple):
            auth = httpx.BasicAuth(*self._auth)
        elif isinstance(self._auth, str):
            headers["Authorization"] = f"Bearer {self._auth}"
        where = f"{self.cluster}'s Prometheus at {self.url}"
        request: dict[str, Any] = {"data": form, "headers": headers, "timeout": self._timeout + 5}
        if auth is not None:
            request["auth"] = auth
        try:
            answer = await (self._client or self._own()).post(f"{self.url}/api/v1/{endpoint}", **request)
        except httpx.TimeoutException:
            raise UpstreamError(f"{where} did not answer within {self._timeout + 5:g} s; try a shorter --period, "
                                "or again later") from None
        except httpx.TransportError as exc:
            raise UpstreamError(f"could not reach {where} ({type(exc).__name__}); is it up? Check the cluster's "
                                "prometheus url in the fleet config") from None
        if answer.status_code in (401, 403):
            raise UpstreamError(f"{where} refused hubbot's credentials ({answer.status_code}): check the credential "
                                "named for this cluster in HUBBOT_PROMETHEUS_CREDENTIALS")
        try:
            data = answer.json()
        except ValueError:
            raise UpstreamError(f"{where} answered HTTP {answer.status_code} with something that is not Prometheus "
                                "JSON; is the url the Prometheus server itself?") from None
        if not isinstance(data, dict):
            raise self._unreadable()
        if data.get("status") != "success":
            error = str(data.get("error", ""))[:200]
            kind = data.get("errorType")
            if kind == "bad_data":  # hubbot built a query the server rejects: a bug, not the user's input
                raise UserError(f"{where} rejected a query hubbot sent ({error}); please report this")
            raise UpstreamError(f"{where} could not answer ({kind}: {error}); try again later")
        return data.get("data")

    def _unreadable(self) -> UpstreamError:
        return UpstreamError(f"{self.cluster}'s Prometheus at {self.url} answered in a shape hubbot cannot read")


def _ts(at: datetime) -> str:
    return f"{at.timestamp():.3f}"


def _results(data: Any, kind: str, unreadable: Any) -> list[dict[str, Any]]:
    if not isinstance(data, dict) or data.get("resultType") != kind or not isinstance(data.get("result"), list):
        raise unreadable()
    return [series for series in data["result"] if isinstance(series, dict)]
