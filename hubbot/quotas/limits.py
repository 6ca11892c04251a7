"""The limits a hub's merged values set, read where the field's charts keep them:

- home storage: jupyterhub-home-nfs ``quotaEnforcer.config.QuotaManager.hard_quota`` (GiB, every
  home directory) and ``quota_overrides`` (home folder → GiB);
- compute: jupyterhub-usage-quotas policies in z2jh ``hub.config.UsageQuotaManager.policy``
  (resource, limit, window in days, scope of groups), and its ``scope_fallback_strategy``;
- server sizes: ``singleuser.cpu|memory.limit|guarantee`` and each ``singleuser.profileList``
  profile's (or profile option's) ``kubespawner_override``, with 2i2c's ``allowed_groups``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from hubbot.domain.units import GIB
from hubbot.quotas.values import get, root

_BYTES = re.compile(r"^(\d+(?:\.\d+)?)([KMGT]?)$")


def nfs_path(values: Mapping[str, Any]) -> tuple[str, ...]:
    return (*root(values), "jupyterhub-home-nfs")


def quota_manager_path(values: Mapping[str, Any]) -> tuple[str, ...]:
    return (*nfs_path(values), "quotaEnforcer", "config", "QuotaManager")


def z2jh_path(values: Mapping[str, Any]) -> tuple[str, ...]:
    return (*root(values), "jupyterhub")


def policy_path(values: Mapping[str, Any]) -> tuple[str, ...]:
    return (*z2jh_path(values), "hub", "config", "UsageQuotaManager", "policy")


@dataclass(frozen=True, slots=True)
class Policy:
    """One jupyterhub-usage-quotas policy: ``limit`` in CPU-hours, or memory GiB-hours."""

    resource: str  # "cpu" or "memory"
    limit: Decimal
    days: int
    groups: tuple[str, ...]

    @property
    def unit(self) -> str:
        return "CPU-hours" if self.resource == "cpu" else "memory GiB-hours"


@dataclass(frozen=True, slots=True)
class ServerSize:
    """A server size users can pick: cores and bytes (limit, guarantee), who may pick it."""

    name: str
    cpu_limit: float | None = None
    cpu_guarantee: float | None = None
    mem_limit: int | None = None
    mem_guarantee: int | None = None
    groups: tuple[str, ...] = ()  # empty: everyone


@dataclass(frozen=True, slots=True)
class Limits:
    storage_enabled: bool
    hard_quota: Decimal | None  # GiB
    overrides: dict[str, Decimal] = field(default_factory=dict)  # home folder -> GiB
    hidden_overrides: bool = False  # extraConfig sets some (often sops-encrypted): not readable here
    policies: tuple[Policy, ...] = ()
    fallback: Policy | None = None  # for users no policy names
    intersection: str = "min"  # how a user's policies of one resource and window combine: min, max or sum
    unreadable: tuple[str, ...] = ()  # entries hubbot could not read, said as such
    sizes: tuple[ServerSize, ...] = ()


def byte_spec(value: Any) -> int | None:
    """A JupyterHub ByteSpecification (an int, or a number with K/M/G/T counted in 1024s)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return int(value)
    match = _BYTES.fullmatch(str(value).strip())
    if match is None:
        return None
    return int(Decimal(match[1]) * 1024 ** " KMGT".index(match[2] or " "))


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def policy_limit(resource: str, limit: Any) -> Decimal | None:
    """The limit of a policy in hours: CPU-hours as given; memory byte-hours ("500G" or an int of
    byte-hours) as GiB-hours."""
    if resource == "cpu":
        try:
            return Decimal(str(limit)) if isinstance(limit, int | float) and not isinstance(limit, bool) else None
        except InvalidOperation:
            return None
    size = byte_spec(limit)
    return (Decimal(size) / GIB).normalize() if size is not None else None


def _policy(raw: Any) -> Policy | None:
    if not isinstance(raw, Mapping) or raw.get("resource") not in ("cpu", "memory"):
        return None
    limit = policy_limit(str(raw["resource"]), raw.get("limit"))
    window = raw.get("window")
    scope = raw.get("scope")
    groups = scope.get("group") if isinstance(scope, Mapping) else None
    if limit is None or not isinstance(window, int | float) or isinstance(window, bool):
        return None
    return Policy(resource=str(raw["resource"]), limit=limit, days=int(window),
                  groups=tuple(str(g) for g in groups) if isinstance(groups, list) else ())


def _sizes(z2jh: Mapping[str, Any]) -> list[ServerSize]:
    single = get(z2jh, ("singleuser",)) or {}
    default = ServerSize(name="default", cpu_limit=_number(get(single, ("cpu", "limit"))),
                         cpu_guarantee=_number(get(single, ("cpu", "guarantee"))),
                         mem_limit=byte_spec(get(single, ("memory", "limit"))),
                         mem_guarantee=byte_spec(get(single, ("memory", "guarantee"))))
    profiles = get(single, ("profileList",)) or []
    if isinstance(profiles, Mapping):
        profiles = list(profiles.values())
    found: list[ServerSize] = []
    for profile in profiles if isinstance(profiles, list) else []:
        if not isinstance(profile, Mapping):
            continue
        title = str(profile.get("display_name") or profile.get("slug") or "profile")
        groups = tuple(str(g) for g in profile.get("allowed_groups") or [])
        options = profile.get("profile_options") or {}
        choices = [(f"{title}: {c.get('display_name') or key}", c, tuple(str(g) for g in c.get("allowed_groups") or [])
                    or groups)
                   for option in (options.values() if isinstance(options, Mapping) else [])
                   if isinstance(option, Mapping)
                   for key, c in (option.get("choices") or {}).items() if isinstance(c, Mapping)]
        for name, spec, who in [(title, profile, groups), *choices]:
            over = spec.get("kubespawner_override") or {}
            if not isinstance(over, Mapping):
                continue
            size = ServerSize(name=name, cpu_limit=_number(over.get("cpu_limit")),
                              cpu_guarantee=_number(over.get("cpu_guarantee")),
                              mem_limit=byte_spec(over.get("mem_limit")),
                              mem_guarantee=byte_spec(over.get("mem_guarantee")), groups=who)
            if any(v is not None for v in (size.cpu_limit, size.cpu_guarantee, size.mem_limit, size.mem_guarantee)):
                found.append(size)
    has_default = any(v is not None for v in (default.cpu_limit, default.cpu_guarantee, default.mem_limit,
                                              default.mem_guarantee))
    return ([default] if has_default else []) + found


def read(values: Mapping[str, Any]) -> Limits:
    manager = get(values, quota_manager_path(values)) or {}
    nfs = get(values, nfs_path(values)) or {}
    hard = manager.get("hard_quota") if isinstance(manager, Mapping) else None
    overrides = manager.get("quota_overrides") if isinstance(manager, Mapping) else None
    extra = get(nfs, ("quotaEnforcer", "extraConfig"))
    z2jh = get(values, z2jh_path(values)) or {}
    uqm = get(z2jh, ("hub", "config", "UsageQuotaManager")) or {}
    raw = uqm.get("policy") if isinstance(uqm, Mapping) else None
    policies: list[Policy] = []
    unreadable: list[str] = []
    for item in raw if isinstance(raw, list) else []:
        policy = _policy(item)
        if policy is None:
            unreadable.append(str(item)[:120])
        else:
            policies.append(policy)
    fallback_raw = get(uqm, ("scope_fallback_strategy", "empty"))
    combine = get(uqm, ("scope_fallback_strategy", "intersection"))
    return Limits(
        storage_enabled=bool(nfs.get("enabled", bool(nfs))) if isinstance(nfs, Mapping) else False,
        hard_quota=Decimal(str(hard)) if isinstance(hard, int | float) and not isinstance(hard, bool) else None,
        overrides={str(k): Decimal(str(v)) for k, v in (overrides or {}).items()
                   if isinstance(v, int | float) and not isinstance(v, bool)} if isinstance(overrides, Mapping) else {},
        hidden_overrides=isinstance(extra, Mapping) and bool(extra),
        policies=tuple(policies),
        fallback=_policy({**fallback_raw, "scope": {"group": []}}) if isinstance(fallback_raw, Mapping) else None,
        unreadable=tuple(unreadable),
        intersection=combine if combine in ("min", "max", "sum") else "min",
        sizes=tuple(_sizes(z2jh if isinstance(z2jh, Mapping) else {})),
    )


def policies_for(limits: Limits, groups: tuple[str, ...]) -> list[Policy]:
    """The policies that apply to a user in ``groups``, as jupyterhub-usage-quotas combines them:
    per resource and window, the smallest limit (``intersection: min``, its default), the largest
    (``max``) or their sum (``sum``); a user no policy names gets the fallback, if any."""
    matching = [p for p in limits.policies if set(p.groups) & set(groups)]
    if not matching:
        return [limits.fallback] if limits.fallback else []
    best: dict[tuple[str, int], Policy] = {}
    for policy in matching:
        key = (policy.resource, policy.days)
        held = best.get(key)
        if held is None:
            best[key] = policy
        elif limits.intersection == "sum":
            best[key] = Policy(policy.resource, held.limit + policy.limit, policy.days, (*held.groups, *policy.groups))
        elif (policy.limit < held.limit) == (limits.intersection == "min") and policy.limit != held.limit:
            best[key] = policy
    return list(best.values())
