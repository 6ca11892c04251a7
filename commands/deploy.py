"""``/hub deploy`` — one hub, or many with ``--all``; its Roll back button is :mod:`commands.rollback`.

A deploy of a ``prod`` hub waits for a second engineer's approval; a ``staging`` one starts at
once. Either way it becomes a job (see :mod:`hubbot.deploys.engine`) whose thread shows each stage.
``--dry-run`` renders the chart and compares it with the live release, changing nothing.
"""

from __future__ import annotations

import json
import re

from commands.rollback import rollback_handler, rollback_run
from commands.target import busy
from hubbot.deploys.engine import Batch, Engine, new_batch_id, overlay_of, plan_for, ports_of
from hubbot.deploys.manifests import diff_manifests
from hubbot.deploys.messages import LiveMessage
from hubbot.domain import HubLock, Job, JobKind
from hubbot.errors import NotFound, UpstreamError, UsageError, UserError
from hubbot.fleet import Fleet, HubRef
from hubbot.pipeline import confirm
from hubbot.pipeline.access import Permission
from hubbot.pipeline.args import Arg, Opt, Signature
from hubbot.pipeline.contract import PREFIX, ActionSpec, CommandSpec, Context, Reply
from hubbot.render import blocks as b

_VERSION = re.compile(r"^v?[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$")
MAX_NAMES = 25


def _version(ctx: Context) -> str | None:
    version = ctx.args.text("chart-version")
    if version is not None and not _VERSION.match(version):
        raise UsageError(f"'{version[:40]}' is not a chart version (like 1.2.3 or 4.0.0-beta.1)")
    return version


def _hub(ctx: Context, *, binder: bool = False) -> HubRef:
    if ctx.hub is None:
        named = ctx.args.text("hub")
        if named:
            raise UsageError(f"'{named}' is a community; name one of its hubs (see `{PREFIX} hubs {named}`)")
        raise UsageError(f"which hub? `{PREFIX} deploy <hub>`, or `{PREFIX} deploy --all`")
    ref = ctx.fleet.hub(ctx.hub)
    if binder and not ref.hub.binder:
        raise UserError(f"{ref.qualified} is not a BinderHub (`binder: true` in the fleet config); "
                        f"use `{PREFIX} deploy {ref.qualified}`")
    return ref


def _check_deployable(ctx: Context, refs: list[HubRef], fleet: Fleet | None = None) -> None:
    """Hubs without a chart, or on clusters hubbot cannot reach: said before anyone approves or waits."""
    without = [r.qualified for r in refs if r.chart is None]
    if without:
        raise UserError(f"no chart in the fleet config for {', '.join(without[:10])}: add `chart:` to the hub or "
                        "its cluster" + (", or narrow the choice with --tier/--cluster" if len(refs) > 1 else ""))
    clusters = (fleet or ctx.fleet).clusters
    unreachable = sorted({r.cluster for r in refs if clusters[r.cluster].kubernetes is None})
    access = "`kubernetes:` access (eks, gke or kubeconfig) in the fleet config"
    if unreachable and len(refs) == 1:
        raise UserError(f"cannot deploy {refs[0].qualified}: cluster {unreachable[0]} has no {access}. "
                        f"`{PREFIX} deploy {refs[0].qualified} --dry-run` still renders the chart.")
    if unreachable:
        raise UserError(f"cannot deploy: these clusters have no {access}: {', '.join(unreachable)}. "
                        "Choose others with --cluster.")


async def source_fleet(ctx: Context, ref_name: str | None) -> tuple[Fleet, str | None]:
    """The fleet a deploy reads its hubs from, and the ref asked for: with a fleet repository, the
    branch fetched now (or ``--ref``) resolved to one commit; otherwise the fleet as loaded."""
    repository = ctx.services.repository
    if repository is None:
        if ref_name is not None:
            raise UsageError("--ref needs a fleet repository (`repository:` in the fleet config); this fleet is "
                             "read from its file alone")
        return ctx.fleet, None
    if ref_name is not None:
        await ctx.progress(f"reading the fleet repository at {ref_name}…")
        return await repository.at(ref_name), ref_name
    await ctx.progress(f"fetching the fleet repository's {repository.branch}…")
    try:
        return await repository.refresh(), repository.branch
    except UpstreamError as exc:
        before = (ctx.fleet.commit or "")[:12]
        raise UpstreamError(f"{exc} — nothing was deployed. To deploy the commit read before ({before}), add "
                            f"`--ref {before}`") from None


def _at(fleet: Fleet, ref_name: str | None) -> str:
    """`` at commit abc123def456 (branch)`` for a fleet read from a repository; empty otherwise."""
    if fleet.commit is None:
        return ""
    shown = f" ({ref_name})" if ref_name and not fleet.commit.startswith(ref_name) else ""
    return f" at commit {fleet.commit[:12]}{shown}"


def _off_branch(ctx: Context, fleet: Fleet, ref_name: str | None) -> str:
    """A warning for the approver when a prod hub would deploy something other than the deploy branch."""
    repository = ctx.services.repository
    if repository is None or ref_name is None or ref_name == repository.branch:
        return ""
    return f" — NOT the {repository.branch} branch: {ref_name} is deployed only if you approve it"


async def request_deploy(ctx: Context, *, binder: bool) -> Reply:
    """Deploy one hub (``binder``: a BinderHub), or many with ``--all``; prod hubs first wait for approval."""
    version = _version(ctx)
    ref_name = ctx.args.text("ref")
    if ctx.args.flag("all"):
        if binder:
            raise UsageError(f"`{PREFIX} binder deploy` takes one hub; use `{PREFIX} deploy --all` for many")
        if ctx.args.text("hub"):
            raise UsageError("give either a hub or --all, not both")
        fleet, ref_name = await source_fleet(ctx, ref_name)
        return await _fan_out(ctx, fleet, version, ref_name)
    if ctx.args.text("tier") or ctx.args.text("cluster"):
        raise UsageError("--tier and --cluster choose hubs for --all")
    _hub(ctx, binder=binder)  # named and deployable by this caller in the fleet as it is now
    fleet, ref_name = await source_fleet(ctx, ref_name)
    assert ctx.hub is not None
    try:
        ref = fleet.hub(ctx.hub)
    except NotFound:
        raise NotFound(f"{ctx.hub} does not exist at {ref_name}{_at(fleet, None)} of the fleet repository") from None
    if ctx.args.flag("dry-run"):
        return await _dry_run(ctx, fleet, ref, version, ref_name)
    _check_deployable(ctx, [ref], fleet)
    payload = json.dumps({"hubs": [ref.qualified], "chart_version": version, "commit": fleet.commit,
                          "ref": ref_name})
    what = f"deploy {ref.qualified}{_at(fleet, ref_name)}" + (f" with chart version {version}" if version else "")
    if ref.hub.tier == "prod" and ctx.approved_by is None:
        return await confirm.request(ctx, action="start", payload=payload, approval=True,
                                     summary=what + _off_branch(ctx, fleet, ref_name))
    return await start_handler(ctx, payload)


async def deploy_one(ctx: Context, ref: HubRef, *, commit: str | None = None) -> Reply:
    """Deploy ``ref`` now (a button elsewhere offers it) — at ``commit`` of the fleet repository when
    given: prod waits for a second engineer. The command running it must declare
    :func:`start_handler` as its ``start`` action."""
    fleet = ctx.fleet
    if commit is not None:
        if ctx.services.repository is None:
            raise UserError("hubbot no longer reads a fleet repository, so it cannot deploy one of its commits")
        fleet = await ctx.services.repository.at(commit)
        ref = fleet.hub(ref.qualified)
    _check_deployable(ctx, [ref], fleet)
    payload = json.dumps({"hubs": [ref.qualified], "chart_version": None, "commit": fleet.commit,
                          "ref": commit})
    if ref.hub.tier == "prod" and ctx.approved_by is None:
        return await confirm.request(ctx, action="start", payload=payload, approval=True,
                                     summary=f"deploy {ref.qualified}{_at(fleet, commit)}")
    return await start_handler(ctx, payload)


async def deploy_handler(ctx: Context) -> Reply:
    return await request_deploy(ctx, binder=False)


async def _dry_run(ctx: Context, fleet: Fleet, ref: HubRef, version: str | None, ref_name: str | None) -> Reply:
    ports = ports_of(ctx.services)
    limits = fleet.config.deploys
    plan = plan_for(fleet, ref, chart_version=version, overlay=await overlay_of(ctx.services, ref.qualified))
    await ctx.progress(f"rendering {ref.qualified} with helm template…")
    rendered = await ports.helm.template(plan, time_limit=limits.helm_timeout)
    if fleet.clusters[ref.cluster].kubernetes is None:
        live = None
        note = (f"Cluster {ref.cluster} has no `kubernetes:` access in the fleet config, so nothing live was read: "
                "every object is shown as new.")
    else:
        await ctx.progress(f"reading the live release of {ref.qualified}…")
        target = await ports.clusters.target(ref.cluster)
        live = await ports.helm.manifest(plan.name, plan.namespace, target=target, time_limit=limits.helm_timeout)
        note = "" if live is not None else "There is no release yet: this would be its first install."
    diff = diff_manifests(rendered, live)
    head = f"Dry run of {ref.qualified}{_at(fleet, ref_name)}: {diff.summary()} — nothing was changed"
    lines = [head]
    blocks = [b.section(f"*{head}*")]
    for label, names in (("add", diff.added), ("change", diff.changed), ("remove", diff.removed)):
        if names:
            shown = ", ".join(f"`{n}`" for n in names[:MAX_NAMES])
            more = f" and {len(names) - MAX_NAMES} more" if len(names) > MAX_NAMES else ""
            lines.append(f"To {label}: {shown}{more}")
            blocks.append(b.section(f"*To {label}:* {shown}{more}"))
    chart = f"chart {plan.chart.rsplit('/', 1)[-1]}" + (f" {plan.version}" if plan.version else "")
    context = f"{chart} · values: {', '.join(v.rsplit('/', 1)[-1] for v in plan.values) or 'chart defaults'}"
    if plan.overlay:
        context += f" · hubbot's overlay (`{PREFIX} quota diff {ref.qualified}`)"
    if plan.secret_values:
        context += f" · {len(plan.secret_values)} secret values file(s), not shown"
    if note:
        lines.append(note)
        blocks.append(b.context(note))
    blocks.append(b.context(context))
    lines.append(context)
    return Reply(text="\n".join(lines), blocks=b.limit(blocks))


def _chosen(ctx: Context, fleet: Fleet) -> list[HubRef]:
    tier, cluster = ctx.args.text("tier"), ctx.args.text("cluster")
    if cluster and cluster not in fleet.clusters:
        raise NotFound(f"unknown cluster '{cluster}' (clusters: {', '.join(fleet.clusters)})")
    refs = [r for r in fleet.hubs if (tier is None or r.hub.tier == tier)
            and (cluster is None or r.cluster == cluster) and ctx.sees(r)]
    if not refs:
        raise UserError("no hubs match" + (f" --tier {tier}" if tier else "") + (f" --cluster {cluster}" if cluster
                                                                                 else ""))
    return refs


async def _fan_out(ctx: Context, fleet: Fleet, version: str | None, ref_name: str | None) -> Reply:
    refs = _chosen(ctx, fleet)
    _check_deployable(ctx, refs, fleet)
    payload = json.dumps({"hubs": [r.qualified for r in refs], "chart_version": version, "all": True,
                          "commit": fleet.commit, "ref": ref_name})
    prod = [r for r in refs if r.hub.tier == "prod"]
    what = (f"deploy {len(refs)} hubs ({len(prod)} prod){_at(fleet, ref_name)}"
            + (f" with chart version {version}" if version else ""))
    if prod and ctx.approved_by is None:
        return await confirm.request(ctx, action="start", payload=payload, approval=True,
                                     summary=what + _off_branch(ctx, fleet, ref_name))
    return await start_handler(ctx, payload)


async def start_handler(ctx: Context, payload: str) -> Reply:
    """Start the deploy jobs (after approval, for prod hubs)."""
    data = json.loads(payload)
    commit, ref_name = data.get("commit"), data.get("ref")
    fleet = ctx.fleet
    if commit is not None:
        if ctx.services.repository is None:
            raise UserError("this deploy was asked for at a commit of the fleet repository, which hubbot no longer "
                            "reads; ask again")
        fleet = await ctx.services.repository.at(commit)  # exactly the commit that was asked for (and approved)
    refs = [fleet.hub(h) for h in data["hubs"]]
    version = data.get("chart_version")
    if any(not ctx.sees(r) for r in refs):
        raise UserError("you can no longer deploy some of these hubs")
    engine = Engine(ctx.services, fleet)
    channel, thread = ctx.invocation.channel_id, ctx.invocation.thread_ts
    if not data.get("all"):
        (ref,) = refs
        started = await engine.start(ref, kind=JobKind.DEPLOY, requested_by=ctx.caller.user_id, channel=channel,
                                     thread_ts=thread, approved_by=ctx.approved_by, chart_version=version,
                                     ref_name=ref_name)
        if isinstance(started, HubLock):
            raise UserError(busy(started))
        await ctx.record_change(command="deploy", args=payload, community=ref.hub.community,
                                detail=f"started job #{started.id} deploying {ref.qualified}{_at(fleet, ref_name)}")
        return Reply(text=f":rocket: Deploying {ref.qualified} as job #{started.id} — progress in its thread. "
                          f"`{PREFIX} cancel {started.id}` stops it.", public=ctx.approved_by is not None)
    return await _start_batch(ctx, engine, refs, version, ref_name)


async def _start_batch(ctx: Context, engine: Engine, refs: list[HubRef], version: str | None,
                       ref_name: str | None) -> Reply:
    channel = ctx.invocation.channel_id
    title = f"Deploy of {len(refs)} hubs"
    notifier = ctx.services.notifier
    batch = Batch(id=new_batch_id(), slots=engine.slots(), hubs=[r.qualified for r in refs],
                  message=LiveMessage(ctx.services, channel=channel, ts=None), title=title)
    text, blocks = batch.render()
    batch.message.ts = await notifier.post(channel=channel, text=text, blocks=blocks,
                                           thread_ts=ctx.invocation.thread_ts)
    started: list[Job] = []
    for ref in refs:
        job = await engine.start(ref, kind=JobKind.DEPLOY, requested_by=ctx.caller.user_id, channel=channel,
                                 approved_by=ctx.approved_by, chart_version=version, batch=batch,
                                 ref_name=ref_name)
        if isinstance(job, HubLock):
            await batch.finished(ref.qualified, f":lock: {ref.qualified} · skipped: {busy(job)}")
        else:
            started.append(job)
    ids = f"jobs #{started[0].id}–#{started[-1].id}" if started else "no jobs"
    await ctx.record_change(command="deploy --all", args=",".join(batch.hubs), community=None,
                            detail=f"batch {batch.id}: {ids}{_at(engine.fleet, ref_name)}")
    skipped = len(refs) - len(started)
    return Reply(text=f":rocket: Deploying {len(started)} hubs, {ctx.fleet.config.deploys.concurrency} at a time "
                      f"({ids})" + (f"; {skipped} skipped (busy)" if skipped else "") + " — the summary fills in "
                      "as they finish.", public=ctx.approved_by is not None)


_HUB = Arg("hub", "the hub (cluster/hub, or hub when unique)", required=False)
DEPLOY_OPTS = (
    Opt("dry-run", "render and compare with the live release; change nothing", kind="flag"),
    Opt("chart-version", "deploy this chart version instead of the configured one"),
    Opt("ref", "with a fleet repository: deploy this branch, tag or commit instead of the deploy branch"),
)
START = ActionSpec("start", Permission.ENGINEER, start_handler, button=False)
_ACTIONS = (START, ActionSpec("rollback", Permission.ENGINEER, rollback_handler),
            ActionSpec("rollback-run", Permission.ENGINEER, rollback_run, button=False))

DEPLOY = CommandSpec(
    name="deploy",
    summary="deploy or upgrade a hub (prod hubs need a second engineer's approval)",
    handler=deploy_handler,
    permission=Permission.ENGINEER,
    signature=Signature(args=(_HUB,), opts=(
        *DEPLOY_OPTS,
        Opt("all", "deploy every hub you may deploy (narrow with --tier/--cluster)", kind="flag"),
        Opt("tier", "with --all: only hubs of this tier", choices=("staging", "prod")),
        Opt("cluster", "with --all: only hubs on this cluster"),
    )),
    help="Runs credentials → helm template → helm upgrade --install → rollout → health check, shown live in a "
         "thread. A failed deploy offers Roll back. One deploy per hub at a time.",
    scope="hub",
    slow=True,
    actions=_ACTIONS,
    examples=(f"{PREFIX} deploy demo-aws/staging --dry-run", f"{PREFIX} deploy staging",
              f"{PREFIX} deploy --all --tier staging"),
)
