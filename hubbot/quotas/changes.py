"""What ``/hub quota set`` and ``reset`` ask for, checked and turned into a new values overlay
(pure: the caller reads the values, the usage and the ceilings, and stores the result).

A setting is ``key=value`` words: ``storage=20GiB`` (every home directory, or one user's with
``--user``), ``cpu-hours=500/30d`` and ``memory-hours=2000/30d`` (a group's compute policy, with
``--group``), and after the word ``namespace``: ``cpu=64``, ``memory=256GiB``, ``pods=200``, or
any ResourceQuota key such as ``limits.cpu=128``. ``reset`` takes the keys alone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hubbot.domain import units
from hubbot.domain.units import GIB
from hubbot.errors import UsageError
from hubbot.quotas.limits import Limits, policy_path, quota_manager_path
from hubbot.quotas.values import Values, drop, get, merge, put

_KEY = re.compile(r"^[a-z][a-z0-9./-]{0,62}$")
COMPUTE = {"cpu-hours": "cpu", "memory-hours": "memory"}
# the words a namespace setting may use, and the ResourceQuota key each sets
NAMESPACE_KEYS = {"cpu": "requests.cpu", "memory": "requests.memory", "pods": "pods", "storage": "requests.storage"}
_QUOTA_KEYS = re.compile(r"^(requests|limits)\.(cpu|memory|storage|ephemeral-storage)$|^(pods|persistentvolumeclaims|"
                         r"services|count/[a-z0-9.-]+)$")


@dataclass(frozen=True, slots=True)
class Setting:
    """One ``key=value`` (value None: reset), parsed and echoed back normalised in ``text``."""

    key: str
    value: Any
    text: str


def words(text: str | None) -> tuple[bool, list[str]]:
    """Whether the settings are for the namespace, and the setting words."""
    found = (text or "").split()
    if found and found[0] == "namespace":
        return True, found[1:]
    return False, found


def parse(items: list[str], *, namespace: bool, group: str | None, user: str | None, reset: bool) -> list[Setting]:
    if not items and not reset:
        raise UsageError("say what to set, e.g. storage=20GiB, --group students cpu-hours=500/30d, or "
                         "namespace cpu=64 memory=256GiB")
    if namespace and (group or user):
        raise UsageError("--group and --user are for hub limits, not the namespace's")
    if group and user:
        raise UsageError("give --group or --user, not both")
    out: list[Setting] = []
    for item in items:
        key, eq, value = item.partition("=")
        if reset and eq:
            raise UsageError(f"reset takes names without values ('{key[:30]}', not '{item[:40]}')")
        if not reset and not eq:
            raise UsageError(f"'{item[:40]}' needs a value: {item[:30]}=…")
        if any(s.key == key for s in out):
            raise UsageError(f"{key[:30]} is given twice")
        out.append(_namespace(key, value, reset) if namespace else _hub(key, value, reset, group=group, user=user))
    return out


def _hub(key: str, value: str, reset: bool, *, group: str | None, user: str | None) -> Setting:
    if key == "storage":
        if group:
            raise UsageError("storage is set for every home directory, or one user's with --user, not per group")
        if reset:
            return Setting(key, None, "storage back to the hub's own setting" if not user
                           else f"storage of {user} back to the hub-wide quota")
        size = units.parse_size(value, "storage")
        whom = f" for {user}" if user else " for every home directory"
        return Setting(key, units.gib(size), f"storage {units.size_text(size)}{whom}")
    if key in COMPUTE:
        if not group:
            raise UsageError(f"{key} is set per group: add --group NAME (`/hub group list` shows them)")
        if reset:
            return Setting(key, None, f"no {key} policy for {group}")
        allowance = units.parse_allowance(value, key)
        if allowance.hours != allowance.hours.to_integral_value():
            raise UsageError(f"{key} is a whole number of hours (jupyterhub-usage-quotas counts whole hours), "
                             f"not {units.plain(allowance.hours)}")
        unit = "CPU-hours" if key == "cpu-hours" else "memory GiB-hours"
        return Setting(key, allowance, f"{units.allowance_text(allowance, unit)} for each member of {group}")
    raise UsageError(f"'{key[:30]}' is not a hub limit: storage, cpu-hours or memory-hours "
                     "(namespace limits start with the word namespace)")


def _namespace(key: str, value: str, reset: bool) -> Setting:
    if not _KEY.fullmatch(key):
        raise UsageError(f"'{key[:30]}' is not a ResourceQuota key")
    quota_key = NAMESPACE_KEYS.get(key, key)
    if not _QUOTA_KEYS.fullmatch(quota_key):
        raise UsageError(f"'{key[:30]}' is not a namespace limit hubbot sets: cpu, memory, pods, storage, or a "
                         "ResourceQuota key like limits.cpu, limits.memory, requests.storage, persistentvolumeclaims")
    if reset:
        return Setting(quota_key, None, f"no {quota_key} limit")
    if quota_key.endswith(".cpu"):
        cores = units.parse_cpu(value)
        return Setting(quota_key, units.kube_cpu(cores), f"{quota_key} {units.cpu_text(cores)}")
    if quota_key.endswith(("memory", "storage")):
        size = units.parse_size(value, quota_key)
        return Setting(quota_key, units.kube_size(size), f"{quota_key} {units.size_text(size)}")
    if not value.isdigit() or len(value) > 9:
        raise UsageError(f"{quota_key} is a count, like {quota_key}=100 (not '{value[:20]}')")
    return Setting(quota_key, value, f"{quota_key} {int(value)}")


# -- the overlay ---------------------------------------------------------------------------------

def raw_policy(resource: str, allowance: units.HoursPerWindow, group: str) -> dict[str, Any]:
    """A policy as jupyterhub-usage-quotas reads it: memory limits are byte-hours written with a
    binary suffix ("2000G" is 2000 GiB-hours), CPU limits plain CPU-hours."""
    hours = int(allowance.hours)
    limit: int | str = hours if resource == "cpu" else f"{hours}G"
    return {"resource": resource, "limit": limit, "window": allowance.days, "scope": {"group": [group]}}


def apply(overlay: Values, hub_files: Values, settings: list[Setting], *, group: str | None,
          user_folder: str | None) -> Values:
    """The new overlay, from the current one and the hub's files alone (a reset gives back what
    they say); each setting applies on top of the ones before it."""
    out = overlay
    for s in settings:
        effective = merge(hub_files, out)  # each setting sees the ones before it
        if s.key == "storage":
            manager = quota_manager_path(effective)
            path = (*manager, "quota_overrides", user_folder) if user_folder else (*manager, "hard_quota")
            if s.value is not None:
                out = put(out, path, _plain(s.value))
            elif get(hub_files, path) is not None and user_folder:
                out = put(out, path, None)  # the hub's own file overrides this user: a null removes it
            else:
                out = drop(out, path)
        elif s.key in COMPUTE and group:
            resource = COMPUTE[s.key]
            path = policy_path(effective)
            current = get(effective, path)
            kept = []
            for item in current if isinstance(current, list) else []:
                scope = item.get("scope") if isinstance(item, dict) else None
                groups = scope.get("group") if isinstance(scope, dict) else None
                if isinstance(scope, dict) and item.get("resource") == resource and isinstance(groups, list) \
                        and group in groups:
                    rest = [g for g in groups if g != group]
                    if rest:
                        kept.append({**item, "scope": {**scope, "group": rest}})
                    continue
                kept.append(item)
            if s.value is not None:
                kept.append(raw_policy(resource, s.value, group))
            out = put(out, path, kept)
    return out


def _plain(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


# -- checks against use and ceilings -----------------------------------------------------------

def below_use(settings: list[Setting], *, homes: dict[str, int], user_folder: str | None,
              limits: Limits) -> list[str]:
    """Home directories already above a new storage quota (each as 'folder 12.3 GiB')."""
    out: list[str] = []
    for s in settings:
        if s.key != "storage" or s.value is None:
            continue
        quota = int(Decimal(s.value) * GIB)
        for folder, used in sorted(homes.items(), key=lambda kv: -kv[1]):
            if user_folder and folder != user_folder:
                continue
            if not user_folder and folder in limits.overrides:
                continue  # keeps its own quota
            if used > quota:
                out.append(f"{folder} {units.size_text(used)}")
    return out
