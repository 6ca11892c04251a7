"""Pull requests on GitHub (or GitHub Enterprise Server) through githubkit: open one for a branch
hubbot pushed, follow its head commit's check runs and its reviews, merge it. Every failure
becomes a :mod:`hubbot.errors` error that says what to do, and never shows the token.

Answers are read from githubkit's wire types (``.json()``) rather than its pydantic models: the
models reject values GitHub added after they were generated (a check run's ``startup_failure``
conclusion, for one), and hubbot reads a handful of fields."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from hubbot.adapters.lazy import Lazy
from hubbot.domain import CheckRun, PullRequest, PullState, PullStatus, Review, judge_checks, judge_reviews
from hubbot.errors import NotFound, UpstreamError, UserError

if TYPE_CHECKING:
    from githubkit import GitHub, TokenAuthStrategy
    from githubkit.exception import RequestFailed

_T = TypeVar("_T")

PAGE = 100  # the largest page GitHub serves for check runs and reviews
_STATES: dict[str, PullState] = {"open": "open", "closed": "closed"}


class GitHubPulls:
    """A :class:`hubbot.ports.PullRequests` for ``repository`` ("owner/name") with a token that may
    read and write its pull requests and contents and read its checks (a fine-grained token:
    Pull requests write, Contents write, Checks read). ``api_url`` is GitHub Enterprise Server's
    ``https://HOST/api/v3`` where it applies."""

    def __init__(self, repository: str, *, token: str, api_url: str = "https://api.github.com",
                 timeout: float = 30) -> None:
        owner, _, name = repository.partition("/")
        if not owner or not name or "/" in name:
            raise UserError(f"a GitHub repository is named owner/name, not '{repository[:100]}'")
        self.repository = repository
        self.api_url = api_url.rstrip("/")
        self._owner, self._name = owner, name
        self._timeout = timeout
        self._github = Lazy(lambda: _client(token, api_url=self.api_url, timeout=timeout))

    def __repr__(self) -> str:
        return f"GitHubPulls({self.repository!r}, api_url={self.api_url!r})"

    async def open(self, *, head: str, base: str, title: str, body: str) -> PullRequest:
        from githubkit.exception import RequestFailed

        async with self._session() as gh:
            try:
                made = await gh.rest.pulls.async_create(self._owner, self._name, head=head, base=base, title=title,
                                                        body=body)
            except RequestFailed as exc:
                if exc.response.status_code != 422:
                    raise
                # GitHub refuses a second pull request for the same two branches; hubbot asks again
                # after a retry or a restart, so that one is the answer.
                found = await gh.rest.pulls.async_list(self._owner, self._name, head=f"{self._owner}:{head}",
                                                       base=base, state="open")
                existing: list[Mapping[str, Any]] = list(found.json())
                if existing:
                    return self._pull(existing[0])
                raise UserError(f"GitHub would not open a pull request of {head} into {base} in {self.repository}: "
                                f"{_reason(exc)}") from None
            return self._pull(made.json())

    async def status(self, number: int) -> PullStatus:
        async with self._session(number) as gh:
            pull = self._pull((await gh.rest.pulls.async_get(self._owner, self._name, number)).json())
            checks = gh.rest.paginate(gh.rest.checks.async_list_for_ref, map_func=lambda r: r.json()["check_runs"],
                                      owner=self._owner, repo=self._name, ref=pull.head_sha, per_page=PAGE)
            reviews = gh.rest.paginate(gh.rest.pulls.async_list_reviews, map_func=lambda r: r.json(),
                                       owner=self._owner, repo=self._name, pull_number=number, per_page=PAGE)
            runs, said = await asyncio.gather(_all(checks), _all(reviews))
        verdict, failed = judge_checks(self._readable(_check_run, run) for run in runs)
        # a review by a deleted account has no user: it cannot count for anyone
        review, reviewers = judge_reviews(self._readable(_review, r) for r in said if r.get("user"))
        return PullStatus(pull=pull, checks=verdict, failed=failed, review=review, reviewers=reviewers)

    async def merge(self, number: int, *, sha: str | None = None) -> PullRequest:
        from githubkit.exception import RequestFailed

        async with self._session(number) as gh:
            try:
                if sha is None:
                    await gh.rest.pulls.async_merge(self._owner, self._name, number)
                else:
                    await gh.rest.pulls.async_merge(self._owner, self._name, number, sha=sha)
            except RequestFailed as exc:
                if exc.response.status_code not in (405, 409):
                    raise
                # 405: not mergeable (closed, conflicts, branch protection); 409: the head moved
                raise UserError(f"GitHub did not merge pull request #{number} in {self.repository}: "
                                f"{_reason(exc)}") from None
            return self._pull((await gh.rest.pulls.async_get(self._owner, self._name, number)).json())

    # -- the wire ---------------------------------------------------------------------------------

    @asynccontextmanager
    async def _session(self, number: int | None = None) -> AsyncIterator[GitHub[TokenAuthStrategy]]:
        """One connection for the calls of one operation, and GitHub's refusals and failures in
        hubbot's terms."""
        from githubkit.exception import RateLimitExceeded, RequestError, RequestFailed, RequestTimeout

        gh = self._github()
        try:
            async with gh:
                yield gh
        except RateLimitExceeded as exc:
            raise _rate_limited(exc.retry_after.total_seconds()) from None
        except RequestFailed as exc:
            await self._refused(gh, exc, number)
        except RequestTimeout:
            raise UpstreamError(f"GitHub ({self.api_url}) did not answer within {self._timeout:g} s; "
                                "try again later") from None
        except RequestError as exc:  # whatever the connection raised, wrapped by githubkit
            raise UpstreamError(f"could not reach GitHub at {self.api_url} ({type(exc.exc).__name__}); "
                                "try again later") from None

    async def _refused(self, gh: GitHub[TokenAuthStrategy], exc: RequestFailed, number: int | None) -> NoReturn:
        status = exc.response.status_code
        if status == 401:
            raise UserError(f"GitHub refused hubbot's token for {self.repository}: check HUBBOT_GITHUB_TOKEN "
                            "(expired, revoked or mistyped)") from None
        if status in (403, 429) and "rate limit" in _reason(exc).lower():
            # a secondary rate limit GitHub sent without a retry-after: its docs say wait a minute
            raise _rate_limited(60.0) from None
        if status == 403:
            raise UserError(f"GitHub did not let hubbot's token do this in {self.repository} ({_reason(exc)}): "
                            "it needs Pull requests and Contents write, and Checks read") from None
        if status == 404:
            if number is not None and await self._repository_visible(gh):
                raise NotFound(f"no pull request #{number} in {self.repository}") from None
            raise NotFound(f"no repository {self.repository} on GitHub, or the token cannot see it") from None
        if status == 429 or status >= 500:
            raise UpstreamError(f"GitHub answered {status} for {self.repository}; try again later") from None
        raise UserError(f"GitHub refused the request for {self.repository} ({status}: {_reason(exc)})") from None

    async def _repository_visible(self, gh: GitHub[TokenAuthStrategy]) -> bool:
        """Whether the token sees the repository: GitHub answers 404 for a hidden one, as for a
        missing pull request."""
        from githubkit.exception import GitHubException

        try:
            await gh.rest.repos.async_get(self._owner, self._name)
        except GitHubException:
            return False
        return True

    def _pull(self, data: Mapping[str, Any]) -> PullRequest:
        return self._readable(_pull_request, data)

    def _readable(self, read: Callable[[Mapping[str, Any]], _T], data: Mapping[str, Any]) -> _T:
        try:
            return read(data)
        except (KeyError, TypeError, AttributeError):
            raise UpstreamError(f"GitHub answered for {self.repository} in a form hubbot cannot read; "
                                "is api_url GitHub's REST API?") from None


def _pull_request(data: Mapping[str, Any]) -> PullRequest:
    """A pull request from its full form or its list form (which has ``merged_at`` only)."""
    merged = bool(data.get("merged") or data.get("merged_at"))
    state: PullState = "merged" if merged else _STATES[data["state"]]
    return PullRequest(number=int(data["number"]), url=str(data["html_url"]), title=str(data["title"]),
                       head=str(data["head"]["ref"]), base=str(data["base"]["ref"]), head_sha=str(data["head"]["sha"]),
                       state=state, merge_sha=str(data["merge_commit_sha"]) if merged else None,
                       author=str((data.get("user") or {}).get("login", "")),
                       mergeable=data["mergeable"] if isinstance(data.get("mergeable"), bool) else None)


def _check_run(data: Mapping[str, Any]) -> CheckRun:
    conclusion = data.get("conclusion")
    return CheckRun(name=str(data["name"]), status=str(data["status"]),
                    conclusion=None if conclusion is None else str(conclusion))


def _review(data: Mapping[str, Any]) -> Review:
    return Review(user=str(data["user"]["login"]), state=str(data["state"]))


async def _all(pages: AsyncIterator[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [item async for item in pages]


def _rate_limited(wait: float) -> UpstreamError:
    wait = max(wait, 1.0)
    return UpstreamError(f"GitHub is rate limiting hubbot's token; try again in {wait:.0f} s", retry_after=wait)


def _client(token: str, *, api_url: str, timeout: float) -> GitHub[TokenAuthStrategy]:
    import httpx
    from githubkit import GitHub

    # hubbot decides about retries (an UpstreamError says when); githubkit's own would sleep in the
    # request. No HTTP cache: a pull request's status is asked for because it may have changed.
    # One TLS context for every connection: building one costs tens of milliseconds.
    return GitHub(token, base_url=api_url, timeout=timeout, auto_retry=False, http_cache=False,
                  user_agent="hubbot", ssl_verify=httpx.create_ssl_context())


def _reason(exc: RequestFailed) -> str:
    """GitHub's own words: a validation error's first detail (``No commits between main and x``),
    else its message."""
    try:
        data = exc.response.json()
    except ValueError:
        return f"HTTP {exc.response.status_code}"
    if not isinstance(data, dict):
        return f"HTTP {exc.response.status_code}"
    details = [e.get("message") or f"{e.get('field', '')} {e.get('code', '')}".strip()
               for e in data.get("errors") or [] if isinstance(e, dict)]
    return "; ".join(str(d) for d in details if d)[:300] or str(data.get("message", ""))[:300]
