"""Print the mutation score of `make mutate`, overall and per module, from `mutmut results`.

The score is killed / (killed + survived + no tests): a mutant no test runs counts against it.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

BIN = Path(sys.executable).parent


def main() -> int:
    out = subprocess.run(  # noqa: S603 - the mutmut this venv installed
        [str(BIN / "mutmut"), "results", "--all", "true"], capture_output=True, text=True, check=True
    ).stdout
    by_module: dict[str, Counter[str]] = {}
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if not sep or "__mutmut_" not in name:
            continue
        module = name.split(".x_")[0].split(".xǁ")[0]
        by_module.setdefault(module, Counter())[status] += 1
    total: Counter[str] = Counter()
    print(f"{'module':<28} {'killed':>7} {'survived':>9} {'no tests':>9} {'score':>6}")
    for module, counts in sorted(by_module.items()):
        total += counts
        print(_row(module, counts))
    print(_row("all", total))
    return 0


def _row(name: str, counts: Counter[str]) -> str:
    judged = counts["killed"] + counts["survived"] + counts["no tests"]
    score = f"{100 * counts['killed'] / judged:5.1f}%" if judged else "  -  "
    return f"{name:<28} {counts['killed']:>7} {counts['survived']:>9} {counts['no tests']:>9} {score:>6}"


if __name__ == "__main__":
    sys.exit(main())
