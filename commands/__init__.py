"""The ``/hub`` subcommands. :data:`ALL` is the explicit list the registry is built from."""

from __future__ import annotations

from commands.alerts import ALERTS
from commands.ask import ASK
from commands.ask import STATS as FAQ_STATS
from commands.audit import AUDIT
from commands.budget import SET as BUDGET_SET
from commands.budget import SHOW as BUDGET_SHOW
from commands.cost import COST
from commands.deploy import BINDER_DEPLOY, DEPLOY
from commands.help import HELP
from commands.hubs import HUBS
from commands.jobs import BINDER_STATUS, CANCEL, JOBS, LINK, STATUS
from commands.whoami import WHOAMI
from hubbot.pipeline.contract import CommandSpec

ALL: tuple[CommandSpec, ...] = (
    HELP, HUBS, WHOAMI, ASK, COST, BUDGET_SHOW, BUDGET_SET, ALERTS, FAQ_STATS, STATUS, DEPLOY, BINDER_DEPLOY,
    BINDER_STATUS, LINK, JOBS, CANCEL, AUDIT,
)

__all__ = ["ALL"]
