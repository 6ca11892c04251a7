"""Regenerate the demo fleet's cost files (hubbot/demo/costs-*.csv): two years of daily cost
per hub and service, with weekday rhythm, a slow rise, and the odd spike. Deterministic."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "hubbot" / "demo"
HUBS = {  # file -> hub -> (base daily cost, services)
    "costs-aws.csv": {"staging": (9, ("Amazon EC2", "Amazon EFS")),
                      "prod": (52, ("Amazon EC2", "Amazon EFS", "Amazon S3")), "": (8, ("Amazon EKS",))},
    "costs-gcp.csv": {"climate": (48, ("Compute Engine", "Cloud Filestore")),
                      "climate-binder": (21, ("Compute Engine", "Artifact Registry")), "": (6, ("Kubernetes Engine",))},
    "costs-js2.csv": {"class": (11, ("compute",))},
}


def main() -> None:
    rng = random.Random(20260101)  # noqa: S311 - demo data, not secrets
    start, end = date(2026, 1, 1), date(2028, 1, 1)
    for name, hubs in HUBS.items():
        lines = ["date,hub,amount,currency,service"]
        day = start
        while day < end:
            weekday = 0.7 if day.weekday() >= 5 else 1.0
            growth = 1 + (day - start).days / 2000
            for hub, (base, services) in hubs.items():
                spike = 4.0 if rng.random() < 0.01 else 1.0
                for i, service in enumerate(services):
                    share = 1.0 if len(services) == 1 else 0.6 if i == 0 else 0.4 / (len(services) - 1)
                    amount = base * share * weekday * growth * spike * rng.uniform(0.85, 1.15)
                    lines.append(f"{day.isoformat()},{hub},{Decimal(amount).quantize(Decimal('0.01'))},USD,{service}")
            day += timedelta(days=1)
        (OUT / name).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
