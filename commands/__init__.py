"""The ``/hub`` subcommands. :data:`ALL` is the explicit list the registry is built from."""

from __future__ import annotations

from commands.alerts import ALERTS
from commands.ask import ASK
from commands.ask import STATS as FAQ_STATS
from commands.audit import AUDIT
from commands.budget import SET as BUDGET_SET
from commands.budget import SHOW as BUDGET_SHOW
from commands.cost import COST
from commands.help import HELP
from commands.hubs import HUBS
from commands.whoami import WHOAMI
from hubbot.chat import CommandSpec

ALL: tuple[CommandSpec, ...] = (
    HELP, HUBS, WHOAMI, ASK, COST, BUDGET_SHOW, BUDGET_SET, ALERTS, FAQ_STATS, AUDIT,
)

__all__ = ["ALL"]
