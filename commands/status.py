"""``/hub status`` — a hub's release, pods, health, last deploy and the job holding it now."""

from __future__ import annotations

import asyncio
from typing import Any

from commands.target import HUB_ARG, named_hub
from hubbot import markup as m
from hubbot.deploys.engine import ports_of
from hubbot.errors import HubbotError
from hubbot.pipeline.access import Permission
from hubbot.pipeline.args import Signature
from hubbot.pipeline.contract import PREFIX, CommandSpec, Context, Reply
from hubbot.render import blocks as b


async def _safely(work: Any) -> Any:
    try:
        return await work
    except HubbotError as exc:
        return exc


async def status_handler(ctx: Context) -> Reply:
    ref = named_hub(ctx, "status")
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
    health = health.expecting(ref.hub.health_status)
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
                                                             else "")
                                    + (f" · commit `{last.commit[:12]}`" if last.commit else "")))
    else:
        rows.append(("Last deploy", "none recorded by hubbot"))
    if ctx.fleet.commit:
        behind = " (the last deploy was another commit)" if last and last.commit and last.commit != ctx.fleet.commit \
            else ""
        rows.append(("Fleet", f"read at commit `{ctx.fleet.commit[:12]}`{behind}"))
    if lock is not None:
        rows.append(("Now", f"job #{lock.job_id} by {m.mention(lock.holder)} since {lock.since:%H:%M} UTC"))
    head = f"{ref.qualified} · {ref.hub.tier} · {ref.hub.url}"
    text = "\n".join([head, *(f"{k}: {v}" for k, v in rows)])
    return Reply(text=text, blocks=[b.section(f"*{head}*"), b.fields(rows[:10])])


STATUS = CommandSpec(
    name="status", summary="a hub's release, pods, health and last deploy", handler=status_handler,
    permission=Permission.COMMUNITY_READ,
    signature=Signature(args=(HUB_ARG,)), scope="hub", slow=True,
    examples=(f"{PREFIX} status demo-aws/staging",),
)
