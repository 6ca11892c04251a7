"""``/hub book <hub> [--repo URL] [--branch B]`` — what a community needs to publish its docs as a
Jupyter Book 2 (MyST) site whose pages open on its hub (nbgitpuller) or BinderHub, and the fleet
config that makes hubbot answer support questions from that book (:mod:`hubbot.books`)."""

from __future__ import annotations

from commands.target import HUB_ARG, named_hub
from hubbot import books
from hubbot import markup as m
from hubbot.deploys import links
from hubbot.pipeline.access import Permission
from hubbot.pipeline.args import Opt, Signature
from hubbot.pipeline.contract import PREFIX, CommandSpec, Context, File, Reply
from hubbot.render import blocks as b

YAML = "text/yaml"


async def book_handler(ctx: Context) -> Reply:
    ref = named_hub(ctx, "book")
    repo = books.github_repo(ctx.args.text("repo"))
    branch = ctx.args.text("branch") or "main"
    # the links validate the branch (and the repository URL) as they are built
    if ref.hub.binder:
        launch = links.binder(ref.hub.url, repo.url, ref=branch)
    else:
        launch = links.nbgitpuller(ref.hub.url, repo.url, ref=branch)
    community = ctx.fleet.community(ref.hub.community) if ref.hub.community else None
    title = f"{community.title} docs" if community else f"{ref.hub.display_name or ref.hub.name} docs"
    book = books.plan(title=title, community=community.name if community else None, hub=ref.qualified,
                      hub_name=ref.hub.display_name or ref.hub.domain, hub_url=ref.hub.url, binder=ref.hub.binder,
                      repo=repo, branch=branch, launch=launch)
    files = [
        File(name="myst.yml", content=books.myst_yml(book).encode(), mimetype=YAML,
             title="myst.yml — Jupyter Book 2 configuration (the repository's root)"),
        File(name="book.yml", content=books.pages_workflow(book).encode(), mimetype=YAML,
             title="book.yml — GitHub Actions workflow (.github/workflows/book.yml)"),
        File(name="hubbot-docs.yaml", content=books.fleet_snippet(book).encode(), mimetype=YAML,
             title="hubbot-docs.yaml — the fleet config that answers from the book (for an engineer)"),
    ]
    head = f"A Jupyter Book 2 knowledge base launching into {ref.qualified}"
    where = (f"Put these in the book's repository *{repo.slug}*" if not repo.placeholder else
             f"No repository given: the files say OWNER/REPO. Create one on GitHub, then ask again with "
             f"`{PREFIX} book {ref.qualified} --repo https://github.com/<owner>/<repo>`")
    how = "Binder launch link" if ref.hub.binder else "nbgitpuller link (opens the repository in JupyterLab)"
    steps = [
        "1. `myst.yml` at the repository's root, beside `index.md` and your pages (Markdown or notebooks).",
        "2. `.github/workflows/book.yml`; then Settings → Pages → Source: *GitHub Actions*. Each push to "
        f"`{branch}` publishes {m.link(repo.pages_url) if not repo.placeholder else 'the site'}.",
        "3. Give `hubbot-docs.yaml` to a hub engineer: with it in the fleet config hubbot answers "
        "support questions from the book and links to its pages.",
    ]
    text = "\n".join([head, where, *steps, f"{how}: {launch}"])
    blocks = [b.header(head), b.section(where), b.section("\n".join(steps)),
              b.section(f"*{how}* — for one page, end it with `&urlpath=lab/tree/{repo.name}/<page>` instead"
                        if not ref.hub.binder else f"*{how}*"),
              b.section(f"```{launch}```"),
              b.context("Files: myst.yml · book.yml · hubbot-docs.yaml (MyST engine mystmd "
                        f"{books.MYSTMD_VERSION})")]
    return Reply(text=text, blocks=b.limit(blocks), files=files)


BOOK = CommandSpec(
    name="book", summary="publish the community's docs as a Jupyter Book 2 site that launches into its hub",
    handler=book_handler, permission=Permission.COMMUNITY_READ,
    signature=Signature(args=(HUB_ARG,), opts=(
        Opt("repo", "the book's GitHub repository, https://github.com/<owner>/<repo>"),
        Opt("branch", "the branch the book is published from (default main)"))),
    scope="hub",
    help="Gives myst.yml (MyST / Jupyter Book 2, book theme, a launch button into the hub: nbgitpuller, or "
         "Binder for a BinderHub), a GitHub Actions workflow publishing to GitHub Pages, and the fleet config "
         "that makes hubbot answer support questions from the published book.",
    examples=(f"{PREFIX} book staging --repo https://github.com/org/handbook",),
)
