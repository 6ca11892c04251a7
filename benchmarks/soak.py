"""Load and fault run of two `hubbot serve` replicas on one PostgreSQL with the Slack Web API stand-in
(loopback only), printing what happened: requests, lost, answered twice, takeover time.

1. The scheduler leader is SIGKILLed while an alert is in flight, and Slack answers 429 (with
   Retry-After), then 500, for ``--outage`` seconds: the other replica takes over; every alert and
   every answer is delivered once.
2. ``--requests`` signed requests go to both replicas (slash commands, and @mentions that Slack
   redelivers to the other replica); PostgreSQL is restarted half-way.

    python benchmarks/soak.py [--requests 10000] [--outage 30] [--communities 60]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.replicas import cluster, event_answers, load, wait


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=10_000)
    ap.add_argument("--outage", type=float, default=30.0, help="seconds of Slack 429 then 500")
    ap.add_argument("--communities", type=int, default=60)
    ap.add_argument("--db-down", type=float, default=5.0, help="seconds PostgreSQL is down mid-run")
    args = ap.parse_args()
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="hubbot-soak-") as tmp, \
            cluster(Path(tmp), communities=args.communities) as c:
        # 1. the leader dies mid-send, during a Slack outage
        c.standin.hold("chat.postMessage", after=args.communities // 3)
        a, b = c.start("a"), c.start("b")
        first = c.leader()
        wait(lambda: c.standin.waiting() >= 1, timeout=120, what="an alert in flight")
        first.kill()
        killed = time.monotonic()
        end = time.monotonic() + args.outage
        c.standin.fail_until("chat.postMessage", 429, until=end - args.outage / 2, headers={"Retry-After": "1"})
        c.standin.fail_until("chat.postMessage", 500, until=end)
        c.standin.release()
        second = c.leader(timeout=60)
        takeover = time.monotonic() - killed
        during = asyncio.run(load(c, requests=50, event_every=1, start=9_000_000))
        wait(lambda: "pending" not in c.outbox().values(), timeout=args.outage + 300, what="the outbox to empty")
        delivered_after = time.monotonic() - killed
        sent = {k for k, state in c.outbox().items() if state == "sent"}
        posted = c.posted_keys()
        twice = {k: n for k, n in posted.items() if n > 1}
        lost = sent - set(posted)
        kept = len([k for k in sent if k.startswith("reply:")])
        print(f"leader killed mid-send: {first.name} -> {second.name} in {takeover:.2f} s; "
              f"{len(sent) - kept} alerts and {kept} answers kept through a {args.outage:.0f} s Slack outage; "
              f"all delivered {delivered_after:.1f} s after the kill; lost {len(lost)}, twice {len(twice)}")
        answers = event_answers(c, during.events)
        print(f"questions during the outage: {len(during.events)}, answered once: "
              f"{sum(1 for n in answers.values() if n == 1)}, twice: {sum(1 for n in answers.values() if n > 1)}")
        problems += [f"alert/answer {k} posted {n} times" for k, n in twice.items()]
        problems += [f"{k} recorded as sent but not in Slack" for k in lost]
        del a, b

        # 2. load across both replicas, with redeliveries and a database restart half-way
        c.start("a2")
        restarted: list[threading.Thread] = []

        def restart_database(n: int) -> None:
            if n == args.requests // 2 and not restarted:
                restarted.append(c.restart_database(down=args.db_down))

        report = asyncio.run(load(c, requests=args.requests, concurrency=50, during=restart_database))
        restarted[0].join()
        wait(lambda: len(event_answers(c, report.events)) == len(report.events), timeout=120,
             what="every mention to be answered")
        answers = event_answers(c, report.events)
        doubled = Counter(n for n in answers.values() if n > 1)
        print(f"requests: {report.sent} in {report.seconds:.1f} s ({report.per_second:.0f}/s over 2 replicas), "
              f"{len(report.events)} of them @mentions each redelivered to the other replica; "
              f"lost {len(report.lost)}, answered twice {sum(doubled.values())}, "
              f"'try again' during the database restart {report.try_again}, event deliveries answered "
              f"503 and delivered again {report.redelivered} "
              f"(PostgreSQL down {args.db_down:.0f} s)")
        problems += report.lost[:20]
        problems += [f"{n} mentions answered {times} times" for times, n in doubled.items()]
    if problems:
        print("PROBLEMS:\n  " + "\n  ".join(problems))
        return 1
    print("nothing lost, nothing doubled")
    return 0


if __name__ == "__main__":
    sys.exit(main())
