"""One alert cycle: refresh costs, decide what is due, record it, send it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from alerts.backups import backup_alerts
from alerts.evaluate import billing_alerts, budget_alerts, digests, spike_alerts
from alerts.refresh import RefreshReport, refresh
from hubbot.domain import OutboxMessage
from hubbot.fleet import Fleet
from hubbot.outbox.delivery import LEASE_SECONDS, deliver
from hubbot.ports import Services


@dataclass
class CycleReport:
    at: datetime
    refresh: RefreshReport = field(default_factory=RefreshReport)
    recorded: list[OutboxMessage] = field(default_factory=list)
    sent: list[OutboxMessage] = field(default_factory=list)


async def run_cycle(services: Services, fleet: Fleet, *, at: datetime, worker: str,
                    fetch: bool = True, lease_seconds: int = LEASE_SECONDS) -> CycleReport:
    """Safe to run anywhere, any number of times, concurrently: each alert is recorded once
    (unique key) and sent once (claimed with a lease); unsent ones are retried next time."""
    report = CycleReport(at=at)
    if fetch:
        report.refresh = await refresh(services, fleet, at=at)
    due = [*await budget_alerts(services, fleet, at=at), *await spike_alerts(services, fleet, at=at),
           *await digests(services, fleet, at=at), *await billing_alerts(services, fleet, at=at),
           *await backup_alerts(services, fleet, at=at)]
    if due:
        report.recorded = await services.outbox.add(due)
        for message in report.recorded:
            basis = message.alert.basis.value if message.alert is not None else message.kind.value
            services.metrics.alerts_recorded.labels(basis).inc()
    report.sent = await deliver(services, fleet, at=at, worker=worker, lease_seconds=lease_seconds)
    return report
