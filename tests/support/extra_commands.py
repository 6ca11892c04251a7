"""Commands registered only in tests, to drive the slow-command and button paths that the
first real commands do not use yet. They are ordinary :class:`CommandSpec` declarations."""

from __future__ import annotations

import asyncio
import threading

from hubbot.pipeline import confirm
from hubbot.pipeline.access import Permission
from hubbot.pipeline.args import Arg, Signature
from hubbot.pipeline.contract import ActionSpec, CommandSpec, Context, File, Reply, action_id
from hubbot.render import blocks as b


async def slow_handler(ctx: Context) -> Reply:
    for step in ("rendering", "upgrading", "checking health"):
        await ctx.progress(step)
    return Reply(text="slow work done", files=[File(name="report.txt", content=b"all good\n", mimetype="text/plain")],
                 public=True)


RELEASE = threading.Event()  # the test lets the "stall" command finish when it chooses


async def stall_handler(ctx: Context) -> Reply:
    released = await asyncio.to_thread(RELEASE.wait, 30)
    return Reply(text="finally done" if released else "never released")


async def crash_handler(ctx: Context) -> Reply:
    raise RuntimeError("database password=hunter2 leaked in an exception")


async def ping_handler(ctx: Context) -> Reply:
    return Reply(text="Ping?", blocks=[
        b.section("Ping?"),
        b.actions(b.button("Pong", action_id=action_id("ping", "pong"), value="ball-1", style="primary")),
    ])


async def pong_handler(ctx: Context, value: str) -> Reply:
    return Reply(text=f"pong {value} by {ctx.caller.user_id}", replace=True)


APPLIED: list[tuple[str, str, str | None]] = []  # what the "change" commands changed: (payload, by, approver)


async def change_handler(ctx: Context) -> Reply:
    hub = ctx.fleet.hub(ctx.args.text("hub") or "")
    return await confirm.request(ctx, action="apply", payload=f"change {hub.qualified}",
                                 summary=f"change {hub.qualified}", approval=hub.hub.tier == "prod")


async def apply_handler(ctx: Context, payload: str) -> Reply:
    APPLIED.append((payload, ctx.caller.user_id, ctx.approved_by))
    return Reply(text=f"applied {payload}")


SLOW = CommandSpec(name="slow", summary="a slow command (tests)", handler=slow_handler,
                   permission=Permission.COMMUNITY_READ, slow=True,
                   signature=Signature(args=(Arg("community", "community", required=False),)), scope="community")
STALL = CommandSpec(name="stall", summary="a quick command that runs long (tests)", handler=stall_handler,
                    permission=Permission.ANYONE)
CRASH = CommandSpec(name="crash", summary="always fails (tests)", handler=crash_handler, permission=Permission.ANYONE)
PING = CommandSpec(name="ping", summary="a button (tests)", handler=ping_handler, permission=Permission.ENGINEER,
                   actions=(ActionSpec("pong", Permission.ENGINEER, pong_handler),))
CHANGE = CommandSpec(
    name="change", summary="a change needing confirmation, or approval on prod (tests)", handler=change_handler,
    permission=Permission.COMMUNITY_ADMIN, signature=Signature(args=(Arg("hub", "hub"),)), scope="hub",
    actions=(ActionSpec("apply", Permission.COMMUNITY_ADMIN, apply_handler),),
)
EXTRA = (SLOW, STALL, CRASH, PING, CHANGE)
