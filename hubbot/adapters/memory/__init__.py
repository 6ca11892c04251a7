"""In-memory twins of the ports, for command tests and the demo. Contract tests hold each twin
of a SQL store to that store's behaviour on SQLite and PostgreSQL:

- ``tests/test_store.py``: audit log, event ledger, pending actions
- ``tests/test_jobs_store.py``: deploy jobs
- ``tests/test_ledger_contract.py``: the cost ledger
- ``tests/test_outbox_contract.py``: the outbox
- ``tests/test_budgets_support_contract.py``: budgets and the support log

and the twins of outside systems to the real ones: ``tests/test_hub_api_contract.py``, a hub's
API against a real JupyterHub; ``tests/test_namespace_quota_contract.py``, a namespace's
ResourceQuotas against a real Kubernetes API server; ``tests/test_pulls_contract.py``, a
repository's pull requests against the GitHub adapter on a stand-in of GitHub's REST API;
``tests/test_prices.py``, cloud prices against the AWS Price List and Cloud Billing Catalog adapters.
"""

from hubbot.adapters.memory.audit import MemoryAuditLog
from hubbot.adapters.memory.backups import MemoryBackups
from hubbot.adapters.memory.budgets import MemoryBudgets
from hubbot.adapters.memory.clock import FrozenClock
from hubbot.adapters.memory.costs import MemoryCostLedger
from hubbot.adapters.memory.directory import StaticDirectory
from hubbot.adapters.memory.events import MemoryEventLedger
from hubbot.adapters.memory.health import StaticHealth
from hubbot.adapters.memory.hubs import MemoryHubApi
from hubbot.adapters.memory.jobs import MemoryJobs
from hubbot.adapters.memory.leadership import LeaderLock, MemoryLeadership
from hubbot.adapters.memory.notify import RecordingNotifier
from hubbot.adapters.memory.outbox import MemoryOutbox
from hubbot.adapters.memory.pending import MemoryPendingActions
from hubbot.adapters.memory.plans import MemoryPriceCache, MemoryServiceRequests
from hubbot.adapters.memory.prices import MemoryPrices
from hubbot.adapters.memory.proposals import MemoryProposals
from hubbot.adapters.memory.pulls import MemoryPulls
from hubbot.adapters.memory.quotas import MemoryNamespaceQuotas
from hubbot.adapters.memory.support import MemorySavedAnswers, MemorySupportLog
from hubbot.adapters.memory.usage import MemoryOverlays, MemoryUsageMetrics, ServerRun

__all__ = [
    "FrozenClock",
    "LeaderLock",
    "MemoryAuditLog",
    "MemoryBackups",
    "MemoryBudgets",
    "MemoryCostLedger",
    "MemoryEventLedger",
    "MemoryHubApi",
    "MemoryJobs",
    "MemoryLeadership",
    "MemoryNamespaceQuotas",
    "MemoryOutbox",
    "MemoryOverlays",
    "MemoryPendingActions",
    "MemoryPriceCache",
    "MemoryPrices",
    "MemoryProposals",
    "MemoryPulls",
    "MemorySavedAnswers",
    "MemoryServiceRequests",
    "MemorySupportLog",
    "MemoryUsageMetrics",
    "RecordingNotifier",
    "ServerRun",
    "StaticDirectory",
    "StaticHealth",
]
