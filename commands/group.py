"""``/hub group list|show|create|delete|add|remove <hub> ...`` — a hub's JupyterHub groups, through
its REST API with the hub's service token. Changes are confirmed back with the group's members as
the hub has them afterwards, and audited; deleting a group and removing members ask first."""

from __future__ import annotations

import json
import re

from commands.target import HUB_ARG, decided_hub, hub_api, named_hub
from hubbot.domain import HubGroup
from hubbot.errors import UsageError, UserError
from hubbot.pipeline import confirm
from hubbot.pipeline.access import Permission
from hubbot.pipeline.args import Arg, Signature
from hubbot.pipeline.contract import PREFIX, ActionSpec, CommandSpec, Context, Reply

# JupyterHub takes almost any group name; hubbot keeps to names that read the same in Slack,
# in a URL and in a values file.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
SHOWN = 60  # members listed in a reply; the rest are counted


def _name(text: str | None, what: str = "group") -> str:
    if not text:
        raise UsageError(f"name the {what}")
    if not _NAME.fullmatch(text):
        raise UsageError(f"'{text[:40]}' is not a {what} name hubbot uses: letters, digits, '.', '_' and '-', "
                         "starting with a letter or digit, at most 64")
    return text


def _users(text: str | None) -> list[str]:
    names = [u for u in re.split(r"[\s,]+", text or "") if u]
    if not names:
        raise UsageError("name one or more users, separated by spaces or commas")
    bad = next((u for u in names if not _NAME.fullmatch(u.replace("@", "_"))), None)
    if bad is not None:
        raise UsageError(f"'{bad[:40]}' is not a JupyterHub user name")
    return list(dict.fromkeys(names))


def members(group: HubGroup) -> str:
    if not group.users:
        return f"{group.name}: no members"
    shown = ", ".join(group.users[:SHOWN])
    more = f" and {len(group.users) - SHOWN} more" if len(group.users) > SHOWN else ""
    return f"{group.name}: {len(group.users)} member(s) — {shown}{more}"


async def list_handler(ctx: Context) -> Reply:
    ref = named_hub(ctx, "group list")
    groups = await hub_api(ctx, ref).groups()
    if not groups:
        return Reply(text=f"{ref.qualified} has no groups yet: `{PREFIX} group create {ref.qualified} <name>`")
    lines = [f"{g.name} — {len(g.users)} member(s)" for g in groups]
    return Reply(text=f"Groups of {ref.qualified}:\n" + "\n".join(lines)
                 + f"\n`{PREFIX} group show {ref.qualified} <group>` lists a group's members")


async def show_handler(ctx: Context) -> Reply:
    ref = named_hub(ctx, "group show")
    group = await hub_api(ctx, ref).group(_name(ctx.args.text("group")))
    return Reply(text=f"{ref.qualified} · {members(group)}")


async def create_handler(ctx: Context) -> Reply:
    ref = named_hub(ctx, "group create")
    name = _name(ctx.args.text("group"))
    group = await hub_api(ctx, ref).create_group(name)
    await ctx.record_change(command="group create", args=f"{ref.qualified} {name}", community=ref.hub.community,
                            detail=f"created group {name} on {ref.qualified}")
    return Reply(text=f":white_check_mark: Created group {group.name} on {ref.qualified} (no members yet: "
                      f"`{PREFIX} group add {ref.qualified} {group.name} <users>`)", public=True)


async def add_handler(ctx: Context) -> Reply:
    ref = named_hub(ctx, "group add")
    name, users = _name(ctx.args.text("group")), _users(ctx.args.text("users"))
    group = await hub_api(ctx, ref).add_users(name, users)
    await ctx.record_change(command="group add", args=f"{ref.qualified} {name} {' '.join(users)}",
                            community=ref.hub.community,
                            detail=f"added {', '.join(users)} to {name} on {ref.qualified}")
    return Reply(text=f":white_check_mark: Added {', '.join(users)} on {ref.qualified}. {members(group)}",
                 public=True)


async def delete_handler(ctx: Context) -> Reply:
    ref = named_hub(ctx, "group delete")
    group = await hub_api(ctx, ref).group(_name(ctx.args.text("group")))
    payload = json.dumps({"hub": ref.qualified, "group": group.name})
    who = f"its {len(group.users)} member(s) lose what it gives them" if group.users else "it has no members"
    return await confirm.request(ctx, action="delete", payload=payload,
                                 summary=f"delete group {group.name} of {ref.qualified} ({who})")


async def remove_handler(ctx: Context) -> Reply:
    ref = named_hub(ctx, "group remove")
    name, users = _name(ctx.args.text("group")), _users(ctx.args.text("users"))
    group = await hub_api(ctx, ref).group(name)
    absent = [u for u in users if u not in group.users]
    if absent:
        raise UserError(f"{', '.join(absent)} {'is' if len(absent) == 1 else 'are'} not in {name} on {ref.qualified}; "
                        f"nothing was changed. {members(group)}")
    payload = json.dumps({"hub": ref.qualified, "group": name, "users": users})
    return await confirm.request(ctx, action="remove", payload=payload,
                                 summary=f"remove {', '.join(users)} from group {name} of {ref.qualified}")


async def apply_delete(ctx: Context, payload: str) -> Reply:
    ref, data = decided_hub(ctx, payload, "the groups")
    name = str(data["group"])
    await hub_api(ctx, ref).delete_group(name)
    await ctx.record_change(command="group delete", args=f"{ref.qualified} {name}", community=ref.hub.community,
                            detail=f"deleted group {name} on {ref.qualified}")
    return Reply(text=f":white_check_mark: Deleted group {name} on {ref.qualified}.", public=True)


async def apply_remove(ctx: Context, payload: str) -> Reply:
    ref, data = decided_hub(ctx, payload, "the groups")
    listed = data.get("users")
    name, users = str(data["group"]), [str(u) for u in listed] if isinstance(listed, list) else []
    group = await hub_api(ctx, ref).remove_users(name, users)
    await ctx.record_change(command="group remove", args=f"{ref.qualified} {name} {' '.join(users)}",
                            community=ref.hub.community,
                            detail=f"removed {', '.join(users)} from {name} on {ref.qualified}")
    return Reply(text=f":white_check_mark: Removed {', '.join(users)} on {ref.qualified}. {members(group)}",
                 public=True)


GROUP_ARG = Arg("group", "the group's name")
USERS_ARG = Arg("users", "user names, separated by spaces or commas", rest=True)
_READ, _CHANGE = Permission.COMMUNITY_READ, Permission.COMMUNITY_ADMIN

LIST = CommandSpec(name="group list", summary="a hub's groups and how many members each has", handler=list_handler,
                   permission=_READ, signature=Signature(args=(HUB_ARG,)), scope="hub", slow=True,
                   examples=(f"{PREFIX} group list demo-aws/staging",))
SHOW = CommandSpec(name="group show", summary="a group's members", handler=show_handler, permission=_READ,
                   signature=Signature(args=(HUB_ARG, GROUP_ARG)), scope="hub", slow=True,
                   examples=(f"{PREFIX} group show demo-aws/staging students",))
CREATE = CommandSpec(name="group create", summary="make a group on a hub", handler=create_handler,
                     permission=_CHANGE, signature=Signature(args=(HUB_ARG, GROUP_ARG)), scope="hub", slow=True,
                     examples=(f"{PREFIX} group create demo-aws/staging students",))
DELETE = CommandSpec(name="group delete", summary="delete a group (asks for confirmation)", handler=delete_handler,
                     permission=_CHANGE, signature=Signature(args=(HUB_ARG, GROUP_ARG)), scope="hub", slow=True,
                     actions=(ActionSpec("delete", _CHANGE, apply_delete, button=False),),
                     examples=(f"{PREFIX} group delete demo-aws/staging students",))
ADD = CommandSpec(name="group add", summary="add users to a group", handler=add_handler, permission=_CHANGE,
                  signature=Signature(args=(HUB_ARG, GROUP_ARG, USERS_ARG)), scope="hub", slow=True,
                  examples=(f"{PREFIX} group add demo-aws/staging students ana bo",))
REMOVE = CommandSpec(name="group remove", summary="remove users from a group (asks for confirmation)",
                     handler=remove_handler, permission=_CHANGE,
                     signature=Signature(args=(HUB_ARG, GROUP_ARG, USERS_ARG)), scope="hub", slow=True,
                     actions=(ActionSpec("remove", _CHANGE, apply_remove, button=False),),
                     examples=(f"{PREFIX} group remove demo-aws/staging students bo",))
