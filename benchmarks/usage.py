"""``/hub usage <hub> --by user`` on a hub with 5,000 users and 30 days of series, end to end,
against the bare calls it needs, measured side by side in the same run.

A real JupyterHub (the test install, `make jupyterhub`) gets 5,000 users in 40 groups; a real
Prometheus (Debian's package) is filled by promtool with 30 days of the series a z2jh cluster
publishes for them (each user's servers, sampled every 5 minutes: cAdvisor, kube-state-metrics,
the home exporter, JupyterHub's active users). hubbot answers the command through its dispatcher
with the real JupyterHub and Prometheus adapters, and draws its chart. The baseline makes the
same HTTP requests with a bare httpx client, as concurrently, and only parses the JSON.

    python benchmarks/usage.py [--users 5000] [--days 30] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hubbot.adapters.jupyterhub import PAGE, JupyterHubApi
from hubbot.adapters.memory import ServerRun
from hubbot.adapters.prometheus import PrometheusMetrics, active_query, compute_queries, home_queries
from hubbot.domain import DailyActive, HomeUse, home_folder
from tests.support import jupyterhub_server, prometheus_server
from tests.support.fleet import ENGINEER
from tests.support.memory import dispatcher, run
from tests.support.prometheus_server import MetricsText
from tests.support.usage_series import add_active, add_homes, add_runs

HUB, NAMESPACE, CLUSTER = "aws-cluster/prod", "prod", "aws-cluster"
SCRAPE = 300
FLEET = """
clusters:
  - name: aws-cluster
    provider: csv
    hubs: [{name: prod, community: alpha, domain: alpha.test}]
providers: {csv: {kind: csv, path: costs.csv}}
communities: [{name: alpha}]
roles: {engineers: [UBENCH0001]}
"""


def series(users: list[str], *, days: int, now: datetime) -> str:
    rng = random.Random(7)
    text = MetricsText()
    runs = []
    for user in users:
        for day in range(days):
            if rng.random() < 0.3:
                start = now - timedelta(days=day + 1) + timedelta(hours=rng.randint(8, 18))
                runs.append(ServerRun(user=user, pod=f"jupyter-{home_folder(user)}", start=start,
                                      end=start + timedelta(minutes=rng.randint(30, 240)), cpu=rng.uniform(0.1, 2),
                                      memory=rng.randint(1, 8) * 1024**3, cpu_request=0.5, memory_request=2 * 1024**3))
    add_runs(text, NAMESPACE, runs, step=SCRAPE)
    add_homes(text, NAMESPACE, [HomeUse(home_folder(u), rng.randint(1, 10**10), 10 * 1024**3) for u in users],
              at=now)
    add_active(text, NAMESPACE, [DailyActive((now - timedelta(days=d)).date(), rng.randint(100, 900))
                                 for d in range(1, days + 1)])
    return text.text()


def fill_hub(hub: jupyterhub_server.JupyterHubServer, users: list[str], groups: int) -> None:
    with httpx.Client(headers={"Authorization": f"token {hub.token}"}, timeout=120) as client:
        for i in range(0, len(users), 500):
            client.post(f"{hub.api}/users", json={"usernames": users[i:i + 500]}).raise_for_status()
        for g in range(groups):
            name = f"group-{g:02d}"
            client.post(f"{hub.api}/groups/{name}").raise_for_status()
            client.post(f"{hub.api}/groups/{name}/users", json={"users": users[g::groups]}).raise_for_status()


async def bare(hub: jupyterhub_server.JupyterHubServer, prometheus: str, *, days: int, now: datetime) -> float:
    """The same requests /hub usage makes, with a bare client: pages of users (four at a time after
    the first), the running count, and the five PromQL queries at once."""
    began = time.perf_counter()
    headers = {"Authorization": f"token {hub.token}", "Accept": "application/jupyterhub-pagination+json"}
    async with httpx.AsyncClient(timeout=120) as client:
        async def users() -> None:
            first = (await client.get(f"{hub.api}/users?offset=0&limit={PAGE}", headers=headers)).json()
            total = first["_pagination"]["total"]
            gate = asyncio.Semaphore(4)

            async def page(offset: int) -> None:
                async with gate:
                    (await client.get(f"{hub.api}/users?offset={offset}&limit={PAGE}", headers=headers)).json()
            await asyncio.gather(*(page(o) for o in range(PAGE, total, PAGE)))

        async def query(q: str) -> None:
            at = f"{now.timestamp():.3f}"
            (await client.post(f"{prometheus}/api/v1/query", data={"query": q, "time": at})).json()

        async def daily() -> None:
            end = now.replace(hour=0, minute=0, second=0, microsecond=0)
            (await client.post(f"{prometheus}/api/v1/query_range", data={
                "query": active_query(NAMESPACE), "start": f"{(end - timedelta(days=days - 1)).timestamp():.3f}",
                "end": f"{end.timestamp():.3f}", "step": "86400"})).json()

        cpu, memory = compute_queries(NAMESPACE, days, requested=False, scrape=SCRAPE)
        await asyncio.gather(users(), client.get(f"{hub.api}/users?state=active&offset=0&limit=1", headers=headers),
                             query(cpu), query(memory), *(query(q) for q in home_queries(NAMESPACE)), daily())
    return time.perf_counter() - began


async def hubbot(fleet: Path, hub: jupyterhub_server.JupyterHubServer, prometheus: str, *, days: int) -> float:
    d, _ = dispatcher(fleet)
    d.services = dataclasses.replace(
        d.services, hub_apis={HUB: JupyterHubApi(hub.api, hub.token, hub=HUB, timeout=120)},
        usage={CLUSTER: PrometheusMetrics(prometheus, cluster=CLUSTER, scrape=SCRAPE, timeout=120)})
    began = time.perf_counter()
    reply = await run(d, f"usage {HUB} --by user --period {days}d", user=ENGINEER)
    spent = time.perf_counter() - began
    assert reply.ok and reply.files and "By user:" in reply.text, reply.text[:300]
    return spent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--days", type=int, default=30, choices=(7, 30, 90))
    parser.add_argument("--groups", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=5)
    opts = parser.parse_args()
    users = [f"user{i:05d}" for i in range(opts.users)]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        fleet = folder / "fleet.yaml"
        fleet.write_text(FLEET.replace("UBENCH0001", ENGINEER))
        (folder / "costs.csv").write_text("date,hub,amount,currency\n")
        # the frozen clock of the test dispatcher is "now" for the series too
        now = dispatcher(fleet)[0].services.clock.now().astimezone(UTC)
        began = time.perf_counter()
        text = series(users, days=opts.days, now=now)
        made = time.perf_counter() - began
        prom = prometheus_server.start(folder / "prometheus", text)
        (folder / "hub").mkdir()
        hub = jupyterhub_server.start(folder / "hub")
        try:
            began = time.perf_counter()
            fill_hub(hub, users, opts.groups)
            filled = time.perf_counter() - began
            print(f"setup: {len(text) / 1e6:.0f} MB of OpenMetrics made in {made:.1f} s, backfilled in "
                  f"{prom.backfill_seconds:.1f} s; {opts.users} users in {opts.groups} groups in {filled:.1f} s")
            first = asyncio.run(hubbot(fleet, hub, prom.url, days=opts.days))
            ours, theirs = [], []
            for _ in range(opts.rounds):
                theirs.append(asyncio.run(bare(hub, prom.url, days=opts.days, now=now)))
                ours.append(asyncio.run(hubbot(fleet, hub, prom.url, days=opts.days)))
        finally:
            hub.stop()
            prom.stop()
    mine, base = statistics.median(ours), statistics.median(theirs)
    print(f"/hub usage --by user, {opts.users} users, {opts.days} days (median of {opts.rounds}):")
    print(f"  hubbot   {mine:6.2f} s   (first, with matplotlib's import: {first:.2f} s)")
    print(f"  bare     {base:6.2f} s   (the same JupyterHub and Prometheus requests, JSON parsed only)")
    print(f"  ratio    {mine / base:6.2f}x   goal: under 2 s and within 1.5x")


if __name__ == "__main__":
    main()
