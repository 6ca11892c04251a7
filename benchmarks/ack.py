"""Time to ack: signed `/hub help` slash commands at concurrency 50 against `hubbot serve`,
and against a bare FastAPI endpoint on the same uvicorn, with the same load generator (wrk).

Two callers, each its own case: a known one (a member, in their community's channel) and an
unknown one (in a channel of no community). For each, prints each side's throughput and
p50/p99 latency, and the hubbot/baseline throughput ratio, as medians of several alternating
rounds; the baseline answers with the same bytes hubbot answered that caller. Needs `wrk`
(apt-get install wrk).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench-0000-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def slack_stub() -> str:
    """Answers auth.test (Bolt asks once) and accepts anything else."""

    async def api(request: Request) -> JSONResponse:
        if request.path_params["method"] == "auth.test":
            return JSONResponse({"ok": True, "user_id": "UBOT", "bot_id": "B1", "team_id": "T1", "user": "hubbot"})
        return JSONResponse({"ok": True})

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(Starlette(routes=[Route("/api/{method}", api, methods=["GET", "POST"])]),
                                           host="127.0.0.1", port=port, log_config=None))
    threading.Thread(target=server.run, daemon=True).start()
    return f"http://127.0.0.1:{port}/api/"


def wait_ready(url: str, proc: subprocess.Popen[bytes], *, data: bytes | None = None) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=1):
                return
        except OSError:
            time.sleep(0.05)  # readiness poll of a process we just started
    raise SystemExit(f"{url} never became ready")


# (user, channel) of each case, from the demo fleet (hubbot/demo/fleet.yaml)
CASES = {
    "known caller, community channel": ("UDEMOMEMB1", "CDEMOOPEN1"),
    "unknown caller, no community": ("UNOBODY001", "CNOWHERE01"),
}


def signed_request(user: str, channel: str, *, secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    body = urlencode({"command": "/hub", "text": "help", "user_id": user, "channel_id": channel,
                      "team_id": "T1", "response_url": "http://127.0.0.1:9/none", "trigger_id": "1"}).encode()
    ts = str(int(time.time()))
    sig = "v0=" + hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
                  "X-Slack-Signature": sig}


def lua_script(path: Path, body: bytes, headers: dict[str, str]) -> None:
    lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(body.decode())}"]
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
    path.write_text("\n".join(lines) + "\n")


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, script: Path, *, seconds: int, connections: int, threads: int = 2) -> dict[str, float]:
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script),
                          url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    pct = {p: _ms(v, u) for p, v, u in re.findall(r"\s(50|99)%\s+([\d.]+)(us|ms|s)", out)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"{url}: {errors.group(1)} non-2xx responses\n{out}")
    return {"rps": rps, "p50": pct["50"], "p99": pct["99"]}


def run_case(name: str, user: str, channel: str, *, hub_port: int, tmp: Path, env: dict[str, str],
             args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Alternating rounds against hubbot and a bare app answering what hubbot answered this caller."""
    body, headers = signed_request(user, channel)
    req = urllib.request.Request(f"http://127.0.0.1:{hub_port}/slack/events", data=body, headers=headers)
    with urllib.request.urlopen(req) as resp:
        reply = resp.read()
    assert b"hubbot commands" in reply, reply
    case_dir = tmp / name.replace(" ", "-").replace(",", "")
    case_dir.mkdir()
    (case_dir / "reply.json").write_bytes(reply)
    script = case_dir / "post.lua"
    lua_script(script, body, headers)
    bare_port = free_port()
    bare = subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "bare_app.py"), str(bare_port),
                             str(case_dir / "reply.json")], cwd=tmp, env=env)
    targets = {"hubbot": f"http://127.0.0.1:{hub_port}/slack/events",
               "baseline": f"http://127.0.0.1:{bare_port}/slack/events"}
    try:
        wait_ready(targets["baseline"], bare, data=b"x")
        for url in targets.values():  # warm up both
            wrk(url, script, seconds=2, connections=args.connections)
        results: dict[str, list[dict[str, float]]] = {"hubbot": [], "baseline": []}
        for _ in range(args.rounds):
            for side, url in targets.items():
                results[side].append(wrk(url, script, seconds=args.seconds, connections=args.connections))
    finally:
        bare.terminate()
        bare.wait(timeout=30)
    return {side: {k: statistics.median(r[k] for r in rs) for k in ("rps", "p50", "p99")}
            for side, rs in results.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=50)
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("benchmarks/ack.py needs wrk: apt-get install wrk")
    tmp = Path(tempfile.mkdtemp(prefix="hubbot-bench-"))
    api = slack_stub()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBBOT_", "SLACK_"))}
    env.update({"HUBBOT_SLACK_BOT_TOKEN": TOKEN, "HUBBOT_SLACK_SIGNING_SECRET": SECRET,
                "HUBBOT_SLACK_API_URL": api, "HUBBOT_DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
                "HUBBOT_LOG_LEVEL": "WARNING"})
    hub_port = free_port()
    hub = subprocess.Popen([sys.executable, "-m", "hubbot", "serve", "--demo", "--port", str(hub_port)],
                           cwd=tmp, env=env)
    med: dict[str, dict[str, dict[str, float]]] = {}
    try:
        wait_ready(f"http://127.0.0.1:{hub_port}/healthz", hub)
        for name, (user, channel) in CASES.items():
            med[name] = run_case(name, user, channel, hub_port=hub_port, tmp=tmp, env=env, args=args)
    finally:
        hub.terminate()
        hub.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"ack benchmark: signed /hub help, concurrency {args.connections}, {args.rounds} alternating rounds of "
          f"{args.seconds}s, medians")
    for name, sides in med.items():
        print(f" {name}:")
        for side in ("hubbot", "baseline"):
            m = sides[side]
            print(f"  {side:9s} {m['rps']:8.0f} req/s   p50 {m['p50']:6.2f} ms   p99 {m['p99']:6.2f} ms")
        print(f"  throughput ratio hubbot/baseline: {sides['hubbot']['rps'] / sides['baseline']['rps']:.2f} "
              f"(goal >= 0.8); hubbot p99 ack {sides['hubbot']['p99']:.1f} ms (goal < 25 ms)")


if __name__ == "__main__":
    main()
