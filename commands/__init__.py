"""The ``/hub`` subcommands. :data:`ALL` is the explicit list the registry is built from; it is
this package's only public name.

One module per top-level subcommand (``help``, ``hubs``, ``whoami``, ``ask``, ``faq`` (saved answers in
:mod:`commands.answers`), ``cost``, ``budget``, ``alerts``, ``status``, ``deploy``, ``binder``, ``link``,
``book``, ``jobs``, ``cancel``, ``audit``, ``group``,
``usage``, ``quota``, ``backup``); the ``binder ...`` group shares :mod:`commands.binder`, the deploy's Roll back
button is :mod:`commands.rollback`, and :mod:`commands.target` holds what several of them say about
the hub they act on.
"""

from __future__ import annotations

from commands.alerts import ALERTS
from commands.answers import EDIT as FAQ_EDIT
from commands.answers import ENTRIES as FAQ_ENTRIES
from commands.answers import RESTORE as FAQ_RESTORE
from commands.answers import RETIRE as FAQ_RETIRE
from commands.answers import UNLEARN as FAQ_UNLEARN
from commands.ask import ASK
from commands.audit import AUDIT
from commands.backup import LIST as BACKUP_LIST
from commands.backup import NOW as BACKUP_NOW
from commands.backup import RESTORE_PLAN as BACKUP_RESTORE_PLAN
from commands.backup import STATUS as BACKUP_STATUS
from commands.binder import BINDER_DEPLOY, BINDER_STATUS
from commands.book import BOOK
from commands.budget import SET as BUDGET_SET
from commands.budget import SHOW as BUDGET_SHOW
from commands.cancel import CANCEL
from commands.cost import COST
from commands.deploy import DEPLOY
from commands.faq import STATS as FAQ_STATS
from commands.group import ADD as GROUP_ADD
from commands.group import CREATE as GROUP_CREATE
from commands.group import DELETE as GROUP_DELETE
from commands.group import LIST as GROUP_LIST
from commands.group import REMOVE as GROUP_REMOVE
from commands.group import SHOW as GROUP_SHOW
from commands.help import HELP
from commands.hubs import HUBS
from commands.jobs import JOBS
from commands.link import LINK
from commands.plans import ESTIMATE, PLANS
from commands.quota import DIFF as QUOTA_DIFF
from commands.quota import RESET as QUOTA_RESET
from commands.quota import SET as QUOTA_SET
from commands.quota import SHOW as QUOTA_SHOW
from commands.request import REQUEST, REQUESTS
from commands.status import STATUS
from commands.usage import USAGE
from commands.whoami import WHOAMI
from hubbot.pipeline.contract import CommandSpec

ALL: tuple[CommandSpec, ...] = (
    HELP, HUBS, WHOAMI, ASK, COST, BUDGET_SHOW, BUDGET_SET, ALERTS, FAQ_STATS, FAQ_ENTRIES, FAQ_EDIT, FAQ_RETIRE,
    FAQ_RESTORE, FAQ_UNLEARN, STATUS, DEPLOY, BINDER_DEPLOY,
    BINDER_STATUS, LINK, JOBS, CANCEL, AUDIT, GROUP_LIST, GROUP_SHOW, GROUP_CREATE, GROUP_DELETE, GROUP_ADD,
    GROUP_REMOVE, USAGE, QUOTA_SHOW, QUOTA_SET, QUOTA_RESET, QUOTA_DIFF, BACKUP_NOW, BACKUP_LIST, BACKUP_STATUS,
    BACKUP_RESTORE_PLAN, PLANS, ESTIMATE, REQUEST, REQUESTS, BOOK,
)

__all__ = ["ALL"]
