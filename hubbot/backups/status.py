"""How healthy a hub's backups are: the newest completed one against the hub's policy, a failure
since, and whether anything makes them on a schedule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from hubbot.domain import BackupView, Snapshot, SnapshotState


class Light(StrEnum):
    GREEN = "green"
    AMBER = "amber"  # fresh, but no schedule (or the last attempt failed): it will go stale
    RED = "red"  # stale, none at all, or unreadable


ICON = {Light.GREEN: ":large_green_circle:", Light.AMBER: ":large_yellow_circle:", Light.RED: ":red_circle:"}


@dataclass(frozen=True, slots=True)
class Health:
    hub: str
    light: Light
    newest: Snapshot | None  # the newest completed backup
    age: timedelta | None
    failed: Snapshot | None  # a failure newer than the newest completed one
    scheduled: bool
    reasons: tuple[str, ...]


def age_text(age: timedelta) -> str:
    hours = age.total_seconds() / 3600
    if hours < 1:
        return f"{int(age.total_seconds() // 60)} min"
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} days"


def judge(view: BackupView, *, max_age_hours: int, now: datetime) -> Health:
    if view.problem:
        return Health(view.hub, Light.RED, None, None, None, False, (f"could not be read: {view.problem}",))
    done = [s for s in view.snapshots if s.state is SnapshotState.COMPLETED]
    newest = max(done, key=lambda s: s.started) if done else None
    age = now - newest.started if newest else None
    failed = next((s for s in sorted(view.snapshots, key=lambda s: s.started, reverse=True)
                   if s.state is SnapshotState.FAILED and (newest is None or s.started > newest.started)), None)
    reasons: list[str] = []
    light = Light.GREEN
    if newest is None:
        light = Light.RED
        reasons.append("no completed backup at all")
    elif age is not None and age > timedelta(hours=max_age_hours):
        light = Light.RED
        reasons.append(f"the newest completed backup is {age_text(age)} old (policy: younger than "
                       f"{max_age_hours} h)")
    if failed is not None:
        reasons.append(f"the last backup failed ({failed.id}{': ' + failed.message if failed.message else ''})")
        light = Light.RED if light is Light.RED else Light.AMBER
    if view.schedule is None:
        reasons.append("nothing makes backups on a schedule")
        light = Light.RED if light is Light.RED else Light.AMBER
    return Health(view.hub, light, newest, age, failed, view.schedule is not None, tuple(reasons))
