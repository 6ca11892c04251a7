"""The seams the core calls out through, one module per capability; :class:`Services` bundles them
for handlers. Real adapters live in :mod:`hubbot.adapters` and :mod:`hubbot.store`. Every port the
store implements (audit, events, pending actions, jobs, the cost ledger, budgets, the outbox, the
support log) also has an in-memory twin in :mod:`hubbot.adapters.memory`, held to the same
contract tests on SQLite and PostgreSQL; the outside systems have local stand-ins in the tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from hubbot.metrics import Metrics
from hubbot.ports.backups import BackupSource
from hubbot.ports.changes import PullRequests
from hubbot.ports.core import AuditLog, Clock, Directory, EventLedger, Leadership, PendingActions
from hubbot.ports.costs import BillingCheck, BudgetMirror, BudgetPush, Budgets, CostLedger, CostSource, ForecastSource
from hubbot.ports.deploys import Background, Clusters, DeployPorts, HealthProbe, Helm, JobStore, LineSink
from hubbot.ports.hubs import HubApi
from hubbot.ports.outbox import Notifier, Outbox, Ticketing
from hubbot.ports.plans import PriceCache, PriceSource, ServiceRequests
from hubbot.ports.repository import FleetRepository, Proposals
from hubbot.ports.support import Knowledge, SavedAnswers, SupportLog
from hubbot.ports.usage import NamespaceQuotas, Overlays, UsageMetrics

__all__ = [
    "AuditLog",
    "Background",
    "BackupSource",
    "BillingCheck",
    "BudgetMirror",
    "BudgetPush",
    "Budgets",
    "Clock",
    "Clusters",
    "CostLedger",
    "CostSource",
    "DeployPorts",
    "Directory",
    "EventLedger",
    "FleetRepository",
    "ForecastSource",
    "HealthProbe",
    "Helm",
    "HubApi",
    "JobStore",
    "Knowledge",
    "Leadership",
    "LineSink",
    "NamespaceQuotas",
    "Notifier",
    "Outbox",
    "Overlays",
    "PendingActions",
    "PriceCache",
    "PriceSource",
    "Proposals",
    "PullRequests",
    "SavedAnswers",
    "ServiceRequests",
    "Services",
    "SupportLog",
    "Ticketing",
    "UsageMetrics"
]


@dataclass(frozen=True, slots=True)
class Services:
    """The ports a command or alert may use, bundled so handlers take one parameter."""

    audit: AuditLog
    clock: Clock
    events: EventLedger
    directory: Directory
    pending: PendingActions
    ledger: CostLedger
    budgets: Budgets
    outbox: Outbox
    notifier: Notifier
    sources: Mapping[str, CostSource] = field(default_factory=dict)
    mirrors: Mapping[str, BudgetMirror] = field(default_factory=dict)
    billing: Mapping[str, BillingCheck] = field(default_factory=dict)
    support: SupportLog | None = None
    saved_answers: SavedAnswers | None = None  # the support team's answers saved from Slack threads
    knowledge: Mapping[str, Knowledge] = field(default_factory=dict)  # by community; "" for the whole fleet
    tickets: Mapping[str, Ticketing] = field(default_factory=dict)  # by community; "" for the whole fleet
    deploys: DeployPorts | None = None
    hub_apis: Mapping[str, HubApi] = field(default_factory=dict)  # by hub (cluster/hub), where a token is set
    usage: Mapping[str, UsageMetrics] = field(default_factory=dict)  # by cluster, where a Prometheus is set
    namespace_quotas: NamespaceQuotas | None = None
    overlays: Overlays | None = None
    backups: Mapping[str, BackupSource] = field(default_factory=dict)  # by provider name
    pause: Callable[[float], Awaitable[None]] = asyncio.sleep  # how polling waits (tests pass their own)
    repository: FleetRepository | None = None  # where clusters and hubs come from, when a repository is used
    proposals: Proposals | None = None  # pull requests hubbot opened and follows
    pulls: PullRequests | None = None  # the fleet repository's pull requests (repository.changes: pull-request)
    prices: Mapping[str, PriceSource] = field(default_factory=dict)  # by provider: aws, gcp, jetstream2
    price_cache: PriceCache | None = None
    price_snapshots: Mapping[str, PriceSource] = field(default_factory=dict)  # dated tables, when nothing else has
    requests: ServiceRequests | None = None  # work asked for beyond the standard services
    metrics: Metrics = field(default_factory=Metrics)  # this app's own registry, served at /metrics
