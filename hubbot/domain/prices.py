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
