"""/hub book: the myst.yml it writes passes mystmd's own validator (which does catch a wrong key), its
launch links parse back to what they say, its fleet snippet loads and makes hubbot answer from a real
git repository with links shaped as a real MyST build names pages and headings; who may ask; bad input."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from pydantic import ValidationError

from hubbot.adapters.docs_sources import RepoDocs
from hubbot.adapters.git import GitMirror
from hubbot.adapters.providers import knowledge_for
from hubbot.fleet import DocsConfig, load_fleet
from hubbot.markup import to_mrkdwn
from hubbot.pipeline.contract import Reply
from tests.support.fleet import CHANNEL_A, ENGINEER, FLEET_YAML, LEADER_B, MEMBER_A
from tests.support.fleet_repo import git
from tests.support.memory import dispatcher, run
from tests.support.mystmd import problems, site_ids

REPO = "https://github.com/alpha-org/handbook"
PAGES = {
    "index.md": "# Alpha handbook\n\nWelcome to the Alpha Community's hub.\n",
    "guide/01_Install-Guide.md": (
        "# Installing software\n\nHow to add software to your server on the hub.\n\n"
        "## What's new in v1.2?\n\nThe hub's image now ships mamba 1.5 and R 4.4.\n\n"
        "## Conda & pip: installing packages\n\n"
        "Install a package for yourself with `pip install --user NAME` in a terminal; it stays in your home "
        "directory across server restarts. Conda environments go in ~/envs.\n\n"
        "## 3 steps to a shared environment\n\nAsk a leader to add the package to the image.\n"),
    "Storage_Quotas.md": (
        "# Storage\n\n(home-quota)=\n## Home directory quota\n\n"
        "Every user's home directory holds at most 10 GiB; delete old checkpoints to free space.\n"),
}


def files(reply: Reply) -> dict[str, str]:
    return {f.name: f.content.decode() for f in reply.files}


async def book(fleet_file: Path, text: str, *, user: str = ENGINEER) -> Reply:
    d, _ = dispatcher(fleet_file)
    return await run(d, text, user=user)


def project(tmp_path: Path, myst_yml: str, pages: dict[str, str] | None = None) -> Path:
    folder = tmp_path / "book"
    for name, text in {"myst.yml": myst_yml, **(pages or {"index.md": "# Home\n\nHello.\n"})}.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


@pytest.mark.parametrize("hub", ["aws-cluster/prod", "beta-binder"])
async def test_the_myst_yml_passes_mysts_own_validation(fleet_file: Path, tmp_path: Path, hub: str) -> None:
    reply = await book(fleet_file, f"book {hub} --repo {REPO}")
    assert reply.ok, reply.text
    assert set(files(reply)) == {"myst.yml", "book.yml", "hubbot-docs.yaml"}
    config = yaml.safe_load(files(reply)["myst.yml"])
    assert config["version"] == 1 and config["site"]["template"] == "book-theme"
    assert config["project"]["github"] == REPO
    assert problems(project(tmp_path, files(reply)["myst.yml"])) == []


async def test_the_validator_reports_a_wrong_key(fleet_file: Path, tmp_path: Path) -> None:
    text = files(await book(fleet_file, f"book beta-binder --repo {REPO}"))["myst.yml"]
    wrong = text.replace("project:\n", "project:\n  launch_buttons: {binderhub_url: https://binder.beta.test}\n")
    found = problems(project(tmp_path, wrong.replace("      url: https://binder", "      url: binder")))
    assert any("launch_buttons" in p for p in found), found
    assert any("must be valid URL" in p for p in found), found


async def test_the_workflow_publishes_under_the_repositorys_path(fleet_file: Path) -> None:
    flow = yaml.safe_load(files(await book(fleet_file, f"book prod --repo {REPO}"))["book.yml"])
    assert flow["env"]["BASE_URL"] == "/handbook"
    steps = [s.get("run", s.get("uses")) for s in flow["jobs"]["publish"]["steps"]]
    assert "myst build --html" in steps and "actions/deploy-pages@v4" in steps
    user_site = files(await book(fleet_file, "book prod --repo https://github.com/alpha-org/alpha-org.github.io"))
    assert yaml.safe_load(user_site["book.yml"])["env"]["BASE_URL"] == ""


async def test_the_nbgitpuller_link_round_trips(fleet_file: Path) -> None:
    reply = await book(fleet_file, f"book aws-cluster/prod --repo {REPO}.git --branch spring-2026")
    link = yaml.safe_load(files(reply)["myst.yml"])["site"]["actions"][0]["url"]
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "alpha.test", "/hub/user-redirect/git-pull")
    assert parse_qs(parts.query, strict_parsing=True) == {"repo": [REPO], "branch": ["spring-2026"],
                                                          "urlpath": ["lab/tree/handbook"]}
    assert link in reply.text


async def test_a_binderhub_gets_binder_launches(fleet_file: Path) -> None:
    reply = await book(fleet_file, f"book beta-binder --repo {REPO}")
    config = yaml.safe_load(files(reply)["myst.yml"])
    assert config["project"]["jupyter"] == {"binder": {"url": "https://binder.beta.test/", "repo": "alpha-org/handbook",
                                                       "ref": "main"}}
    assert config["site"]["actions"][0]["url"] == "https://binder.beta.test/v2/gh/alpha-org/handbook/main"


async def test_without_a_repo_it_says_where_to_put_one(fleet_file: Path) -> None:
    reply = await book(fleet_file, "book prod")
    assert reply.ok and "--repo https://github.com/<owner>/<repo>" in reply.text
    assert "OWNER/REPO" in files(reply)["myst.yml"]


def with_docs(snippet: str, tmp_path: Path) -> Path:
    """The test fleet with the snippet's community support merged into alpha's entry."""
    fleet = yaml.safe_load(FLEET_YAML)
    wanted = yaml.safe_load(snippet)["communities"][0]
    alpha = next(c for c in fleet["communities"] if c["name"] == wanted["name"])
    alpha["support"] = wanted["support"]
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(fleet))
    return path


async def test_the_snippet_loads_and_gives_the_community_a_docs_tree(fleet_file: Path, tmp_path: Path) -> None:
    snippet = files(await book(fleet_file, f"book prod --repo {REPO}", user=MEMBER_A))["hubbot-docs.yaml"]
    fleet = load_fleet(with_docs(snippet, tmp_path))
    support = fleet.community("alpha").support
    assert support is not None
    (docs,) = support.docs
    assert (docs.repo, docs.branch, docs.base_url, docs.pages, docs.anchors) == (
        REPO, "main", "https://alpha-org.github.io/handbook", "mystmd", "mystmd")
    assert "alpha" in knowledge_for(fleet, cache=tmp_path / "cache")


def book_repository(tmp_path: Path, myst_yml: str) -> tuple[Path, Path]:
    """The book in a real git repository (a checkout and the bare remote hubbot clones)."""
    remote, work = tmp_path / "handbook.git", tmp_path / "handbook"
    git("init", "-q", "--bare", "-b", "main", str(remote), cwd=tmp_path)
    git("clone", "-q", str(remote), str(work), cwd=tmp_path)
    for name, text in {"myst.yml": myst_yml, **PAGES}.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(text)
    git("add", ".", cwd=work)
    git("commit", "-q", "-m", "The handbook", cwd=work)
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    return work, remote


async def test_answers_come_from_the_books_repository_with_myst_site_links(fleet_file: Path,
                                                                            tmp_path: Path) -> None:
    made = files(await book(fleet_file, f"book prod --repo {REPO}"))
    work, remote = book_repository(tmp_path, made["myst.yml"])
    fleet_path = with_docs(made["hubbot-docs.yaml"].replace(REPO, str(remote)), tmp_path)
    d, _ = dispatcher(fleet_path)
    d.services = dataclasses.replace(d.services, knowledge=knowledge_for(d.fleet, cache=tmp_path / "cache"))
    built = site_ids(work)  # what a real MyST build of the same book names its pages and headings
    asked = {"how do I install a package with pip?": ("install-guide", "conda-pip-installing-packages"),
             "what is the home directory quota?": ("storage-quotas", "home-quota")}
    for question, (page, anchor) in asked.items():
        reply = await run(d, f"ask {question}", user=MEMBER_A, channel=CHANNEL_A)
        url = f"https://alpha-org.github.io/handbook/{page}#{anchor}"
        assert reply.ok and url in reply.text, reply.text
        assert anchor in built[page], built
    assert "id-3-steps-to-a-shared-environment" in built["install-guide"]  # the rule's leading digit, checked


async def test_a_docs_repository_is_fetched_again_when_due(tmp_path: Path) -> None:
    work, remote = book_repository(tmp_path, "version: 1\n")
    now = [0.0]
    docs = RepoDocs(GitMirror(str(remote), cache=tmp_path / "cache", what="the docs repository"), subdir="guide",
                    every=600, clock=lambda: now[0])
    first = docs.root()
    assert (first / "01_Install-Guide.md").is_file()
    (work / "guide" / "more.md").write_text("# More\n")
    git("add", ".", cwd=work)
    git("commit", "-q", "-m", "More", cwd=work)
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    assert not docs.moved()  # not due yet
    now[0] = 601
    assert not docs.moved()  # the fetch runs in the background
    docs.wait()
    assert docs.moved() and (docs.root() / "more.md").is_file() and docs.root() != first


def test_docs_config_says_what_is_wrong() -> None:
    base = {"base_url": "https://docs.example.org"}
    for bad, says in [({"path": "docs", "repo": REPO}, "either as path"), ({}, "either as path"),
                      ({"path": "docs", "branch": "dev"}, "only apply to docs from a repo"),
                      ({"repo": REPO, "pages": "mystmd", "page_suffix": ".html"}, "clean URLs"),
                      ({"repo": REPO, "subdir": "../etc"}, "inside the repository")]:
        with pytest.raises(ValidationError, match=says):
            DocsConfig.model_validate({**base, **bad})


async def test_a_member_of_another_community_is_refused(fleet_file: Path) -> None:
    reply = await book(fleet_file, f"book aws-cluster/prod --repo {REPO}", user=LEADER_B)
    assert reply.kind == "denied" and not reply.files


async def test_an_unknown_hub_gets_a_suggestion(fleet_file: Path) -> None:
    reply = await book(fleet_file, "book aws-cluster/prd")
    assert reply.kind == "not_found" and "did you mean 'aws-cluster/prod'" in reply.text, reply.text


@pytest.mark.parametrize("repo", ["<!channel>", "javascript:alert(document.cookie)", "https://gitlab.com/a/b",
                                  "https://github.com/a", "https://user:pw@github.com/a/b", "<https://evil.test|x>"])
async def test_a_bad_repo_is_refused_without_echoing_it(fleet_file: Path, repo: str) -> None:
    reply = await book(fleet_file, f"book prod --repo {repo}")
    assert reply.kind == "usage" and "https://github.com/<owner>/<repo>" in reply.text, reply.text
    shown = to_mrkdwn(reply.text)
    assert "<!channel>" not in shown and "javascript:" not in shown and "<http" not in shown
    assert not reply.files


async def test_a_hub_of_no_community_is_the_engineers_alone(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(FLEET_YAML.replace("{name: class, community: alpha, domain: class.alpha.test}",
                                       "{name: class, domain: class.alpha.test}"))
    d, _ = dispatcher(path)
    assert (await run(d, "book class", user=MEMBER_A, channel=CHANNEL_A)).kind == "denied"
    reply = await run(d, f"book class --repo {REPO}", user=ENGINEER)
    assert reply.ok and "support:\n  docs:" in files(reply)["hubbot-docs.yaml"]
