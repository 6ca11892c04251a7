"""``/hub cost [community|hub] [--month YYYY-MM] [--by hub|service|day]`` — spend, forecast,
budget and the costliest hubs, with a chart."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hubbot.costs.periods import Period, local_day, month, period_of
from hubbot.costs.summary import freshness, summarize, summary_blocks, summary_text
from hubbot.domain import money
from hubbot.errors import UserError
from hubbot.pipeline.access import Permission
from hubbot.pipeline.args import Arg, Opt, Signature
from hubbot.pipeline.contract import PREFIX, CommandSpec, Context, File, Reply
from hubbot.render import blocks as b
from hubbot.render.chart import chart_alt, cost_chart


async def cost_handler(ctx: Context) -> Reply:
    community = ctx.community or (ctx.communities[0] if len(ctx.communities) == 1 else None)
    if community is None:
        return await _overview(ctx)
    at = ctx.services.clock.now()
    period: Period | None = None
    if ctx.args.text("month"):
        period = month(ctx.args.text("month") or "")
        if period.start > local_day(at, "UTC"):
            raise UserError(f"{period.label()} is in the future — there is no spend to show yet")
    s = await summarize(ctx.services, ctx.fleet, community, at=at, period=period)
    by = ctx.args.text("by") or "hub"
    rows = await ctx.services.ledger.breakdown(community=community, start=s.period.start, end=s.period.end,
                                               currency=s.currency, by=by, hub=ctx.hub)
    scope = f"{ctx.hub} ({s.title})" if ctx.hub else s.title
    blocks = summary_blocks(s, headline=f"Costs of {scope} — {s.period.label()}")
    table = "\n".join(f"{k:<40} {money(v, s.currency):>14}" for k, v in rows[:40]) or "no cost data for this period"
    blocks.insert(2, b.section(f"*By {by}:*\n```{table}```"))
    days = await ctx.services.ledger.breakdown(community=community, start=s.period.start, end=s.period.end,
                                               currency=s.currency, by="day", hub=ctx.hub)
    files = []
    if days:
        from datetime import date

        title, when = f"{scope} — {s.period.label()}", [date.fromisoformat(d) for d, _ in days]
        daily, budget = [a for _, a in days], None if ctx.hub else s.limit
        forecast = None if ctx.hub else s.forecast
        png = cost_chart(title=title, days=when, daily=daily, budget=budget, currency=s.currency, forecast=forecast,
                         period_end=s.period.end - timedelta(days=1))
        alt = chart_alt(title=title, days=when, daily=daily, budget=budget, currency=s.currency, forecast=forecast)
        files.append(File(name=f"cost-{community}-{s.period.key}.png", content=png, mimetype="image/png",
                          title=f"Costs of {scope}", alt=alt))
    text = "\n".join([f"Costs of {scope} — {s.period.label()}", summary_text(s),
                      f"By {by}:", table, freshness(s.as_of, s.stale, days=s.days)])
    return Reply(text=text, blocks=b.limit(blocks), files=files, public=True)


async def _overview(ctx: Context) -> Reply:
    """Every visible community in one table (engineers' fleet-wide view)."""
    at = ctx.services.clock.now()
    lines = []
    for name in ctx.communities:
        s = await summarize(ctx.services, ctx.fleet, name, at=at)
        budget = f"{money(s.budget.amount, s.currency)} ({s.used}%)" if s.budget else "no budget"
        flag = " :warning:" if s.budget and s.used is not None and s.used >= Decimal(90) else ""
        lines.append(f"{name:<24} {money(s.spend, s.currency):>14}  {budget}{flag}")
    if not lines:
        return Reply(text="No communities are configured.")
    table = "\n".join(lines)
    blocks = [b.header("Spend this period, by community"), b.section(f"```{table}```")]
    text = "Spend this period\n" + table
    if ctx.caller.engineer:
        shared = await _unallocated(ctx)
        if shared:
            blocks.append(b.section(shared))
            text += "\n" + shared
    blocks.append(b.context(f"`{PREFIX} cost <community>` for details and a chart"))
    return Reply(text=text, blocks=blocks, public=True)


async def _unallocated(ctx: Context) -> str | None:
    """Engineers' line for this month's spend no community is charged: untagged lines of providers
    several communities share (a Savings Plan's or support fee's untagged line among them)."""
    this = period_of("monthly", local_day(ctx.services.clock.now(), "UTC"))
    found = await ctx.services.ledger.unallocated(start=this.start, end=this.end)
    parts = [f"{provider} {money(amount, currency)}" for provider, spent in sorted(found.items())
             for currency, amount in sorted(spent.items()) if amount]
    if not parts:
        return None
    return (f"*Not charged to any community in {this.label()}:* {', '.join(parts)} — untagged spend on providers "
            "several communities share; tag it with the hub's cost tag, or give the provider one community")


COST = CommandSpec(
    name="cost",
    summary="spend, forecast and budget of a community or hub, with a chart",
    handler=cost_handler,
    permission=Permission.COMMUNITY_READ,
    signature=Signature(
        args=(Arg("target", "a community or hub (default: this channel's community)", required=False),),
        opts=(Opt("month", "a past or current month, YYYY-MM (default: the current budget period)"),
              Opt("by", "break the spend down by hub, service or day", choices=("hub", "service", "day"))),
    ),
    scope="target",
    slow=True,
    examples=(f"{PREFIX} cost", f"{PREFIX} cost example --by service", f"{PREFIX} cost staging --month 2026-03"),
)
