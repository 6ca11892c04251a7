"""An in-memory twin of a repository's pull requests (:class:`hubbot.ports.PullRequests`), held to
the GitHub adapter on its stand-in by ``tests/test_pulls_contract.py``. Tests and the demo play
GitHub's part with :meth:`push`, :meth:`set_check`, :meth:`add_review`, :meth:`close` and
:meth:`block`."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from hubbot.domain import CheckRun, PullRequest, PullStatus, Review, judge_checks, judge_reviews
from hubbot.errors import NotFound, UserError


@dataclass
class _Pull:
    pull: PullRequest
    reviews: list[Review] = field(default_factory=list)
    mergeable: bool = True


class MemoryPulls:
    """``branches`` maps each branch to its head commit; ``author`` is who opens pull requests
    (the token's account)."""

    def __init__(self, repository: str = "example-org/fleet", *, branches: Mapping[str, str] | None = None,
                 author: str = "hubbot") -> None:
        self.repository = repository
        self.author = author
        self._shas = (hashlib.sha1(f"{repository}#{n}".encode()).hexdigest() for n in itertools.count(1))  # noqa: S324
        self.branches: dict[str, str] = dict(branches) if branches is not None else {"main": next(self._shas)}
        self.checks: dict[str, dict[str, CheckRun]] = {}  # by commit, then name: the latest run of each
        self._pulls: dict[int, _Pull] = {}

    # -- GitHub's part ----------------------------------------------------------------------------

    def push(self, branch: str, sha: str | None = None) -> str:
        """Move ``branch`` (made if new) to ``sha``, or to a new commit; that commit. An open pull
        request of the branch follows it, as on GitHub."""
        self.branches[branch] = sha or next(self._shas)
        for entry in self._pulls.values():
            if entry.pull.state == "open" and entry.pull.head == branch:
                entry.pull = replace(entry.pull, head_sha=self.branches[branch])
        return self.branches[branch]

    def set_check(self, sha: str, name: str, *, status: str = "completed", conclusion: str | None = None) -> None:
        """Start, move on or finish the check run ``name`` on commit ``sha``."""
        self.checks.setdefault(sha, {})[name] = CheckRun(name=name, status=status, conclusion=conclusion)

    def add_review(self, number: int, user: str, state: str) -> None:
        """``user`` submits a review (APPROVED, CHANGES_REQUESTED, COMMENTED)."""
        self._get(number).reviews.append(Review(user=user, state=state))

    def close(self, number: int) -> None:
        """Someone closes the pull request without merging it."""
        entry = self._get(number)
        entry.pull = replace(entry.pull, state="closed")

    def block(self, number: int) -> None:
        """The pull request can no longer be merged (a conflict, a protection rule)."""
        self._get(number).mergeable = False

    # -- the port ---------------------------------------------------------------------------------

    async def open(self, *, head: str, base: str, title: str, body: str) -> PullRequest:
        for entry in self._pulls.values():
            if entry.pull.state == "open" and (entry.pull.head, entry.pull.base) == (head, base):
                return entry.pull
        refused = f"GitHub would not open a pull request of {head} into {base} in {self.repository}: "
        for end in (head, base):
            if end not in self.branches:
                raise UserError(refused + f"{'head' if end == head else 'base'} invalid")
        if self.branches[head] == self.branches[base]:
            raise UserError(refused + f"No commits between {base} and {head}")
        number = len(self._pulls) + 1
        pull = PullRequest(number=number, url=f"https://github.com/{self.repository}/pull/{number}", title=title,
                           head=head, base=base, head_sha=self.branches[head], state="open", merge_sha=None,
                           author=self.author, mergeable=True)
        self._pulls[number] = _Pull(pull)
        return pull

    async def status(self, number: int) -> PullStatus:
        entry = self._get(number)
        checks, failed = judge_checks(self.checks.get(entry.pull.head_sha, {}).values())
        review, reviewers = judge_reviews(entry.reviews)
        pull = replace(entry.pull, mergeable=entry.mergeable if entry.pull.state == "open" else None)
        return PullStatus(pull=pull, checks=checks, failed=failed, review=review, reviewers=reviewers)

    async def merge(self, number: int, *, sha: str | None = None) -> PullRequest:
        entry = self._get(number)
        refused = f"GitHub did not merge pull request #{number} in {self.repository}: "
        if entry.pull.state != "open" or not entry.mergeable:
            raise UserError(refused + "Pull Request is not mergeable")
        if sha is not None and sha != entry.pull.head_sha:
            raise UserError(refused + "Head branch was modified. Review and try the merge again.")
        merged = self.push(entry.pull.base)
        entry.pull = replace(entry.pull, state="merged", merge_sha=merged, mergeable=None)
        return entry.pull

    def _get(self, number: int) -> _Pull:
        try:
            return self._pulls[number]
        except KeyError:
            raise NotFound(f"no pull request #{number} in {self.repository}") from None
