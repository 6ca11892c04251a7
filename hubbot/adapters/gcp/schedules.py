"""Compute Engine snapshot schedules (resource policies) said in a line, for backup overviews:
``snapshot schedule hub-nfs-homedirs-prod-snapshot-schedule: daily at 00:00 UTC, kept 5 days``.
Compute runs schedules in UTC (a policy's ``startTime`` is an ``HH:MM`` UTC time)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from google.cloud.compute_v1 import ResourcePolicy, ResourcePolicySnapshotSchedulePolicySchedule


def schedule_text(policy: ResourcePolicy) -> str | None:
    """What ``policy`` does, or None when it is not a snapshot schedule (a placement or
    instance schedule policy attached to the same disk)."""
    if "snapshot_schedule_policy" not in policy:
        return None
    snapshot_policy = policy.snapshot_schedule_policy
    text = f"snapshot schedule {policy.name}: {_when(snapshot_policy.schedule)}"
    days = snapshot_policy.retention_policy.max_retention_days
    if days:
        text += f", kept {_count(days, 'day')}"
    if policy.status and policy.status != "READY":
        text += f" (its status is {policy.status})"
    return text


def retention_days(policy: ResourcePolicy) -> int | None:
    """How many days ``policy`` keeps the snapshots it makes, when it says."""
    if "snapshot_schedule_policy" not in policy:
        return None
    return int(policy.snapshot_schedule_policy.retention_policy.max_retention_days) or None


def _when(schedule: ResourcePolicySnapshotSchedulePolicySchedule) -> str:
    if "daily_schedule" in schedule:
        daily = schedule.daily_schedule
        every = "daily" if daily.days_in_cycle in (0, 1) else f"every {daily.days_in_cycle} days"
        return f"{every} at {_time(daily.start_time)}"
    if "hourly_schedule" in schedule:
        hourly = schedule.hourly_schedule
        every = "hourly" if hourly.hours_in_cycle in (0, 1) else f"every {hourly.hours_in_cycle} hours"
        return f"{every} from {_time(hourly.start_time)}"
    if "weekly_schedule" in schedule:
        days = [(d.day.capitalize(), d.start_time) for d in schedule.weekly_schedule.day_of_weeks]
        if not days:
            return "weekly, on no day"
        times = {start for _, start in days}
        if len(times) == 1:
            return f"weekly on {_and([day for day, _ in days])} at {_time(days[0][1])}"
        return "weekly on " + _and([f"{day} at {start or '?'}" for day, start in days]) + " UTC"
    return "no time set"


def _time(start: str) -> str:
    return f"{start} UTC" if start else "an unset time"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
