"""``/hub faq stats [community] [--days N]``: how support answers are doing, and what the docs
are missing (the questions escalated most)."""

from __future__ import annotations

from datetime import timedelta

from hubbot.pipeline.access import Permission
from hubbot.pipeline.args import Arg, Opt, Signature
from hubbot.pipeline.contract import CommandSpec, Context, Reply
from hubbot.render import blocks as b


async def stats_handler(ctx: Context) -> Reply:
    assert ctx.services.support is not None
    days = ctx.args.number("days") or 30
    since = ctx.services.clock.now() - timedelta(days=days)
    communities = None if ctx.caller.engineer and ctx.community is None else ctx.communities
    s = await ctx.services.support.stats(communities=communities, since=since)
    if s.asked == 0:
        return Reply(text=f"No support questions in the last {days} days.")

    def rate(n: int, of: int) -> str:
        return f"{n} ({n * 100 // of}%)" if of else "0"

    lines = [f"Questions in the last {days} days: {s.asked}",
             f"Answered from the docs: {rate(s.answered, s.asked)}",
             f"Escalated to a human: {rate(s.escalated, s.asked)}",
             f"Marked helpful: {rate(s.helpful, s.answered)} · not helpful: {s.unhelpful}"]
    if s.top_escalated:
        lines.append("Most escalated (what the docs are missing):")
        lines += [f"  {n}× {q[:120]}" for q, n in s.top_escalated]
    body = "\n".join(lines)
    return Reply(text=body, blocks=[b.header("Support answers"), b.section(body)])


STATS = CommandSpec(
    name="faq stats",
    summary="how support answers are doing, and what the docs are missing",
    handler=stats_handler,
    permission=Permission.COMMUNITY_ADMIN,
    signature=Signature(args=(Arg("community", "the community (default: all you can see)", required=False),),
                        opts=(Opt("days", "how far back", kind="int", default=30, minimum=1, maximum=365),)),
    scope="community",
)
