"""One full alert evaluation cycle over a large ledger, against a plain SQL aggregate.

Ledger: 10,000 communities × 3 hubs × 90 days (2.7 million rows) in SQLite. Times one cycle
(evaluate every budget, forecast and spike, record and "send" the alerts) and, as the baseline,
one `SELECT community, SUM(amount) ... GROUP BY community` over the same month, both as medians
of several runs; prints peak memory of the cycle. Then counts the Cost Explorer requests a
refresh makes for 100 hubs in 3 AWS accounts (moto on loopback).
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named like the `alerts` package it measures; keep its folder off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import asyncio
import logging
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from alerts import run_cycle
from alerts.evaluate import budget_alerts
from hubbot.fleet import parse_fleet
from hubbot.lifecycle import settle
from hubbot.main import build
from hubbot.settings import DatabaseSettings, Settings

NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)


class Discard:
    async def post(self, *, channel: str, text: str, blocks: object, thread_ts: str | None = None,
                   key: str | None = None) -> None:
        return None

    async def find(self, *, channel: str, key: str, since: object) -> None:
        return None


def fleet_data(communities: int, hubs: int) -> dict[str, object]:
    clusters = []
    per_cluster = 300
    names = [f"c{i:05d}" for i in range(communities)]
    refs = [(n, h) for n in names for h in range(hubs)]
    for start in range(0, len(refs), per_cluster):
        chunk = refs[start:start + per_cluster]
        clusters.append({"name": f"k{start // per_cluster:04d}", "provider": "ledger",
                         "hubs": [{"name": f"{n}-h{h}", "community": n, "domain": f"{n}-h{h}.example.org"}
                                  for n, h in chunk]})
    rng = random.Random(7)
    return {
        "providers": {"ledger": {"kind": "csv", "path": "unused.csv"}},
        "clusters": clusters,
        "communities": [{"name": n, "channel": f"C{i:08d}", "budget": {"amount": rng.choice([900, 1500, 3000, 6000])}}
                        for i, n in enumerate(names)],
    }


def fill(runtime_url: str, communities: int, hubs: int, days: int) -> None:
    import sqlite3

    path = runtime_url.removeprefix("sqlite:///")
    con = sqlite3.connect(path)
    rng = random.Random(11)
    start = NOW.date() - timedelta(days=days - 1)
    fetched = NOW.isoformat(sep=" ")
    rows = []
    for i in range(communities):
        base = rng.uniform(5, 40)
        for h in range(hubs):
            hub = f"k{(i * hubs + h) // 300:04d}/c{i:05d}-h{h}"
            for d in range(days):
                day = (start + timedelta(days=d)).isoformat()
                rows.append((day, "ledger", hub, f"c{i:05d}", "compute", f"{base * rng.uniform(0.8, 1.2):.6f}",
                             "USD", 0, fetched))
        if len(rows) > 200_000:
            con.executemany("INSERT INTO cost_lines (day, provider, hub, community, service, amount, currency, "
                            "estimated, fetched_at) VALUES (?,?,?,?,?,?,?,?,?)", rows)
            rows.clear()
    if rows:
        con.executemany("INSERT INTO cost_lines (day, provider, hub, community, service, amount, currency, "
                        "estimated, fetched_at) VALUES (?,?,?,?,?,?,?,?,?)", rows)
    # the monthly and daily sums every replace keeps beside the lines, built as the migration does
    con.execute("INSERT INTO cost_days (provider, community, day, currency, kind, amount) "
                "SELECT provider, community, day, currency, kind, SUM(amount) FROM cost_lines "
                "GROUP BY provider, community, day, currency, kind")
    con.execute("INSERT INTO cost_months (provider, community, hub, month, currency, kind, amount) "
                "SELECT provider, community, hub, strftime('%Y-%m-01', day), currency, kind, SUM(amount) "
                "FROM cost_lines GROUP BY provider, community, hub, strftime('%Y-%m-01', day), currency, kind")
    con.execute("INSERT INTO provider_status (provider, ok_at, requests) VALUES ('ledger', ?, 1)", (fetched,))
    con.commit()
    con.execute("ANALYZE")
    con.close()


async def measure(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="hubbot-bench-alerts-"))
    url = f"sqlite:///{tmp / 'ledger.sqlite3'}"
    t0 = time.perf_counter()
    fleet = parse_fleet(fleet_data(args.communities, args.hubs), source=str(tmp / "fleet.yaml"))
    runtime = build(Settings(database=DatabaseSettings(url=url)), fleet, notifier=Discard(), sources={}, mirrors={})
    settle()  # as `hubbot serve` and `hubbot alerts run` do once built
    # fill the ledger from a child process, so this process's peak memory is hubbot's alone
    import multiprocessing

    child = multiprocessing.get_context("fork").Process(target=fill, args=(url, args.communities, args.hubs,
                                                                            args.days))
    child.start()
    child.join()
    rows = args.communities * args.hubs * args.days
    print(f"alerts benchmark: {args.communities:,} communities × {args.hubs} hubs × {args.days} days "
          f"= {rows:,} ledger rows (built in {time.perf_counter() - t0:.1f} s)")
    month = (NOW.date().replace(day=1), (NOW.date().replace(day=28) + timedelta(days=4)).replace(day=1))

    def aggregate() -> float:
        start = time.perf_counter()
        with runtime.database.engine.connect() as conn:
            conn.execute(text("SELECT community, SUM(amount) FROM cost_lines WHERE day >= :a AND day < :b "
                              "GROUP BY community"), {"a": month[0], "b": month[1]}).all()
        return time.perf_counter() - start

    async def evaluation() -> float:
        start = time.perf_counter()
        await budget_alerts(runtime.services, runtime.fleet, at=NOW)
        return time.perf_counter() - start

    base = statistics.median(aggregate() for _ in range(args.runs))
    evals = [await evaluation() for _ in range(args.runs)]
    # the full cycle once, from an empty outbox: evaluate, record every alert, deliver
    before = _rss_mib()
    start = time.perf_counter()
    report = await run_cycle(runtime.services, runtime.fleet, at=NOW, worker="bench", fetch=False)
    full = time.perf_counter() - start
    # a second cycle: nothing new to record or send, the steady state every 6 hours
    start = time.perf_counter()
    steady = await run_cycle(runtime.services, runtime.fleet, at=NOW + timedelta(hours=6), worker="bench",
                             fetch=False)
    again = time.perf_counter() - start
    await runtime.aclose()
    print(f"  plain SQL aggregate (month, GROUP BY community): {base:6.2f} s (median of {args.runs})")
    print(f"  budget evaluation (all thresholds + forecasts):  {statistics.median(evals):6.2f} s "
          f"= {statistics.median(evals) / base:.2f}× the aggregate")
    print(f"  full first cycle (evaluate + spikes + record + send {len(report.sent):,} alerts): {full:6.2f} s")
    print(f"  steady cycle (nothing new): {again:6.2f} s = {again / base:.2f}× the aggregate; "
          f"{len(steady.sent)} sent")
    hubs = args.communities * args.hubs
    print(f"  peak RSS: {before:.0f} MiB with the fleet of {hubs:,} hubs loaded, {_rss_mib():.0f} MiB after both "
          f"cycles (goals: steady cycle within 2× of the aggregate, evaluation within 3×, < 500 MB)")
    await aws_requests()


def _rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def aws_requests() -> None:
    """100 hubs in 3 AWS accounts: a refresh makes two Cost Explorer requests per account (usage
    by service, the rest by record type), whatever the number of hubs."""
    import json
    import urllib.request

    from moto.server import ThreadedMotoServer

    from alerts.refresh import refresh

    for key, value in {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}.items():
        os.environ[key] = value
    # moto's server logs each request, and a traceback for GetCostForecast, which it does not
    # serve (hubbot then keeps its own run-rate forecast); neither is part of the measurement
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        accounts = ["111111111111", "222222222222", "333333333333"]
        hubs = [(f"h{i:03d}", accounts[i % 3]) for i in range(100)]
        results = []
        for account in accounts:
            groups = [{"Keys": [f"2i2c:hub-name${h}", "Amazon EC2"],
                       "Metrics": {"AmortizedCost": {"Amount": "12.5", "Unit": "USD"}}}
                      for h, a in hubs if a == account]
            results.append({"ResultsByTime": [{"TimePeriod": {"Start": "2026-03-19", "End": "2026-03-20"},
                                               "Total": {}, "Groups": groups, "Estimated": True}],
                            "DimensionValueAttributes": [], "GroupDefinitions": []})
        request = urllib.request.Request(f"{endpoint}/moto-api/static/ce/cost-and-usage-results",
                                         data=json.dumps({"results": results}).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=10).close()
        fleet = parse_fleet({
            "providers": {f"aws-{a}": {"kind": "aws", "account_id": a, "endpoint_url": endpoint} for a in accounts},
            "clusters": [{"name": f"k{a}", "provider": f"aws-{a}",
                          "hubs": [{"name": h, "community": "c", "domain": f"{h}.example.org"}
                                   for h, acc in hubs if acc == a]} for a in accounts],
            "communities": [{"name": "c"}],
        })
        tmp = Path(tempfile.mkdtemp(prefix="hubbot-bench-aws-"))
        runtime = build(Settings(database=DatabaseSettings(url=f"sqlite:///{tmp / 'aws.sqlite3'}")), fleet,
                        notifier=Discard())
        report = await refresh(runtime.services, runtime.fleet, at=NOW)
        await runtime.aclose()
        total = sum(report.requests.values())
        errors = f" errors: {report.errors}" if report.errors else ""
        print(f"  Cost Explorer requests for 100 hubs in 3 AWS accounts: {total} "
              f"({report.requests}; goal: 2 per account plus pages){errors}")
    finally:
        server.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--communities", type=int, default=10_000)
    ap.add_argument("--hubs", type=int, default=3)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--runs", type=int, default=3)
    asyncio.run(measure(ap.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
