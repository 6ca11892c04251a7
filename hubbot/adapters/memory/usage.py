"""In-memory twins of a cluster's Prometheus (:class:`hubbot.ports.UsageMetrics`) and of hubbot's
values overlays (:class:`hubbot.ports.Overlays`). The Prometheus twin is fed the user servers
that ran (who, when, how much), the same facts ``tests/test_usage_metrics_contract.py`` turns
into series for a real Prometheus, and answers with the exact figures."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from hubbot.domain import ComputeUse, DailyActive, HomeUse, Overlay
from hubbot.errors import UserError


@dataclass(frozen=True, slots=True)
class ServerRun:
    """One user server that ran from ``start`` to ``end`` using ``cpu`` cores and ``memory`` bytes
    throughout, having requested ``cpu_request`` cores and ``memory_request`` bytes."""

    user: str
    pod: str
    start: datetime
    end: datetime
    cpu: float
    memory: int
    cpu_request: float = 0.0
    memory_request: int = 0


class MemoryUsageMetrics:
    def __init__(self, *, runs: Mapping[str, Iterable[ServerRun]] | None = None,
                 homes: Mapping[str, Iterable[HomeUse]] | None = None,
                 active: Mapping[str, Iterable[DailyActive]] | None = None) -> None:
        self.runs = {ns: list(found) for ns, found in (runs or {}).items()}
        self.home_use = {ns: list(found) for ns, found in (homes or {}).items()}
        self.active = {ns: list(found) for ns, found in (active or {}).items()}

    async def compute(self, namespace: str, *, end: datetime, days: int, requested: bool = False
                      ) -> dict[str, ComputeUse]:
        start = end - timedelta(days=days)
        cpu: dict[str, float] = {}
        memory: dict[str, float] = {}
        for run in self.runs.get(namespace, []):
            seconds = (min(run.end, end) - max(run.start, start)).total_seconds()
            if seconds <= 0:
                continue
            cores, size = (run.cpu_request, run.memory_request) if requested else (run.cpu, run.memory)
            cpu[run.user] = cpu.get(run.user, 0.0) + cores * seconds
            memory[run.user] = memory.get(run.user, 0.0) + size * seconds
        return {u: ComputeUse(cpu_seconds=cpu[u], memory_byte_seconds=memory[u]) for u in sorted(cpu)}

    async def homes(self, namespace: str, *, at: datetime) -> list[HomeUse]:
        return sorted(self.home_use.get(namespace, []), key=lambda h: h.directory)

    async def daily_active(self, namespace: str, *, end: datetime, days: int) -> list[DailyActive]:
        last = end.astimezone(UTC).date() - timedelta(days=1)  # the last whole day before ``end``
        first = last - timedelta(days=days - 1)
        return sorted((d for d in self.active.get(namespace, []) if first <= d.day <= last), key=lambda d: d.day)


class MemoryOverlays:
    def __init__(self) -> None:
        self._kept: dict[str, Overlay] = {}

    async def get(self, hub: str) -> Overlay | None:
        return self._kept.get(hub)

    async def put(self, hub: str, values: str, *, expected: int, user: str, at: datetime) -> Overlay:
        current = self._kept.get(hub)
        if (current.revision if current else 0) != expected:
            raise UserError(f"{hub}'s quota overlay changed while you were deciding (now revision "
                            f"{current.revision if current else 0}); look again with /hub quota diff {hub} and retry")
        self._kept[hub] = Overlay(hub=hub, values=values, revision=expected + 1, updated_by=user, updated_at=at)
        return self._kept[hub]


@dataclass(frozen=True, slots=True)
class DemoUse:
    runs: list[ServerRun]
    homes: list[HomeUse]
    daily: list[DailyActive]
    activity: dict[str, datetime]
    running: set[str]


def demo_use(namespace: str, users: Iterable[str], *, now: datetime, days: int = 91) -> DemoUse:
    """Made-up use of a demo hub: each user works on some days, a few hours at a time, some hungrier
    than others; whoever's session spans ``now`` has a server running. Seeded by the hub's name."""
    import random
    import zlib

    from hubbot.domain import home_folder

    rng = random.Random(zlib.crc32(namespace.encode()))  # noqa: S311 - made-up figures, not secrets
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    runs: list[ServerRun] = []
    homes: list[HomeUse] = []
    active: dict[date, set[str]] = {}
    activity: dict[str, datetime] = {}
    running: set[str] = set()
    for user in sorted(users):
        keen, size = rng.uniform(0.15, 0.8), rng.choice((1, 2, 4))
        for back in range(days, -1, -1):
            if rng.random() > keen:
                continue
            start = today - timedelta(days=back) + timedelta(hours=rng.randint(8, 18), minutes=rng.randint(0, 59))
            if start >= now:
                continue
            end = start + timedelta(minutes=rng.randint(30, 300))
            run = ServerRun(user=user, pod=f"jupyter-{home_folder(user)}", start=start, end=min(end, now),
                            cpu=round(size * rng.uniform(0.1, 0.6), 3),
                            memory=int(size * rng.uniform(0.6, 1.8) * 1024**3), cpu_request=size * 0.25,
                            memory_request=size * 1024**3)
            runs.append(run)
            active.setdefault(start.date(), set()).add(user)
            activity[user] = run.end
            if end > now:
                running.add(user)
        homes.append(HomeUse(directory=home_folder(user), used=int(rng.uniform(0.05, 9.5) * 1024**3)))
    homes.append(HomeUse(directory="_shared", used=int(rng.uniform(1, 20) * 1024**3)))
    daily = [DailyActive(day=day, users=len(who)) for day, who in sorted(active.items())]
    return DemoUse(runs=runs, homes=homes, daily=daily, activity=activity, running=running)
