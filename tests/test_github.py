"""The GitHub adapter on its stand-in, beyond the shared pull request contract: how GitHub's
refusals and failures read (never with the token), paging, GitHub's answers hubbot reads
defensively, and that it leaves retrying to its caller."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest

from hubbot.adapters.github import GitHubPulls
from hubbot.errors import HubbotError, NotFound, UpstreamError, UserError
from tests.support.github_standin import TOKEN, GitHubStandIn
from tests.support.server import serve
from tests.support.services import free_port

REPO = "example-org/fleet"


@pytest.fixture
def standin() -> Iterator[GitHubStandIn]:
    s = GitHubStandIn()
    with serve(s.app) as served:
        s.base_url = served.url
        yield s


def pulls(standin: GitHubStandIn, *, repository: str = REPO, token: str = TOKEN) -> GitHubPulls:
    return GitHubPulls(repository, token=token, api_url=standin.base_url, timeout=10)


async def opened(standin: GitHubStandIn, branch: str = "hub-staging-quota") -> int:
    standin.push(branch)
    return (await pulls(standin).open(head=branch, base="main", title="t", body="b")).number


def assert_no_token(err: HubbotError, token: str = TOKEN) -> None:
    assert token not in str(err) and token not in repr(err.args)
    assert err.__cause__ is None and err.__suppress_context__  # no githubkit error (holding the request) chained


async def test_a_refused_token_says_which_setting_to_fix_without_showing_it(
        standin: GitHubStandIn, caplog: pytest.LogCaptureFixture) -> None:
    wrong = "ghp_NotTheRightTokenAtAll000000000000000"
    caplog.set_level(logging.DEBUG)
    with pytest.raises(UserError, match=f"GitHub refused hubbot's token for {REPO}: check HUBBOT_GITHUB_TOKEN") as err:
        await pulls(standin, token=wrong).status(1)
    assert_no_token(err.value, wrong)
    assert wrong not in caplog.text and wrong not in repr(pulls(standin, token=wrong))


async def test_an_unknown_or_hidden_repository_is_not_found(standin: GitHubStandIn) -> None:
    hidden = pulls(standin, repository="example-org/secret")
    message = "no repository example-org/secret on GitHub, or the token cannot see it"
    standin.push("x")
    with pytest.raises(NotFound, match=message):
        await hidden.open(head="x", base="main", title="t", body="")
    with pytest.raises(NotFound, match=message):  # not "no pull request #1": the repository is what is missing
        await hidden.status(1)


def test_a_repository_is_named_owner_slash_name() -> None:
    for bad in ("fleet", "example-org/", "/fleet", "a/b/c"):
        with pytest.raises(UserError, match="owner/name"):
            GitHubPulls(bad, token=TOKEN)


async def test_a_server_error_is_upstream_and_not_retried_in_the_request(standin: GitHubStandIn) -> None:
    number = await opened(standin)
    standin.fail_next(502, "Server Error")
    before = len(standin.calls)
    with pytest.raises(UpstreamError, match=f"GitHub answered 502 for {REPO}; try again later") as err:
        await pulls(standin).status(number)
    assert len(standin.calls) == before + 1  # githubkit's own retries would sleep 1, 4 and 9 s in the request
    assert_no_token(err.value)


async def test_github_out_of_reach_is_upstream() -> None:
    gone = GitHubPulls(REPO, token=TOKEN, api_url=f"http://127.0.0.1:{free_port()}", timeout=5)
    with pytest.raises(UpstreamError, match=r"could not reach GitHub at http://127\.0\.0\.1:\d+ \(ConnectError\)") \
            as err:
        await gone.status(1)
    assert_no_token(err.value)


async def test_a_spent_rate_limit_says_when_to_try_again(standin: GitHubStandIn) -> None:
    standin.rate_limit(reset_in=600)
    with pytest.raises(UpstreamError, match="GitHub is rate limiting hubbot's token") as err:
        await pulls(standin).status(1)
    assert err.value.retry_after is not None and 500 < err.value.retry_after <= 600
    assert_no_token(err.value)


async def test_a_secondary_rate_limit_uses_githubs_retry_after(standin: GitHubStandIn) -> None:
    standin.fail_next(403, "You have exceeded a secondary rate limit.", headers={"retry-after": "30"})
    with pytest.raises(UpstreamError) as err:
        await pulls(standin).open(head="x", base="main", title="t", body="")
    assert err.value.retry_after == 30
    standin.fail_next(429, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.")
    with pytest.raises(UpstreamError) as err:
        await pulls(standin).status(1)
    assert err.value.retry_after == 60  # GitHub's advice when it gives no time


async def test_a_token_without_permission_is_the_users_to_fix(standin: GitHubStandIn) -> None:
    standin.fail_next(403, "Resource not accessible by personal access token")
    with pytest.raises(UserError, match=r"Resource not accessible by personal access token.*Pull requests") as err:
        await pulls(standin).merge(1)
    assert not isinstance(err.value, UpstreamError)


async def test_an_existing_pull_request_is_found_by_owner_and_branch(standin: GitHubStandIn) -> None:
    number = await opened(standin)
    again = await pulls(standin).open(head="hub-staging-quota", base="main", title="t", body="b")
    assert again.number == number
    path, _, query = standin.calls[-1].partition("?")
    assert path == f"GET /repos/{REPO}/pulls"
    assert parse_qs(query) == {"head": ["example-org:hub-staging-quota"], "base": ["main"], "state": ["open"]}


async def test_check_runs_and_reviews_are_read_page_by_page(standin: GitHubStandIn) -> None:
    number = await opened(standin)
    sha = standin.repo.pulls[number]["head_sha"]
    for n in range(149):
        standin.set_check(sha, f"hub-{n:03}", conclusion="success")
    standin.set_check(sha, "hub-149", conclusion="failure")  # on the second page only
    for n in range(130):
        standin.add_review(number, f"user-{n:03}", "APPROVED")
    standin.add_review(number, "user-000", "CHANGES_REQUESTED")
    status = await pulls(standin).status(number)
    assert (status.checks, status.failed, status.review, status.reviewers) == (
        "failure", ("hub-149",), "changes_requested", ("user-000",))
    pages = [c for c in standin.calls if "page=2" in c]
    assert len(pages) == 2 and all("per_page=100" in c for c in pages)


async def test_only_the_latest_run_of_each_check_counts(standin: GitHubStandIn) -> None:
    number = await opened(standin)
    sha = standin.repo.pulls[number]["head_sha"]
    standin.set_check(sha, "lint", conclusion="failure")
    standin.set_check(sha, "lint", conclusion="success")  # re-run
    assert (await pulls(standin).status(number)).checks == "success"


async def test_a_review_by_a_deleted_account_counts_for_no_one(standin: GitHubStandIn) -> None:
    number = await opened(standin)
    standin.add_review(number, "ghost", "CHANGES_REQUESTED")
    standin.repo.reviews[number][-1]["user"] = None  # GitHub answers null for a deleted account
    standin.add_review(number, "ana", "APPROVED")
    assert (await pulls(standin).status(number)).review == "approved"


async def test_an_open_pull_requests_test_merge_commit_is_not_its_merge(standin: GitHubStandIn) -> None:
    number = await opened(standin)
    assert standin.repo.pulls[number]["merge_commit_sha"]  # GitHub fills it in while a pull request is open
    assert (await pulls(standin).status(number)).pull.merge_sha is None


async def test_an_answer_of_another_shape_is_upstream(standin: GitHubStandIn) -> None:
    number = await opened(standin)
    standin.fail_next(200, "Welcome")  # e.g. api_url pointing at some other JSON service
    with pytest.raises(UpstreamError, match="in a form hubbot cannot read"):
        await pulls(standin).status(number)


async def test_the_token_goes_in_githubs_authorization_header_only(standin: GitHubStandIn) -> None:
    number = await opened(standin)
    await pulls(standin).status(number)
    assert not any(TOKEN in call for call in standin.calls)


def test_one_adapter_serves_one_event_loop_after_another(standin: GitHubStandIn) -> None:
    """The CLI and the tests run several loops in turn; nothing of a finished one is reused."""
    import asyncio

    adapter = pulls(standin)
    standin.push("chart-4.1.0")
    first = asyncio.run(adapter.open(head="chart-4.1.0", base="main", title="t", body=""))
    assert asyncio.run(adapter.status(first.number)).pull == first


def test_importing_the_adapter_leaves_githubkit_unloaded() -> None:
    import subprocess
    import sys

    code = "import sys, hubbot.adapters.github, hubbot.adapters.memory; print('githubkit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
