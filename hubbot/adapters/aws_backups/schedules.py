"""Which schedule covers a volume, and how to say it: Data Lifecycle Manager policies for EBS
volumes, AWS Backup plans (their selections and rules) for EFS file systems. Pure functions over
the payloads the APIs return (``GetLifecyclePolicy``, ``GetBackupSelection``, ``GetBackupPlan``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

Payload = Mapping[str, Any]

_RESOURCE_TAG = "aws:ResourceTag/"
_CRON = re.compile(r"^cron\((.+)\)$")


def tag_map(tags: object) -> dict[str, str]:
    """``[{"Key": k, "Value": v}, ...]`` as a dict."""
    if not isinstance(tags, list):
        return {}
    return {str(t["Key"]): str(t.get("Value", "")) for t in tags if isinstance(t, dict) and "Key" in t}


# --- Data Lifecycle Manager ----------------------------------------------------------------------


def dlm_covers(policy: Payload, volume: Payload) -> bool:
    """Whether ``policy`` (an enabled snapshot policy) snapshots ``volume`` (a DescribeVolumes item).

    A custom policy targets volumes with any one of its target tags; a default policy for volumes
    covers every volume in the region except those its exclusions name (boot volumes are not told
    apart: a home volume is not one). Policies that target instances (their attached volumes) are
    not followed: that needs the instances' tags."""
    details = policy.get("PolicyDetails") or {}
    tags = tag_map(volume.get("Tags"))
    if policy.get("DefaultPolicy") or details.get("ResourceType"):
        if details.get("ResourceType") != "VOLUME":
            return False
        excluded = details.get("Exclusions") or {}
        if any(tags.get(k) == v for k, v in tag_map(excluded.get("ExcludeTags")).items()):
            return False
        return volume.get("VolumeType") not in (excluded.get("ExcludeVolumeTypes") or [])
    if details.get("PolicyType", "EBS_SNAPSHOT_MANAGEMENT") != "EBS_SNAPSHOT_MANAGEMENT":
        return False
    if "VOLUME" not in (details.get("ResourceTypes") or []):
        return False
    return any(tags.get(k) == v for k, v in tag_map(details.get("TargetTags")).items())


def dlm_text(policy: Payload) -> list[str]:
    """Each schedule of a policy, readably: ``DLM policy policy-0a1b (home dailies): every 24 h at
    03:00 UTC, keep 7``."""
    details = policy.get("PolicyDetails") or {}
    default = bool(policy.get("DefaultPolicy") or details.get("ResourceType"))
    label = f"DLM {'default ' if default else ''}policy {policy.get('PolicyId', '?')}"
    if policy.get("Description"):
        label += f" ({policy['Description']})"
    if default:
        every = int(details.get("CreateInterval") or 1)
        keep = int(details.get("RetainInterval") or 7)
        return [f"{label}: a snapshot when there is none from the last {_count(every, 'day')}, "
                f"keep {_count(keep, 'day')}"]
    texts = []
    for schedule in details.get("Schedules") or []:
        texts.append(f"{label}: {_dlm_create(schedule.get('CreateRule') or {})}, "
                     f"{_dlm_retain(schedule.get('RetainRule') or {})}")
    return texts or [label]


def _dlm_create(rule: Payload) -> str:
    if rule.get("CronExpression"):
        return cron_text(str(rule["CronExpression"]), "UTC")
    if rule.get("Interval"):
        unit = "h" if rule.get("IntervalUnit", "HOURS") == "HOURS" else str(rule["IntervalUnit"]).lower()
        times = rule.get("Times") or []
        return f"every {rule['Interval']} {unit}" + (f" at {', '.join(times)} UTC" if times else "")
    return "on its schedule"


def _dlm_retain(rule: Payload) -> str:
    if rule.get("Count"):
        return f"keep {rule['Count']}"
    if rule.get("Interval"):
        return f"keep {_count(int(rule['Interval']), str(rule.get('IntervalUnit', 'DAYS')).lower().rstrip('s'))}"
    return "kept until deleted"


# --- AWS Backup ----------------------------------------------------------------------------------


def selects(selection: Payload, arn: str, tags: Mapping[str, str]) -> bool:
    """Whether a backup plan's resource selection (``BackupSelection``) takes the resource ``arn``
    with ``tags``: any of its ``Resources`` or ``ListOfTags`` (all resources when it names
    neither), and every one of its ``Conditions``, and none of its ``NotResources``."""
    resources = [str(p) for p in selection.get("Resources") or []]
    by_tag = [c for c in selection.get("ListOfTags") or [] if isinstance(c, dict)]
    if (resources or by_tag) and not (
        any(_like(p, arn) for p in resources)
        or any(tags.get(_tag_key(c.get("ConditionKey"))) == c.get("ConditionValue") for c in by_tag)
    ):
        return False
    if any(_like(str(p), arn) for p in selection.get("NotResources") or []):
        return False
    conditions = selection.get("Conditions") or {}
    for operator in ("StringEquals", "StringNotEquals", "StringLike", "StringNotLike"):
        for condition in conditions.get(operator) or []:
            value = tags.get(_tag_key(condition.get("ConditionKey")))
            wanted = str(condition.get("ConditionValue", ""))
            matched = value == wanted if operator.endswith("Equals") else value is not None and _like(wanted, value)
            if matched == ("Not" in operator):
                return False
    return True


def plan_text(plan: Payload, name: str) -> list[str]:
    """Each rule of a backup plan (``GetBackupPlan``'s ``BackupPlan``), readably: ``AWS Backup plan
    homes: daily at 05:00 UTC, keep 35 days``."""
    label = f"AWS Backup plan {plan.get('BackupPlanName') or name}"
    texts = []
    for rule in plan.get("Rules") or []:
        zone = str(rule.get("ScheduleExpressionTimezone") or "UTC")
        when = cron_text(str(rule.get("ScheduleExpression") or ""), zone)
        days = (rule.get("Lifecycle") or {}).get("DeleteAfterDays")
        texts.append(f"{label}: {when}, " + (f"keep {_count(int(days), 'day')}" if days else "kept until deleted"))
    return texts or [label]


def plan_vaults(plan: Payload) -> set[str]:
    """The vaults a plan's rules put their recovery points in."""
    return {str(r["TargetBackupVaultName"]) for r in plan.get("Rules") or [] if r.get("TargetBackupVaultName")}


def _tag_key(key: object) -> str:
    text = str(key or "")
    return text[len(_RESOURCE_TAG):] if text.startswith(_RESOURCE_TAG) else text


def _like(pattern: str, text: str) -> bool:
    """IAM-style string matching: ``*`` is any run of characters, nothing else is special."""
    return re.fullmatch(".*".join(re.escape(part) for part in pattern.split("*")), text) is not None


# --- both ------------------------------------------------------------------------------------------


def cron_text(expression: str, zone: str) -> str:
    """An AWS cron expression (minutes hours day-of-month month day-of-week year) as words when it
    is a plain daily or weekly one, else as written."""
    found = _CRON.match(expression.strip())
    fields = found.group(1).split() if found else []
    if len(fields) == 6 and fields[0].isdigit() and fields[1].isdigit() and fields[3] == "*":
        at = f"{int(fields[1]):02d}:{int(fields[0]):02d} {zone}"
        day_of_month, day_of_week = fields[2], fields[4]
        if day_of_month in ("*", "?") and day_of_week in ("*", "?"):
            return f"daily at {at}"
        if day_of_month in ("*", "?") and re.fullmatch(r"[A-Za-z]{3}(,[A-Za-z]{3})*", day_of_week):
            return f"weekly on {day_of_week.title().replace(',', ', ')} at {at}"
    return f"{expression} {zone}".strip() if expression else "on its schedule"


def _count(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"
