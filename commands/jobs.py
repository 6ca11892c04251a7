"""``/hub status``, ``/hub binder status``, ``/hub link``, ``/hub jobs`` and ``/hub cancel``."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from hubbot import markup as m
from hubbot.deploys import links
from hubbot.deploys.engine import duration, ports_of, task_name
from hubbot.domain import Job
from hubbot.errors import HubbotError, NotFound, UsageError, UserError
from hubbot.fleet import HubRef
from hubbot.pipeline.access import Permission
from hubbot.pipeline.args import Arg, Opt, Signature
from hubbot.pipeline.contract import PREFIX, CommandSpec, Context, Reply
from hubbot.render import blocks as b

LIST_LIMIT = 15


def _ref(ctx: Context, command: str) -> HubRef:
    if ctx.hub is None:
        raise UsageError(f"which hub? `{PREFIX} {command} <hub>`")
    return ctx.fleet.hub(ctx.hub)


async def _safely(work: Any) -> Any:
    try:
        return await work
    except HubbotError as exc:
        return exc


async def status_handler(ctx: Context) -> Reply:
    ref = _ref(ctx, "status")
    ports = ports_of(ctx.services)
    limits = ctx.fleet.config.deploys
    await ctx.progress(f"checking {ref.qualified}…")

    async def cluster_side() -> tuple[Any, Any]:
        try:
            target = await ports.clusters.target(ref.cluster)
        except HubbotError as exc:
            return exc, exc
        release, pods = await asyncio.gather(
            _safely(ports.helm.status(ref.hub.name, ref.hub.name, target=target, time_limit=limits.helm_timeout)),
            _safely(ports.clusters.pods(target, ref.hub.name)))
        return release, pods

    last, lock, health, (release, pods) = await asyncio.gather(
        ports.jobs.last(ref.qualified), ports.jobs.lock(ref.qualified),
        ports.health.check(ref.hub.health, time_limit=limits.health_timeout), cluster_side())
    rows: list[tuple[str, str]] = []
    if isinstance(release, HubbotError):
        rows.append(("Release", f"unknown: {release}"))
    elif release is None:
        rows.append(("Release", "not installed"))
    else:
        rows.append(("Release", f"revision {release.revision} · {release.status}"))
        rows.append(("Chart", f"{release.chart}" + (f" (app {release.app_version})" if release.app_version else "")))
    rows.append(("Pods", f"unknown: {pods}" if isinstance(pods, HubbotError) else f"{pods.ready}/{pods.total} ready"))
    rows.append(("Health", (f":white_check_mark: {health.status} in {health.elapsed_ms} ms" if health.ok else
                            f":x: {health.status or 'no answer'} — {health.detail[:120]}")))
    if last is not None:
        when = f"{last.finished_at:%Y-%m-%d %H:%M} UTC" if last.finished_at else "?"
        rows.append(("Last deploy", f"{last.kind} job #{last.id} by {m.mention(last.requested_by)} · {when} · "
                                    f"{last.state.value}" + (f" at {last.stage}" if last.state.value != "succeeded"
                                                             else "")))
    else:
        rows.append(("Last deploy", "none recorded by hubbot"))
    if lock is not None:
        rows.append(("Now", f"job #{lock.job_id} by {m.mention(lock.holder)} since {lock.since:%H:%M} UTC"))
    head = f"{ref.qualified} · {ref.hub.tier} · {ref.hub.url}"
    text = "\n".join([head, *(f"{k}: {v}" for k, v in rows)])
    return Reply(text=text, blocks=[b.section(f"*{head}*"), b.fields(rows[:10])])


async def binder_status_handler(ctx: Context) -> Reply:
    ref = _ref(ctx, "binder status")
    if not ref.hub.binder:
        raise UserError(f"{ref.qualified} is not a BinderHub; try `{PREFIX} status {ref.qualified}`")
    ports = ports_of(ctx.services)
    url = ref.hub.health
    health = await ports.health.check(url, time_limit=ctx.fleet.config.deploys.health_timeout)
    checks: list[str] = []
    try:
        body = json.loads(health.detail) if health.detail else {}
        for check in body.get("checks", []) if isinstance(body, dict) else []:
            if isinstance(check, dict):
                icon = ":white_check_mark:" if check.get("ok") else ":x:"
                checks.append(f"{icon} {str(check.get('service', '?'))[:60]}")
    except ValueError:
        pass
    if health.ok:
        head = f":white_check_mark: BinderHub {ref.qualified} is healthy ({health.elapsed_ms} ms)"
    else:
        head = f":x: BinderHub {ref.qualified} is unhealthy: {health.status or 'no answer'}"
        if not checks:
            checks.append(health.detail[:300])
    text = "\n".join([head, *checks, url])
    return Reply(text=text, blocks=[b.section(f"*{head}*"), *([b.section("\n".join(checks))] if checks else []),
                                    b.context(url)])


async def link_handler(ctx: Context) -> Reply:
    ref = _ref(ctx, "link")
    repo = ctx.args.text("repo-url") or ""
    ref_name, path = ctx.args.text("ref"), ctx.args.text("path")
    if ctx.args.flag("binder"):
        if not ref.hub.binder:
            raise UserError(f"{ref.qualified} is not a BinderHub; leave out --binder for an nbgitpuller link")
        url = links.binder(ref.hub.url, repo, ref=ref_name, path=path)
        what = "Binder launch link"
    else:
        url = links.nbgitpuller(ref.hub.url, repo, ref=ref_name, path=path)
        what = f"nbgitpuller link into {ref.qualified}"
    return Reply(text=f"{what}:\n{url}", blocks=[b.section(f"*{what}*"), b.section(f"```{url}```"),
                                                 b.context("Use it in a lesson or as a Jupyter Book launch button.")])


def _row(job: Job, now: Any) -> str:
    took = (job.finished_at or now) - (job.started_at or job.created_at)
    stage = f" at {job.stage}" if job.stage and job.state.value != "succeeded" else ""
    return (f"#{job.id} {job.kind} {job.hub} · {job.state.value}{stage} · {m.mention(job.requested_by)} · "
            f"{job.created_at:%m-%d %H:%M} · {duration(took)}")


async def jobs_handler(ctx: Context) -> Reply:
    ports = ports_of(ctx.services)
    running = ctx.args.flag("running")
    jobs = await ports.jobs.recent(communities=ctx.communities, active_only=running, limit=LIST_LIMIT)
    if not jobs:
        return Reply(text="No deploy jobs are running." if running else "No deploy jobs yet.")
    now = ctx.services.clock.now()
    rows = [_row(j, now) for j in jobs]
    head = f"{'Running' if running else 'Recent'} jobs ({len(jobs)})"
    return Reply(text="\n".join([head, *rows]), blocks=[b.section(f"*{head}*"), b.section("\n".join(rows))])


async def cancel_handler(ctx: Context) -> Reply:
    ports = ports_of(ctx.services)
    raw = (ctx.args.text("job") or "").lstrip("#")
    if not raw.isdigit() or len(raw) > 12:
        raise UsageError(f"'{raw[:20]}' is not a job number (see `{PREFIX} jobs --running`)")
    job = await ports.jobs.get(int(raw))
    if job is None or job.community not in ctx.communities:
        raise NotFound(f"no job #{raw} (see `{PREFIX} jobs`)")
    if not await ports.jobs.request_cancel(int(raw)):
        raise UserError(f"job #{raw} already {job.state.value}")
    here = ports.background.cancel(task_name(int(raw)))
    await ctx.record_change(command="cancel", args=raw, community=job.community,
                            detail=f"cancel of job #{raw} ({job.kind} {job.hub}) requested")
    where = "" if here else " (it runs on another hubbot replica, which stops it within seconds)"
    return Reply(text=f":no_entry_sign: Cancelling job #{raw} — {job.kind} of {job.hub}{where}. Its thread says when "
                      "it has stopped.", public=True)


_HUB = Arg("hub", "the hub (cluster/hub, or hub when unique)")
STATUS = CommandSpec(
    name="status", summary="a hub's release, pods, health and last deploy", handler=status_handler,
    permission=Permission.COMMUNITY_READ, signature=Signature(args=(_HUB,)), scope="hub", slow=True,
    examples=(f"{PREFIX} status demo-aws/staging",),
)
BINDER_STATUS = CommandSpec(
    name="binder status", summary="a BinderHub's /health checks", handler=binder_status_handler,
    permission=Permission.COMMUNITY_READ, signature=Signature(args=(Arg("hub", "the BinderHub"),)), scope="hub",
    examples=(f"{PREFIX} binder status climate-binder",),
)
LINK = CommandSpec(
    name="link", summary="an nbgitpuller (or Binder) link for a lesson or launch button", handler=link_handler,
    permission=Permission.COMMUNITY_READ,
    signature=Signature(args=(_HUB, Arg("repo-url", "the git repository, https://...")),
                        opts=(Opt("ref", "branch, tag or commit"), Opt("path", "file or folder to open"),
                              Opt("binder", "a Binder launch link (BinderHubs only)", kind="flag"))),
    scope="hub",
    examples=(f"{PREFIX} link staging https://github.com/org/lessons --path intro.ipynb",),
)
JOBS = CommandSpec(
    name="jobs", summary="recent deploy jobs (or only running ones)", handler=jobs_handler,
    permission=Permission.COMMUNITY_READ,
    signature=Signature(opts=(Opt("running", "only queued and running jobs", kind="flag"),)),
    examples=(f"{PREFIX} jobs --running",),
)
CANCEL = CommandSpec(
    name="cancel", summary="stop a deploy job", handler=cancel_handler, permission=Permission.ENGINEER,
    signature=Signature(args=(Arg("job", "the job number, like 12"),)),
    examples=(f"{PREFIX} cancel 12",),
)
