"""What every :class:`hubbot.ports.PullRequests` does, written once and run against the in-memory
twin and against the GitHub adapter on its stand-in (``tests/test_pulls_contract.py``), so the
twin the commands are tested with cannot drift from GitHub.

A test module provides a ``backend`` fixture and re-exports the cases::

    from tests.support.pulls_contract import *  # noqa: F403  (the shared cases)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import pytest

from hubbot.errors import NotFound, UserError
from hubbot.ports import PullRequests


class Scene(Protocol):
    """GitHub's part: what people and CI do to the repository while hubbot follows it."""

    def push(self, branch: str, sha: str | None = None) -> str:
        """Move ``branch`` (made if new) to ``sha`` or a new commit; that commit."""
        ...

    def set_check(self, sha: str, name: str, *, status: str = "completed", conclusion: str | None = None) -> None:
        """A run of check ``name`` on ``sha``, now the latest of its name."""
        ...

    def add_review(self, number: int, user: str, state: str) -> None: ...

    def close(self, number: int) -> None: ...

    def block(self, number: int) -> None:
        """The pull request can no longer be merged (a conflict)."""
        ...


@dataclass
class Backend:
    pulls: PullRequests
    scene: Scene
    repository: str  # owner/name
    author: str  # whose token opens the pull requests


async def _opened(backend: Backend, branch: str = "hub-staging-quota") -> tuple[int, str]:
    sha = backend.scene.push(branch)
    pull = await backend.pulls.open(head=branch, base="main", title=f"Change {branch}", body="Asked for in Slack")
    return pull.number, sha


async def test_a_pull_request_opens_with_nothing_checked_or_reviewed(backend: Backend) -> None:
    sha = backend.scene.push("hub-staging-quota")
    pull = await backend.pulls.open(head="hub-staging-quota", base="main", title="Raise staging's quota",
                                    body="Asked for by @ana in #ops")
    assert (pull.title, pull.head, pull.base, pull.head_sha, pull.state) == (
        "Raise staging's quota", "hub-staging-quota", "main", sha, "open")
    assert pull.merge_sha is None and pull.author == backend.author
    assert pull.url == f"https://github.com/{backend.repository}/pull/{pull.number}"
    status = await backend.pulls.status(pull.number)
    assert status.pull == pull
    assert (status.checks, status.failed, status.review, status.reviewers) == ("none", (), "none", ())


async def test_opening_the_same_branches_again_answers_the_open_pull_request(backend: Backend) -> None:
    number, _ = await _opened(backend)
    again = await backend.pulls.open(head="hub-staging-quota", base="main", title="Another title", body="")
    assert again.number == number and again.title == "Change hub-staging-quota"
    other, _ = await _opened(backend, "chart-4.1.0")
    assert other != number


async def test_a_branch_without_changes_or_missing_is_refused(backend: Backend) -> None:
    backend.scene.push("no-change", backend.scene.push("main"))
    with pytest.raises(UserError, match="No commits between main and no-change"):
        await backend.pulls.open(head="no-change", base="main", title="t", body="")
    with pytest.raises(UserError, match="head invalid"):
        await backend.pulls.open(head="never-pushed", base="main", title="t", body="")


async def test_check_runs_go_from_pending_to_failure_and_after_a_rerun_to_success(backend: Backend) -> None:
    number, sha = await _opened(backend)
    backend.scene.set_check(sha, "lint", status="in_progress")
    backend.scene.set_check(sha, "helm-template", status="queued")
    assert (await backend.pulls.status(number)).checks == "pending"
    backend.scene.set_check(sha, "lint", conclusion="failure")
    early = await backend.pulls.status(number)
    assert (early.checks, early.failed) == ("pending", ("lint",))  # a failure shows before the rest finish
    backend.scene.set_check(sha, "helm-template", conclusion="timed_out")
    failed = await backend.pulls.status(number)
    assert (failed.checks, failed.failed) == ("failure", ("helm-template", "lint"))
    backend.scene.set_check(sha, "lint", conclusion="success")  # a rerun
    backend.scene.set_check(sha, "helm-template", conclusion="success")
    assert (await backend.pulls.status(number)).checks == "success"


@pytest.mark.parametrize(("conclusion", "checks"), [
    ("success", "success"), ("neutral", "success"), ("skipped", "success"), ("failure", "failure"),
    ("timed_out", "failure"), ("cancelled", "failure"), ("action_required", "failure"),
    ("startup_failure", "failure")])
async def test_each_conclusion_counts_as_github_means_it(backend: Backend, conclusion: str, checks: str) -> None:
    number, sha = await _opened(backend)
    backend.scene.set_check(sha, "validate", conclusion=conclusion)
    status = await backend.pulls.status(number)
    assert status.checks == checks and status.failed == (("validate",) if checks == "failure" else ())


async def test_checks_follow_the_head_commit(backend: Backend) -> None:
    number, sha = await _opened(backend)
    backend.scene.set_check(sha, "lint", conclusion="failure")
    new = backend.scene.push("hub-staging-quota")
    status = await backend.pulls.status(number)
    assert status.pull.head_sha == new and status.checks == "none"


async def test_each_reviewers_latest_decision_counts(backend: Backend) -> None:
    number, _ = await _opened(backend)
    backend.scene.add_review(number, "ana", "APPROVED")
    assert ((s := await backend.pulls.status(number)).review, s.reviewers) == ("approved", ("ana",))
    backend.scene.add_review(number, "bo", "CHANGES_REQUESTED")
    assert ((s := await backend.pulls.status(number)).review, s.reviewers) == ("changes_requested", ("bo",))
    backend.scene.add_review(number, "bo", "COMMENTED")  # a comment does not lift the request
    assert (await backend.pulls.status(number)).review == "changes_requested"
    backend.scene.add_review(number, "bo", "APPROVED")
    assert ((s := await backend.pulls.status(number)).review, s.reviewers) == ("approved", ("ana", "bo"))


async def test_a_comment_alone_is_no_review(backend: Backend) -> None:
    number, _ = await _opened(backend)
    backend.scene.add_review(number, "ana", "COMMENTED")
    assert (await backend.pulls.status(number)).review == "none"


async def test_a_merged_pull_request_says_so_with_its_merge_commit(backend: Backend) -> None:
    number, sha = await _opened(backend)
    merged = await backend.pulls.merge(number, sha=sha)
    assert merged.state == "merged" and merged.merge_sha and merged.merge_sha != sha
    assert (await backend.pulls.status(number)).pull == merged
    with pytest.raises(UserError, match="Pull Request is not mergeable"):
        await backend.pulls.merge(number)


async def test_a_merge_of_a_moved_head_is_refused_and_nothing_changes(backend: Backend) -> None:
    number, sha = await _opened(backend)
    backend.scene.push("hub-staging-quota")
    with pytest.raises(UserError, match="Head branch was modified"):
        await backend.pulls.merge(number, sha=sha)
    assert (await backend.pulls.status(number)).pull.state == "open"
    assert (await backend.pulls.merge(number)).state == "merged"


async def test_a_conflicting_pull_request_is_not_merged(backend: Backend) -> None:
    number, _ = await _opened(backend)
    backend.scene.block(number)
    with pytest.raises(UserError, match=f"did not merge pull request #{number} .*not mergeable"):
        await backend.pulls.merge(number)


async def test_a_closed_pull_request_is_closed_and_the_branch_can_be_proposed_again(backend: Backend) -> None:
    number, _ = await _opened(backend)
    backend.scene.close(number)
    status = await backend.pulls.status(number)
    assert status.pull.state == "closed" and status.pull.merge_sha is None
    with pytest.raises(UserError, match="not mergeable"):
        await backend.pulls.merge(number)
    again, _ = await _opened(backend)
    assert again != number


async def test_an_unknown_pull_request_is_not_found(backend: Backend) -> None:
    for call in (backend.pulls.status(404), backend.pulls.merge(404)):
        with pytest.raises(NotFound, match=f"no pull request #404 in {backend.repository}"):
            await call
