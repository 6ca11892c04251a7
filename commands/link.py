"""``/hub link`` — an nbgitpuller link into a hub, or a Binder launch link, for a lesson or launch button."""

from __future__ import annotations

from commands.target import HUB_ARG, named_hub
from hubbot.deploys import links
from hubbot.errors import UserError
from hubbot.pipeline.access import Permission
from hubbot.pipeline.args import Arg, Opt, Signature
from hubbot.pipeline.contract import PREFIX, CommandSpec, Context, Reply
from hubbot.render import blocks as b


async def link_handler(ctx: Context) -> Reply:
    ref = named_hub(ctx, "link")
    repo = ctx.args.text("repo-url") or ""
    ref_name, path = ctx.args.text("ref"), ctx.args.text("path")
    if ctx.args.flag("binder"):
        if not ref.hub.binder:
            raise UserError(f"{ref.qualified} is not a BinderHub; leave out --binder for an nbgitpuller link")
        url = links.binder(ref.hub.url, repo, ref=ref_name, path=path)
        what = "Binder launch link"
    else:
        url = links.nbgitpuller(ref.hub.url, repo, ref=ref_name, path=path)
        what = f"nbgitpuller link into {ref.qualified}"
    return Reply(text=f"{what}:\n{url}", blocks=[b.section(f"*{what}*"), b.section(f"```{url}```"),
                                                 b.context("Use it in a lesson or as a Jupyter Book launch button.")])


LINK = CommandSpec(
    name="link", summary="an nbgitpuller (or Binder) link for a lesson or launch button", handler=link_handler,
    permission=Permission.COMMUNITY_READ,
    signature=Signature(args=(HUB_ARG,
                              Arg("repo-url", "the git repository, https://...")),
                        opts=(Opt("ref", "branch, tag or commit"), Opt("path", "file or folder to open"),
                              Opt("binder", "a Binder launch link (BinderHubs only)", kind="flag"))),
    scope="hub",
    examples=(f"{PREFIX} link staging https://github.com/org/lessons --path intro.ipynb",),
)
