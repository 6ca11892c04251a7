"""The fleet repository's clone through the real git: fetch and resolve, trees per commit, change
branches pushed beside (never onto) the deploy branch, and failures that say what to do."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from hubbot.adapters.git import GitMirror, redact_url
from hubbot.errors import NotFound, UpstreamError, UserError
from tests.support.fleet_repo import FleetRepo, git, make_repository
from tests.support.services import free_port


@pytest.fixture
def repo(tmp_path: Path) -> FleetRepo:
    return make_repository(tmp_path)


def mirror_of(repo: FleetRepo, tmp_path: Path) -> GitMirror:
    return GitMirror(str(repo.remote), cache=tmp_path / "cache")


async def test_fetch_resolves_the_branch_and_sees_new_commits(repo: FleetRepo, tmp_path: Path) -> None:
    mirror = mirror_of(repo, tmp_path)
    first = await mirror.fetch()
    assert first == repo.head()
    second = repo.commit("Bump the staging image", {"config/clusters/leap/staging.values.yaml": "greeting: hi\n"})
    assert await mirror.resolve("main") == first  # nothing changes until the next fetch
    assert await mirror.fetch() == second
    assert await mirror.subject(second) == "Bump the staging image"
    tree = await mirror.tree(second)
    assert (tree / "config/clusters/leap/staging.values.yaml").read_text() == "greeting: hi\n"
    assert (await mirror.tree(first) / "config/clusters/leap/staging.values.yaml").read_text() != "greeting: hi\n"
    assert await mirror.tree(second) == tree  # made once


async def test_refs_resolve_by_branch_tag_and_abbreviated_sha(repo: FleetRepo, tmp_path: Path) -> None:
    feature = repo.commit("Try a new image", {"config/clusters/leap/prod.values.yaml": "greeting: new\n"},
                          branch="new-image")
    git("tag", "v1", "main", cwd=repo.work)
    git("push", "-q", "origin", "v1", cwd=repo.work)
    mirror = mirror_of(repo, tmp_path)
    await mirror.fetch()
    assert await mirror.resolve("new-image") == feature
    assert await mirror.resolve(feature[:9]) == feature
    assert await mirror.resolve("v1") == repo.head()
    with pytest.raises(NotFound, match="no branch, tag or commit 'new-imag' in the fleet repository — did you "
                                       "mean 'new-image'"):
        await mirror.resolve("new-imag")
    for hostile in ("--upload-pack=touch /tmp/x", "main..new-image", "a b", ""):
        with pytest.raises(UserError, match="is not a branch, tag or commit name"):
            await mirror.resolve(hostile)


async def test_a_change_becomes_a_new_branch_beside_main(repo: FleetRepo, tmp_path: Path) -> None:
    mirror = mirror_of(repo, tmp_path)
    base = await mirror.fetch()
    sha = await mirror.propose(base=base, branch="hubbot/leap-prod-quota", message="Raise the quota",
                               files={"config/clusters/leap/hubbot-prod.values.yaml": "a: 1\n"},
                               author=("Ada (via hubbot)", "hubbot@example.org"))
    assert git("rev-parse", "refs/heads/hubbot/leap-prod-quota", cwd=repo.remote) == sha
    assert repo.head() == base  # main untouched
    assert git("log", "-1", "--format=%an|%s", sha, cwd=repo.remote) == "Ada (via hubbot)|Raise the quota"
    assert git("show", f"{sha}:config/clusters/leap/hubbot-prod.values.yaml", cwd=repo.remote) == "a: 1"
    with pytest.raises(UserError, match="already exists"):
        await mirror.propose(base=base, branch="hubbot/leap-prod-quota", message="again", files={"x": "y"},
                             author=("a", "b@c"))
    with pytest.raises(UserError, match="cannot be a change branch"):
        await mirror.propose(base=base, branch="main", message="no", files={"x": "y"}, author=("a", "b@c"))
    with pytest.raises(UserError, match="outside the repository"):
        await mirror.propose(base=base, branch="hubbot/escape", message="no", files={"../../etc/x": "y"},
                             author=("a", "b@c"))
    assert not list((tmp_path / "cache").glob("**/hubbot-change-*"))


async def test_failures_say_what_to_do(tmp_path: Path) -> None:
    missing = GitMirror(str(tmp_path / "nowhere.git"), cache=tmp_path / "c1")
    with pytest.raises(UserError, match=r"there is no repository at .*nowhere\.git"):
        await missing.fetch()
    port = free_port()  # nothing listens there
    down = GitMirror(f"http://hubbot:s3cret-token@127.0.0.1:{port}/fleet.git", cache=tmp_path / "c2")
    with pytest.raises(UpstreamError) as caught:
        await down.fetch()
    assert "cannot reach the fleet repository http://127.0.0.1" in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_credentials_in_urls_are_redacted() -> None:
    assert redact_url("fatal: unable to access 'https://x-access-token:ghp_abc@github.com/o/r.git/'") == (
        "fatal: unable to access 'https://github.com/o/r.git/'")
    assert redact_url("git@github.com:o/r.git") == "git@github.com:o/r.git"


class _Refusing(BaseHTTPRequestHandler):
    """A git host that refuses every request: 401 asking for credentials, or 404."""

    status = 401

    def do_GET(self) -> None:
        self.send_response(self.status)
        if self.status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="fleet"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def _host(status: int) -> Iterator[str]:
    handler = type("Handler", (_Refusing,), {"status": status})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/example-org/fleet.git"
    finally:
        server.shutdown()
        server.server_close()


async def test_refused_credentials_and_a_missing_repository_say_what_to_fix(tmp_path: Path) -> None:
    for url in _host(401):
        with pytest.raises(UserError, match="refused hubbot's credentials") as caught:
            await GitMirror(url, cache=tmp_path / "c1").fetch()
        assert "give hubbot an ssh key or a token" in str(caught.value)
    for url in _host(404):
        with pytest.raises(UserError, match=r"there is no repository at http://127\.0\.0\.1"):
            await GitMirror(url, cache=tmp_path / "c2").fetch()


def test_a_403_in_a_port_or_path_is_not_a_refusal(tmp_path: Path) -> None:
    """Only git's own words decide (a port 40309 once made a missing repository read as refused)."""
    mirror = GitMirror("http://127.0.0.1:40309/x.git", cache=tmp_path)
    missing = mirror._failure("clone", "fatal: repository 'http://127.0.0.1:40309/x.git/' not found\n", remote=True)
    assert "there is no repository at" in str(missing)
    refused = mirror._failure("clone", "fatal: unable to access 'http://127.0.0.1:40309/x.git/': The requested URL "
                              "returned error: 403\n", remote=True)
    assert "refused hubbot's credentials" in str(refused)
