"""``/hub plans [tier]`` — the service menu; ``/hub estimate users=N ... [--compare] [--like hub]`` —
a monthly estimate of cloud cost and service fee from current prices (:mod:`hubbot.plans`)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from commands.target import hub_api
from hubbot import markup as m
from hubbot.domain import money
from hubbot.errors import HubbotError, NotFound, UsageError, UserError
from hubbot.fleet.config import OpenStackProvider
from hubbot.fleet.menu import PlansConfig, TierConfig
from hubbot.pipeline.access import Permission
from hubbot.pipeline.args import Arg, Opt, Signature
from hubbot.pipeline.contract import PREFIX, CommandSpec, Context, Reply
from hubbot.plans import asks
from hubbot.plans.estimate import HOURS_A_MONTH, Ask, Estimate, estimate
from hubbot.plans.fees import bands_text, monthly_fee, user_fees
from hubbot.plans.prices import prices_for
from hubbot.render import blocks as b

ACTIVE_DAYS = 30


def menu(ctx: Context) -> PlansConfig:
    if ctx.fleet.config.plans is None:
        raise UserError("no service menu is configured: add `plans:` (version, date, tiers) to the fleet config")
    return ctx.fleet.config.plans


def _fee_text(tier: TierConfig, currency: str) -> str:
    base = (f"{tier.yearly_fee:,.2f} {currency} a year" if tier.yearly_fee is not None
            else f"{tier.monthly:,.2f} {currency} a month")
    return f"{base}; per monthly active user: {bands_text(tier, currency)}"


def _includes(tier: TierConfig) -> list[str]:
    inc = tier.includes
    out = [f"{inc.support_hours:g} support hours a month" if inc.support_hours else "no support hours"]
    out += [f"response within {inc.response_time}"] if inc.response_time else []
    out.append(f"{inc.hubs} hub{'s' if inc.hubs != 1 else ''}")
    out += [label for flag, label in ((inc.binderhub, "BinderHub"), (inc.backups, "home-directory backups"),
                                      (inc.dedicated_cluster, "a dedicated cluster")) if flag]
    return out + list(inc.extra)


async def plans_handler(ctx: Context) -> Reply:
    plans = menu(ctx)
    named = ctx.args.text("tier")
    head = f"Service menu {plans.version} (from {plans.date})"
    if named:
        tier = plans.tier(named)
        if tier is None:
            raise NotFound(f"unknown tier '{named[:30]}' (tiers: {', '.join(t.name for t in plans.tiers)})")
        lines = [f"{tier.title or tier.name} — {_fee_text(tier, plans.currency)}",
                 *[f"• {m.escape(x)}" for x in _includes(tier)]]
        return Reply(text=f"{head}\n" + "\n".join(lines),
                     blocks=[b.header(tier.title or tier.name), b.section("\n".join(lines)), b.context(head)])
    rows = [f"*{m.escape(t.title or t.name)}* (`{t.name}`) — {_fee_text(t, plans.currency)}\n"
            + " · ".join(m.escape(x) for x in _includes(t)) for t in plans.tiers]
    more = f"`{PREFIX} plans <tier>` for one in detail · `{PREFIX} estimate users=N tier=<tier>` for a monthly cost"
    if plans.hourly_rate:
        more += f" · work beyond a tier: {plans.hourly_rate:,.2f} {plans.currency} an hour (`{PREFIX} request`)"
    return Reply(text="\n".join([head, *rows, more]),
                 blocks=b.limit([b.header(head), *[b.section(r) for r in rows], b.context(more)]))


def _amount(value: Decimal, currency: str) -> str:
    return money(value, currency)  # to the cent, half up; $1,234.50 for USD


async def estimate_on(ctx: Context, plans: PlansConfig, ask: Ask, provider: str,
                      region: str | None) -> tuple[Estimate, str]:
    """The estimate on ``provider``, and the date and source of its prices in words."""
    conf = plans.estimates
    region = region or conf.regions.get(provider)
    if region is None:
        raise UsageError(f"say region= for {provider} (no default region in the menu's estimates)")
    machines = conf.machines.get(provider, [])
    core = conf.core.get(provider)
    if not machines or core is None:
        raise UserError(f"the menu's estimates list no node types for {provider}")
    priced = await prices_for(ctx.services, provider=provider, region=region, machines=[*machines, core],
                              now=ctx.services.clock.now())
    return estimate(ask, priced.table, core_machine=core), priced.dated(ctx.services.clock.now())


def _money_per_su(plans: PlansConfig, ctx: Context) -> Decimal | None:
    if plans.estimates.su_rate is not None:
        return plans.estimates.su_rate
    rates = [p.su_rate for p in ctx.fleet.config.providers.values()
             if isinstance(p, OpenStackProvider) and p.su_rate is not None]
    return rates[0] if rates else None


def _cloud(e: Estimate, per_su: Decimal | None, currency: str) -> str:
    cur = e.table.currency
    text = f"{_amount(e.cloud, cur)} (range {_amount(e.cloud_low, cur)}–{_amount(e.cloud_high, cur)})"
    if cur == "SU" and per_su is not None:
        text += f" ≈ {_amount(e.cloud * per_su, currency)} at {per_su} {currency} per SU"
    return text


def _detail(e: Estimate, plans: PlansConfig, per_su: Decimal | None) -> list[str]:
    cur, a = e.table.currency, e.ask
    rows = [
        f"Compute: {e.node_hours:,.1f} node-hours of {e.node.name} ({e.node.cpu:g} CPU, {e.node.memory_gib:g} GiB; "
        f"{e.per_node} servers each) at {e.node.hourly} {cur}/h — {_amount(e.compute, cur)} "
        f"(range {_amount(e.low_compute, cur)}–{_amount(e.high_compute, cur)})",
        f"Storage: {a.users * a.storage_gib:,g} GiB at {e.table.storage_gib_month} {cur}/GiB-month — "
        f"{_amount(e.storage, cur)}",
        f"Core: one {e.core.name} all month ({HOURS_A_MONTH} h) — {_amount(e.core_cost, cur)}",
        f"Cloud: {_cloud(e, per_su, plans.currency)} a month",
    ]
    if a.tier is not None:
        fee = monthly_fee(a.tier, a.users)
        rows.append(f"Service fee ({a.tier.title or a.tier.name}): {_amount(a.tier.monthly, plans.currency)} + "
                    f"{_amount(user_fees(a.tier, a.users), plans.currency)} for {a.users:,} users = "
                    f"{_amount(fee, plans.currency)} a month")
        rate = Decimal(1) if cur == plans.currency else per_su if cur == "SU" else None
        if rate is not None:
            total, low, high = (e.cloud * rate + fee, e.cloud_low * rate + fee, e.cloud_high * rate + fee)
            rows.append(f"Total: {_amount(total, plans.currency)} a month (range {_amount(low, plans.currency)}–"
                        f"{_amount(high, plans.currency)})")
    return rows


def _assumptions(e: Estimate, dated: str) -> str:
    a = e.ask
    said = (f"Assumed: {a.users:,} users, {a.hours:g} server hours each a month, {a.size} ({a.cpu:g} CPU, "
            f"{a.memory_gib:g} GiB guaranteed), {a.storage_gib:g} GiB home storage each; nodes packed full at 90 % "
            "of their CPU and memory; the range runs servers half as long and half as long again")
    return said + (f"; {dated}" if dated else "")


async def _like(ctx: Context, words: list[str], named: str) -> list[str]:
    """``users=`` from the hub's users active in the last 30 days, unless given."""
    if any(w.lower().startswith("users=") for w in words):
        return words
    ref = ctx.fleet.hub(named)
    caller = ctx.caller
    if not (caller.engineer or (ref.hub.community is not None and ref.hub.community in caller.member_of)):
        raise UserError(f"you cannot see {ref.qualified}'s usage")
    since = ctx.services.clock.now() - timedelta(days=ACTIVE_DAYS)
    users = await hub_api(ctx, ref).users()
    active = sum(1 for u in users if u.last_activity is not None and u.last_activity >= since)
    return [f"users={max(active, 1)}", *words]


async def estimate_handler(ctx: Context) -> Reply:
    plans = menu(ctx)
    words = (ctx.args.text("settings") or "").split()
    like = ctx.args.text("like")
    if like:
        words = await _like(ctx, words, like)
    question = asks.parse(words, plans)
    per_su = _money_per_su(plans, ctx)
    if ctx.args.flag("compare"):
        if question.provider or question.region:
            raise UsageError("--compare shows every provider at its default region: leave out provider= and region=")
        await ctx.progress("reading prices…")
        lines, first = [], None
        for provider in asks.PROVIDERS:
            try:
                found, note = await estimate_on(ctx, plans, question.ask, provider, None)
            except HubbotError as exc:
                lines.append(f"*{provider}*: no estimate — {m.escape(str(exc))}")
                continue
            first = first or found
            lines.append(f"*{provider}* ({found.table.region}): {_cloud(found, per_su, plans.currency)} — "
                         f"{found.node_hours:,.0f} node-hours of {found.node.name}; {m.escape(note)}")
        head = f"Monthly cloud cost for {question.ask.users:,} users, side by side"
        said = _assumptions(first, "") if first else ""
        return Reply(text="\n".join([head, *lines, said]),
                     blocks=b.limit([b.header(head), *[b.section(line) for line in lines], b.context(said)]))
    provider = question.provider or plans.estimates.provider
    await ctx.progress(f"reading {provider} prices…")
    found, note = await estimate_on(ctx, plans, question.ask, provider, question.region)
    head = f"Estimate: {question.ask.users:,} users on {provider} {found.table.region}"
    rows = _detail(found, plans, per_su)
    said = _assumptions(found, note)
    return Reply(text="\n".join([head, *rows, said]),
                 blocks=b.limit([b.header(head), b.section("\n".join(rows)), b.context(m.escape(said))]))


PLANS = CommandSpec(
    name="plans", summary="the service tiers, their fees and what each includes", handler=plans_handler,
    permission=Permission.ANYONE, signature=Signature(args=(Arg("tier", "one tier, in detail", required=False),)),
    examples=(f"{PREFIX} plans", f"{PREFIX} plans basic"),
)
ESTIMATE = CommandSpec(
    name="estimate", summary="a monthly estimate of cloud cost and service fee", handler=estimate_handler,
    permission=Permission.ANYONE, slow=True,
    signature=Signature(args=(Arg("settings", "users=N [hours=H] [size=NAME | cpu=C memory=M] [storage=GiB] "
                                             "[provider=aws|gcp|jetstream2] [region=R] [tier=T]",
                                  required=False, rest=True),),
                        opts=(Opt("compare", "AWS, GCP and JetStream2 side by side", kind="flag"),
                              Opt("like", "take users= from a hub's users active in the last 30 days"))),
    help="Packs users' servers onto the cheapest node type per server, adds home storage, one always-on core "
         "node and the tier's fee; states its assumptions and the price date, with a low–high range.",
    examples=(f"{PREFIX} estimate users=100 tier=basic", f"{PREFIX} estimate users=300 size=large --compare",
              f"{PREFIX} estimate users=50 cpu=2 memory=8GiB provider=gcp"),
)
