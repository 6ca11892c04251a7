"""``/hub budget show [community]`` and ``/hub budget set <community> <amount> [...]``."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from hubbot import markup as m
from hubbot.costs.summary import budget_of, summarize, summary_blocks, summary_text
from hubbot.domain import Budget, main_currency, money
from hubbot.errors import NotMirrored, UpstreamError, UsageError, UserError
from hubbot.pipeline import confirm
from hubbot.pipeline.access import Permission
from hubbot.pipeline.args import Arg, Opt, Signature
from hubbot.pipeline.contract import PREFIX, ActionSpec, CommandSpec, Context, Reply
from hubbot.render import blocks as b
from hubbot.render.text import unstyled

MAX_AMOUNT = Decimal("1000000000")
BILLED_DAYS = 31  # how far back the currencies a community is billed in are read


def parse_amount(text: str) -> Decimal:
    cleaned = text.strip().lstrip("$").replace(",", "").replace("_", "")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise UsageError(f"'{text[:30]}' is not an amount; write a number like 1500 or 1500.50") from None
    if not amount.is_finite() or amount <= 0:
        raise UsageError("a budget must be more than zero")
    if amount > MAX_AMOUNT:
        raise UsageError(f"{text[:30]} is more than hubbot accepts as a budget ({MAX_AMOUNT:,})")
    if amount != amount.quantize(Decimal("0.01")):
        raise UsageError("give the amount with at most two decimals")
    return amount


def parse_thresholds(text: str) -> tuple[int, ...]:
    try:
        values = [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise UsageError(f"thresholds are whole percentages separated by commas, like 50,75,90,100 "
                         f"(got '{text[:40]}')") from None
    if not values or any(v < 1 or v > 1000 for v in values):
        raise UsageError("thresholds are percentages between 1 and 1000")
    if values != sorted(set(values)):
        raise UsageError("thresholds must be increasing without repeats, like 50,75,90,100")
    return tuple(values)


async def show_handler(ctx: Context) -> Reply:
    community = ctx.community or (ctx.communities[0] if len(ctx.communities) == 1 else None)
    if community is None:
        raise UsageError(f"which community? `{PREFIX} budget show <community>`")
    s = await summarize(ctx.services, ctx.fleet, community, at=ctx.services.clock.now())
    if s.budget is None:
        return Reply(text=f"{s.title} has no budget. A leader or engineer can set one: "
                          f"`{PREFIX} budget set {community} <amount>`")
    bud = s.budget
    origin = (f"set by {m.mention(bud.set_by)} on {bud.set_at:%Y-%m-%d}" if bud.set_by and bud.set_at
              else "from the fleet config")
    details = (f"*Thresholds:* {', '.join(f'{t}%' for t in bud.thresholds)} · forecast alerts "
               f"{'on' if bud.forecast else 'off'} · time zone {bud.timezone} · {origin}")
    blocks = summary_blocks(s, headline=f"Budget of {s.title}")
    blocks.insert(2, b.section(details))
    text = "\n".join([f"Budget of {s.title}", summary_text(s), unstyled(details)])
    return Reply(text=text, blocks=blocks)


async def set_handler(ctx: Context) -> Reply:
    community = ctx.community
    if community is None:
        raise UsageError("name the community")
    amount = parse_amount(ctx.args.text("amount") or "")
    current = await budget_of(ctx.services, ctx.fleet, community)
    now = ctx.services.clock.now().date()
    read = await ctx.services.ledger.currencies(start=now - timedelta(days=BILLED_DAYS),
                                                end=now + timedelta(days=1), communities=[community])
    billed = read.get(community, {})
    # a budget is in the currency its providers bill in (the most spent, lately): the current
    # budget's if they bill in it, else theirs (the confirmation shows the change), else USD
    default = (current.currency if current and (not billed or current.currency in billed)
               else main_currency(billed))
    currency = (ctx.args.text("currency") or default).upper()
    if not ((len(currency) == 3 and currency.isalpha()) or currency == "SU"):
        raise UsageError(f"'{currency[:10]}' is not a currency code (USD, EUR, GBP..., or SU for service units)")
    if billed and currency not in billed:
        lately = ", ".join(money(a, c) for c, a in sorted(billed.items()))
        raise UsageError(f"{community}'s providers bill in {', '.join(sorted(billed))} ({lately} in the last "
                         f"{BILLED_DAYS} days): a {currency} budget would count none of it. Use --currency "
                         f"{main_currency(billed)}")
    period = ctx.args.text("period") or (current.period if current else "monthly")
    thresholds = (parse_thresholds(ctx.args.text("thresholds") or "") if ctx.args.text("thresholds")
                  else (current.thresholds if current else (50, 75, 90, 100, 120)))
    forecast_opt = ctx.args.text("forecast")
    forecast = (forecast_opt == "on") if forecast_opt else (current.forecast if current else True)
    if period == "allocation" and not any(ctx.fleet.config.providers[p].kind == "openstack"
                                          for p in ctx.fleet.providers_of(community)):
        raise UserError("an allocation budget needs a JetStream2 (openstack) provider with allocation dates")
    new = Budget(amount=amount, currency=currency, period=period, thresholds=thresholds, forecast=forecast,
                 timezone=current.timezone if current else "UTC")
    before = f"{money(current.amount, current.currency)} {current.period}" if current else "no budget"
    summary = (f"set the budget of {community} to {money(amount, currency)} {period} "
               f"(was {before}); thresholds {','.join(map(str, thresholds))}%, forecast {'on' if forecast else 'off'}")
    payload = json.dumps({"community": community, "amount": str(amount), "currency": currency, "period": period,
                          "thresholds": list(thresholds), "forecast": forecast, "timezone": new.timezone})
    return await confirm.request(ctx, action="apply", payload=payload, summary=summary)


async def apply_handler(ctx: Context, payload: str) -> Reply:
    data = json.loads(payload)
    community = str(data["community"])
    if community not in ctx.communities:
        raise UserError(f"you can no longer change the budget of {community}")
    at = ctx.services.clock.now()
    budget = Budget(amount=Decimal(data["amount"]), currency=data["currency"], period=data["period"],
                    thresholds=tuple(data["thresholds"]), forecast=bool(data["forecast"]), timezone=data["timezone"],
                    set_by=ctx.caller.user_id, set_at=at)
    mirrored = ""
    for provider in ctx.fleet.providers_of(community):
        mirror = ctx.services.mirrors.get(provider)
        if mirror is None:
            continue
        try:  # mirror first: if the provider refuses, nothing has changed anywhere
            name = await mirror.mirror(community=community, amount=budget.amount, currency=budget.currency,
                                       period=budget.period, thresholds=list(budget.thresholds))
        except NotMirrored as exc:  # the provider cannot hold this budget; hubbot still tracks it
            mirrored += f" Not mirrored to {provider}: {exc}."
            continue
        except UpstreamError as exc:
            raise UpstreamError(f"the budget was not changed: {provider} refused the mirror budget ({exc})") from None
        mirrored += f" Mirrored to {provider} ({name})."
    await ctx.services.budgets.set(community, budget)
    await ctx.record_change(command="budget set", args=payload, community=community,
                            detail=f"budget {money(budget.amount, budget.currency)} {budget.period}")
    return Reply(text=f":white_check_mark: The budget of {community} is now "
                      f"{money(budget.amount, budget.currency)} {budget.period}.{mirrored}", public=True)


SHOW = CommandSpec(
    name="budget show",
    summary="a community's budget, spend and forecast",
    handler=show_handler,
    permission=Permission.COMMUNITY_READ,
    signature=Signature(args=(Arg("community", "the community (default: this channel's)", required=False),)),
    scope="community",
    examples=(f"{PREFIX} budget show", f"{PREFIX} budget show example"),
)
SET = CommandSpec(
    name="budget set",
    summary="set a community's budget (asks for confirmation)",
    handler=set_handler,
    permission=Permission.COMMUNITY_ADMIN,
    signature=Signature(
        args=(Arg("community", "the community"), Arg("amount", "the budget, like 1500 or 1500.50")),
        opts=(Opt("currency", "ISO currency code, or SU for service units (default: unchanged, else USD)"),
              Opt("period", "budget period", choices=("monthly", "quarterly", "allocation")),
              Opt("thresholds", "percentages that alert, like 50,75,90,100"),
              Opt("forecast", "alert when the forecast reaches 100%", choices=("on", "off"))),
    ),
    scope="community",
    actions=(ActionSpec("apply", Permission.COMMUNITY_ADMIN, apply_handler, button=False),),
    examples=(f"{PREFIX} budget set example 1500", f"{PREFIX} budget set example 4000 --period quarterly "
              "--thresholds 50,80,100"),
)
