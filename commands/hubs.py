"""``/hub hubs [community]`` — the hubs you can see, with cluster, provider, tier and URL."""

from __future__ import annotations

from hubbot import markup as m
from hubbot.pipeline.access import Permission
from hubbot.pipeline.args import Arg, Signature
from hubbot.pipeline.contract import PREFIX, CommandSpec, Context, Reply
from hubbot.render import blocks as b


async def hubs_handler(ctx: Context) -> Reply:
    refs = [h for h in ctx.fleet.hubs if ctx.sees(h)]
    if not refs and not (ctx.fleet.problems and ctx.caller.engineer):
        where = f"community '{ctx.community}'" if ctx.community else "the communities you can see"
        return Reply(text=f"No hubs are configured for {where}.")
    lines = []
    rows = []
    for ref in refs:
        kind = "BinderHub" if ref.hub.binder else "JupyterHub"
        lines.append(
            f"{ref.qualified}  community={ref.hub.community or '-'}  provider={ref.provider}  "
            f"tier={ref.hub.tier}  {kind}  {ref.hub.url}"
        )
        owner = f"community `{ref.hub.community}`" if ref.hub.community else "engineers only"
        rows.append(f"*{m.link(ref.hub.url, ref.qualified)}* · {kind} · {ref.hub.tier} · {owner} · "
                    f"provider `{ref.provider}`")
    title = f"Hubs of {ctx.fleet.community(ctx.community).title}" if ctx.community else "Hubs"
    blocks = [b.header(f"{title} ({len(refs)})"), *[b.section(r) for r in rows]]
    if ctx.fleet.commit:
        repository = ctx.fleet.config.repository
        branch = repository.branch if repository else ""
        read = f"Read from the fleet repository at commit `{ctx.fleet.commit[:12]}` of {m.escape(branch)}"
        lines.append(read)
        blocks.append(b.context(read))
    if ctx.fleet.problems and ctx.caller.engineer:
        shown = "\n".join(f"• {m.escape(p)}" for p in ctx.fleet.problems[:5])
        more = f"\n…and {len(ctx.fleet.problems) - 5} more (`hubbot config check`)" if len(ctx.fleet.problems) > 5 \
            else ""
        warn = f":warning: {len(ctx.fleet.problems)} problem(s) in the repository left out what they affect:\n"
        lines.append(warn + shown + more)
        blocks.append(b.section(warn + shown + more))
    return Reply(text="\n".join(lines), blocks=b.limit(blocks))


HUBS = CommandSpec(
    name="hubs",
    summary="list hubs with their cluster, provider, tier and URL",
    handler=hubs_handler,
    permission=Permission.COMMUNITY_READ,
    signature=Signature(args=(Arg("community", "a community (default: this channel's, or all you can see)",
                                  required=False),)),
    scope="community",
    examples=(f"{PREFIX} hubs", f"{PREFIX} hubs example"),
)
