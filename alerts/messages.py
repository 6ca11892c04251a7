"""What alert and digest messages say."""

from __future__ import annotations

import json

from hubbot.costs.spend import Spike
from hubbot.costs.summary import Summary, freshness, summary_lines
from hubbot.domain import money
from hubbot.pipeline.contract import PREFIX
from hubbot.render import blocks as b


def budget_message(s: Summary, *, basis: str, threshold: int) -> tuple[str, str]:
    """(text, blocks JSON). The Acknowledge/Mute buttons are added when it is sent."""
    currency = s.currency
    if basis == "forecast":
        head = f":crystal_ball: {s.title} is forecast to spend {money(s.forecast or s.spend, currency)} this period"
    else:
        head = f":rotating_light: {s.title} has used {s.used}% of its budget ({threshold}% threshold)"
    lines = summary_lines(s)
    hint = f"{PREFIX} cost {s.community}"
    fresh = freshness(s.as_of, s.stale)
    blocks = [b.section(f"*{head}*"), b.section("\n".join(lines)), b.context(f"{fresh} · more: `{hint}`")]
    text = head + "\n" + "\n".join(line.replace("*", "") for line in lines) + f"\n{fresh} · more: {hint}"
    return text, json.dumps(blocks)


def spike_message(title: str, community: str, spike: Spike, currency: str) -> tuple[str, str]:
    head = (f":chart_with_upwards_trend: Cost spike on {spike.hub}: {money(spike.amount, currency)} on "
            f"{spike.day:%Y-%m-%d}, against a recent median of {money(spike.median, currency)} a day")
    hint = f"{PREFIX} cost {spike.hub} --by service"
    blocks = [b.section(f"*{head}*"), b.context(f"{title} · more: `{hint}`")]
    return f"{head}\n{title} · more: {hint}", json.dumps(blocks)


def digest_message(s: Summary, week: str) -> tuple[str, str]:
    head = f":bar_chart: Weekly cost digest for {s.title}"
    lines = [week, *summary_lines(s)]
    fresh = freshness(s.as_of, s.stale)
    more = f"{fresh} · more: `{PREFIX} cost {s.community}`"
    blocks = [b.section(f"*{head}*"), b.section("\n".join(lines)), b.context(more)]
    return head + "\n" + "\n".join(line.replace("*", "") for line in lines), json.dumps(blocks)


def billing_message(provider: str, problem: str) -> tuple[str, str]:
    head = f":no_entry: Billing problem on {provider}: {problem}"
    hint = "hubs on a project without billing stop when the project is suspended — relink it in the Cloud Console"
    return f"{head}\n{hint}", json.dumps([b.section(f"*{head}*"), b.context(hint)])
