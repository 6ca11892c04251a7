"""The hub a command acts on, how to reach its API, and what a command says when that hub is busy with
another job."""

from __future__ import annotations

import json
from typing import Any

from hubbot import markup as m
from hubbot.domain import HubLock
from hubbot.errors import UsageError, UserError
from hubbot.fleet import HubRef
from hubbot.pipeline.args import Arg
from hubbot.pipeline.contract import PREFIX, Context
from hubbot.ports import HubApi

HUB_ARG = Arg("hub", "the hub (cluster/hub, or hub when unique)")


def named_hub(ctx: Context, command: str) -> HubRef:
    """The hub the caller named, or a usage error that shows ``/hub <command> <hub>``."""
    if ctx.hub is None:
        raise UsageError(f"which hub? `{PREFIX} {command} <hub>`")
    return ctx.fleet.hub(ctx.hub)


def busy(lock: HubLock) -> str:
    return (f"{lock.hub} is busy: job #{lock.job_id} by {m.mention(lock.holder)} holds it since "
            f"{lock.since:%Y-%m-%d %H:%M} UTC. Wait for it to finish, or `{PREFIX} cancel {lock.job_id}`.")


def hub_api(ctx: Context, ref: HubRef) -> HubApi:
    """The hub's own API, or what to set up to reach it."""
    api = ctx.services.hub_apis.get(ref.qualified)
    if api is not None:
        return api
    if ref.hub.api_token:
        raise UserError(f"hubbot has no token for {ref.qualified}'s API: add the hub's JupyterHub service token to "
                        f"HUBBOT_HUB_TOKENS under \"{ref.hub.api_token}\"")
    raise UserError(f"{ref.qualified} has no API access set up: give the hub `api_token: <name>` in the fleet "
                    "config, and a JupyterHub service token (scopes admin:groups, list:users, read:users) in "
                    "HUBBOT_HUB_TOKENS")


def decided_hub(ctx: Context, payload: str, what: str) -> tuple[HubRef, dict[str, Any]]:
    """The hub of a confirmed action's stored ``payload`` (JSON with ``hub``), and the payload,
    once the caller may still act on it (their roles may have changed since they asked)."""
    data = json.loads(payload)
    ref = ctx.fleet.hub(str(data["hub"]))
    if not ctx.sees(ref):
        raise UserError(f"you can no longer change {what} of {ref.qualified}")
    return ref, data
