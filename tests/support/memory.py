"""A dispatcher over the in-memory ports, for command and pipeline tests."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from commands import ALL
from hubbot.adapters.helm import HelmCli
from hubbot.adapters.kube import KubeClusters
from hubbot.adapters.memory import (
    FrozenClock,
    MemoryAuditLog,
    MemoryBudgets,
    MemoryCostLedger,
    MemoryEventLedger,
    MemoryHubApi,
    MemoryJobs,
    MemoryNamespaceQuotas,
    MemoryOutbox,
    MemoryOverlays,
    MemoryPendingActions,
    MemoryPriceCache,
    MemorySavedAnswers,
    MemoryServiceRequests,
    MemorySupportLog,
    MemoryUsageMetrics,
    RecordingNotifier,
    StaticDirectory,
    StaticHealth,
)
from hubbot.adapters.providers import knowledge_for
from hubbot.adapters.tasks import AsyncioBackground
from hubbot.fleet import Fleet, load_fleet
from hubbot.pipeline.contract import CommandSpec, Invocation, Registry, Reply
from hubbot.pipeline.dispatch import Dispatcher
from hubbot.ports import DeployPorts, Services, Ticketing
from hubbot.redact import Redactor
from tests.support.fleet import LEADER_B, LEADERS_B_GROUP


def dispatcher(fleet_file: Path, *, extra: tuple[CommandSpec, ...] = (), secrets: tuple[str, ...] = (),
               tickets: dict[str, Ticketing] | None = None) -> tuple[Dispatcher, MemoryAuditLog]:
    fleet: Fleet = load_fleet(fleet_file)
    audit = MemoryAuditLog()
    services = Services(audit=audit, clock=FrozenClock(), events=MemoryEventLedger(),
                        directory=StaticDirectory({LEADERS_B_GROUP: {LEADER_B}}), pending=MemoryPendingActions(),
                        ledger=MemoryCostLedger(), budgets=MemoryBudgets(), outbox=MemoryOutbox(),
                        notifier=RecordingNotifier(), support=MemorySupportLog(), saved_answers=MemorySavedAnswers(),
                        knowledge=knowledge_for(fleet),
                        tickets=tickets or {},
                        # every hub's API: users ana, bo and cy; a group "students" with ana
                        hub_apis={ref.qualified: MemoryHubApi(ref.qualified, users=("ana", "bo", "cy"),
                                                              groups={"students": ["ana"]}) for ref in fleet.hubs},
                        usage={name: MemoryUsageMetrics() for name in fleet.clusters}, overlays=MemoryOverlays(),
                        namespace_quotas=MemoryNamespaceQuotas([(r.cluster, r.hub.name) for r in fleet.hubs]),
                        price_cache=MemoryPriceCache(), requests=MemoryServiceRequests())
    # Deploys: jobs in memory, no helm executable and no cluster access (the test fleet has none).
    services = dataclasses.replace(services, deploys=DeployPorts(
        jobs=MemoryJobs(), helm=HelmCli(str(fleet_file.parent / "no-helm-here"), base=fleet.base),
        clusters=KubeClusters(fleet), health=StaticHealth(), background=AsyncioBackground()))
    d = Dispatcher(fleet=fleet, registry=Registry((*ALL, *extra)), services=services, redact=Redactor(secrets))
    return d, audit


async def run(d: Dispatcher, text: str, *, user: str, channel: str = "COPS00001") -> Reply:
    return await d.run(Invocation(user_id=user, channel_id=channel, text=text))


def buttons(reply: Reply) -> dict[str, tuple[str, str]]:
    """A reply's buttons by label: (action id, value)."""
    return {e["text"]["text"]: (e["action_id"], e["value"])
            for blk in reply.blocks if blk["type"] == "actions" for e in blk["elements"]}


async def click(d: Dispatcher, reply: Reply, label: str, *, user: str, channel: str = "CALPHA001") -> Reply:
    """Press the button labelled ``label`` on ``reply``, as ``user``."""
    action_id, value = buttons(reply)[label]
    return await d.run_action(Invocation(user_id=user, channel_id=channel, text=""), action_id=action_id, value=value)
