"""A repository's pull requests: the in-memory twin and the GitHub adapter (githubkit) on a local
stand-in of GitHub's REST API run the same cases (tests/support/pulls_contract.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hubbot.adapters.github import GitHubPulls
from hubbot.adapters.memory import MemoryPulls
from tests.support.github_standin import LOGIN, TOKEN, GitHubStandIn
from tests.support.pulls_contract import *  # noqa: F403  (the shared cases)
from tests.support.pulls_contract import Backend
from tests.support.server import serve


@pytest.fixture(params=["memory", "github"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "memory":
        twin = MemoryPulls("example-org/fleet", author=LOGIN)
        yield Backend(twin, twin, "example-org/fleet", LOGIN)
        return
    standin = GitHubStandIn()
    with serve(standin.app) as served:
        standin.base_url = served.url
        yield Backend(GitHubPulls("example-org/fleet", token=TOKEN, api_url=served.url), standin,
                      "example-org/fleet", LOGIN)
