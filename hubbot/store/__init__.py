"""Persistent state in SQL (SQLite by default, PostgreSQL in production), migrated by Alembic."""

from hubbot.store.audit import SqlAuditLog
from hubbot.store.db import Database
from hubbot.store.events import SqlEventLedger
from hubbot.store.pending import SqlPendingActions

__all__ = ["Database", "SqlAuditLog", "SqlEventLedger", "SqlPendingActions"]
