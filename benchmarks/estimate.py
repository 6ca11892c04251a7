"""``/hub estimate`` through the dispatcher, against the same dispatcher answering ``/hub whoami``
(what any command costs: parsing, roles, the audit write) side by side in the same run, with the
prices already at hand (JetStream2's table kept, AWS and GCP from the demo's snapshot, read once). Also the
estimate's own arithmetic over every candidate node, alone.

    python benchmarks/estimate.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEMO = Path(__file__).resolve().parents[1] / "hubbot" / "demo"
REPEAT = 200


async def main(rounds: int) -> None:
    from hubbot.adapters.memory import MemoryPriceCache
    from hubbot.adapters.plan_prices import Jetstream2Prices, SnapshotPrices
    from hubbot.domain.prices import PriceTable
    from hubbot.pipeline.contract import Invocation
    from hubbot.plans.estimate import Ask, estimate
    from tests.support.memory import dispatcher

    with tempfile.TemporaryDirectory() as tmp:
        fleet = Path(tmp) / "fleet.yaml"
        fleet.write_text((DEMO / "fleet.yaml").read_text())
        for name in ("prices.json", "costs-aws.csv", "costs-gcp.csv", "costs-js2.csv", "hubs.yaml"):
            (Path(tmp) / name).write_text((DEMO / name).read_text())
        d, _ = dispatcher(fleet)
        cache = MemoryPriceCache()
        d.services = dataclasses.replace(
            d.services, prices={"jetstream2": Jetstream2Prices()}, price_cache=cache,
            price_snapshots={p: SnapshotPrices(Path(tmp) / "prices.json", p) for p in ("aws", "gcp")})

        async def ask(text: str) -> float:
            started = time.perf_counter()
            for _ in range(REPEAT):
                reply = await d.run(Invocation(user_id="UDEMOENG01", channel_id="CDEMOOPS01", text=text))
                assert reply.kind == "ok", reply.text
            return (time.perf_counter() - started) / REPEAT

        await ask("estimate users=300 --compare")  # warm: every table read once
        single, compare, bare = [], [], []
        for _ in range(rounds):
            single.append(await ask("estimate users=100 tier=essentials"))
            compare.append(await ask("estimate users=300 size=large --compare"))
            bare.append(await ask("whoami"))
        s, c, w = statistics.median(single), statistics.median(compare), statistics.median(bare)
        print(f"/hub estimate: {s * 1e3:.2f} ms; --compare: {c * 1e3:.2f} ms; /hub whoami: {w * 1e3:.2f} ms "
              f"— ratios {s / w:.2f} and {c / w:.2f}")
        table = await SnapshotPrices(Path(tmp) / "prices.json", "aws").table("us-west-2", machines=[])
        assert isinstance(table, PriceTable)
        one = Ask(users=100, hours=Decimal(20), cpu=Decimal("0.5"), memory_gib=Decimal(2), storage_gib=Decimal(10),
                  size="small")
        started = time.perf_counter()
        for _ in range(10_000):
            estimate(one, table, core_machine="m6i.large")
        print(f"the arithmetic alone: {(time.perf_counter() - started) / 10_000 * 1e6:.1f} µs an estimate "
              f"over {len(table.machines)} node types")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    asyncio.run(main(parser.parse_args().rounds))
