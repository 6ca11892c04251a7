"""One hub's usage over a period, gathered from its API and its cluster's Prometheus at once.

The hub's API is needed (it says who the users are); Prometheus is not: when it is not set up,
down, or has no series for the hub, the report keeps the API's figures and says what is missing
and what to do (:attr:`UsageReport.gaps`)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hubbot.domain import ComputeUse, DailyActive, HomeUse, HubUser, home_folder
from hubbot.errors import HubbotError
from hubbot.ports import HubApi, UsageMetrics

PERIODS = {"7d": 7, "30d": 30, "90d": 90}
ACTIVE_WINDOWS = (("24h", timedelta(hours=24)), ("7d", timedelta(days=7)), ("30d", timedelta(days=30)))


@dataclass(frozen=True, slots=True)
class UserRow:
    name: str
    groups: tuple[str, ...]
    cpu_hours: float
    memory_gib_hours: float
    home_bytes: int | None
    home_limit: int | None
    last_activity: datetime | None


@dataclass(frozen=True, slots=True)
class GroupRow:
    """A group's members and their use together (a user in two groups counts in both)."""

    name: str
    members: int
    active: int  # members active in the period
    cpu_hours: float
    memory_gib_hours: float
    home_bytes: int


@dataclass(frozen=True, slots=True)
class UsageReport:
    hub: str
    days: int
    end: datetime
    users: int
    running: int  # users with a server running or starting now
    active: dict[str, int]  # "24h", "7d", "30d" → users active within it
    rows: list[UserRow]  # every user, most CPU-hours first
    groups: list[GroupRow]
    daily: list[DailyActive]
    other_homes: int = 0  # bytes in home-server folders that belong to no user (_shared, departed users)
    metrics: bool = False  # Prometheus answered
    gaps: tuple[str, ...] = field(default=())

    @property
    def cpu_hours(self) -> float:
        return sum(r.cpu_hours for r in self.rows)

    @property
    def memory_gib_hours(self) -> float:
        return sum(r.memory_gib_hours for r in self.rows)

    @property
    def home_bytes(self) -> int:
        return sum(r.home_bytes or 0 for r in self.rows) + self.other_homes

    @property
    def active_in_period(self) -> int:
        start = self.end - timedelta(days=self.days)
        return sum(1 for r in self.rows if r.last_activity is not None and r.last_activity >= start)


async def gather(*, hub: str, api: HubApi, metrics: UsageMetrics | None, namespace: str, end: datetime,
                 days: int, missing_metrics: str = "") -> UsageReport:
    """The report of ``hub`` for the ``days`` days before ``end``; every source is asked at once."""
    gaps: list[str] = []
    compute: dict[str, ComputeUse] = {}
    homes: list[HomeUse] = []
    daily: list[DailyActive] = []
    answered = False
    if metrics is None:
        users, running = await asyncio.gather(api.users(), api.active_count())
        gaps.append(missing_metrics or "no Prometheus is set up for this hub's cluster")
    else:
        found = await asyncio.gather(
            api.users(), api.active_count(), metrics.compute(namespace, end=end, days=days),
            metrics.homes(namespace, at=end), metrics.daily_active(namespace, end=end, days=days),
            return_exceptions=True)
        for item in found[:2]:
            if isinstance(item, BaseException):
                raise item  # without the hub's own answer there is no report
        users, running = found[0], found[1]  # type: ignore[assignment]
        failed = [f for f in found[2:] if isinstance(f, BaseException)]
        for error in failed:
            if not isinstance(error, HubbotError):
                raise error
        if failed:
            gaps.append(f"{failed[0]} — compute and home figures are missing")
        else:
            compute, homes, daily = found[2], found[3], found[4]  # type: ignore[assignment]
            answered = True
            if not compute and not homes and not daily:
                gaps.append(f"Prometheus has no series for namespace {namespace}: check that it scrapes cAdvisor, "
                            "kube-state-metrics (with the hub.jupyter.org/username pod annotation allowed) and "
                            "the hub")
    return build(hub=hub, users=users, running=running, compute=compute, homes=homes, daily=daily, end=end,
                 days=days, metrics=answered, gaps=gaps)


def build(*, hub: str, users: Sequence[HubUser], running: int, compute: dict[str, ComputeUse],
          homes: Sequence[HomeUse], daily: Sequence[DailyActive], end: datetime, days: int, metrics: bool,
          gaps: Sequence[str] = ()) -> UsageReport:
    by_folder = {h.directory: h for h in homes}
    rows: list[UserRow] = []
    for user in users:
        use = compute.get(user.name, ComputeUse())
        home = by_folder.pop(home_folder(user.name), None)
        rows.append(UserRow(name=user.name, groups=user.groups, cpu_hours=use.cpu_hours,
                            memory_gib_hours=use.memory_gib_hours, home_bytes=home.used if home else None,
                            home_limit=home.limit if home else None, last_activity=user.last_activity))
    rows.sort(key=lambda r: (-r.cpu_hours, -r.memory_gib_hours, r.name))
    start = end - timedelta(days=days)
    active = {label: sum(1 for u in users if u.last_activity is not None and u.last_activity >= end - span)
              for label, span in ACTIVE_WINDOWS}
    members: dict[str, list[UserRow]] = {}
    for row in rows:
        for group in row.groups:
            members.setdefault(group, []).append(row)
    groups = [GroupRow(name=name, members=len(rs),
                       active=sum(1 for r in rs if r.last_activity is not None and r.last_activity >= start),
                       cpu_hours=sum(r.cpu_hours for r in rs), memory_gib_hours=sum(r.memory_gib_hours for r in rs),
                       home_bytes=sum(r.home_bytes or 0 for r in rs)) for name, rs in members.items()]
    groups.sort(key=lambda g: (-g.cpu_hours, g.name))
    return UsageReport(hub=hub, days=days, end=end, users=len(users), running=running, active=active, rows=rows,
                       groups=groups, daily=list(daily), other_homes=sum(h.used for h in by_folder.values()),
                       metrics=metrics, gaps=tuple(gaps))

