"""``/hub cancel`` — stop a deploy job, here or on whichever replica runs it."""

from __future__ import annotations

from hubbot.deploys.engine import ports_of, task_name
from hubbot.errors import NotFound, UsageError, UserError
from hubbot.pipeline.access import Permission
from hubbot.pipeline.args import Arg, Signature
from hubbot.pipeline.contract import PREFIX, CommandSpec, Context, Reply


async def cancel_handler(ctx: Context) -> Reply:
    ports = ports_of(ctx.services)
    raw = (ctx.args.text("job") or "").lstrip("#")
    if not raw.isdigit() or len(raw) > 12:
        raise UsageError(f"'{raw[:20]}' is not a job number (see `{PREFIX} jobs --running`)")
    job = await ports.jobs.get(int(raw))
    unowned = not job.community if job is not None else False  # a hub of no community: engineers only
    if job is None or not (job.community in ctx.communities or (unowned and ctx.caller.engineer)):
        raise NotFound(f"no job #{raw} (see `{PREFIX} jobs`)")
    if not await ports.jobs.request_cancel(int(raw)):
        raise UserError(f"job #{raw} already {job.state.value}")
    here = ports.background.cancel(task_name(int(raw)))
    await ctx.record_change(command="cancel", args=raw, community=job.community,
                            detail=f"cancel of job #{raw} ({job.kind} {job.hub}) requested")
    where = "" if here else " (it runs on another hubbot replica, which stops it within seconds)"
    return Reply(text=f":no_entry_sign: Cancelling job #{raw} — {job.kind} of {job.hub}{where}. Its thread says when "
                      "it has stopped.", public=True)


CANCEL = CommandSpec(
    name="cancel", summary="stop a deploy job", handler=cancel_handler, permission=Permission.ENGINEER,
    signature=Signature(args=(Arg("job", "the job number, like 12"),)),
    examples=(f"{PREFIX} cancel 12",),
)
