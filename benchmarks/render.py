"""Rendering replies for Slack: hubbot's one rule (clean, escape, sealed tokens made live, clip
after escaping, fences kept whole) against a baseline that only escapes ``& < >`` in the same
texts — what any mrkdwn renderer has to pay at least.

Workloads: a 200-line audit listing (code blocks, a mention a line), a cost reply (fields, a
link, a table) and an error reply with hostile text. Prints per-reply times and the ratio, as
medians of several alternating rounds.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hubbot.markup import link, mention
from hubbot.render import blocks as b

ROUNDS = 7


def _workloads() -> dict[str, tuple[str, list[dict[str, Any]]]]:
    lines = [f"2026-12-06 12:{i % 60:02d}:00Z  {mention('UENG00001')}  deploy aws/staging --chart-version 1.{i}"
             f"  [alpha]  ok  {i}ms" for i in range(200)]
    audit_text, audit_blocks = b.titled_listing("Audit log", lines, more="narrow it", code=True)
    table = "\n".join(f"{'service-' + str(i):<40} {'$' + str(i * 13):>14}" for i in range(40))
    cost = [b.header("Costs of alpha — December 2026"),
            b.fields([("Spend", "$1,234.56"), ("Budget", "$2,000.00 (61.7%)"), ("Forecast", "$1,900.00")]),
            b.section(f"*By service:*\n```{table}```"),
            b.context(f"data as of 12:00 UTC · {link('https://alpha.example.org/', 'alpha hub')}")]
    hostile = "'<!channel> <https://evil.example|https://hub.example.org>' is neither a community nor a hub"
    return {"audit 200": (audit_text, audit_blocks), "cost": ("Costs of alpha\n" + table, cost),
            "error": (hostile, [])}


def _naive(text: str, blocks: list[dict[str, Any]]) -> object:
    def esc(s: str) -> str:
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def walk(obj: Any) -> Any:
        if isinstance(obj, dict):
            return {k: (esc(v) if k == "text" and isinstance(v, str) else walk(v)) for k, v in obj.items()}
        if isinstance(obj, list):
            return [walk(x) for x in obj]
        return obj

    return esc(text), walk(blocks)


def _hubbot(text: str, blocks: list[dict[str, Any]]) -> object:
    return b.text_for_slack(text), b.for_slack(blocks)


def _time(fn: Callable[[str, list[dict[str, Any]]], object], text: str, blocks: list[dict[str, Any]]) -> float:
    n = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < 0.2:
        fn(text, blocks)
        n += 1
    return elapsed / n


def main() -> None:
    print(f"render for Slack: medians of {ROUNDS} alternating rounds")
    for name, (text, blocks) in _workloads().items():
        ours, base = [], []
        for _ in range(ROUNDS):
            base.append(_time(_naive, text, blocks))
            ours.append(_time(_hubbot, text, blocks))
        o, n = statistics.median(ours), statistics.median(base)
        print(f"  {name:<10} hubbot {o * 1e6:8.1f} µs   escape-only {n * 1e6:8.1f} µs   ratio {o / n:5.2f}")


if __name__ == "__main__":
    main()
