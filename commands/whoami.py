"""``/hub whoami`` — your roles and communities, as hubbot sees them."""

from __future__ import annotations

from hubbot import markup as m
from hubbot.pipeline.access import Permission
from hubbot.pipeline.args import Signature
from hubbot.pipeline.contract import CommandSpec, Context, Reply
from hubbot.render import blocks as b


async def whoami_handler(ctx: Context) -> Reply:
    caller = ctx.caller
    leads = ", ".join(sorted(caller.leader_of)) or "none"
    member = ", ".join(sorted(caller.member_of)) or "none"
    here = ctx.fleet.community_for_channel(ctx.invocation.channel_id)
    lines = [
        f"You are {m.mention(caller.user_id)}.",
        f"Roles: {', '.join(caller.roles)}",
        f"Leader of: {leads}",
        f"Member of: {member}",
        f"This channel belongs to: {here.name if here else 'no community'}",
    ]
    return Reply(text="\n".join(lines), blocks=[b.section("\n".join(lines))])


WHOAMI = CommandSpec(
    name="whoami",
    summary="show your roles and communities",
    handler=whoami_handler,
    permission=Permission.ANYONE,
    signature=Signature(),
)
