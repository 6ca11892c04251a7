"""What alert and digest messages say: a :class:`Post` each, text and blocks from one source."""

from __future__ import annotations

from decimal import Decimal

from hubbot.costs.spend import Spike
from hubbot.costs.summary import Summary, summary_lines
from hubbot.domain import Basis, Post, main_currency, money
from hubbot.pipeline.contract import PREFIX
from hubbot.render import blocks as b
from hubbot.render.text import unstyled


def budget_message(s: Summary, *, basis: Basis, threshold: int, closed: bool = False) -> Post:
    """The Acknowledge/Mute buttons are added when it is sent. ``closed``: about a period that has
    ended, whose last costs arrived after it did."""
    currency = s.currency
    if basis is Basis.FORECAST:
        head = f":crystal_ball: {s.title} is forecast to spend {money(s.forecast or s.spend, currency)} this period"
    elif closed:
        head = (f":rotating_light: {s.title} used {s.used}% of its budget in {s.period.label()}, which has closed "
                f"({threshold}% threshold; its last costs arrived after it ended)")
    else:
        head = f":rotating_light: {s.title} has used {s.used}% of its budget ({threshold}% threshold)"
    hint = f"{PREFIX} cost {s.community}"
    fresh = s.fresh
    blocks = (b.section(f"*{head}*"), b.section(s.body), b.context(f"{fresh} · more: `{hint}`"))
    return Post(text=f"{head}\n{s.plain_body}\n{fresh} · more: {hint}", blocks=blocks)


def spike_message(title: str, spike: Spike, currency: str) -> Post:
    head = (f":chart_with_upwards_trend: Cost spike on {spike.hub}: {money(spike.amount, currency)} on "
            f"{spike.day:%Y-%m-%d}, against a recent median of {money(spike.median, currency)} a day")
    hint = f"{PREFIX} cost {spike.hub} --by service"
    return Post(text=f"{head}\n{title} · more: {hint}",
                blocks=(b.section(f"*{head}*"), b.context(f"{title} · more: `{hint}`")))


def digest_message(s: Summary, week: str, usage: list[str] | None = None) -> Post:
    head = f":bar_chart: Weekly cost digest for {s.title}"
    fresh = s.fresh
    more = f"{fresh} · more: `{PREFIX} cost {s.community}`"
    body = "\n".join([week, *summary_lines(s)])
    sections = [b.section(f"*{head}*"), b.section(body)]
    text = f"{head}\n{unstyled(body)}"
    if usage:
        used = "*Use in the last 7 days:*\n" + "\n".join(usage)
        sections.append(b.section(used))
        text += "\n" + unstyled(used)
        more += f" · `{PREFIX} usage <hub>`"
    return Post(text=text, blocks=(*sections, b.context(more)))


def currency_message(title: str, community: str, budget_currency: str, billed: dict[str, Decimal]) -> Post:
    main = main_currency(billed)
    spent = ", ".join(money(a, c) for c, a in sorted(billed.items()))
    head = (f":warning: {title}'s costs this period are billed in {', '.join(sorted(billed))} ({spent}), but its "
            f"budget is in {budget_currency}: none of it counts, so no threshold can fire")
    hint = f"set the budget in {main}: `{PREFIX} budget set {community} <amount> --currency {main}`"
    return Post(text=f"{head}\n{hint}", blocks=(b.section(f"*{head}*"), b.context(hint)))


def billing_message(provider: str, problem: str) -> Post:
    head = f":no_entry: Billing problem on {provider}: {problem}"
    hint = "hubs on a project without billing stop when the project is suspended — relink it in the Cloud Console"
    return Post(text=f"{head}\n{hint}", blocks=(b.section(f"*{head}*"), b.context(hint)))
