"""Start-up times: `hubbot --help` and the console until it is ready for input, against a bare
`python -c pass` measured in the same run. Medians of several runs."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(cmd: list[str], *, cwd: Path, stdin: str | None = None) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBBOT_", "SLACK_"))}
    env["HOME"] = str(cwd)
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, input=stdin, capture_output=True, text=True, check=True)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory(prefix="hubbot-startup-") as tmp:
        cwd = Path(tmp)
        timed([py, "-m", "hubbot", "run", "--demo", "/hub help"], cwd=cwd)  # migrate once, warm caches
        cases = {
            "python -c pass (baseline)": [py, "-c", "pass"],
            "hubbot --help": [py, "-m", "hubbot", "--help"],
            "hubbot console --demo (start, answer help, exit)": [py, "-m", "hubbot", "console", "--demo"],
        }
        results = {name: statistics.median(
            timed(cmd, cwd=cwd, stdin="help\n" if "console" in name else None) for _ in range(args.runs))
            for name, cmd in cases.items()}
    base = results["python -c pass (baseline)"]
    print(f"start-up, medians of {args.runs} runs")
    for name, value in results.items():
        print(f"  {name:52s} {value * 1000:7.0f} ms   ({value / base:4.1f}x bare python)")
    print("  goals: hubbot --help < 500 ms; console ready < 1500 ms")


if __name__ == "__main__":
    main()
