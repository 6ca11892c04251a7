"""The hub a command acts on, and what a command says when that hub is busy with another job."""

from __future__ import annotations

from hubbot import markup as m
from hubbot.domain import HubLock
from hubbot.errors import UsageError
from hubbot.fleet import HubRef
from hubbot.pipeline.args import Arg
from hubbot.pipeline.contract import PREFIX, Context

HUB_ARG = Arg("hub", "the hub (cluster/hub, or hub when unique)")


def named_hub(ctx: Context, command: str) -> HubRef:
    """The hub the caller named, or a usage error that shows ``/hub <command> <hub>``."""
    if ctx.hub is None:
        raise UsageError(f"which hub? `{PREFIX} {command} <hub>`")
    return ctx.fleet.hub(ctx.hub)


def busy(lock: HubLock) -> str:
    return (f"{lock.hub} is busy: job #{lock.job_id} by {m.mention(lock.holder)} holds it since "
            f"{lock.since:%Y-%m-%d %H:%M} UTC. Wait for it to finish, or `{PREFIX} cancel {lock.job_id}`.")
