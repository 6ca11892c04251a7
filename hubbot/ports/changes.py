"""Where a change asked for in chat becomes a pull request, and how hubbot follows it until it is
merged or closed (the branch and its commit are made before, with git)."""

from __future__ import annotations

from typing import Protocol

from hubbot.domain import PullRequest, PullStatus


class PullRequests(Protocol):
    """The pull requests of one repository (the fleet's configuration). An unknown pull request
    or repository raises :class:`hubbot.errors.NotFound`; a request the host refuses (no commits
    between the branches, not mergeable, a token without the permission)
    :class:`hubbot.errors.UserError` with the reason; a host that cannot be reached, fails or
    rate-limits hubbot :class:`hubbot.errors.UpstreamError`, with ``retry_after`` when known."""

    async def open(self, *, head: str, base: str, title: str, body: str) -> PullRequest:
        """Open a pull request of branch ``head`` into ``base``. If one is open already for the
        same two branches, that one is returned as it is (title and body unchanged)."""
        ...

    async def status(self, number: int) -> PullStatus:
        """The pull request, its head commit's check runs and its reviews, now."""
        ...

    async def merge(self, number: int, *, sha: str | None = None) -> PullRequest:
        """Merge the pull request (only if its head is still ``sha``, when given); it, merged."""
        ...
