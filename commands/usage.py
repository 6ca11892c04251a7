"""``/hub usage <hub> [--period 7d|30d|90d] [--by user|group]`` — who uses a hub and how much:
users active now, in a day, a week and a month, and running servers from the hub's API; CPU-hours,
memory GiB-hours and home directories per user and group from the cluster's Prometheus; a chart.
Leaders and engineers see per-user figures; members see the hub's totals."""

from __future__ import annotations

from commands.target import HUB_ARG, hub_api, named_hub
from hubbot.domain.units import size_text
from hubbot.fleet import HubRef
from hubbot.pipeline.access import Permission
from hubbot.pipeline.args import Opt, Signature
from hubbot.pipeline.contract import PREFIX, CommandSpec, Context, File, Reply
from hubbot.ports import UsageMetrics
from hubbot.render import blocks as b
from hubbot.render.chart import bars_chart, daily_chart
from hubbot.usage.report import PERIODS, UsageReport, gather

TOP = 15  # users (or groups) in the table and the chart


def metrics_of(ctx: Context, ref: HubRef) -> tuple[UsageMetrics | None, str]:
    """The cluster's Prometheus, or None and what to do about it."""
    found = ctx.services.usage.get(ref.cluster)
    if found is not None:
        return found, ""
    return None, (f"cluster {ref.cluster} has no Prometheus in the fleet config (add `prometheus: {{url: ...}}` to "
                  "it) — compute and home figures are missing")


def sees_users(ctx: Context, ref: HubRef) -> bool:
    return ctx.caller.engineer or ref.hub.community in ctx.caller.leader_of


def hours(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def headline(r: UsageReport) -> str:
    return (f"{r.users} users · {r.running} with a server running now · active in the last day "
            f"{r.active['24h']}, week {r.active['7d']}, month {r.active['30d']}")


def totals(r: UsageReport) -> str:
    if not r.metrics:
        return ""
    home = f" · home directories {size_text(r.home_bytes)}" if r.home_bytes else ""
    return (f"In the last {r.days} days: {hours(r.cpu_hours)} CPU-hours, {hours(r.memory_gib_hours)} memory "
            f"GiB-hours, {r.active_in_period} users active{home}")


def user_table(r: UsageReport) -> str:
    lines = [f"{'user':<28} {'CPU-h':>9} {'mem GiB-h':>10} {'home':>11}  groups"]
    for row in r.rows[:TOP]:
        home = size_text(row.home_bytes) if row.home_bytes is not None else "-"
        lines.append(f"{row.name[:28]:<28} {hours(row.cpu_hours):>9} {hours(row.memory_gib_hours):>10} "
                     f"{home:>11}  {', '.join(row.groups)[:40]}")
    if len(r.rows) > TOP:
        lines.append(f"… and {len(r.rows) - TOP} more users")
    return "\n".join(lines)


def group_table(r: UsageReport) -> str:
    if not r.groups:
        return "no groups on this hub (`/hub group create`)"
    lines = [f"{'group':<24} {'members':>7} {'active':>6} {'CPU-h':>9} {'mem GiB-h':>10} {'home':>11}"]
    for g in r.groups[:TOP]:
        lines.append(f"{g.name[:24]:<24} {g.members:>7} {g.active:>6} {hours(g.cpu_hours):>9} "
                     f"{hours(g.memory_gib_hours):>10} {size_text(g.home_bytes) if g.home_bytes else '-':>11}")
    return "\n".join(lines)


def chart(r: UsageReport, *, by: str, detail: bool) -> File | None:
    """Top users (or groups) by CPU-hours for those who may see them, else daily active users."""
    period = f"last {r.days} days"
    if detail and r.metrics and by == "group" and r.groups:
        labels, values, what = [g.name for g in r.groups[:TOP]], [g.cpu_hours for g in r.groups[:TOP]], "groups"
    elif detail and r.metrics and r.rows and r.rows[0].cpu_hours > 0:
        used = [row for row in r.rows[:TOP] if row.cpu_hours > 0]
        labels, values, what = [row.name for row in used], [row.cpu_hours for row in used], "users"
    elif r.daily:
        title = f"Daily active users of {r.hub}, {period}"
        png = daily_chart(title=title, days=[d.day for d in r.daily], values=[d.users for d in r.daily],
                          label="active users")
        peak = max(r.daily, key=lambda d: d.users)
        alt = (f"Line chart of daily active users of {r.hub} from {r.daily[0].day} to {r.daily[-1].day}; "
               f"highest {peak.users} on {peak.day}, last {r.daily[-1].users}.")
        return File(name=f"usage-{r.hub.replace('/', '-')}-daily.png", content=png, mimetype="image/png",
                    title=title, alt=alt)
    else:
        return None
    title = f"Top {what} of {r.hub} by CPU-hours, {period}"
    png = bars_chart(title=title, labels=labels, values=values, unit="CPU-hours")
    alt = f"Bar chart, {title}: " + ", ".join(f"{n} {hours(v)}" for n, v in zip(labels[:5], values[:5], strict=True))
    return File(name=f"usage-{r.hub.replace('/', '-')}-{what}.png", content=png, mimetype="image/png", title=title,
                alt=alt + ("…" if len(labels) > 5 else "."))


async def usage_handler(ctx: Context) -> Reply:
    ref = named_hub(ctx, "usage")
    days = PERIODS[ctx.args.text("period") or "30d"]
    by = ctx.args.text("by") or "user"
    detail = sees_users(ctx, ref)
    metrics, missing = metrics_of(ctx, ref)
    report = await gather(hub=ref.qualified, api=hub_api(ctx, ref), metrics=metrics, namespace=ref.hub.name,
                          end=ctx.services.clock.now(), days=days, missing_metrics=missing)
    title = f"Usage of {ref.qualified} — last {days} days"
    parts = [headline(report)]
    if report.metrics:
        parts.append(totals(report))
    blocks = [b.header(title), b.section("\n".join(parts))]
    text = [title, *parts]
    if detail and report.metrics:
        table = group_table(report) if by == "group" else user_table(report)
        blocks.append(b.section(f"*By {by}:*\n```{table}```"))
        text += [f"By {by}:", table]
    elif not detail:
        note = "Per-user figures are shown to the community's leaders and engineers."
        blocks.append(b.context(note))
        text.append(note)
    for gap in report.gaps:
        blocks.append(b.context(f":warning: {gap}"))
        text.append(f"Note: {gap}")
    blocks.append(b.context(f"`{PREFIX} quota show {ref.qualified}` shows the limits in force"))
    image = chart(report, by=by, detail=detail)
    return Reply(text="\n".join(text), blocks=b.limit(blocks), files=[image] if image else [], public=True)


USAGE = CommandSpec(
    name="usage",
    summary="who uses a hub and how much: active users, CPU, memory and home directories, with a chart",
    handler=usage_handler,
    permission=Permission.COMMUNITY_READ,
    signature=Signature(
        args=(HUB_ARG,),
        opts=(Opt("period", "how far back: 7d, 30d or 90d (default 30d)", choices=tuple(PERIODS)),
              Opt("by", "figures per user (default) or per group", choices=("user", "group"))),
    ),
    scope="hub",
    slow=True,
    examples=(f"{PREFIX} usage demo-aws/prod", f"{PREFIX} usage demo-gcp/climate --period 7d --by group"),
)
