"""``/hub alerts [community] [--limit N]`` — recent alerts and their state; the Acknowledge and
Mute buttons that alert messages carry are handled here."""

from __future__ import annotations

from hubbot import markup as m
from hubbot.domain import Basis, OutboxKind, OutboxMessage, money
from hubbot.errors import NotAllowed, NotFound, UsageError
from hubbot.pipeline.access import Permission
from hubbot.pipeline.args import Arg, Opt, Signature
from hubbot.pipeline.contract import PREFIX, ActionSpec, CommandSpec, Context, Reply
from hubbot.render import blocks as b

_WHAT = {Basis.FORECAST: "forecast ≥ 100%", Basis.SPIKE: "spend spike", Basis.DIGEST: "weekly digest",
         Basis.UNDELIVERED: "undelivered alert", Basis.BILLING: "billing problem", Basis.SCAN: "spike scan",
         Basis.CURRENCY: "budget in another currency"}
_KIND = {OutboxKind.ESCALATION: "support question escalated", OutboxKind.TICKET: "support ticket",
         OutboxKind.ANSWER: "saved answer posted to the asker"}


def _what(message: OutboxMessage) -> str:
    alert = message.alert
    if alert is None:
        return _KIND.get(message.kind, message.kind.value)
    if alert.basis is Basis.ACTUAL:
        return f"{alert.threshold}% of budget"
    return _WHAT[alert.basis]


def _line(a: OutboxMessage) -> str:
    spend = f" · {money(a.alert.spend, a.alert.currency)}" if a.alert and a.alert.spend is not None else ""
    state = a.state + (f" · acknowledged by {m.mention(a.acked_by)}" if a.acked_by else "")
    state += f" · muted until {a.muted_until:%Y-%m-%d}" if a.muted_until else ""
    where = a.channel or ("ticket desk" if a.kind is OutboxKind.TICKET else "-")
    return f"#{a.id} {a.created_at:%Y-%m-%d %H:%M} {a.community}: {_what(a)}{spend} → {where} [{state}]"


async def alerts_handler(ctx: Context) -> Reply:
    recent = await ctx.services.outbox.recent(communities=ctx.communities, limit=ctx.args.number("limit") or 20)
    if not recent:
        return Reply(text="No alerts yet.")
    lines = [_line(a) for a in recent]
    text, blocks = b.titled_listing("Recent alerts", lines,
                                    more=f"name a community to narrow it (`{PREFIX} help alerts`)")
    return Reply(text=text, blocks=blocks)


async def _alert_for(ctx: Context, value: str) -> OutboxMessage:
    if not value.isdigit() or len(value) > 12:
        raise NotFound("that alert is not known")
    alert = await ctx.services.outbox.get(int(value))
    if alert is None:
        raise NotFound("that alert is not known")
    if alert.community not in ctx.communities:
        raise NotAllowed(f"only {alert.community}'s members, leaders and hub engineers can do that")
    return alert


async def ack_handler(ctx: Context, value: str) -> Reply:
    alert = await _alert_for(ctx, value)
    at = ctx.services.clock.now()
    if not await ctx.services.outbox.acknowledge(alert.id or 0, by=ctx.caller.user_id, at=at):
        by = f" by {m.mention(alert.acked_by)}" if alert.acked_by else ""
        return Reply(text=f"Already acknowledged{by}.")
    await ctx.record_change(command="alerts", args=f"alert {alert.id}", community=alert.community,
                            detail="alert acknowledged")
    return Reply(text=f":white_check_mark: {m.mention(ctx.caller.user_id)} acknowledged: {alert.headline}",
                 public=True)


async def mute_handler(ctx: Context, value: str) -> Reply:
    alert = await _alert_for(ctx, value)
    if alert.alert is None or not alert.alert.has_buttons:
        raise UsageError("only budget and spike alerts can be muted")
    until = alert.alert.period_end
    await ctx.services.outbox.mute(alert.id or 0, until=until)
    await ctx.record_change(command="alerts", args=f"alert {alert.id}", community=alert.community,
                            detail=f"alerts muted until {until:%Y-%m-%d}")
    return Reply(text=f":mute: {m.mention(ctx.caller.user_id)} muted {alert.community}'s alerts until "
                      f"{until:%Y-%m-%d} (the end of the period).", public=True)


ALERTS = CommandSpec(
    name="alerts",
    summary="recent cost alerts and their state",
    handler=alerts_handler,
    permission=Permission.COMMUNITY_READ,
    signature=Signature(
        args=(Arg("community", "the community (default: this channel's, or all you can see)", required=False),),
        opts=(Opt("limit", "how many, newest first", kind="int", default=20, minimum=1, maximum=100),),
    ),
    scope="community",
    actions=(ActionSpec("ack", Permission.COMMUNITY_READ, ack_handler),
             ActionSpec("mute", Permission.COMMUNITY_ADMIN, mute_handler)),
    examples=(f"{PREFIX} alerts", f"{PREFIX} alerts example --limit 50"),
)
