"""A community's monthly cloud cost and service fee, estimated from a few numbers.

Every user's server is guaranteed ``cpu`` cores and ``memory``; a node gives servers what is left
after Kubernetes' own share (:data:`ALLOCATABLE` of its CPU and memory), so a node holds as many
servers as the tighter of the two allows. The node type is the one of the provider's candidates
whose hour costs least per server it holds (the smaller on a tie). Users' servers run ``hours`` a
month each; node-hours are the server-hours over the servers a node holds (nodes packed full, as
the cluster autoscaler packs them when users come and go in numbers). Home storage is
``storage_gib`` per user at the provider's GiB-month price; one always-on core node runs the hub,
the proxy and the home storage server all month. The range runs the servers half as long (low) and
half as long again (high): storage, the core node and the fee stay as they are."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from hubbot.domain.prices import MachinePrice, PriceTable
from hubbot.errors import UsageError
from hubbot.fleet.menu import TierConfig
from hubbot.plans.fees import monthly_fee

HOURS_A_MONTH = Decimal(730)
ALLOCATABLE = Decimal("0.9")  # of a node's CPU and memory, after the kubelet's and system pods' share
LOW, HIGH = Decimal("0.5"), Decimal("1.5")


@dataclass(frozen=True, slots=True)
class Ask:
    users: int
    hours: Decimal  # server hours per user per month
    cpu: Decimal
    memory_gib: Decimal
    storage_gib: Decimal
    size: str  # how the size was given: a size's name, or cpu=… memory=…
    tier: TierConfig | None = None


@dataclass(frozen=True, slots=True)
class Estimate:
    ask: Ask
    table: PriceTable
    node: MachinePrice
    per_node: int  # servers a node holds
    node_hours: Decimal
    compute: Decimal  # in the table's currency
    storage: Decimal
    core: MachinePrice
    core_cost: Decimal
    fee: Decimal  # in the menu's currency
    low_compute: Decimal
    high_compute: Decimal

    @property
    def cloud(self) -> Decimal:
        return self.compute + self.storage + self.core_cost

    @property
    def cloud_low(self) -> Decimal:
        return self.low_compute + self.storage + self.core_cost

    @property
    def cloud_high(self) -> Decimal:
        return self.high_compute + self.storage + self.core_cost


def servers_per_node(machine: MachinePrice, *, cpu: Decimal, memory_gib: Decimal) -> int:
    by_cpu = (machine.cpu * ALLOCATABLE / cpu).to_integral_value(ROUND_FLOOR)
    by_memory = (machine.memory_gib * ALLOCATABLE / memory_gib).to_integral_value(ROUND_FLOOR)
    return int(min(by_cpu, by_memory))


def choose_node(machines: tuple[MachinePrice, ...], *, cpu: Decimal, memory_gib: Decimal) -> tuple[MachinePrice, int]:
    """The machine whose hour costs least per server it holds (the smaller on a tie)."""
    fitting = [(m.hourly / n, m.cpu, m.memory_gib, m.name, m, n) for m in machines
               if (n := servers_per_node(m, cpu=cpu, memory_gib=memory_gib)) > 0]
    if not fitting:
        largest = max(machines, key=lambda m: (m.cpu, m.memory_gib), default=None)
        shown = f" (the largest, {largest.name}, has {largest.cpu} CPU and {largest.memory_gib} GiB)" if largest else ""
        raise UsageError(f"a server of {cpu} CPU and {memory_gib} GiB fits on none of the node types priced here"
                         f"{shown}; ask for a smaller size")
    best = min(fitting, key=lambda f: (f[0], f[1], f[2], f[3]))
    return best[4], best[5]


def estimate(ask: Ask, table: PriceTable, *, core_machine: str) -> Estimate:
    node, per_node = choose_node(table.machines, cpu=ask.cpu, memory_gib=ask.memory_gib)
    core = table.machine(core_machine)
    if core is None:
        raise UsageError(f"the core node type {core_machine} has no price in {table.provider} {table.region}")

    def compute(factor: Decimal) -> tuple[Decimal, Decimal]:
        node_hours = ask.users * ask.hours * factor / per_node
        return node_hours, node_hours * node.hourly

    node_hours, expected = compute(Decimal(1))
    return Estimate(
        ask=ask, table=table, node=node, per_node=per_node, node_hours=node_hours, compute=expected,
        storage=ask.users * ask.storage_gib * table.storage_gib_month, core=core,
        core_cost=HOURS_A_MONTH * core.hourly, fee=monthly_fee(ask.tier, ask.users) if ask.tier else Decimal(0),
        low_compute=compute(LOW)[1], high_compute=compute(HIGH)[1])
