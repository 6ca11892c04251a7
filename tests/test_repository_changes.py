"""Chat changes as pull requests on the fleet repository, end to end: signed Slack requests into
the real app, the real git pushing a change branch to a bare remote, the real GitHub client
(githubkit) against the GitHub stand-in; then the pull request followed through its checks,
reviews and merge, and the merged commit deployed from its button."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from alerts.proposals import follow
from hubbot.adapters.github import GitHubPulls
from hubbot.adapters.memory import MemoryHubApi
from tests.support.deploy_env import finish, job
from tests.support.fleet import CHANNEL_A, ENGINEER, ENGINEER_2, LEADER_A
from tests.support.fleet_repo import FleetRepo, git, make_repository
from tests.support.github_standin import TOKEN, GitHubStandIn
from tests.support.harness import Harness, harness
from tests.support.server import serve


@dataclass
class Env:
    repo: FleetRepo
    github: GitHubStandIn
    bot: Harness

    def said(self, method: str = "response_url") -> str:
        self.bot.settle()
        return str(self.bot.standin.of(method)[-1].args["text"])

    def press(self, label: str, *, user: str, method: str = "response_url") -> None:
        self.bot.settle()
        blocks = self.bot.standin.wait_for(method)[-1].args["blocks"]
        blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
        button = next(e for blk in blocks if blk["type"] == "actions" for e in blk["elements"]
                      if e["text"]["text"].startswith(label))
        self.bot.click(user=user, channel=CHANNEL_A, action_id=button["action_id"], value=button["value"])
        self.bot.settle()

    def follow(self) -> int:
        return int(self.bot.served.call(follow(self.bot.runtime.services)))


def fleet_file(tmp: Path, api_url: str) -> Path:
    path = tmp / "fleet.yaml"
    (tmp / "kubeconfig.yaml").write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")
    path.write_text(yaml.safe_dump({
        "repository": {"url": "remote.git", "changes": "pull-request", "github": "example-org/fleet",
                       "github_api_url": api_url,
                       "clusters": {"leap": {"kubernetes": {"kind": "kubeconfig", "path": "kubeconfig.yaml"}}}},
        "communities": [{"name": "leap", "channel": CHANNEL_A, "leaders": [LEADER_A],
                         "hubs": ["leap/staging", "leap/prod"]}],
        "roles": {"engineers": [ENGINEER, ENGINEER_2]},
    }))
    return path


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    repo = make_repository(tmp_path)
    github = GitHubStandIn()

    def branch(name: str) -> str | None:
        found = git("for-each-ref", "--format=%(objectname)", f"refs/heads/{name}", cwd=repo.remote)
        return found or None

    github.git_branches = branch
    with serve(github.app) as served:
        github.base_url = served.url
        pulls = GitHubPulls("example-org/fleet", token=TOKEN, api_url=served.url)
        hubs = {name: MemoryHubApi(name, users=["ana"]) for name in ("leap/staging", "leap/prod")}
        with harness(tmp_path, fleet_file(tmp_path, served.url), pulls=pulls, hub_apis=dict(hubs)) as bot:
            yield Env(repo, github, bot)


def show(repo: FleetRepo, ref: str, path: str) -> Any:
    return yaml.safe_load(git("show", f"{ref}:{path}", cwd=repo.remote))


def test_a_quota_change_becomes_a_pull_request_followed_until_merged_and_deployed(env: Env) -> None:
    main = env.repo.head()
    env.bot.slash("quota set leap/staging storage=20GiB", user=ENGINEER, channel=CHANNEL_A)
    asked = env.said()
    assert "a pull request on the fleet repository; deploying the merged commit applies it" in asked, asked
    env.press("Confirm", user=ENGINEER)
    opened = env.said()
    assert "Opened pull request <https://github.com/example-org/fleet/pull/1|#1> for leap/staging" in opened, opened
    pull = env.github.repo.pulls[1]
    branch = pull["head"]
    assert branch.startswith("hubbot/leap-staging-quota-") and pull["base"] == "main"
    assert env.repo.head() == main  # nothing pushed to the deploy branch
    folder = "config/clusters/leap"
    mine = show(env.repo, branch, f"{folder}/hubbot-staging.values.yaml")
    # a daskhub: basehub's values under basehub:, the quota in GiB as jupyterhub-home-nfs reads it
    assert mine == {"basehub": {"jupyterhub-home-nfs": {"quotaEnforcer": {"config": {"QuotaManager": {
        "hard_quota": 20}}}}}}
    staging = next(h for h in show(env.repo, branch, f"{folder}/cluster.yaml")["hubs"] if h["name"] == "staging")
    assert staging["helm_chart_values_files"][-1] == "hubbot-staging.values.yaml"
    message = git("log", "-1", "--format=%an%n%B", branch, cwd=env.repo.remote)
    assert f"hubbot for {ENGINEER}" in message and f"Asked for in Slack by {ENGINEER}" in message
    assert "leap/staging: storage" in pull["title"]
    assert any(e.command == "quota set" and "pull request #1 (https://github.com/example-org/fleet/pull/1)"
               in e.detail for e in env.bot.audit())

    # followed: checks fail, then pass with an approval; each said once in the thread
    head = pull["head_sha"]
    env.github.set_check(head, "validate-clusters", conclusion="failure")
    assert env.follow() == 1
    assert env.said("chat.postMessage") == ":x: Checks failed on <https://github.com/example-org/fleet/pull/1|#1>: " \
                                           "validate-clusters."
    assert env.follow() == 0  # nothing new, nothing said
    env.github.set_check(head, "validate-clusters", conclusion="success")
    env.github.add_review(1, "octo-reviewer", "APPROVED")
    assert env.follow() == 1
    both = env.said("chat.postMessage")
    assert "Checks passed" in both and "approved by octo-reviewer" in both

    # merged (in git, as GitHub would): said with a Deploy button; the button deploys exactly that commit
    git("fetch", "-q", "origin", branch, cwd=env.repo.work)
    git("merge", "-q", "--no-ff", "-m", "Merge pull request #1", "FETCH_HEAD", cwd=env.repo.work)
    git("push", "-q", "origin", "main", cwd=env.repo.work)
    merged = env.repo.head()
    env.github.merged_as(1, merged)
    assert env.follow() == 1
    assert f"was merged as `{merged[:12]}`. Nothing is deployed yet" in env.said("chat.postMessage")
    env.press("Deploy leap/staging", user=ENGINEER, method="chat.postMessage")
    finish(env.bot)
    started = job(env.bot, 1)
    assert (started.hub, started.commit, started.ref) == ("leap/staging", merged, merged)
    assert env.follow() == 0  # merged: no longer followed

    # the fleet read at the merged commit carries the hub's new values file last
    env.bot.served.call(env.bot.runtime.refresh_fleet())
    values = env.bot.runtime.fleet.hub("leap/staging").hub.values
    assert values[-1].endswith("config/clusters/leap/hubbot-staging.values.yaml")


def test_a_pull_request_closed_unmerged_is_said_and_no_longer_followed(env: Env) -> None:
    env.bot.slash("quota set leap/staging storage=5GiB", user=ENGINEER, channel=CHANNEL_A)
    env.press("Confirm", user=ENGINEER)
    assert "Opened pull request" in env.said()
    env.github.block(1)  # someone changed the same lines on main
    assert env.follow() == 1
    assert ":warning: <https://github.com/example-org/fleet/pull/1|#1> conflicts with main now" in env.said(
        "chat.postMessage")
    assert env.follow() == 0  # said once
    env.github.close(1)
    assert env.follow() == 1
    assert "was closed without merging: nothing changes on leap/staging" in env.said("chat.postMessage")
    assert env.follow() == 0


def test_a_leader_without_a_ceiling_is_refused_and_nothing_is_proposed(env: Env) -> None:
    env.bot.slash("quota set leap/prod storage=5GiB", user=LEADER_A, channel=CHANNEL_A)
    assert "no ceiling is set for storage in leap's quota_ceilings, so only engineers may set it" in env.said()
    assert env.github.repo.pulls == {}


def test_a_prod_hub_off_the_deploy_branch_says_so_to_its_approver(env: Env) -> None:
    sha = env.repo.commit("Try something", {"config/clusters/leap/prod.values.yaml": "greeting: hi\n"},
                          branch="experiment")
    env.bot.slash("deploy leap/prod --ref experiment", user=ENGINEER, channel=CHANNEL_A)
    asked = env.said()
    assert f"deploy leap/prod at commit {sha[:12]} (experiment) — NOT the main branch: experiment is deployed only " \
           "if you approve it" in asked, asked
    env.bot.slash("deploy leap/prod", user=ENGINEER, channel=CHANNEL_A, hook="r2")
    main = env.said()
    assert f"deploy leap/prod at commit {env.repo.head()[:12]} (main)" in main and "NOT" not in main, main


def test_without_a_github_token_a_change_says_what_to_set(tmp_path: Path) -> None:
    make_repository(tmp_path)
    hubs = {"leap/staging": MemoryHubApi("leap/staging", users=["ana"])}
    with harness(tmp_path, fleet_file(tmp_path, "http://127.0.0.1:9"), hub_apis=dict(hubs)) as bot:
        env = Env(FleetRepo(tmp_path, tmp_path), GitHubStandIn(), bot)
        bot.slash("quota set leap/staging storage=20GiB", user=ENGINEER, channel=CHANNEL_A)
        env.press("Confirm", user=ENGINEER)
        assert "hubbot has no GitHub token — set HUBBOT_GITHUB_TOKEN to one that may push branches" in env.said()


def test_a_pull_request_github_fails_to_open_names_the_branch_and_nothing_is_followed(env: Env) -> None:
    main = env.repo.head()
    env.bot.slash("quota set leap/staging storage=30GiB", user=ENGINEER, channel=CHANNEL_A)
    env.github.fail_next(502, "Server Error")
    env.press("Confirm", user=ENGINEER)
    said = env.said()
    assert "branch hubbot/leap-staging-quota-" in said and "was pushed; it can be deleted" in said, said
    assert env.github.repo.pulls == {}
    assert env.follow() == 0 and env.repo.head() == main  # nothing followed; the deploy branch untouched
