"""A local stand-in for the parts of GitHub's REST API hubbot uses on a repository's pull
requests, with the field names and nesting of GitHub's reference (docs.github.com/rest):

- ``GET /repos/{owner}/{repo}``; ``POST .../pulls`` (422 ``Validation Failed`` for an unknown
  branch, ``No commits between``, or ``A pull request already exists for owner:branch.``);
  ``GET .../pulls`` (``state``, ``head=owner:branch``, ``base``; the list form, without
  ``merged``); ``GET .../pulls/{n}``; ``PUT .../pulls/{n}/merge`` (``{sha, merged, message}``;
  405 ``Pull Request is not mergeable``, 409 ``Head branch was modified...``);
- ``GET .../pulls/{n}/reviews`` (oldest first) and ``GET .../commits/{ref}/check-runs``
  (``filter=latest``, the default, keeps the newest run of each name), both paged with
  ``per_page`` (at most 100) and ``page`` and a ``Link`` header, as GitHub pages.

Every call needs ``Authorization: token <token>`` or ``Bearer <token>`` (401 ``Bad credentials``
otherwise); an unknown repository or pull request is 404 ``Not Found``. Answers carry GitHub's
``x-ratelimit-*`` headers. Tests play GitHub's part with :meth:`push`, :meth:`set_check`,
:meth:`add_review`, :meth:`close` and :meth:`block`, and make the next answers fail with
:meth:`fail_next` and :meth:`rate_limit`.
"""

from __future__ import annotations

import hashlib
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TOKEN = "ghp_St4ndInT0kenF0rHubbotTests0123456789"  # the shape of a classic personal access token
LOGIN = "hubbot-bot"
OWNER, NAME = "example-org", "fleet"
DOCS = "https://docs.github.com/rest"

Handler = Callable[[Request, "Repo"], Awaitable[Response]]


@dataclass
class Repo:
    owner: str
    name: str
    id: int
    branches: dict[str, str]
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)  # hubbot-side state of each pull request
    runs: list[dict[str, Any]] = field(default_factory=list)  # check runs, oldest first, as GitHub answers them
    reviews: dict[int, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"message": message, **extra, "documentation_url": DOCS, "status": str(status)},
                        status_code=status)


def _invalid(*errors: dict[str, str]) -> JSONResponse:
    return _error(422, "Validation Failed", errors=[{"resource": "PullRequest", **e} for e in errors])


class GitHubStandIn:
    def __init__(self, *, token: str = TOKEN, login: str = LOGIN) -> None:
        self.token, self.login = token, login
        self.base_url = ""  # set by the test once served
        self.calls: list[str] = []  # "METHOD path?query" of every request
        self.faults: list[tuple[int, dict[str, str], dict[str, Any]]] = []  # answers for the next requests
        self.repos: dict[str, Repo] = {}
        # a real git repository's branches, when the test pushes to one (name -> its commit, or None)
        self.git_branches: Callable[[str], str | None] | None = None
        self._ids = itertools.count(1001)
        self._shas = (hashlib.sha1(str(n).encode()).hexdigest() for n in itertools.count(1))
        self.repo = self.add_repo(OWNER, NAME)
        prefix = "/repos/{owner}/{repo}"
        self.app = Starlette(routes=[
            Route(prefix, self._wrap(self._repository)),
            Route(prefix + "/pulls", self._wrap(self._create), methods=["POST"]),
            Route(prefix + "/pulls", self._wrap(self._list)),
            Route(prefix + "/pulls/{number:int}", self._wrap(self._get)),
            Route(prefix + "/pulls/{number:int}/merge", self._wrap(self._merge), methods=["PUT"]),
            Route(prefix + "/pulls/{number:int}/reviews", self._wrap(self._reviews)),
            Route(prefix + "/commits/{ref:path}/check-runs", self._wrap(self._check_runs)),
        ])

    # -- GitHub's part, for tests -------------------------------------------------------------------

    def add_repo(self, owner: str, name: str) -> Repo:
        repo = Repo(owner, name, next(self._ids), {"main": next(self._shas)})
        self.repos[repo.full_name] = repo
        return repo

    def push(self, branch: str, sha: str | None = None) -> str:
        """Move ``branch`` (made if new) to ``sha`` or a new commit; open pull requests follow."""
        self.repo.branches[branch] = sha = sha or next(self._shas)
        for pull in self.repo.pulls.values():
            if pull["state"] == "open" and pull["head"] == branch:
                pull["head_sha"], pull["merge_commit_sha"] = sha, next(self._shas)  # GitHub's test merge
        return sha

    def set_check(self, sha: str, name: str, *, status: str = "completed", conclusion: str | None = None) -> None:
        """A new run of check ``name`` on ``sha`` (newest of its name from now on)."""
        run_id = next(self._ids)
        url = f"{self.base_url}/repos/{self.repo.full_name}/check-runs/{run_id}"
        done = status == "completed"
        self.repo.runs.append({
            "id": run_id, "node_id": f"CR_{run_id}", "head_sha": sha, "external_id": "", "name": name,
            "url": url,
            "html_url": f"https://github.com/{self.repo.full_name}/runs/{run_id}", "details_url": None,
            "status": status, "conclusion": conclusion if done else None, "started_at": _now(),
            "completed_at": _now() if done else None, "check_suite": {"id": run_id + 7},
            "output": {"title": None, "summary": None, "text": None, "annotations_count": 0,
                       "annotations_url": f"{url}/annotations"},
            "app": {"id": 15368, "slug": "github-actions", "name": "GitHub Actions"}, "pull_requests": []})

    def add_review(self, number: int, user: str, state: str) -> None:
        pull = self.repo.pulls[number]
        review_id = next(self._ids)
        self.repo.reviews.setdefault(number, []).append({
            "id": review_id, "node_id": f"PRR_{review_id}", "user": self._user(user), "body": "", "state": state,
            "html_url": f"{pull['html_url']}#pullrequestreview-{review_id}", "pull_request_url": pull["url"],
            "_links": {"html": {"href": pull["html_url"]}, "pull_request": {"href": pull["url"]}},
            "submitted_at": _now(), "commit_id": pull["head_sha"], "author_association": "MEMBER"})

    def merged_as(self, number: int, sha: str) -> None:
        """The pull request was merged (by someone, in the real git repository) as commit ``sha``."""
        self.repo.pulls[number].update(state="closed", merged=True, merge_commit_sha=sha, merged_at=_now(),
                                       closed_at=_now(), merged_by=self.login, mergeable=None)
        self.repo.branches[self.repo.pulls[number]["base"]] = sha

    def close(self, number: int) -> None:
        self.repo.pulls[number].update(state="closed", closed_at=_now())

    def block(self, number: int) -> None:
        """GitHub found the pull request cannot be merged (a conflict)."""
        self.repo.pulls[number].update(mergeable=False, mergeable_state="dirty")

    def fail_next(self, status: int, message: str = "Server Error", *, headers: dict[str, str] | None = None,
                  times: int = 1) -> None:
        for _ in range(times):
            self.faults.append((status, headers or {}, {"message": message, "documentation_url": DOCS}))

    def rate_limit(self, *, reset_in: int = 600) -> None:
        """The token's primary rate limit is used up for ``reset_in`` seconds (GitHub's 403)."""
        self.fail_next(403, "API rate limit exceeded for user ID 1.", headers={
            "x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0", "x-ratelimit-used": "5000",
            "x-ratelimit-reset": str(int(time.time()) + reset_in), "x-ratelimit-resource": "core"})

    # -- the API --------------------------------------------------------------------------------------

    def _wrap(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            query = request.url.query
            self.calls.append(f"{request.method} {request.url.path}" + (f"?{query}" if query else ""))
            answer = await self._answer(request, handler)
            answer.headers.update({"x-ratelimit-limit": "5000", "x-ratelimit-resource": "core",
                                   "x-github-media-type": "github.v3; format=json"})
            answer.headers.setdefault("x-ratelimit-remaining", "4999")
            return answer
        return endpoint

    async def _answer(self, request: Request, handler: Handler) -> Response:
        if self.faults:
            status, headers, body = self.faults.pop(0)
            return JSONResponse(body, status_code=status, headers=headers)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() not in ("token", "bearer") or token != self.token:
            return _error(401, "Bad credentials")
        repo = self.repos.get(f"{request.path_params['owner']}/{request.path_params['repo']}")
        if repo is None:
            return _error(404, "Not Found")
        number = request.path_params.get("number")
        if number is not None and number not in repo.pulls:
            return _error(404, "Not Found")
        return await handler(request, repo)

    async def _repository(self, request: Request, repo: Repo) -> Response:
        return JSONResponse(self._repo_json(repo))

    async def _create(self, request: Request, repo: Repo) -> Response:
        body = await request.json()
        head, base = str(body.get("head", "")).rpartition(":")[2], str(body.get("base", ""))
        for end in (head, base):
            sha = self.git_branches(end) if self.git_branches else None
            if sha:
                repo.branches[end] = sha
        for end, fieldname in ((head, "head"), (base, "base")):
            if end not in repo.branches:
                return _invalid({"field": fieldname, "code": "invalid"})
        if any(p["state"] == "open" and (p["head"], p["base"]) == (head, base) for p in repo.pulls.values()):
            return _invalid({"code": "custom", "message": f"A pull request already exists for {repo.owner}:{head}."})
        if repo.branches[head] == repo.branches[base]:
            return _invalid({"code": "custom", "message": f"No commits between {base} and {head}"})
        number = len(repo.pulls) + 1
        html = f"https://github.com/{repo.full_name}/pull/{number}"
        repo.pulls[number] = {
            "number": number, "title": body.get("title", ""), "body": body.get("body"), "head": head, "base": base,
            "head_sha": repo.branches[head], "state": "open", "merged": False, "merge_commit_sha": next(self._shas),
            "mergeable": True, "mergeable_state": "clean", "created_at": _now(), "closed_at": None, "merged_at": None,
            "merged_by": None, "user": self.login, "html_url": html,
            "url": f"{self.base_url}/repos/{repo.full_name}/pulls/{number}"}
        return JSONResponse(self._pull_json(repo, number), status_code=201, headers={"location": html})

    async def _list(self, request: Request, repo: Repo) -> Response:
        q = request.query_params
        state, head, base = q.get("state", "open"), q.get("head"), q.get("base")
        found = [self._pull_json(repo, n, full=False) for n, p in sorted(repo.pulls.items(), reverse=True)
                 if state in ("all", "closed" if p["state"] == "closed" else "open")
                 and (head is None or head == f"{repo.owner}:{p['head']}") and base in (None, p["base"])]
        return self._page(request, found)

    async def _get(self, request: Request, repo: Repo) -> Response:
        return JSONResponse(self._pull_json(repo, request.path_params["number"]))

    async def _merge(self, request: Request, repo: Repo) -> Response:
        pull = repo.pulls[request.path_params["number"]]
        body = await request.json() if await request.body() else {}
        if pull["state"] != "open" or not pull["mergeable"]:
            return _error(405, "Pull Request is not mergeable")
        if body.get("sha") not in (None, pull["head_sha"]):
            return _error(409, "Head branch was modified. Review and try the merge again.")
        repo.branches[pull["base"]] = sha = next(self._shas)
        pull.update(state="closed", merged=True, merge_commit_sha=sha, merged_at=_now(), closed_at=_now(),
                    merged_by=self.login, mergeable=None, mergeable_state="unknown")
        return JSONResponse({"sha": sha, "merged": True, "message": "Pull Request successfully merged"})

    async def _reviews(self, request: Request, repo: Repo) -> Response:
        return self._page(request, repo.reviews.get(request.path_params["number"], []))

    async def _check_runs(self, request: Request, repo: Repo) -> Response:
        ref = request.path_params["ref"]
        sha = repo.branches.get(ref, ref)
        runs = [r for r in repo.runs if r["head_sha"] == sha]
        if request.query_params.get("filter", "latest") == "latest":
            runs = list({r["name"]: r for r in runs}.values())  # the newest run of each name
        return self._page(request, runs, key="check_runs")

    # -- GitHub's shapes ------------------------------------------------------------------------------

    def _page(self, request: Request, items: list[dict[str, Any]], *, key: str | None = None) -> Response:
        per_page = min(int(request.query_params.get("per_page", 30)), 100)
        page = int(request.query_params.get("page", 1))
        last = max((len(items) + per_page - 1) // per_page, 1)
        links = [f'<{request.url.include_query_params(page=n)}>; rel="{rel}"'
                 for n, rel in ((page + 1, "next"), (last, "last")) if page < last]
        chunk = items[(page - 1) * per_page: page * per_page]
        body: Any = {"total_count": len(items), key: chunk} if key else chunk
        return JSONResponse(body, headers={"link": ", ".join(links)} if links else {})

    def _user(self, login: str) -> dict[str, Any]:
        return {"login": login, "id": int(hashlib.sha1(login.encode()).hexdigest()[:6], 16),
                "node_id": f"U_{login}", "type": "Bot" if login.endswith("-bot") else "User", "site_admin": False,
                "url": f"{self.base_url}/users/{login}", "html_url": f"https://github.com/{login}"}

    def _repo_json(self, repo: Repo) -> dict[str, Any]:
        return {"id": repo.id, "node_id": f"R_{repo.id}", "name": repo.name, "full_name": repo.full_name,
                "owner": self._user(repo.owner) | {"type": "Organization"}, "private": True, "fork": False,
                "html_url": f"https://github.com/{repo.full_name}", "url": f"{self.base_url}/repos/{repo.full_name}",
                "default_branch": "main", "visibility": "private"}

    def _pull_json(self, repo: Repo, number: int, *, full: bool = True) -> dict[str, Any]:
        p = repo.pulls[number]

        def end(branch: str, sha: str) -> dict[str, Any]:
            return {"label": f"{repo.owner}:{branch}", "ref": branch, "sha": sha, "user": self._user(repo.owner),
                    "repo": self._repo_json(repo)}

        data = {
            "url": p["url"], "id": repo.id * 1000 + number, "node_id": f"PR_{repo.id}_{number}",
            "html_url": p["html_url"], "diff_url": p["html_url"] + ".diff", "patch_url": p["html_url"] + ".patch",
            "number": number, "state": p["state"], "locked": False, "title": p["title"], "user": self._user(p["user"]),
            "body": p["body"], "labels": [], "milestone": None, "created_at": p["created_at"],
            "updated_at": _now(), "closed_at": p["closed_at"], "merged_at": p["merged_at"],
            "merge_commit_sha": p["merge_commit_sha"], "assignees": [], "requested_reviewers": [],
            "head": end(p["head"], p["head_sha"]), "base": end(p["base"], repo.branches[p["base"]]),
            "_links": {"html": {"href": p["html_url"]}, "self": {"href": p["url"]}},
            "author_association": "MEMBER", "auto_merge": None, "draft": False}
        if full:
            data |= {"merged": p["merged"], "mergeable": p["mergeable"], "rebaseable": p["mergeable"],
                     "mergeable_state": p["mergeable_state"],
                     "merged_by": self._user(p["merged_by"]) if p["merged_by"] else None, "comments": 0,
                     "review_comments": 0, "maintainer_can_modify": False, "commits": 1, "additions": 1,
                     "deletions": 1, "changed_files": 1}
        return data
