"""Launch links: nbgitpuller into a hub, Binder links for a BinderHub; hostile input refused."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from hubbot.deploys import links
from hubbot.errors import UsageError


def test_nbgitpuller_link_clones_into_the_hub_and_opens_the_path() -> None:
    url = links.nbgitpuller("https://hub.example.org/", "https://github.com/org/lessons.git", ref="main",
                            path="week1/intro.ipynb")
    parts = urlsplit(url)
    assert parts.netloc == "hub.example.org" and parts.path == "/hub/user-redirect/git-pull"
    query = parse_qs(parts.query)
    assert query == {"repo": ["https://github.com/org/lessons"], "branch": ["main"],
                     "urlpath": ["lab/tree/lessons/week1/intro.ipynb"]}


def test_nbgitpuller_without_ref_or_path_opens_the_folder() -> None:
    url = links.nbgitpuller("https://hub.example.org", "https://gitlab.com/group/sub/repo")
    assert parse_qs(urlsplit(url).query) == {"repo": ["https://gitlab.com/group/sub/repo"],
                                             "urlpath": ["lab/tree/repo"]}


@pytest.mark.parametrize(("repo", "expected"), [
    ("https://github.com/org/repo", "https://binder.example.org/v2/gh/org/repo/HEAD"),
    ("https://gitlab.com/group/sub/repo", "https://binder.example.org/v2/gl/group%2Fsub%2Frepo/HEAD"),
    ("https://git.example.edu/a/b.git", "https://binder.example.org/v2/git/https%3A%2F%2Fgit.example.edu%2Fa%2Fb/HEAD"),
])
def test_binder_links_by_host(repo: str, expected: str) -> None:
    assert links.binder("https://binder.example.org/", repo) == expected


def test_binder_link_with_ref_and_path() -> None:
    url = links.binder("https://binder.example.org", "https://github.com/org/repo", ref="v1.0",
                       path="notebooks/a b.ipynb")
    assert url == "https://binder.example.org/v2/gh/org/repo/v1.0?labpath=notebooks/a%20b.ipynb"


@pytest.mark.parametrize("repo", [
    "javascript:alert(1)", "http://github.com/org/repo", "https://user:pw@github.com/org/repo",
    "https://github.com/org/repo?x=1", "https://github.com/", "https://github.com/org/re<po", "", "x" * 400,
    "https://github.com/org/repo#frag", "ftp://github.com/org/repo",
])
def test_hostile_repositories_are_refused(repo: str) -> None:
    with pytest.raises(UsageError):
        links.nbgitpuller("https://hub.example.org", repo)


@pytest.mark.parametrize(("ref", "path"), [("../../etc", None), ("-rf", None), ("a b", None),
                                           (None, "../secret"), (None, "a\"onload=x"), (None, "/")])
def test_hostile_refs_and_paths_are_refused(ref: str | None, path: str | None) -> None:
    with pytest.raises(UsageError):
        links.binder("https://b.example.org", "https://github.com/org/repo", ref=ref, path=path)
