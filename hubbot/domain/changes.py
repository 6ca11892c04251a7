"""A change asked for in chat, once it is a pull request on the fleet's repository: the pull
request, and what its check runs and reviews say. The two rules that reduce a head commit's check
runs and a pull request's reviews to one verdict each live here, so the GitHub adapter and its
in-memory twin cannot judge differently."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

PullState = Literal["open", "closed", "merged"]
ChecksVerdict = Literal["none", "pending", "success", "failure"]
ReviewVerdict = Literal["none", "approved", "changes_requested"]

# Conclusions of a completed check run that block a merge. GitHub's others (success, neutral,
# skipped, and stale, which GitHub sets on a run it replaced) do not.
FAILED_CONCLUSIONS = frozenset({"failure", "timed_out", "cancelled", "action_required", "startup_failure"})
# Review states that count in the latest-review-per-reviewer reduction; a COMMENTED, PENDING or
# DISMISSED review does not replace a reviewer's earlier approval or request for changes.
DECIDING_REVIEWS = frozenset({"APPROVED", "CHANGES_REQUESTED"})


@dataclass(frozen=True, slots=True)
class PullRequest:
    """A pull request as hubbot follows it: ``url`` is the page people open (``html_url``);
    ``head`` and ``base`` are branch names; ``merge_sha`` is the merge commit once merged."""

    number: int
    url: str
    title: str
    head: str
    base: str
    head_sha: str
    state: PullState
    merge_sha: str | None
    author: str
    mergeable: bool | None = None  # False: it conflicts with its base (GitHub says null while it computes)


@dataclass(frozen=True, slots=True)
class CheckRun:
    """One check run on a commit: ``status`` is GitHub's (queued, in_progress, completed, waiting,
    requested, pending); ``conclusion`` is set once it is completed."""

    name: str
    status: str
    conclusion: str | None = None


@dataclass(frozen=True, slots=True)
class Review:
    """One submitted review: who, and GitHub's state (APPROVED, CHANGES_REQUESTED, COMMENTED,
    DISMISSED, PENDING), in the order GitHub lists them (oldest first)."""

    user: str
    state: str


@dataclass(frozen=True, slots=True)
class PullStatus:
    """Where a pull request stands. ``checks`` is ``pending`` while any check run is unfinished,
    even if another has failed already; ``failed`` names the failed ones in any case.
    ``reviewers`` are those whose latest deciding review counts, by name."""

    pull: PullRequest
    checks: ChecksVerdict
    failed: tuple[str, ...]
    review: ReviewVerdict
    reviewers: tuple[str, ...]


def judge_checks(runs: Iterable[CheckRun]) -> tuple[ChecksVerdict, tuple[str, ...]]:
    """The verdict on a head commit's check runs, and the names of those that failed (sorted)."""
    runs = list(runs)
    failed = tuple(sorted({r.name for r in runs if r.status == "completed" and r.conclusion in FAILED_CONCLUSIONS}))
    if not runs:
        return "none", failed
    if any(r.status != "completed" for r in runs):
        return "pending", failed
    return ("failure" if failed else "success"), failed


def judge_reviews(reviews: Iterable[Review]) -> tuple[ReviewVerdict, tuple[str, ...]]:
    """The verdict of each reviewer's latest approval or request for changes (oldest first in
    ``reviews``): changes requested by anyone outweighs approvals. With it, the reviewers who
    decide it (those who asked for changes, or else those who approved), sorted."""
    latest: dict[str, str] = {}
    for review in reviews:
        if review.state in DECIDING_REVIEWS:
            latest[review.user] = review.state
    blocking = tuple(sorted(u for u, s in latest.items() if s == "CHANGES_REQUESTED"))
    if blocking:
        return "changes_requested", blocking
    approving = tuple(sorted(u for u, s in latest.items() if s == "APPROVED"))
    return ("approved" if approving else "none"), approving
