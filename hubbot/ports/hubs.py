"""A hub's own REST API (JupyterHub's ``/hub/api``): groups and their members, and its users."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from hubbot.domain import HubGroup, HubUser


class HubApi(Protocol):
    """One hub's API, as hubbot's service token may use it. Unknown groups and users raise
    :class:`hubbot.errors.NotFound`, a group that exists already :class:`hubbot.errors.UserError`
    (nothing changed in either case); a hub that cannot be reached, or refuses the token,
    :class:`hubbot.errors.UpstreamError` saying what to fix."""

    async def groups(self) -> list[HubGroup]:
        """Every group, by name."""
        ...

    async def group(self, name: str) -> HubGroup: ...

    async def create_group(self, name: str) -> HubGroup: ...

    async def delete_group(self, name: str) -> None: ...

    async def add_users(self, group: str, users: Sequence[str]) -> HubGroup:
        """Add ``users`` (all of them, or none: an unknown one changes nothing); the group as it is now."""
        ...

    async def remove_users(self, group: str, users: Sequence[str]) -> HubGroup: ...

    async def users(self) -> list[HubUser]:
        """Every user, by name, with their groups and last activity."""
        ...

    async def active_count(self) -> int:
        """How many users have a server running or starting now."""
        ...
