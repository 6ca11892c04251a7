"""The ``/hub`` subcommands. :data:`ALL` is the explicit list the registry is built from."""

from __future__ import annotations

from commands.audit import AUDIT
from commands.help import HELP
from commands.hubs import HUBS
from commands.whoami import WHOAMI
from hubbot.chat import CommandSpec

ALL: tuple[CommandSpec, ...] = (HELP, HUBS, WHOAMI, AUDIT)

__all__ = ["ALL"]
