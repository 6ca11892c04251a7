"""``/hub request <community> <what> [--hours N] [--users N]`` — work beyond the standard services
(a workshop hub, a custom image, extra guidance hours), priced at the menu's hourly rate (and, with
``--users``, the cloud estimate of a hub for that many users); the engineers decide with Accept /
Decline, and the community hears the outcome in its channel. ``/hub requests [community]`` lists them."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from commands.plans import estimate_on, menu
from hubbot import markup as m
from hubbot.domain import money, units
from hubbot.domain.requests import RequestState, ServiceRequest
from hubbot.errors import HubbotError, NotFound, UpstreamError, UsageError, UserError
from hubbot.pipeline.access import Permission
from hubbot.pipeline.args import Arg, Opt, Signature
from hubbot.pipeline.contract import PREFIX, ActionSpec, CommandSpec, Context, Reply, action_id
from hubbot.plans.estimate import Ask
from hubbot.ports import ServiceRequests
from hubbot.render import blocks as b

MAX_HOURS = Decimal(1000)
LIST_LIMIT = 20


def _store(ctx: Context) -> ServiceRequests:
    if ctx.services.requests is None:
        raise UserError("this hubbot process keeps no requests")
    return ctx.services.requests


def _hours(text: str | None) -> Decimal:
    if text is None:
        return Decimal(0)
    try:
        hours = Decimal(text)
    except InvalidOperation:
        raise UsageError(f"--hours {text[:20]} is not a number of hours") from None
    if not hours.is_finite() or hours <= 0 or hours > MAX_HOURS or hours != hours.quantize(Decimal("0.5")):
        raise UsageError(f"--hours must be from 0.5 to {MAX_HOURS:,} in half hours, not {text[:20]}")
    return hours


async def request_handler(ctx: Context) -> Reply:
    plans = menu(ctx)
    if ctx.community is None:
        raise UsageError(f"which community? `{PREFIX} request <community> <what>`")
    what = " ".join((ctx.args.text("what") or "").split())
    if len(what) < 3:
        raise UsageError("say what is needed, e.g. `a workshop hub for 40 people on 3 March`")
    if len(what) > 500:
        raise UsageError("keep the request under 500 characters; details can follow in the thread")
    hours = _hours(ctx.args.text("hours"))
    amount = hours * plans.hourly_rate
    parts = [f"{hours:g} h × {money(plans.hourly_rate, plans.currency)} = {money(amount, plans.currency)}"
             if hours else "hours to be scoped by the engineers"]
    users = ctx.args.number("users")
    if users:
        conf = plans.estimates
        size = plans.sizes[conf.size]
        ask = Ask(users=users, hours=conf.hours, cpu=size.cpu, memory_gib=units.gib(units.parse_size(size.memory)),
                  storage_gib=conf.storage_gib, size=conf.size)
        try:
            found, _ = await estimate_on(ctx, plans, ask, conf.provider, None)
        except HubbotError as exc:
            parts.append(f"cloud estimate unavailable ({exc})")
        else:
            cloud = found.cloud
            parts.append(f"cloud for a hub of {users:,} users: about {money(cloud, found.table.currency)} a month "
                         f"({conf.provider}, prices of {found.table.fetched_at:%Y-%m-%d})")
            if found.table.currency == plans.currency:
                amount += cloud
    stored = await _store(ctx).add(ServiceRequest(
        community=ctx.community, what=what, hours=hours, amount=amount, currency=plans.currency,
        requested_by=ctx.caller.user_id, channel=ctx.invocation.channel_id, created_at=ctx.services.clock.now()))
    estimate = "; ".join(parts)
    await ctx.record_change(command="request", args=f"{ctx.community} {what}", community=ctx.community,
                            detail=f"request #{stored.id}: {estimate}")
    engineers = ctx.fleet.config.alerts.engineers_channel
    title = f"Request #{stored.id} from {ctx.fleet.community(ctx.community).title}"
    body = f"*{m.escape(title)}* by {m.mention(ctx.caller.user_id)}: {m.escape(what)}\n{m.escape(estimate)}"
    sent = "sent to the engineers"
    if engineers is None:
        sent = "no engineers' channel is configured, so tell an engineer"
    else:
        buttons = b.actions(
            b.button("Accept", action_id=action_id("request", "accept"), value=str(stored.id), style="primary"),
            b.button("Decline", action_id=action_id("request", "decline"), value=str(stored.id), style="danger"))
        try:
            await ctx.services.notifier.post(channel=engineers, text=f"{title}: {what}", blocks=[b.section(body),
                                                                                              buttons])
        except UpstreamError:
            sent = "it could not be posted to the engineers' channel just now; tell an engineer"
    return Reply(text=f":memo: Request #{stored.id} recorded ({estimate}); {sent}. `{PREFIX} requests` follows it.",
                 public=True)


async def _decide(ctx: Context, value: str, state: RequestState) -> Reply:
    store = _store(ctx)
    if not value.isdigit():
        raise UserError("that button names no request")
    found = await store.get(int(value))
    if found is None:
        raise NotFound(f"no request #{value[:12]}")
    decided = await store.decide(int(value), state=state, by=ctx.caller.user_id, at=ctx.services.clock.now())
    if decided is None:
        now = await store.get(int(value))
        who = f" by {m.mention(now.decided_by)}" if now and now.decided_by else ""
        return Reply(text=f"Request #{value} was {now.state if now else 'decided'} already{who}.")
    await ctx.record_change(command=f"request {state}", args=f"#{decided.id}", community=decided.community,
                            detail=f"request #{decided.id} {state}: {decided.what[:200]}")
    word = ":white_check_mark: accepted" if state == "accepted" else ":no_entry_sign: declined"
    said = (f"Request #{decided.id} ({m.escape(decided.what[:200])}) was {word} by {m.mention(ctx.caller.user_id)}"
            + (". An engineer will follow up here." if state == "accepted" else "."))
    channel = ctx.fleet.communities[decided.community].channel if decided.community in ctx.fleet.communities \
        else None
    told = ""
    for where in dict.fromkeys(c for c in (channel, decided.channel) if c):
        try:
            await ctx.services.notifier.post(channel=where, text=said, blocks=[b.section(said)])
        except UpstreamError:
            told = " (the community's channel could not be told just now: tell them)"
    return Reply(text=f"Request #{decided.id} {state}{told}.", public=True)


async def accept(ctx: Context, value: str) -> Reply:
    return await _decide(ctx, value, "accepted")


async def decline(ctx: Context, value: str) -> Reply:
    return await _decide(ctx, value, "declined")


async def requests_handler(ctx: Context) -> Reply:
    store = _store(ctx)
    communities = None if ctx.caller.engineer and ctx.community is None else ctx.communities
    found = await store.recent(communities=communities, limit=LIST_LIMIT)
    if not found:
        return Reply(text=f"No requests yet. `{PREFIX} request <community> <what>` makes one.")
    rows = [f"#{r.id} {r.community} · {r.state}" + (f" by {m.mention(r.decided_by)}" if r.decided_by else "")
            + f" · {r.created_at:%Y-%m-%d} · {m.mention(r.requested_by)} · {m.escape(r.what[:120])}"
            + (f" · {money(r.amount, r.currency)}" if r.amount else "") for r in found]
    return Reply(text="\n".join(rows), blocks=b.limit([b.header(f"Requests ({len(found)})"),
                                                       *[b.section(r) for r in rows]]))


REQUEST = CommandSpec(
    name="request", summary="ask for work beyond the standard services, with its estimate", handler=request_handler,
    permission=Permission.COMMUNITY_ADMIN, scope="community", slow=True,
    signature=Signature(args=(Arg("community", "the community asking"),
                              Arg("what", "what is needed", required=False, rest=True)),
                        opts=(Opt("hours", "hours of work, at the menu's rate"),
                              Opt("users", "a hub for this many users: add its monthly cloud estimate", kind="int",
                                  minimum=1, maximum=100_000))),
    actions=(ActionSpec("accept", Permission.ENGINEER, accept), ActionSpec("decline", Permission.ENGINEER, decline)),
    examples=(f"{PREFIX} request climate-lab a workshop hub for 40 people in March --hours 6 --users 40",),
)
REQUESTS = CommandSpec(
    name="requests", summary="requests for work beyond the standard services, and their state",
    handler=requests_handler, permission=Permission.COMMUNITY_READ, scope="community",
    signature=Signature(args=(Arg("community", "a community (default: this channel's, or all you can see)",
                                  required=False),)),
)
