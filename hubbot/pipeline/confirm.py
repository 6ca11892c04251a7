"""Confirmations and approvals for commands that change things.

A handler that is about to change something returns :func:`request` instead of acting: the
reply asks the requester to **Confirm** or **Cancel** — or, with ``approval=True`` (production
changes), asks a *second engineer* to **Approve** or **Reject**. The request is stored (so it
survives a restart and works across replicas) and expires after ``ttl``. When it is accepted,
the dispatcher runs the command's :class:`~hubbot.pipeline.contract.ActionSpec` named ``action`` with the
stored ``payload``, as the requester, re-checking the requester's permission at that moment.
Every decision is written to the audit log.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from hubbot import markup as m
from hubbot.domain import PendingAction
from hubbot.pipeline.contract import Context, Reply, action_id
from hubbot.render import blocks as b

PENDING = "_pending"  # the pseudo-command in the buttons' action IDs: hubbot:_pending:<verb>
TTL = timedelta(minutes=15)
VERBS = {"confirm": "confirmed", "cancel": "cancelled", "approve": "approved", "reject": "rejected"}
ACCEPT = frozenset({"confirm", "approve"})


def _minutes(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"


async def request(
    ctx: Context,
    *,
    action: str,
    payload: str,
    summary: str,
    approval: bool = False,
    ttl: timedelta = TTL,
) -> Reply:
    """Store a pending ``action`` of the running command and ask for a decision."""
    spec = ctx.registry.get(ctx.command)
    if spec is None or spec.action(action) is None:
        raise ValueError(f"command {ctx.command!r} declares no action {action!r}")
    now = ctx.services.clock.now()
    pending = PendingAction(
        id=secrets.token_hex(12), command=ctx.command, action=action, payload=payload, summary=summary,
        kind="approve" if approval else "confirm", requested_by=ctx.caller.user_id,
        channel=ctx.invocation.channel_id, community=ctx.community, hub=ctx.hub, created_at=now,
        expires_at=now + ttl,
    )
    await ctx.services.pending.create(pending)
    if approval:
        buttons = (b.button("Approve", action_id=action_id(PENDING, "approve"), value=pending.id, style="primary"),
                   b.button("Reject", action_id=action_id(PENDING, "reject"), value=pending.id, style="danger"))
        note = (f"Requested by {m.mention(pending.requested_by)} · needs another engineer's approval · "
                f"expires in {_minutes(ttl)}")
        text = f"Approval needed: {summary}"
    else:
        buttons = (b.button("Confirm", action_id=action_id(PENDING, "confirm"), value=pending.id, style="primary"),
                   b.button("Cancel", action_id=action_id(PENDING, "cancel"), value=pending.id))
        note = f"Only {m.mention(pending.requested_by)} can confirm · expires in {_minutes(ttl)}"
        text = f"Please confirm: {summary}"
    return Reply(text=text, blocks=(b.section(f"*{text}*"), b.actions(*buttons), b.context(note)), public=approval)


