"""Plain values shared by the core, the store and the transports (no behaviour beyond small
properties, no imports from the rest of hubbot). Import them from here."""

from hubbot.domain.audit import AuditEntry, Outcome, PendingAction
from hubbot.domain.costs import (
    CENT,
    READING_HISTORY_DAYS,
    Budget,
    CostBatch,
    CostKind,
    CostLine,
    CostReading,
    LedgerLine,
    PeriodSpend,
    ProviderStatus,
    main_currency,
    money,
)
from hubbot.domain.deploys import (
    JOB_LOG_CHARS,
    JOB_RESULT_CHARS,
    Health,
    HubLock,
    Job,
    JobKind,
    JobState,
    KubeTarget,
    PodCount,
    ReleaseInfo,
    ReleasePlan,
    Workload,
)
from hubbot.domain.hubs import HubGroup
from hubbot.domain.outbox import Alert, Basis, Block, DeliveryState, OutboxKind, OutboxMessage, Post, Ticket
from hubbot.domain.support import Answer, Citation, SupportQuestion, SupportStats
from hubbot.domain.usage import ComputeUse, DailyActive, HomeUse, HubUser, NamespaceQuota, Overlay, home_folder

__all__ = [
    "CENT", "JOB_LOG_CHARS", "JOB_RESULT_CHARS", "READING_HISTORY_DAYS", "Alert", "Answer", "AuditEntry", "Basis",
    "Block", "Budget", "Citation", "ComputeUse", "CostBatch", "CostKind", "CostLine", "CostReading", "DailyActive",
    "DeliveryState", "Health", "HomeUse", "HubGroup", "HubLock", "HubUser", "Job", "JobKind", "JobState",
    "KubeTarget", "LedgerLine", "NamespaceQuota", "OutboxKind", "OutboxMessage", "Outcome", "Overlay",
    "PendingAction", "PeriodSpend", "PodCount", "Post", "ProviderStatus", "ReleaseInfo", "ReleasePlan",
    "SupportQuestion", "SupportStats", "Ticket", "Workload", "home_folder", "main_currency", "money",
]
