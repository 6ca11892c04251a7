"""``/hub quota show|set|reset|diff <hub> ...`` — the limits in force on a hub and how much of each
is used; changing them. Home storage and group compute policies live in the hub's values: a change
goes into hubbot's values overlay of the hub (``quota diff`` shows it) and the next deploy applies
it. The namespace's ResourceQuota is changed at once through the Kubernetes API. Every change asks
for confirmation (a prod hub's namespace, for a second engineer's approval) and is audited; a limit
below what is already used needs ``--force``; a leader stays within the community's ceilings."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from commands.changes import by_pull_request, current_overlay, fingerprint, overlay_path, propose_overlay
from commands.deploy import deploy_one, start_handler
from commands.target import HUB_ARG, decided_hub, hub_api, named_hub
from commands.usage import metrics_of, sees_users
from hubbot.deploys.engine import ports_of
from hubbot.domain import Block, ComputeUse, HomeUse, HubUser, JobState, NamespaceQuota, home_folder
from hubbot.errors import HubbotError, NotFound, UsageError, UserError
from hubbot.fleet import HubRef
from hubbot.pipeline import confirm
from hubbot.pipeline.access import Permission
from hubbot.pipeline.args import Arg, Opt, Signature
from hubbot.pipeline.contract import PREFIX, ActionSpec, CommandSpec, Context, Reply, action_id
from hubbot.quotas import ceilings, changes, show
from hubbot.quotas import values as hv
from hubbot.quotas.ceilings import kube_amount
from hubbot.quotas.limits import read
from hubbot.render import blocks as b

MANAGED_QUOTA = "hubbot"  # the ResourceQuota hubbot makes when a namespace has none


async def _values(ctx: Context, ref: HubRef) -> tuple[hv.Values, hv.Values, hv.Values, int]:
    """The hub's files merged; hubbot's overlay; both merged; the overlay's revision. When changes
    are pull requests, the overlay is hubbot's values file in the repository (its revision a
    fingerprint of its text) and the other files are the hub's own."""
    if by_pull_request(ctx.fleet):
        mine = overlay_path(ctx.fleet, ref).rsplit("/", 1)[-1]
        files = hv.load([ctx.fleet.base / v for v in ref.hub.values if not v.endswith("/" + mine)])
        text = await current_overlay(ctx, ref)
        overlay = hv.parse(text) if text else {}
        return files, overlay, hv.merge(files, overlay), fingerprint(text)
    files = hv.load([ctx.fleet.base / v for v in ref.hub.values])
    stored = await ctx.services.overlays.get(ref.qualified) if ctx.services.overlays else None
    overlay = hv.parse(stored.values) if stored else {}
    return files, overlay, hv.merge(files, overlay), stored.revision if stored else 0


async def _namespace_quotas(ctx: Context, ref: HubRef) -> tuple[list[NamespaceQuota] | None, str]:
    port = ctx.services.namespace_quotas
    if port is None:
        return None, "this hubbot process does not reach clusters"
    try:
        return await port.resource_quotas(await port.target(ref.cluster), ref.hub.name), ""
    except HubbotError as exc:
        return None, str(exc)


async def _quiet(call: Any) -> Any:
    """A source's answer, or None when it failed (the reply says the figure is unknown)."""
    try:
        return await call
    except HubbotError:
        return None


async def show_handler(ctx: Context) -> Reply:
    ref = named_hub(ctx, "quota show")
    _, _, effective, revision = await _values(ctx, ref)
    limits = read(effective)
    detail = sees_users(ctx, ref)
    metrics, _missing = metrics_of(ctx, ref)
    api = ctx.services.hub_apis.get(ref.qualified)
    now = ctx.services.clock.now()
    windows = sorted({p.days for p in limits.policies} | ({limits.fallback.days} if limits.fallback else set()))
    calls: list[Any] = [_quiet(api.users()) if api else asyncio.sleep(0, None),
                        _quiet(metrics.homes(ref.hub.name, at=now)) if metrics else asyncio.sleep(0, None),
                        _namespace_quotas(ctx, ref)]
    calls += [_quiet(metrics.compute(ref.hub.name, end=now, days=d, requested=True)) if metrics
              else asyncio.sleep(0, None) for d in windows]
    found = await asyncio.gather(*calls)
    users, homes, (quotas, why) = found[0], found[1], found[2]
    requested = {d: f for d, f in zip(windows, found[3:], strict=True) if f is not None}
    use = show.Use(users=users, homes=homes, requested=requested, quotas=quotas)
    lines = [*show.storage(limits, use, detail=detail), *show.compute(limits, use, detail=detail),
             *show.sizes(limits), *show.namespace(quotas, why)]
    if revision:
        lines.append(f"hubbot's overlay of this hub is at revision {revision}: `{PREFIX} quota diff {ref.qualified}`")
    title = f"Limits of {ref.qualified}"
    blocks = [b.header(title), b.section("```" + "\n".join(lines) + "```"),
              b.context(f"`{PREFIX} usage {ref.qualified}` shows who uses what")]
    return Reply(text="\n".join([title, *lines]), blocks=b.limit(blocks), public=True)


async def _check_names(ctx: Context, ref: HubRef, *, group: str | None, user: str | None) -> list[HubUser]:
    api = hub_api(ctx, ref)
    if group:
        await api.group(group)  # NotFound names the hub's groups command
    users = await api.users()
    if user and user not in {u.name for u in users}:
        raise NotFound(f"{ref.qualified} has no user '{user[:80]}' (users appear once they have signed in)")
    return users


async def _below_use(ctx: Context, ref: HubRef, settings: list[changes.Setting], *, group: str | None,
                     user: str | None, users: list[HubUser], limits: Any) -> list[str]:
    """What is already above the new limits (empty when nothing, or when use cannot be read)."""
    metrics, _ = metrics_of(ctx, ref)
    if metrics is None:
        return []
    now = ctx.services.clock.now()
    found: list[str] = []
    if any(s.key == "storage" and s.value is not None for s in settings):
        homes: list[HomeUse] = await _quiet(metrics.homes(ref.hub.name, at=now)) or []
        found += changes.below_use(settings, homes={h.directory: h.used for h in homes},
                                   user_folder=home_folder(user) if user else None, limits=limits)
    for s in settings:
        if s.key not in changes.COMPUTE or s.value is None or not group:
            continue
        spent: dict[str, ComputeUse] = await _quiet(
            metrics.compute(ref.hub.name, end=now, days=s.value.days, requested=True)) or {}
        for u in users:
            if group in u.groups:
                use = spent.get(u.name, ComputeUse())
                hours = use.cpu_hours if s.key == "cpu-hours" else use.memory_gib_hours
                if hours >= float(s.value.hours):
                    found.append(f"{u.name} {hours:,.0f} {s.key}")
    return found


async def _change(ctx: Context, *, reset: bool) -> Reply:
    verb = "reset" if reset else "set"
    ref = named_hub(ctx, f"quota {verb}")
    in_namespace, items = changes.words(ctx.args.text("settings"))
    group, user = ctx.args.text("group"), ctx.args.text("user")
    settings = changes.parse(items, namespace=in_namespace, group=group, user=user, reset=reset)
    if reset and not settings:
        raise UsageError("say what to reset: storage, cpu-hours or memory-hours (with --group), or namespace KEY")
    community = ctx.fleet.community(ref.hub.community) if ref.hub.community else None
    if not ctx.caller.engineer:
        ceilings.check(settings, ceilings=community.quota_ceilings if community else None,
                       community=ref.hub.community or "")
    echo = "; ".join(s.text for s in settings)
    if in_namespace:
        return await _namespace_request(ctx, ref, settings, echo)
    users = await _check_names(ctx, ref, group=group, user=user)
    files, overlay, effective, revision = await _values(ctx, ref)
    limits = read(effective)
    new = changes.apply(overlay, files, settings, group=group,
                        user_folder=home_folder(user) if user else None)
    if new == overlay:
        return Reply(text=f"Nothing to change: {ref.qualified} already has {echo}.")
    above = await _below_use(ctx, ref, settings, group=group, user=user, users=users, limits=limits)
    if above and not ctx.args.flag("force"):
        shown = ", ".join(above[:8]) + (f" and {len(above) - 8} more" if len(above) > 8 else "")
        raise UserError(f"{echo} is below what is already used: {shown}. They would be stopped at once (storage) "
                        "or at their next start (compute). Add --force to set it anyway.")
    payload = json.dumps({"hub": ref.qualified, "overlay": hv.dump(new), "expected": revision, "echo": echo})
    how = ("a pull request on the fleet repository; deploying the merged commit applies it"
           if by_pull_request(ctx.fleet) else "hubbot's overlay; the next deploy applies it")
    return await confirm.request(ctx, action="apply", payload=payload,
                                 summary=f"{verb} on {ref.qualified}: {echo} ({how})")


async def _namespace_request(ctx: Context, ref: HubRef, settings: list[changes.Setting], echo: str) -> Reply:
    quotas, why = await _namespace_quotas(ctx, ref)
    if quotas is None:
        raise UserError(f"cannot read {ref.qualified}'s namespace quotas: {why}")
    name = _quota_name(quotas)
    current = next((q for q in quotas if q.name == name), None)
    above = []
    for s in settings:
        used = current.used.get(s.key) if current else None
        if s.value is not None and used is not None and kube_amount(used) > kube_amount(str(s.value)):
            above.append(f"{s.key} uses {used}")
    if above and not ctx.args.flag("force"):
        raise UserError(f"{echo} is below what the namespace already uses ({', '.join(above)}): new pods would be "
                        "refused until use falls. Add --force to set it anyway.")
    payload = json.dumps({"hub": ref.qualified, "quota": name,
                          "hard": {s.key: s.value for s in settings}, "echo": echo})
    what = f"namespace {ref.hub.name} of {ref.qualified}, ResourceQuota {name}: {echo} (applies at once)"
    return await confirm.request(ctx, action="namespace", payload=payload, summary=what,
                                 approval=ref.hub.tier == "prod" and ctx.approved_by is None)


def _quota_name(quotas: list[NamespaceQuota]) -> str:
    """The ResourceQuota to change: hubbot's, else the only one, else a new one of hubbot's."""
    mine = [q for q in quotas if q.managed]
    if mine:
        return mine[0].name
    if len(quotas) == 1:
        return quotas[0].name
    if quotas:
        raise UserError(f"the namespace has {len(quotas)} ResourceQuotas ({', '.join(q.name for q in quotas)}) and "
                        "none is hubbot's; change them where they are kept")
    return MANAGED_QUOTA


async def apply_overlay(ctx: Context, payload: str) -> Reply:
    ref, data = decided_hub(ctx, payload, "the limits")
    if by_pull_request(ctx.fleet):
        return await propose_overlay(ctx, ref, values=str(data["overlay"]), expected=int(data["expected"]),
                                     echo=str(data["echo"]), topic="quota")
    if ctx.services.overlays is None:
        raise UserError("this hubbot process keeps no overlays")
    stored = await ctx.services.overlays.put(ref.qualified, str(data["overlay"]), expected=int(data["expected"]),
                                             user=ctx.caller.user_id, at=ctx.services.clock.now())
    await ctx.record_change(command="quota set", args=f"{ref.qualified} {data['echo']}", community=ref.hub.community,
                            detail=f"{data['echo']} on {ref.qualified} (overlay revision {stored.revision})")
    deploy = (f"*Deploy now* (or `{PREFIX} deploy {ref.qualified}`) applies it" if ctx.caller.engineer
              else "an engineer's next deploy applies it (ask in the engineers' channel to deploy now)")
    text = (f":white_check_mark: Saved for {ref.qualified}: {data['echo']} (hubbot's overlay, revision "
            f"{stored.revision}). Nothing changes on the hub until it is deployed: {deploy}. "
            f"`{PREFIX} quota diff {ref.qualified}` shows the overlay.")
    blocks: list[Block] = [b.section(text)]
    if ctx.caller.engineer:
        blocks.append(b.actions(b.button("Deploy now", action_id=action_id(ctx.command, "deploy"),
                                         value=ref.qualified, style="primary")))
    return Reply(text=text, blocks=blocks, public=True)


async def deploy_merged(ctx: Context, value: str) -> Reply:
    """The Deploy button under a merged pull request: the hub at the merge commit (prod: approval)."""
    hub, _, commit = value.partition("@")
    if not re.fullmatch(r"[0-9a-f]{40}", commit):
        raise UserError("that button names no commit")
    ref = ctx.fleet.hub(hub)
    if not ctx.sees(ref):
        raise UserError(f"you can no longer deploy {ref.qualified}")
    return await deploy_one(ctx, ref, commit=commit)


async def deploy_now(ctx: Context, value: str) -> Reply:
    """The Deploy now button under a saved overlay (engineers; a prod hub waits for a second one)."""
    ref = ctx.fleet.hub(value)
    if not ctx.sees(ref):
        raise UserError(f"you can no longer deploy {ref.qualified}")
    return await deploy_one(ctx, ref)


async def apply_namespace(ctx: Context, payload: str) -> Reply:
    ref, data = decided_hub(ctx, payload, "the limits")
    port = ctx.services.namespace_quotas
    if port is None:
        raise UserError("this hubbot process does not reach clusters")
    target = await port.target(ref.cluster)
    hard = {str(k): (None if v is None else str(v)) for k, v in dict(data["hard"]).items()}
    quota = await port.set_resource_quota(target, ref.hub.name, name=str(data["quota"]), hard=hard)
    await ctx.record_change(command="quota set", args=f"{ref.qualified} namespace {data['echo']}",
                            community=ref.hub.community,
                            detail=f"ResourceQuota {quota.name} in {ref.hub.name} on {ref.cluster}: {data['echo']}")
    now = ", ".join(f"{k} {v}" for k, v in sorted(quota.hard.items())) or "no limits"
    return Reply(text=f":white_check_mark: ResourceQuota {quota.name} of {ref.qualified} now: {now}.", public=True)


async def set_handler(ctx: Context) -> Reply:
    return await _change(ctx, reset=False)


async def reset_handler(ctx: Context) -> Reply:
    return await _change(ctx, reset=True)


async def diff_handler(ctx: Context) -> Reply:
    ref = named_hub(ctx, "quota diff")
    files, overlay, _, revision = await _values(ctx, ref)
    if by_pull_request(ctx.fleet):
        if not overlay:
            return Reply(text=f"{ref.qualified} has no hubbot values file in the fleet repository: the hub runs on "
                              f"its own values files (`{PREFIX} quota set` proposes one).")
        rows = [f"{'.'.join(path)}: {_short(hv.get(files, path))} → {_short(value)}"
                for path, value in _leaves(overlay)]
        commit = (ctx.fleet.commit or "")[:12]
        head = f"{overlay_path(ctx.fleet, ref)} at commit {commit} changes {ref.qualified}'s own values"
        return Reply(text=f"{head}\n" + "\n".join(rows),
                     blocks=b.limit([b.section(f"*{head}*"), b.section("```" + "\n".join(rows) + "```")]))
    stored = await ctx.services.overlays.get(ref.qualified) if ctx.services.overlays else None
    if not overlay or stored is None:
        return Reply(text=f"hubbot has no overlay for {ref.qualified}: the hub runs on its own values files "
                          f"(`{PREFIX} quota set` makes one).")
    changed = [f"{'.'.join(path)}: {_short(hv.get(files, path))} → {_short(value)}"
               for path, value in _leaves(overlay)]
    last = await ports_of(ctx.services).jobs.last(ref.qualified) if ctx.services.deploys else None
    applied = (last is not None and last.state is JobState.SUCCEEDED and last.finished_at is not None
               and last.finished_at >= stored.updated_at)
    status = (f"applied by deploy #{last.id}" if applied and last else
              f"waiting for the next deploy (`{PREFIX} deploy {ref.qualified}`)")
    head = (f"hubbot's overlay of {ref.qualified}, revision {revision} (by {stored.updated_by}, "
            f"{stored.updated_at:%Y-%m-%d %H:%M} UTC) — {status}")
    body = "\n".join(changed)
    return Reply(text=f"{head}\n{body}\n\n{stored.values}",
                 blocks=b.limit([b.section(f"*{head}*"), b.section(f"```{body}```"),
                                 b.section(f"```{stored.values[:2800]}```")]))


def _leaves(values: dict[str, Any], path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    out: list[tuple[tuple[str, ...], Any]] = []
    for key, value in values.items():
        if isinstance(value, dict) and value:
            out += _leaves(value, (*path, key))
        else:
            out.append(((*path, key), value))
    return out


def _short(value: Any) -> str:
    if value is None:
        return "(unset)"
    text = json.dumps(value, default=str)
    return text if len(text) <= 100 else text[:97] + "…"


SETTINGS = Arg("settings", "key=value settings (or keys, for reset); start with `namespace` for its quota",
               required=False, rest=True)
_OPTS = (Opt("group", "the group a compute policy is for"), Opt("user", "the user a storage quota is for"),
         Opt("force", "set it even below what is already used", kind="flag"))
_READ, _CHANGE = Permission.COMMUNITY_READ, Permission.COMMUNITY_ADMIN
_ACTIONS = (ActionSpec("apply", _CHANGE, apply_overlay, button=False),
            ActionSpec("namespace", _CHANGE, apply_namespace, button=False),
            ActionSpec("deploy", Permission.ENGINEER, deploy_now),
            ActionSpec("deploy-commit", Permission.ENGINEER, deploy_merged),
            ActionSpec("start", Permission.ENGINEER, start_handler, button=False))

SHOW = CommandSpec(name="quota show", summary="every limit in force on a hub, and how much of it is used",
                   handler=show_handler, permission=_READ, signature=Signature(args=(HUB_ARG,)), scope="hub",
                   slow=True, examples=(f"{PREFIX} quota show demo-aws/prod",))
SET = CommandSpec(name="quota set", summary="change a hub's storage, compute or namespace limits (asks first)",
                  handler=set_handler, permission=_CHANGE, signature=Signature(args=(HUB_ARG, SETTINGS), opts=_OPTS),
                  scope="hub", slow=True, actions=_ACTIONS,
                  examples=(f"{PREFIX} quota set demo-aws/prod storage=20GiB",
                            f"{PREFIX} quota set demo-aws/prod storage=50GiB --user ana",
                            f"{PREFIX} quota set demo-aws/prod --group researchers cpu-hours=500/30d "
                            "memory-hours=2000/30d",
                            f"{PREFIX} quota set demo-aws/prod namespace cpu=64 memory=256GiB"))
RESET = CommandSpec(name="quota reset", summary="take a limit back to the hub's own values (asks first)",
                    handler=reset_handler, permission=_CHANGE,
                    signature=Signature(args=(HUB_ARG, SETTINGS), opts=_OPTS), scope="hub", slow=True,
                    actions=_ACTIONS,
                    examples=(f"{PREFIX} quota reset demo-aws/prod storage --user ana",
                              f"{PREFIX} quota reset demo-aws/prod --group researchers cpu-hours"))
DIFF = CommandSpec(name="quota diff", summary="hubbot's values overlay of a hub, and whether it is deployed",
                   handler=diff_handler, permission=_CHANGE, signature=Signature(args=(HUB_ARG,)), scope="hub",
                   examples=(f"{PREFIX} quota diff demo-aws/prod",))
