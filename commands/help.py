"""``/hub help [command]`` — generated from the command declarations."""

from __future__ import annotations

from hubbot.errors import NotFound
from hubbot.pipeline.access import Permission
from hubbot.pipeline.args import Arg, Signature
from hubbot.pipeline.contract import PREFIX, CommandSpec, Context, Reply
from hubbot.render import blocks as b

_WHO = {
    Permission.ANYONE: "anyone",
    Permission.COMMUNITY_READ: "community members, leaders and engineers",
    Permission.COMMUNITY_ADMIN: "community leaders and engineers",
    Permission.ENGINEER: "hub engineers",
}


def _may(ctx: Context, permission: Permission) -> bool:
    """Whether ``visible`` would list any community: the caller's own, looked up in the fleet
    (a few lookups, not a pass over every community)."""
    if permission is Permission.ANYONE or ctx.caller.engineer:
        return True
    if permission is Permission.ENGINEER:
        return False
    mine = ctx.caller.leader_of if permission is Permission.COMMUNITY_ADMIN else ctx.caller.member_of
    return any(name in ctx.fleet.communities for name in mine)


def _allowed(ctx: Context, spec: CommandSpec) -> bool:
    return _may(ctx, spec.permission)


# The overview depends only on the registry and which permissions the caller has; it is asked
# for often (it is also the answer to an empty `/hub`), so it is built once per shape, and the
# same Reply object is returned each time (the Slack transport keeps its rendered ack).
_OVERVIEWS: dict[tuple[int, tuple[bool, ...]], Reply] = {}
_PERMISSIONS = tuple(Permission)


async def help_handler(ctx: Context) -> Reply:
    topic = ctx.args.text("command")
    if topic:
        return _one(ctx, topic)
    may = tuple([_may(ctx, permission) for permission in _PERMISSIONS])  # 4 checks, not one per command
    key = (id(ctx.registry), may)
    reply = _OVERVIEWS.get(key)
    if reply is None:
        by_permission = dict(zip(_PERMISSIONS, may, strict=True))
        allowed = tuple(by_permission[spec.permission] for spec in ctx.registry.commands)
        reply = _OVERVIEWS[key] = _overview(ctx, allowed)
    return reply


def _line(spec: CommandSpec, allowed: bool) -> str:
    return f"`{spec.usage}` — {spec.summary}" + ("" if allowed else " _(not for your role)_")


def _overview(ctx: Context, allowed: tuple[bool, ...]) -> Reply:
    lines = [_line(spec, ok) for spec, ok in zip(ctx.registry.commands, allowed, strict=True)]
    blocks = [
        b.header("hubbot commands"),
        b.section("\n".join(lines)),
        b.context(f"`{PREFIX} help <command>` for details · you can also mention me or DM me"),
    ]
    return Reply(text="hubbot commands:\n" + "\n".join(lines), blocks=tuple(blocks))


def _one(ctx: Context, topic: str) -> Reply:
    spec, _ = ctx.registry.match(topic.split())
    members = ctx.registry.group(topic.split()[0]) if len(topic.split()) == 1 else []
    if spec is None and members:
        return _group(ctx, topic.split()[0].lower(), members)
    if spec is None:
        hints = ctx.registry.suggest(topic.split()[0])
        mean = f" — did you mean {' or '.join(f'`{h}`' for h in hints)}?" if hints else ""
        raise NotFound(f"no command `{topic[:40]}`{mean}")
    parts = [f"*Usage:* `{spec.usage}`", spec.summary]
    if spec.help:
        parts.append(spec.help)
    params = [f"• `{a.name}` — {a.help}" for a in spec.signature.args]
    params += [f"• `--{o.name}` — {o.help}" for o in spec.signature.opts]
    if params:
        parts.append("\n".join(params))
    if spec.examples:
        parts.append("*Examples:*\n" + "\n".join(f"`{e}`" for e in spec.examples))
    parts.append(f"*Who can run it:* {_WHO[spec.permission]}")
    text = "\n\n".join(parts)
    return Reply(text=text, blocks=[b.header(f"{PREFIX} {spec.name}"), b.section(text)])


def _group(ctx: Context, name: str, members: list[CommandSpec]) -> Reply:
    lines = [_line(spec, _allowed(ctx, spec)) for spec in members]
    text = f"`{PREFIX} {name}` has {len(members)} commands:\n" + "\n".join(lines)
    blocks = [b.header(f"{PREFIX} {name} …"), b.section("\n".join(lines)),
              b.context(f"`{PREFIX} help {members[0].name}` for details of one")]
    return Reply(text=text, blocks=blocks)


HELP = CommandSpec(
    name="help",
    summary="list the commands, or explain one",
    handler=help_handler,
    permission=Permission.ANYONE,
    signature=Signature(args=(Arg("command", "the command to explain", required=False, rest=True),)),
    examples=(f"{PREFIX} help", f"{PREFIX} help hubs"),
)
