"""The files of a Jupyter Book 2 knowledge base: ``myst.yml`` (MyST's project and site config, with a
launch into the community's hub), a GitHub Actions workflow that publishes the book to GitHub Pages,
and the fleet config that makes hubbot answer from it. Pure functions of a :class:`BookPlan`.

What the files say follows mystmd 1.8.3 (the engine Jupyter Book 2 runs): ``project.jupyter`` (an
alias of ``thebe``) takes a BinderHub as ``binder: {url, repo, ref}``; there is no key for a default
JupyterHub (the book theme's launch button asks the reader for one), so a hub that is not a BinderHub
gets a ``site.actions`` button with its nbgitpuller link instead; ``BASE_URL`` is the path the site
is served under (``/<repo>`` on ``<owner>.github.io``, empty for the ``<owner>.github.io`` repository).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import yaml

from hubbot.errors import UsageError

MYSTMD_VERSION = "1.8.3"
NODE_VERSION = "20"
_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
_NAME = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_SHOWABLE = re.compile(r"^[A-Za-z0-9._/:-]{1,100}$")


@dataclass(frozen=True, slots=True)
class GitHubRepo:
    """A GitHub repository; ``placeholder`` when the caller has not said which yet."""

    owner: str
    name: str
    placeholder: bool = False

    @property
    def url(self) -> str:
        return f"https://github.com/{self.owner}/{self.name}"

    @property
    def slug(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def user_site(self) -> bool:
        """The ``<owner>.github.io`` repository, published at the root of its domain."""
        return self.name.lower() == f"{self.owner.lower()}.github.io"

    @property
    def base_path(self) -> str:
        """GitHub Pages' path for the site (mystmd's ``BASE_URL``)."""
        return "" if self.user_site else f"/{self.name}"

    @property
    def pages_url(self) -> str:
        return f"https://{self.owner.lower()}.github.io{self.base_path}"


PLACEHOLDER = GitHubRepo("OWNER", "REPO", placeholder=True)


def github_repo(text: str | None) -> GitHubRepo:
    """The repository of ``https://github.com/<owner>/<repo>`` (a trailing ``.git`` or ``/`` is fine;
    Slack's ``<...>`` around a link too), :data:`PLACEHOLDER` when none is given, else a
    :class:`UsageError` that shows the input only when it is plainly a URL."""
    if text is None or not text.strip():
        return PLACEHOLDER
    raw = text.strip()
    url = raw[1:-1] if raw.startswith("<") and raw.endswith(">") and raw.count("<") == 1 else raw
    shown = f"'{url}'" if _SHOWABLE.match(url) else "that --repo"
    wanted = "give the book's repository as https://github.com/<owner>/<repo>"
    parts = urlsplit(url) if len(url) <= 300 and url.isprintable() and " " not in url else None
    if parts is None or parts.scheme != "https":
        raise UsageError(f"{shown} is not an https:// URL: {wanted}")
    if parts.netloc.lower() not in ("github.com", "www.github.com"):
        raise UsageError(f"{shown} is not on github.com (the publishing workflow is GitHub Pages'): {wanted}")
    if parts.query or parts.fragment:
        raise UsageError(f"{shown} has a ?query or #fragment: {wanted}")
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) != 2:
        raise UsageError(f"{shown} does not name one repository: {wanted}")
    owner, name = segments[0], segments[1].removesuffix(".git")
    if not _OWNER.match(owner) or not _NAME.match(name) or name in (".", ".."):
        raise UsageError(f"{shown} is not a GitHub owner and repository name: {wanted}")
    return GitHubRepo(owner, name)


@dataclass(frozen=True, slots=True)
class BookPlan:
    """What to publish where: the book of ``title`` in ``repo`` at ``branch``, launching into
    ``hub`` (``launch`` is the nbgitpuller link, or for a BinderHub the Binder launch link)."""

    title: str
    community: str | None
    hub: str  # cluster/hub
    hub_name: str
    hub_url: str
    binder: bool
    repo: GitHubRepo
    branch: str
    launch: str


def plan(*, title: str, community: str | None, hub: str, hub_name: str, hub_url: str, binder: bool,
         repo: GitHubRepo, branch: str, launch: str) -> BookPlan:
    return BookPlan(title=title, community=community, hub=hub, hub_name=hub_name, hub_url=hub_url.rstrip("/") + "/",
                    binder=binder, repo=repo, branch=branch, launch=launch)


def _dump(data: object, indent: int = 0) -> str:
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1000)
    pad = " " * indent
    return "".join(pad + line if line.strip() else line for line in text.splitlines(keepends=True))


def myst_yml(book: BookPlan) -> str:
    """``myst.yml`` for the book (Jupyter Book 2 reads it as ``jupyter book build`` does)."""
    project: dict[str, object] = {"title": book.title, "github": book.repo.url}
    if book.binder:
        project["jupyter"] = {"binder": {"url": book.hub_url, "repo": book.repo.slug, "ref": book.branch}}
    action = "Launch on Binder" if book.binder else f"Open on {book.hub_name}"
    site = {"template": "book-theme", "actions": [{"title": action, "url": book.launch}]}
    launch_note = (
        f"# Launching: pages run on the BinderHub {book.hub_url} (the book theme's launch button and the\n"
        f"# 'Launch on Binder' button above the site).\n" if book.binder else
        f"# Launching: the 'Open on {book.hub_name}' button clones (or updates) this repository into the reader's\n"
        f"# home on {book.hub_url} with nbgitpuller and opens it in JupyterLab. (MyST has no setting for a\n"
        "# default JupyterHub: its launch button asks readers for their hub's address.)\n")
    placeholder = ("# Replace OWNER/REPO with the book's GitHub repository (or ask hubbot again with --repo).\n"
                   if book.repo.placeholder else "")
    return (
        f"# Jupyter Book 2 (MyST) configuration for {_line(book.title)}, launching into {book.hub}.\n"
        "# Build the site with `jupyter book build --html` (or `myst build --html`);\n"
        "# preview it with `jupyter book start`.\n"
        + placeholder + launch_note
        + _dump({"version": 1})
        + "project:\n" + _dump(project, 2)
        + "  # Table of contents: without `toc`, every page is listed (index.md first) in file-name order.\n"
        "  # To choose the order, list the pages:\n"
        "  # toc:\n"
        "  #   - file: index.md\n"
        "  #   - title: Lessons\n"
        "  #     children:\n"
        "  #       - pattern: lessons/*.md\n"
        + "site:\n" + _dump(site, 2))


def pages_workflow(book: BookPlan) -> str:
    """``.github/workflows/book.yml``: build the site with mystmd on each push to the branch and
    publish it with GitHub Pages (Settings -> Pages -> Source: GitHub Actions)."""
    base = book.repo.base_path
    return f"""# Publishes the book to GitHub Pages on each push to {book.branch}.
# In the repository's Settings -> Pages, set Source to "GitHub Actions".
name: Publish the book
on:
  push:
    branches: [{_quoted(book.branch)}]
  workflow_dispatch:
env:
  # The path the site is served under: /<repository> on <owner>.github.io, '' for a site at a domain's root
  # (the <owner>.github.io repository, or a custom domain).
  BASE_URL: {_quoted(base)}
permissions:
  contents: read
  pages: write
  id-token: write
concurrency:
  group: pages
  cancel-in-progress: false
jobs:
  publish:
    runs-on: ubuntu-latest
    environment:
      name: github-pages
      url: ${{{{ steps.deployment.outputs.page_url }}}}
    steps:
      - uses: actions/checkout@v4
      - uses: actions/configure-pages@v5
      - uses: actions/setup-node@v4
        with:
          node-version: {NODE_VERSION}
      - name: Install mystmd (the engine of Jupyter Book 2)
        run: npm install -g mystmd@{MYSTMD_VERSION}
      - name: Build the site
        run: myst build --html
      - uses: actions/upload-pages-artifact@v3
        with:
          path: ./_build/html
      - id: deployment
        uses: actions/deploy-pages@v4
"""


def fleet_snippet(book: BookPlan) -> str:
    """The fleet config that makes hubbot answer the community's questions from the published book."""
    docs = {"repo": book.repo.url, "branch": book.branch, "base_url": book.repo.pages_url, "pages": "mystmd",
            "anchors": "mystmd"}
    where = "the community's entry (keep its other settings)" if book.community else "the fleet-wide support"
    head = (f"# hubbot's fleet config: answer support questions from the book. Merge into {where};\n"
            "# base_url is where GitHub Pages publishes it (change it for a custom domain).\n")
    if book.community is None:
        return head + _dump({"support": {"docs": [docs]}})
    return head + _dump({"communities": [{"name": book.community, "support": {"docs": [docs]}}]})


def _line(text: str) -> str:
    return " ".join(text.split())


def _quoted(text: str) -> str:
    return yaml.safe_dump(text, default_style="'").strip().removesuffix("...").strip()
