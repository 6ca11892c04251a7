"""The fleet repository port: the fleet as a git repository describes it at a commit, and change
branches pushed for pull requests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from hubbot.domain.proposals import Proposal
from hubbot.fleet import Fleet


class FleetRepository(Protocol):
    """The repository hubbot reads clusters and hubs from (``repository:`` in its file)."""

    @property
    def branch(self) -> str:
        """The branch deploys come from (``main`` unless configured)."""
        ...

    @property
    def head(self) -> Fleet:
        """The fleet at the branch's commit as last fetched."""
        ...

    async def refresh(self) -> Fleet:
        """Fetch, and read the branch's commit again; the fleet at it."""
        ...

    async def at(self, ref: str) -> Fleet:
        """The fleet at a branch, tag or commit (fetched first when not known yet); raises
        :class:`hubbot.errors.NotFound` naming the closest branch when there is no such ref."""
        ...

    async def subject(self, commit: str) -> str:
        """The first line of a commit's message."""
        ...

    async def read(self, commit: str, path: str) -> str | None:
        """A file's text at ``commit`` (None when it does not exist there)."""
        ...

    async def propose(self, *, base: str, branch: str, files: Mapping[str, str], message: str,
                      author: tuple[str, str]) -> str:
        """Commit ``files`` (path -> new text) on ``base`` as the new branch ``branch`` and push it;
        the new commit. Never writes to the deploy branch."""
        ...


class Proposals(Protocol):
    """The pull requests hubbot opened and follows, kept so any replica can report on them."""

    async def add(self, proposal: Proposal) -> Proposal:
        """Store a new one; with its id."""
        ...

    async def following(self) -> list[Proposal]:
        """Those still open, oldest first."""
        ...

    async def update(self, proposal_id: int, **changes: Any) -> Proposal: ...

    async def recent(self, *, communities: Sequence[str] | None, limit: int) -> list[Proposal]:
        """Newest first (None: every community's, and hubs of no community)."""
        ...
