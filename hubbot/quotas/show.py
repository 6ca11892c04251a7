"""``/hub quota show`` in words: every limit in force on a hub and how much of it is used."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from hubbot.domain import ComputeUse, HomeUse, HubUser, NamespaceQuota, units
from hubbot.domain.units import GIB
from hubbot.quotas.limits import Limits, Policy, ServerSize, policies_for

NEAR = Decimal("0.8")  # "near the limit" from 80 % on
NAMED = 5  # users named per line


@dataclass(frozen=True, slots=True)
class Use:
    """What the limits are measured against; None where the source could not be read."""

    users: Sequence[HubUser] | None = None
    homes: Sequence[HomeUse] | None = None
    requested: Mapping[int, Mapping[str, ComputeUse]] = field(default_factory=dict)  # window days -> user -> use
    quotas: Sequence[NamespaceQuota] | None = None


def _pct(used: float, limit: float) -> str:
    return f"{used / limit:.0%}" if limit else "-"


def storage(limits: Limits, use: Use, *, detail: bool) -> list[str]:
    if not limits.storage_enabled and limits.hard_quota is None:
        return ["Home storage: no per-user quota (this hub's values do not enable jupyterhub-home-nfs)"]
    hard = limits.hard_quota
    lines = [f"Home storage: {units.plain(hard)} GiB per home directory" if hard is not None
             else "Home storage: jupyterhub-home-nfs's default quota (10 GiB) per home directory"]
    if limits.overrides:
        shown = ", ".join(f"{k} {units.plain(v)} GiB" for k, v in sorted(limits.overrides.items())[:NAMED])
        more = f" and {len(limits.overrides) - NAMED} more" if len(limits.overrides) > NAMED else ""
        lines.append(f"  overrides: {shown}{more}" if detail else f"  {len(limits.overrides)} user override(s)")
    if limits.hidden_overrides:
        lines.append("  more overrides are set in quotaEnforcer.extraConfig (often encrypted): hubbot does not read "
                     "them")
    if use.homes is None:
        lines.append("  use: unknown (no Prometheus answer)")
        return lines
    cap = float(hard if hard is not None else 10) * GIB
    near = []
    for home in use.homes:
        if home.directory.startswith("_"):
            continue
        limit = float(home.limit) if home.limit else float(limits.overrides.get(home.directory, 0)) * GIB or cap
        if home.used >= float(NEAR) * limit:
            near.append((home.used / limit, home))
    near.sort(key=lambda x: -x[0])
    total = sum(h.used for h in use.homes)
    line = f"  use: {len(use.homes)} folders, {units.size_text(total)} in all; {len(near)} at 80 % or more"
    if near and detail:
        line += ": " + ", ".join(f"{h.directory} {units.size_text(h.used)} ({share:.0%})" for share, h in near[:NAMED])
    lines.append(line)
    return lines


def _policy_line(policy: Policy, who: str, use: Use, *, detail: bool, members: Sequence[HubUser]) -> str:
    line = f"  {who}: {units.plain(policy.limit)} {policy.unit} per {units.window_text(policy.days)} each"
    found = use.requested.get(policy.days)
    if found is None:
        return line + " (use unknown)"
    figures = []
    for user in members:
        spent = found.get(user.name, ComputeUse())
        hours = spent.cpu_hours if policy.resource == "cpu" else spent.memory_gib_hours
        figures.append((hours, user.name))
    figures.sort(reverse=True)
    over = [f for f in figures if f[0] >= float(policy.limit)]
    near = [f for f in figures if float(NEAR * policy.limit) <= f[0] < float(policy.limit)]
    line += f" — {len(over)} at the limit, {len(near)} above 80 %"
    if figures and detail:
        top_hours, top_user = figures[0]
        line += f"; highest {top_user} {top_hours:,.0f} ({_pct(top_hours, float(policy.limit))})"
    return line


def compute(limits: Limits, use: Use, *, detail: bool) -> list[str]:
    if not limits.policies and limits.fallback is None:
        lines = ["Compute: no usage quotas (jupyterhub-usage-quotas policies) on this hub"]
    else:
        lines = ["Compute (jupyterhub-usage-quotas, counted from requested CPU and memory):"]
    users = list(use.users or [])
    for policy in limits.policies:
        members = [u for u in users if set(u.groups) & set(policy.groups)]
        # a member of several groups gets the smallest limit per resource and window
        bound = [u for u in members if policy in policies_for(limits, u.groups)]
        lines.append(_policy_line(policy, f"group {', '.join(policy.groups) or '(none)'}", use, detail=detail,
                                  members=bound))
    if limits.fallback is not None:
        rest = [u for u in users if not any(set(u.groups) & set(p.groups) for p in limits.policies)]
        lines.append(_policy_line(limits.fallback, "everyone in no policy's group", use, detail=detail, members=rest))
    elif limits.policies:
        lines.append("  users in none of these groups: no compute limit")
    lines += [f"  (an entry hubbot cannot read: {raw})" for raw in limits.unreadable]
    return lines


def _size(size: ServerSize) -> str:
    parts = []
    if size.cpu_limit is not None or size.cpu_guarantee is not None:
        parts.append(f"CPU {_or(size.cpu_guarantee)}–{_or(size.cpu_limit)}")
    if size.mem_limit is not None or size.mem_guarantee is not None:
        parts.append(f"memory {_bytes(size.mem_guarantee)}–{_bytes(size.mem_limit)}")
    who = f" (groups: {', '.join(size.groups)})" if size.groups else ""
    return f"  {size.name[:60]}: {', '.join(parts)}{who}"


def _or(value: float | None) -> str:
    return "?" if value is None else f"{value:g}"


def _bytes(value: int | None) -> str:
    return "?" if value is None else units.size_text(value)


def sizes(limits: Limits) -> list[str]:
    if not limits.sizes:
        return ["Server sizes: the chart's defaults (no cpu/memory limits or profiles in the hub's values)"]
    return ["Server sizes (guarantee–limit):", *(_size(s) for s in limits.sizes[:20])]


def namespace(quotas: Sequence[NamespaceQuota] | None, why: str) -> list[str]:
    if quotas is None:
        return [f"Namespace: unknown ({why})"]
    if not quotas:
        return ["Namespace: no ResourceQuota (`/hub quota set <hub> namespace cpu=64 memory=256GiB` makes one)"]
    lines = []
    for quota in quotas:
        owner = "hubbot's" if quota.managed else "not hubbot's"
        keys = ", ".join(f"{k} {quota.used.get(k, '?')}/{v}" for k, v in sorted(quota.hard.items()))
        lines.append(f"Namespace ResourceQuota {quota.name} ({owner}): {keys or 'no limits'}")
    return lines
