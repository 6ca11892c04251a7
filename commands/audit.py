"""``/hub audit [hub|community] [--limit N]`` — who did what, when, and how it ended."""

from __future__ import annotations

from hubbot import markup as m
from hubbot.pipeline.access import Permission
from hubbot.pipeline.args import Arg, Opt, Signature
from hubbot.pipeline.contract import PREFIX, CommandSpec, Context, Reply
from hubbot.render import blocks as b


async def audit_handler(ctx: Context) -> Reply:
    hub = None
    named = ctx.args.text("target")
    if named and named not in ctx.fleet.communities:
        hub = ctx.fleet.hub(named).qualified
    # Engineers asking fleet-wide see everything, fleet-wide entries included.
    communities = None if ctx.caller.engineer and ctx.community is None else ctx.communities
    await ctx.services.audit.flush()
    entries = await ctx.services.audit.query(
        communities=communities, hub=hub, limit=ctx.args.number("limit") or 20
    )
    if not entries:
        return Reply(text="No audit entries match.")
    lines = []
    for e in entries:
        where = e.hub or e.community or "fleet"
        args = f" {e.args}" if e.args else ""
        lines.append(
            f"{e.at:%Y-%m-%d %H:%M:%S}Z  {m.mention(e.user)}  {e.command}{args}  [{where}]  {e.outcome.value}"
            f"  {e.duration_ms}ms"
        )
    text, blocks = b.titled_listing("Audit log", lines, code=True,
                                    more=f"name a hub or community to narrow it (`{PREFIX} help audit`)")
    return Reply(text=text, blocks=blocks)


AUDIT = CommandSpec(
    name="audit",
    summary="show the audit log (engineers: everything; leaders: their community)",
    handler=audit_handler,
    permission=Permission.COMMUNITY_ADMIN,
    signature=Signature(
        args=(Arg("target", "a hub or community (default: this channel's, or all you can see)", required=False),),
        opts=(Opt("limit", "how many entries, newest first", kind="int", default=20, minimum=1, maximum=200),),
    ),
    scope="target",
    examples=(f"{PREFIX} audit", f"{PREFIX} audit example --limit 50"),
)
