"""Two `hubbot serve` replicas against one, on one PostgreSQL, with a bare FastAPI baseline run
side by side; plus each replica's memory (VmRSS) and its start-up time to ready.

Load: signed `/hub help` slash commands (a leader in their community's channel, as in
benchmarks/ack.py) with wrk at 50 connections in all. One replica gets one wrk of 50 connections
(2 threads); two replicas get two wrk processes of 25 connections (1 thread) each, one per
replica, run at the same time: the same connections and load-generator threads in all, split
evenly, and no proxy in between (a round-robin proxy in Python would cost more CPU than a
replica on this machine and be what is measured). Throughput is the sum of the two; p99 is the
worse of the two wrk processes' p99s (wrk cannot merge its histograms), so it errs high. The
baseline is the same: one bare FastAPI app (benchmarks/bare_app.py, the same uvicorn defaults as
`hubbot serve`, answering the bytes hubbot answered) against two of them with the same split.
Rounds alternate hubbot and baseline; figures are medians.

Start-up: from starting `python -m hubbot serve` to its `/readyz` answering 200 (polled every
50 ms, so figures are within 50 ms), median of several starts after one that migrates the
empty database. RSS is read from /proc/<pid>/status after start (idle) and after the load.

Everything shares this machine's cores: the replicas, PostgreSQL, wrk and this script. One
replica is one event loop, so it uses one core; a second replica can use what PostgreSQL and
wrk leave of the other, and no more: on two cores, two replicas compete with both for the CPU,
and the scaling printed is what this machine allows, not what more cores would give.

    python benchmarks/replicas.py [--rounds 3] [--seconds 5] [--starts 5]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from benchmarks.ack import lua_script, signed_request, wait_ready, wrk
from tests.support import signing
from tests.support.replicas import Cluster, Replica, cluster
from tests.support.services import free_port

ROOT = Path(__file__).resolve().parents[1]
USER, CHANNEL = "ULEAD0001", "C00000001"  # a leader of c001, in its channel (tests/support/replicas.py)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def timed_start(c: Cluster, name: str) -> tuple[Replica, float]:
    started = time.monotonic()
    replica = c.start(name)  # returns once /readyz answered 200
    return replica, time.monotonic() - started


def wrk_split(urls: list[str], script: Path, *, seconds: int, connections: int) -> dict[str, float]:
    """wrk on each URL at once, ``connections`` split evenly; summed throughput, the worst p50/p99."""
    if len(urls) == 1:
        return wrk(urls[0], script, seconds=seconds, connections=connections)
    results: list[dict[str, float]] = []

    def one(url: str) -> None:
        results.append(wrk(url, script, seconds=seconds, connections=connections // len(urls), threads=1))

    threads = [threading.Thread(target=one, args=(url,)) for url in urls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if len(results) != len(urls):
        raise SystemExit("a wrk run failed")
    return {"rps": sum(r["rps"] for r in results), "p50": max(r["p50"] for r in results),
            "p99": max(r["p99"] for r in results)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--starts", type=int, default=5)
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("benchmarks/replicas.py needs wrk: apt-get install wrk")
    with tempfile.TemporaryDirectory(prefix="hubbot-replicas-") as tmp, cluster(Path(tmp)) as c:
        base_env = c.env
        c.env = lambda: {**base_env(), "HUBBOT_LOG_LEVEL": "WARNING"}  # type: ignore[method-assign]
        _, first = timed_start(c, "migrate")  # the first start creates the schema
        c.replicas[-1].stop()
        starts = []
        for n in range(args.starts):
            replica, seconds = timed_start(c, f"start{n}")
            starts.append(seconds)
            replica.stop()
        a, _ = timed_start(c, "a")
        b, _ = timed_start(c, "b")
        with contextlib.suppress(Exception):
            c.leader(timeout=10)  # let the election settle before reading idle memory
        idle = {r.name: rss_mb(r.process.pid) for r in (a, b)}

        body, headers = signed_request(USER, CHANNEL, secret=signing.SECRET)
        with httpx.Client(timeout=10) as http:
            reply = http.post(f"{a.url}/slack/events", content=body, headers=headers).content
        assert b"hubbot commands" in reply, reply
        (Path(tmp) / "reply.json").write_bytes(reply)
        script = Path(tmp) / "post.lua"
        lua_script(script, body, headers)
        bare_ports = [free_port(), free_port()]
        bare = [subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "bare_app.py"), str(port),
                                  str(Path(tmp) / "reply.json")], cwd=tmp, env=c.env()) for port in bare_ports]
        try:
            for port, proc in zip(bare_ports, bare, strict=True):
                wait_ready(f"http://127.0.0.1:{port}/slack/events", proc, data=b"x")
            targets = {
                ("hubbot", 1): [f"{a.url}/slack/events"],
                ("baseline", 1): [f"http://127.0.0.1:{bare_ports[0]}/slack/events"],
                ("hubbot", 2): [f"{a.url}/slack/events", f"{b.url}/slack/events"],
                ("baseline", 2): [f"http://127.0.0.1:{p}/slack/events" for p in bare_ports],
            }
            for urls in targets.values():  # warm up
                wrk_split(urls, script, seconds=2, connections=args.connections)
            runs: dict[tuple[str, int], list[dict[str, float]]] = {k: [] for k in targets}
            for _ in range(args.rounds):
                for key, urls in targets.items():
                    runs[key].append(wrk_split(urls, script, seconds=args.seconds, connections=args.connections))
        finally:
            for proc in bare:
                proc.terminate()
                proc.wait(timeout=30)
        loaded = {r.name: rss_mb(r.process.pid) for r in (a, b)}

    med = {k: {m: statistics.median(r[m] for r in rs) for m in ("rps", "p50", "p99")} for k, rs in runs.items()}
    print(f"replicas benchmark: signed /hub help on PostgreSQL, {args.connections} connections in all, "
          f"{args.rounds} alternating rounds of {args.seconds}s, medians")
    for replicas in (1, 2):
        label = "one replica " if replicas == 1 else "two replicas"
        for side in ("hubbot", "baseline"):
            m = med[(side, replicas)]
            print(f"  {label} {side:9s} {m['rps']:8.0f} req/s   p50 {m['p50']:6.2f} ms   p99 {m['p99']:6.2f} ms")
        print(f"  {label} throughput ratio hubbot/baseline: "
              f"{med[('hubbot', replicas)]['rps'] / med[('baseline', replicas)]['rps']:.2f}")
    for side in ("hubbot", "baseline"):
        print(f"  scaling two/one, {side:9s}: {med[(side, 2)]['rps'] / med[(side, 1)]['rps']:.2f}x "
              f"(on this machine's {os.cpu_count()} cores, shared with PostgreSQL and wrk)")
    print(f"  start-up to /readyz 200: median {statistics.median(starts) * 1000:.0f} ms of {len(starts)} starts "
          f"(min {min(starts) * 1000:.0f}, max {max(starts) * 1000:.0f}; the first, migrating: "
          f"{first * 1000:.0f} ms) (goal < 2000 ms)")
    for name in idle:
        print(f"  replica {name} RSS: idle {idle[name]:.0f} MB, after the load {loaded[name]:.0f} MB (goal < 200 MB)")


if __name__ == "__main__":
    main()
