"""An in-memory twin of a hub's API (:class:`hubbot.ports.HubApi`), held to the real JupyterHub's
behaviour by ``tests/test_hub_api_contract.py``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from hubbot.domain import HubGroup, HubUser
from hubbot.errors import NotFound, UserError


class MemoryHubApi:
    def __init__(self, hub: str, *, users: Iterable[str] = (), groups: dict[str, Iterable[str]] | None = None,
                 activity: Mapping[str, datetime] | None = None, running: Iterable[str] = ()) -> None:
        self.hub = hub
        self.names = set(users)
        self.activity = dict(activity or {})
        self.running = set(running)
        self._groups: dict[str, set[str]] = {g: set(members) for g, members in (groups or {}).items()}

    async def groups(self) -> list[HubGroup]:
        return [self._view(name) for name in sorted(self._groups)]

    async def group(self, name: str) -> HubGroup:
        self._known(name)
        return self._view(name)

    async def create_group(self, name: str) -> HubGroup:
        if name in self._groups:
            raise UserError(f"{self.hub} already has a group '{name}'")
        self._groups[name] = set()
        return self._view(name)

    async def delete_group(self, name: str) -> None:
        self._known(name)
        del self._groups[name]

    async def add_users(self, group: str, users: Sequence[str]) -> HubGroup:
        self._known(group)
        self._users(users)
        self._groups[group] |= set(users)
        return self._view(group)

    async def remove_users(self, group: str, users: Sequence[str]) -> HubGroup:
        self._known(group)
        self._users(users)
        self._groups[group] -= set(users)
        return self._view(group)

    async def users(self) -> list[HubUser]:
        member_of: dict[str, list[str]] = {}
        for group in sorted(self._groups):
            for user in self._groups[group]:
                member_of.setdefault(user, []).append(group)
        return [HubUser(name=name, groups=tuple(member_of.get(name, ())), last_activity=self.activity.get(name),
                        server=name in self.running) for name in sorted(self.names)]

    async def active_count(self) -> int:
        return len(self.running & self.names)

    def _known(self, name: str) -> None:
        if name not in self._groups:
            raise NotFound(f"{self.hub} has no group '{name}' (/hub group list {self.hub} shows them)")

    def _users(self, users: Sequence[str]) -> None:
        unknown = [u for u in users if u not in self.names]
        if unknown:
            raise NotFound(f"{self.hub} has no user '{unknown[0][:80]}': nothing was changed (users appear once "
                           "they have signed in, or an admin adds them)")

    def _view(self, name: str) -> HubGroup:
        return HubGroup(name=name, users=tuple(sorted(self._groups[name])))
