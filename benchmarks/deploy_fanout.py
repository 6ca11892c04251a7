"""Deploy fan-out benchmark: ``/hub deploy --all`` over 50 hubs with a helm stand-in whose
``upgrade`` takes a fixed 1 s, at concurrency 10. The ideal wall time is 50 / 10 × 1 s = 5 s.

Each hub really runs through hubbot's job pipeline: credentials (a kubeconfig), ``helm template``
and ``helm status`` (the stand-in, instant), ``helm upgrade`` (1 s), the rollout read from a local
Kubernetes API stand-in, and a health check against a local HTTP server. The baseline, measured in
the same run, starts the same 50 stand-in upgrades (plus the same instant helm calls) with a bare
semaphore of 10 and nothing else. The summary message's updates are timed to check they keep to
about one a second.

    python benchmarks/deploy_fanout.py [--hubs 50] [--concurrency 10] [--delay 1.0] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hubbot.cli import pidfd_child_watcher
from hubbot.fleet import load_fleet
from hubbot.main import build
from hubbot.pipeline.contract import Invocation
from hubbot.settings import DatabaseSettings, Settings
from tests.support.deploy_env import CHART, VALUES, kubeconfig
from tests.support.hub_standin import HubStandIn
from tests.support.kube_standin import KubeStandIn
from tests.support.server import serve

ENGINEER = "UBENCH001"


class TimedNotifier:
    """Counts posts and times every update of each message."""

    def __init__(self) -> None:
        self.updates: dict[str, list[float]] = {}
        self.posts = 0

    async def post(self, *, channel: str, text: str, blocks: Sequence[dict[str, object]],
                   thread_ts: str | None = None, key: str | None = None) -> str | None:
        self.posts += 1
        return f"{self.posts}.0"

    async def find(self, *, channel: str, key: str, since: object) -> str | None:
        return None

    async def update(self, *, channel: str, ts: str, text: str, blocks: Sequence[dict[str, object]]) -> None:
        self.updates.setdefault(ts, []).append(time.perf_counter())

    def fastest_rate(self) -> float:
        """The most updates any message got within one second."""
        best = 0
        for times in self.updates.values():
            for i, start in enumerate(times):
                best = max(best, sum(1 for t in times[i:] if t - start < 1.0))
        return best


HELM = """#!/bin/sh
# helm stand-in: template and status answer at once, upgrade takes a fixed time
case "$1" in
  template) printf -- '---\\napiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n  name: hub-config\\n' ;;
  status) echo "Error: release: not found" >&2; exit 1 ;;
  upgrade) sleep {delay}
    printf '{{"name":"%s","namespace":"%s","version":1,"info":{{"status":"deployed"}},'\\
'"chart":{{"metadata":{{"name":"bench","version":"1.0.0"}}}}}}\\n' "$3" "$3" ;;
  *) echo "Error: unexpected $1" >&2; exit 1 ;;
esac
"""


def fleet_yaml(hubs: int, concurrency: int, hubs_url: str) -> str:
    rows = "".join(f"      - {{name: hub{i:03d}, community: bench, domain: hub{i:03d}.bench.test, "
                   f"values: ['{VALUES}/common.values.yaml'], health_url: '{hubs_url}/hub{i:03d}/hub/api/'}}\n"
                   for i in range(hubs))
    return f"""
providers: {{bench-aws: {{kind: aws, account_id: "111122223333"}}}}
clusters:
  - name: bench
    provider: bench-aws
    kubernetes: {{kind: kubeconfig, path: kubeconfig.yaml}}
    chart: {{path: "{CHART}"}}
    hubs:
{rows}communities: [{{name: bench, channel: CBENCH001}}]
roles: {{engineers: [{ENGINEER}]}}
deploys: {{concurrency: {concurrency}, helm_timeout: 60, rollout_timeout: 60, health_timeout: 5, poll_seconds: 1}}
"""


async def hubbot_run(tmp: Path, helm: Path, hubs: int) -> tuple[float, TimedNotifier, list[str]]:
    settings = Settings(database=DatabaseSettings(url=f"sqlite:///{tmp / f'bench-{time.time_ns()}.sqlite3'}"),
                        helm=str(helm))
    notifier = TimedNotifier()
    runtime = build(settings, load_fleet(tmp / "fleet.yaml"), notifier=notifier)
    deploys = runtime.services.deploys
    assert deploys is not None
    started = time.perf_counter()
    reply = await runtime.dispatcher.run(Invocation(user_id=ENGINEER, channel_id="CBENCH001",
                                                    text="deploy --all"))
    assert reply.ok, reply.text
    states = await deploys.background.drain()
    took = time.perf_counter() - started
    await runtime.aclose()
    return took, notifier, [s.value for s in states]


async def baseline_run(helm: Path, hubs: int, concurrency: int) -> float:
    slots = asyncio.Semaphore(concurrency)

    async def call(*args: str) -> None:
        proc = await asyncio.create_subprocess_exec(str(helm), *args, stdout=asyncio.subprocess.DEVNULL,
                                                    stderr=asyncio.subprocess.DEVNULL)
        await proc.wait()

    async def one(i: int) -> None:
        async with slots:
            await asyncio.gather(call("template", f"hub{i:03d}", "chart"), call("status", f"hub{i:03d}"))
            await call("upgrade", "--install", f"hub{i:03d}", "chart", "--output", "json")

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(hubs)))
    return time.perf_counter() - started


def standins(conn: Connection, hubs: int) -> None:
    """The outside world (Kubernetes API, hubs' health) in its own process, off hubbot's CPU budget."""
    kube, hub_api = KubeStandIn(), HubStandIn()
    for i in range(hubs):
        kube.add_deployment(f"hub{i:03d}", "hub")
        kube.make_ready(f"hub{i:03d}")
    with serve(kube.app) as kube_served, serve(hub_api.app) as hubs_served:
        conn.send((kube_served.url, hubs_served.url))
        conn.recv()  # until told to stop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hubs", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--delay", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3)
    opts = parser.parse_args()
    pidfd_child_watcher()  # as the hubbot command does
    ideal = max(opts.hubs / opts.concurrency * opts.delay, 1e-9)
    ours_end, theirs = multiprocessing.get_context("spawn").Pipe()
    world = multiprocessing.get_context("spawn").Process(target=standins, args=(theirs, opts.hubs), daemon=True)
    world.start()
    kube_url, hubs_url = ours_end.recv()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        (tmp / "kubeconfig.yaml").write_text(kubeconfig(kube_url))
        (tmp / "fleet.yaml").write_text(fleet_yaml(opts.hubs, opts.concurrency, hubs_url))
        helm = tmp / "helm"
        helm.write_text(HELM.format(delay=opts.delay))
        helm.chmod(0o755)
        # The first fan-out of a process also imports the Kubernetes client (about 0.7 s): timed apart.
        cold, _, _ = asyncio.run(hubbot_run(tmp, helm, opts.hubs))
        ours, bases, rates = [], [], []
        for _ in range(opts.rounds):
            bases.append(asyncio.run(baseline_run(helm, opts.hubs, opts.concurrency)))
            took, notifier, states = asyncio.run(hubbot_run(tmp, helm, opts.hubs))
            assert states.count("succeeded") == opts.hubs, states
            ours.append(took)
            rates.append(notifier.fastest_rate())
    ours_end.send("stop")
    world.join(timeout=10)
    hub_med, base_med = statistics.median(ours), statistics.median(bases)
    print(f"deploy fan-out: {opts.hubs} hubs, concurrency {opts.concurrency}, helm upgrade {opts.delay:g} s; "
          f"medians of {opts.rounds} rounds")
    print(f"  ideal               {ideal:6.2f} s")
    print(f"  bare helm calls     {base_med:6.2f} s  ({base_med / ideal:.3f} × ideal)")
    print(f"  hubbot              {hub_med:6.2f} s  ({hub_med / ideal:.3f} × ideal, {hub_med / base_med:.3f} × bare)"
          f"   runs: {', '.join(f'{t:.2f}' for t in ours)}")
    print(f"  hubbot, first run   {cold:6.2f} s  (includes importing the Kubernetes client)")
    print(f"  most updates of one message within a second: {max(rates)} (Slack allows about 1)")
    print(f"  goal: within 10% of ideal -> {'met' if hub_med <= ideal * 1.1 else 'NOT met'}")


if __name__ == "__main__":
    main()
