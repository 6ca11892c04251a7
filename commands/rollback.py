"""The Roll back button of a failed ``/hub deploy``: back to the revision before it, as a job of its own.

Rolling back a ``prod`` hub waits for a second engineer's approval, like deploying one.
"""

from __future__ import annotations

import json

from commands.target import busy
from hubbot.deploys.engine import Engine, ports_of
from hubbot.domain import HubLock, JobKind, JobState
from hubbot.errors import NotFound, UserError
from hubbot.pipeline import confirm
from hubbot.pipeline.contract import Context, Reply


async def rollback_handler(ctx: Context, value: str) -> Reply:
    """The Roll back button of a failed deploy: back to the revision before it."""
    ports = ports_of(ctx.services)
    job = await ports.jobs.get(int(value)) if value.isdigit() else None
    if job is None:
        raise NotFound("that job is no longer known")
    if job.kind != JobKind.DEPLOY or job.state is not JobState.FAILED or not job.previous_revision:
        raise UserError(f"job #{job.id} has nothing to roll back to")
    ref = ctx.fleet.hub(job.hub)
    if not ctx.sees(ref):
        raise UserError(f"you can no longer change {ref.qualified}")
    payload = json.dumps({"job": job.id})
    if ref.hub.tier == "prod" and ctx.approved_by is None:
        return await confirm.request(ctx, action="rollback-run", payload=payload, approval=True,
                                     summary=f"roll {ref.qualified} back to revision {job.previous_revision}")
    return await rollback_run(ctx, payload)


async def rollback_run(ctx: Context, payload: str) -> Reply:
    ports = ports_of(ctx.services)
    job = await ports.jobs.get(int(json.loads(payload)["job"]))
    if job is None:
        raise NotFound("that job is no longer known")
    ref = ctx.fleet.hub(job.hub)
    started = await Engine(ctx.services, ctx.fleet).start(
        ref, kind=JobKind.ROLLBACK, requested_by=ctx.caller.user_id, channel=job.channel, thread_ts=job.thread_ts,
        approved_by=ctx.approved_by, previous_revision=job.previous_revision)
    if isinstance(started, HubLock):
        raise UserError(busy(started))
    await ctx.record_change(command="rollback", args=payload, community=ref.hub.community,
                            detail=f"started job #{started.id} rolling {ref.qualified} back to revision "
                                   f"{job.previous_revision}")
    return Reply(text=f":rewind: Rolling {ref.qualified} back to revision {job.previous_revision} as job "
                      f"#{started.id} — progress in the thread.", public=True)


