"""The fleet of a git repository (:class:`hubbot.ports.FleetRepository`): hubbot's own file joined
with the repository's clusters and hubs, read at one commit from a :class:`GitMirror`."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path

from hubbot.adapters.git import GitMirror
from hubbot.errors import NotFound
from hubbot.fleet import Fleet, FleetConfig
from hubbot.fleet.compose import fleet_at

CACHED_FLEETS = 8


class GitFleet:
    """Reads the fleet at commits of ``mirror``; :meth:`open` fetches and reads the branch head."""

    def __init__(self, config: FleetConfig, mirror: GitMirror, *, source: str) -> None:
        self.config = config
        self.mirror = mirror
        self.source = source
        self._fleets: OrderedDict[str, Fleet] = OrderedDict()
        self._head: Fleet | None = None
        self.on_new_head: Callable[[Fleet], None] | None = None  # told when a fetch finds a new commit

    @classmethod
    async def open(cls, config: FleetConfig, mirror: GitMirror, *, source: str) -> GitFleet:
        found = cls(config, mirror, source=source)
        await found.refresh()
        return found

    @property
    def branch(self) -> str:
        return self.mirror.branch

    @property
    def head(self) -> Fleet:
        if self._head is None:
            raise RuntimeError("the fleet repository has not been read yet (GitFleet.open reads it)")
        return self._head

    async def refresh(self) -> Fleet:
        commit = await self.mirror.fetch()
        fleet = await self._fleet(commit)
        moved = self._head is not None and fleet is not self._head
        self._head = fleet
        if moved and self.on_new_head is not None:
            self.on_new_head(fleet)
        return fleet

    async def at(self, ref: str) -> Fleet:
        try:
            commit = await self.mirror.resolve(ref)
        except NotFound:
            await self.mirror.fetch()  # a branch pushed since the last fetch
            commit = await self.mirror.resolve(ref)
        return await self._fleet(commit)

    async def subject(self, commit: str) -> str:
        return await self.mirror.subject(commit)

    async def read(self, commit: str, path: str) -> str | None:
        file = (await self.mirror.tree(commit)) / path
        try:
            return await asyncio.to_thread(file.read_text, encoding="utf-8")
        except (FileNotFoundError, IsADirectoryError):
            return None

    async def propose(self, *, base: str, branch: str, files: Mapping[str, str], message: str,
                      author: tuple[str, str]) -> str:
        return await self.mirror.propose(base=base, branch=branch, files=files, message=message, author=author)

    async def _fleet(self, commit: str) -> Fleet:
        found = self._fleets.get(commit)
        if found is not None:
            self._fleets.move_to_end(commit)
            return found
        root: Path = await self.mirror.tree(commit)
        fleet = await asyncio.to_thread(fleet_at, self.config, root, commit=commit, source=self.source)
        self._fleets[commit] = fleet
        while len(self._fleets) > CACHED_FLEETS:
            self._fleets.popitem(last=False)
        return fleet
