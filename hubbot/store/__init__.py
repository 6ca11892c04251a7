"""Persistent state in SQL (SQLite by default, PostgreSQL in production), migrated by Alembic."""

from hubbot.store.audit import SqlAuditLog
from hubbot.store.budgets import SqlBudgets
from hubbot.store.costs import SqlCostLedger
from hubbot.store.db import Database
from hubbot.store.events import SqlEventLedger
from hubbot.store.jobs import SqlJobs
from hubbot.store.outbox import SqlOutbox
from hubbot.store.overlays import SqlOverlays
from hubbot.store.pending import SqlPendingActions
from hubbot.store.plans import SqlPriceCache, SqlServiceRequests
from hubbot.store.proposals import SqlProposals
from hubbot.store.support import SqlSavedAnswers, SqlSupportLog

__all__ = [
    "Database",
    "SqlAuditLog",
    "SqlBudgets",
    "SqlCostLedger",
    "SqlEventLedger",
    "SqlJobs",
    "SqlOutbox",
    "SqlOverlays",
    "SqlPendingActions",
    "SqlPriceCache",
    "SqlProposals",
    "SqlSavedAnswers",
    "SqlServiceRequests",
    "SqlSupportLog",
]
