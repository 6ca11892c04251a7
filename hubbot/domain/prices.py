"""Cloud prices as estimates need them: what one node of each machine type costs an hour, and
what home storage costs a GiB-month, in one provider's region, as of when they were read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

PriceProvider = Literal["aws", "gcp", "jetstream2"]


@dataclass(frozen=True, slots=True)
class MachinePrice:
    """One machine type (an EC2 instance type, a GCE machine type, a JetStream2 flavour): its size
    and its on-demand price an hour (JetStream2: service units an hour, in ``currency`` SU)."""

    name: str
    cpu: Decimal  # vCPUs
    memory_gib: Decimal
    hourly: Decimal
    gpu: int = 0


@dataclass(frozen=True, slots=True)
class PriceTable:
    """The prices of one provider in one region. ``source`` says where they came from (the API, or
    a bundled snapshot); ``fetched_at`` when — replies state it as the price date."""

    provider: PriceProvider
    region: str
    currency: str  # ISO 4217, or SU (JetStream2 service units)
    machines: tuple[MachinePrice, ...]
    storage_gib_month: Decimal  # home-directory storage (EBS gp3, GCE balanced persistent disk, ...)
    fetched_at: datetime
    source: str

    def machine(self, name: str) -> MachinePrice | None:
        return next((m for m in self.machines if m.name == name), None)


def table_to_json(table: PriceTable) -> dict[str, object]:
    return {"provider": table.provider, "region": table.region, "currency": table.currency,
            "storage_gib_month": str(table.storage_gib_month), "fetched_at": table.fetched_at.isoformat(),
            "source": table.source,
            "machines": [{"name": m.name, "cpu": str(m.cpu), "memory_gib": str(m.memory_gib),
                          "hourly": str(m.hourly), "gpu": m.gpu} for m in table.machines]}


def table_from_json(data: dict[str, object]) -> PriceTable:
    """A table as :func:`table_to_json` wrote it; ValueError/KeyError/TypeError when it is not one."""
    machines = data["machines"]
    if not isinstance(machines, list):
        raise ValueError("machines is not a list")
    provider = str(data["provider"])
    if provider not in ("aws", "gcp", "jetstream2"):
        raise ValueError(f"unknown provider {provider!r}")
    fetched = datetime.fromisoformat(str(data["fetched_at"]))
    if fetched.tzinfo is None:
        raise ValueError("fetched_at needs a time zone")
    return PriceTable(
        provider=provider,  # type: ignore[arg-type]
        region=str(data["region"]), currency=str(data["currency"]),
        storage_gib_month=Decimal(str(data["storage_gib_month"])), fetched_at=fetched, source=str(data["source"]),
        machines=tuple(MachinePrice(name=str(m["name"]), cpu=Decimal(str(m["cpu"])),
                                    memory_gib=Decimal(str(m["memory_gib"])), hourly=Decimal(str(m["hourly"])),
                                    gpu=int(m.get("gpu", 0))) for m in machines))
