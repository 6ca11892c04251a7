"""Commands registered only in tests, to drive the slow-command and button paths that the
first real commands do not use yet. They are ordinary :class:`CommandSpec` declarations."""

from __future__ import annotations

from hubbot.access import Permission
from hubbot.args import Arg, Signature
from hubbot.chat import ActionSpec, CommandSpec, Context, File, Reply, action_id
from hubbot.render import blocks as b


async def slow_handler(ctx: Context) -> Reply:
    for step in ("rendering", "upgrading", "checking health"):
        await ctx.progress(step)
    return Reply(text="slow work done", files=[File(name="report.txt", content=b"all good\n", mimetype="text/plain")],
                 public=True)


async def crash_handler(ctx: Context) -> Reply:
    raise RuntimeError("database password=hunter2 leaked in an exception")


async def ask_handler(ctx: Context) -> Reply:
    return Reply(text="Really do it?", blocks=[
        b.section("Really do it?"),
        b.actions(
            b.button("Confirm", action_id=action_id("risky", "confirm"), value="thing-1", style="primary"),
            b.button("Cancel", action_id=action_id("risky", "cancel"), value="thing-1"),
        ),
    ])


async def confirm_handler(ctx: Context, value: str) -> Reply:
    return Reply(text=f"confirmed {value} by {ctx.caller.user_id}", replace=True)


async def cancel_handler(ctx: Context, value: str) -> Reply:
    return Reply(text=f"cancelled {value}", replace=True)


SLOW = CommandSpec(name="slow", summary="a slow command (tests)", handler=slow_handler,
                   permission=Permission.COMMUNITY_READ, slow=True,
                   signature=Signature(args=(Arg("community", "community", required=False),)), scope="community")
CRASH = CommandSpec(name="crash", summary="always fails (tests)", handler=crash_handler, permission=Permission.ANYONE)
RISKY = CommandSpec(
    name="risky", summary="asks for confirmation (tests)", handler=ask_handler, permission=Permission.ENGINEER,
    actions=(ActionSpec("confirm", Permission.ENGINEER, confirm_handler),
             ActionSpec("cancel", Permission.ENGINEER, cancel_handler)),
)
EXTRA = (SLOW, CRASH, RISKY)
