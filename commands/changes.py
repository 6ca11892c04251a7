"""Changes asked for in chat that live in the fleet repository, made as pull requests when the
fleet says ``repository.changes: pull-request``: a branch with one commit naming who asked (and
who approved), a pull request on the hosting service, its link in the thread — then followed by
:mod:`alerts.proposals` until merged or closed. Nothing is ever pushed to the deploy branch."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from hubbot import markup as m
from hubbot.domain.proposals import Proposal
from hubbot.errors import HubbotError, UpstreamError, UserError
from hubbot.fleet import Fleet, HubRef
from hubbot.pipeline.contract import PREFIX, Context, Reply
from hubbot.ports import FleetRepository, Proposals, PullRequests
from hubbot.proposals import files as pf


def by_pull_request(fleet: Fleet) -> bool:
    conf = fleet.config.repository
    return conf is not None and conf.changes == "pull-request"


def folder_of(fleet: Fleet, ref: HubRef) -> str:
    conf = fleet.config.repository
    assert conf is not None
    return f"{conf.clusters_dir.strip('/')}/{ref.cluster}"


def overlay_path(fleet: Fleet, ref: HubRef) -> str:
    return f"{folder_of(fleet, ref)}/{pf.overlay_name(ref.hub.name)}"


def fingerprint(text: str | None) -> int:
    """A short mark of a file's text, to notice it changed between a decision and its pull request."""
    return zlib.crc32((text or "").encode()) + 1 if text else 0


@dataclass(frozen=True, slots=True)
class _Ports:
    repository: FleetRepository
    pulls: PullRequests
    proposals: Proposals


def _ports(ctx: Context) -> _Ports:
    services = ctx.services
    if services.repository is None or services.proposals is None:
        raise UserError("this hubbot reads no fleet repository, so it cannot open pull requests")
    if services.pulls is None:
        raise UserError("changes here become pull requests, but hubbot has no GitHub token — set "
                        "HUBBOT_GITHUB_TOKEN to one that may push branches and open pull requests")
    return _Ports(services.repository, services.pulls, services.proposals)


async def current_overlay(ctx: Context, ref: HubRef) -> str | None:
    """hubbot's values file of ``ref`` in the repository at the fleet's commit (None: not yet)."""
    if ctx.services.repository is None or ctx.fleet.commit is None:
        return None
    return await ctx.services.repository.read(ctx.fleet.commit, overlay_path(ctx.fleet, ref))


async def propose_overlay(ctx: Context, ref: HubRef, *, values: str, expected: int, echo: str, topic: str) -> Reply:
    """A pull request that writes ``values`` as hubbot's values file of ``ref`` (listing it in the
    hub's cluster.yaml entry when it is new), on the deploy branch's newest commit."""
    ports = _ports(ctx)
    await ctx.progress("fetching the fleet repository…")
    head = await ports.repository.refresh()
    base = head.commit
    assert base is not None
    path = overlay_path(head, ref)
    now_text = await ports.repository.read(base, path)
    if fingerprint(now_text) != expected:
        raise UserError(f"hubbot's values file of {ref.qualified} changed on {ports.repository.branch} while you were "
                        f"deciding; look again with `{PREFIX} quota show {ref.qualified}` and retry")
    cluster_file = f"{folder_of(head, ref)}/cluster.yaml"
    cluster_text = await ports.repository.read(base, cluster_file)
    if cluster_text is None:
        raise UserError(f"{cluster_file} is not on {ports.repository.branch} any more; nothing was changed")
    changed = {path: pf.overlay_text(values)}
    listed = pf.with_values_file(cluster_text, ref.hub.name, pf.overlay_name(ref.hub.name))
    if listed != cluster_text:
        changed[cluster_file] = listed
    title = f"{ref.qualified}: {echo}"[:200]
    asked = f"Asked for in Slack by {ctx.caller.user_id}" + (
        f", approved by {ctx.approved_by}" if ctx.approved_by else "") + f" (hubbot reference {ctx.reference})."
    at = ctx.services.clock.now()
    branch = f"hubbot/{ref.cluster}-{ref.hub.name}-{topic}-{at:%Y%m%d-%H%M%S}"
    await ctx.progress(f"pushing branch {branch}…")
    await ports.repository.propose(base=base, branch=branch, files=changed, message=f"{title}\n\n{asked}",
                                   author=(f"hubbot for {ctx.caller.user_id}", "hubbot@users.noreply.github.com"))
    body = (f"{echo} on `{ref.qualified}`, written to `{path}`"
            + (" (and listed in its cluster.yaml entry)" if len(changed) > 1 else "") + f".\n\n{asked}\n\n"
            "hubbot reports this pull request's checks, reviews and merge in the Slack thread it was asked in. "
            "Merging does not deploy: an engineer deploys the merged commit.")
    try:
        pull = await ports.pulls.open(head=branch, base=ports.repository.branch, title=title, body=body)
    except UpstreamError as exc:  # worth another try: say so, and what was left behind
        raise UpstreamError(f"{exc} (branch {branch} was pushed; it can be deleted)",
                            retry_after=exc.retry_after) from None
    except HubbotError as exc:
        raise UserError(f"{exc} (branch {branch} was pushed; it can be deleted)") from None
    await ports.proposals.add(Proposal(
        hub=ref.qualified, community=ref.hub.community or "", title=title, branch=branch, number=pull.number,
        url=pull.url, requested_by=ctx.caller.user_id, channel=ctx.invocation.channel_id, created_at=at,
        thread_ts=ctx.invocation.thread_ts, updated_at=at))
    await ctx.record_change(command=ctx.command, args=f"{ref.qualified} {echo}", community=ref.hub.community,
                            detail=f"pull request #{pull.number} ({pull.url}) from {branch} on {base[:12]}")
    text = (f":twisted_rightwards_arrows: Opened pull request {m.link(pull.url, f'#{pull.number}')} for "
            f"{ref.qualified}: {m.escape(echo)}. Nothing changes on the hub until it is merged and deployed; "
            "I'll report its checks, reviews and merge here.")
    return Reply(text=text, public=True)
