"""``/hub jobs`` — recent deploy jobs in the caller's communities, or only the running ones."""

from __future__ import annotations

from typing import Any

from hubbot import markup as m
from hubbot.deploys.engine import ports_of
from hubbot.deploys.messages import duration
from hubbot.domain import Job
from hubbot.pipeline.access import Permission
from hubbot.pipeline.args import Opt, Signature
from hubbot.pipeline.contract import PREFIX, CommandSpec, Context, Reply
from hubbot.render import blocks as b

LIST_LIMIT = 15


def _row(job: Job, now: Any) -> str:
    took = (job.finished_at or now) - (job.started_at or job.created_at)
    stage = f" at {job.stage}" if job.stage and job.state.value != "succeeded" else ""
    at = f" @ `{job.commit[:12]}`" if job.commit else ""
    return (f"#{job.id} {job.kind} {job.hub}{at} · {job.state.value}{stage} · {m.mention(job.requested_by)} · "
            f"{job.created_at:%m-%d %H:%M} · {duration(took)}")


async def jobs_handler(ctx: Context) -> Reply:
    ports = ports_of(ctx.services)
    running = ctx.args.flag("running")
    # an engineer not narrowed to one community also sees jobs of hubs in no community
    communities = None if ctx.caller.engineer and ctx.community is None else ctx.communities
    jobs = await ports.jobs.recent(communities=communities, active_only=running, limit=LIST_LIMIT)
    if not jobs:
        return Reply(text="No deploy jobs are running." if running else "No deploy jobs yet.")
    now = ctx.services.clock.now()
    rows = [_row(j, now) for j in jobs]
    head = f"{'Running' if running else 'Recent'} jobs ({len(jobs)})"
    return Reply(text="\n".join([head, *rows]), blocks=[b.section(f"*{head}*"), b.section("\n".join(rows))])


JOBS = CommandSpec(
    name="jobs", summary="recent deploy jobs (or only running ones)", handler=jobs_handler,
    permission=Permission.COMMUNITY_READ,
    signature=Signature(opts=(Opt("running", "only queued and running jobs", kind="flag"),)),
    examples=(f"{PREFIX} jobs --running",),
)
