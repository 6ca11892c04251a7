"""``/hub faq stats [community] [--days N]``: how support answers are doing, what the docs are
missing (the questions escalated most), which saved answers went stale, and what askers'
verdicts taught the ranking."""

from __future__ import annotations

from datetime import timedelta

from commands.ask import knowledge_of
from hubbot.pipeline.access import Permission
from hubbot.pipeline.args import Arg, Opt, Signature
from hubbot.pipeline.contract import PREFIX, CommandSpec, Context, Reply
from hubbot.render import blocks as b
from hubbot.support.faq import BOUND, summarise
from hubbot.support.saved import stale_pages


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
             f"Answered: {rate(s.answered, s.asked)} (from saved answers: {s.saved})",
             f"Closest pages suggested: {rate(s.suggested, s.asked)}",
             f"Escalated to a human: {rate(s.escalated, s.asked)}",
             f"Marked helpful: {rate(s.helpful, s.answered + s.suggested)} · not helpful: {s.unhelpful}"]
    if s.top_escalated:
        lines.append("Most escalated (what the docs are missing):")
        lines += [f"  {n}× {q[:120]}" for q, n in s.top_escalated]
    lines += await _saved_lines(ctx, communities)
    lines += await _learned_lines(ctx, communities)
    body = "\n".join(lines)
    return Reply(text=body, blocks=[b.header("Support answers"), b.section(body)])


async def _saved_lines(ctx: Context, communities: list[str] | None) -> list[str]:
    """Saved answers in use, and those a changed docs page made stale."""
    if ctx.services.saved_answers is None:
        return []
    entries = await ctx.services.saved_answers.list(communities=None if communities is None else [*communities])
    if not entries:
        return []
    stale = []
    for entry in entries:
        docs = knowledge_of(ctx, entry.community)
        changed = stale_pages(entry, docs.fingerprint) if docs else []
        if changed:
            stale.append(f"  #{entry.id} {entry.questions[0][:80]} — {', '.join(changed)} changed since it was saved")
    lines = [f"Saved answers in use: {len(entries)} (`{PREFIX} faq entries`)"]
    if stale:
        lines += [f"Stale (check them, then `{PREFIX} faq edit` or `{PREFIX} faq retire`):", *stale]
    return lines


LEARNED_SHOWN = 5


async def _learned_lines(ctx: Context, communities: list[str] | None) -> list[str]:
    """The sections askers' verdicts moved most, per community, with how to undo it."""
    assert ctx.services.support is not None
    scopes: list[str | None] = [*(communities if communities is not None else ctx.fleet.communities)]
    if communities is None:
        scopes.append(None)  # questions asked outside every community
    lines: list[str] = []
    for community in scopes:
        moved = [s for s in summarise(await ctx.services.support.verdicts(community=community)) if s.factor != 1.0]
        if not moved:
            continue
        where = community or "outside any community"
        lines.append(f"Learned from verdicts ({where}; a section's score is scaled by at most ×{1 - BOUND:.2f}–"
                     f"×{1 + BOUND:.2f}, only for similar questions):")
        for s in moved[:LEARNED_SHOWN]:
            arrow = "preferred" if s.factor > 1 else "demoted"
            lines.append(f"  {s.ref} {arrow} ×{s.factor:.2f} ({s.helped} helped, {s.failed} asked for a human)")
        if len(moved) > LEARNED_SHOWN:
            lines.append(f"  … and {len(moved) - LEARNED_SHOWN} more")
        lines.append(f"  undo: `{PREFIX} faq unlearn <page#anchor|all>{' ' + community if community else ''}`")
    return lines


STATS = CommandSpec(
    name="faq stats",
    summary="how support answers are doing, and what the docs are missing",
    handler=stats_handler,
    permission=Permission.COMMUNITY_ADMIN,
    signature=Signature(args=(Arg("community", "the community (default: all you can see)", required=False),),
                        opts=(Opt("days", "how far back", kind="int", default=30, minimum=1, maximum=365),)),
    scope="community",
)
