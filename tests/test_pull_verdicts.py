"""The two rules that sum up a pull request: its head commit's check runs and its reviews."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hubbot.domain import CheckRun, Review, judge_checks, judge_reviews

STATES = ["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING"]


def test_no_check_runs_is_none_not_success() -> None:
    assert judge_checks([]) == ("none", ())


def test_an_unfinished_run_keeps_it_pending_and_failures_are_named_already() -> None:
    runs = [CheckRun("lint", "completed", "failure"), CheckRun("build", "waiting"), CheckRun("a", "completed", "stale")]
    assert judge_checks(runs) == ("pending", ("lint",))


def test_stale_neutral_and_skipped_runs_do_not_fail_it() -> None:
    runs = [CheckRun(n, "completed", c) for n, c in (("a", "stale"), ("b", "neutral"), ("c", "skipped"))]
    assert judge_checks(runs) == ("success", ())


def test_a_dismissed_request_for_changes_leaves_the_reviewers_earlier_approval() -> None:
    reviews = [Review("ana", "APPROVED"), Review("ana", "DISMISSED"), Review("bo", "PENDING")]
    assert judge_reviews(reviews) == ("approved", ("ana",))


@given(st.lists(st.tuples(st.sampled_from(["ana", "bo", "cy"]), st.sampled_from(STATES)), max_size=12))
def test_the_verdict_is_each_reviewers_last_decision(said: list[tuple[str, str]]) -> None:
    last = {user: state for user, state in said if state in ("APPROVED", "CHANGES_REQUESTED")}
    verdict, who = judge_reviews(Review(u, s) for u, s in said)
    blocking = sorted(u for u, s in last.items() if s == "CHANGES_REQUESTED")
    if blocking:
        assert (verdict, list(who)) == ("changes_requested", blocking)
    else:
        assert (verdict, list(who)) == ("approved" if last else "none", sorted(last))
