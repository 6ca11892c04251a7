"""Following the pull requests hubbot opened on the fleet repository: each fetch reads their
checks, reviews and state, and says in the thread they were asked in what changed since the last
look — checks passed or failed (naming the failed ones), approved or changes requested, merged
(with a Deploy button for engineers; merging never deploys by itself) or closed unmerged."""

from __future__ import annotations

import logging

from hubbot import markup as m
from hubbot.domain import Block, PullStatus
from hubbot.domain.proposals import Proposal
from hubbot.errors import HubbotError
from hubbot.pipeline.contract import PREFIX, action_id
from hubbot.ports import Services
from hubbot.render import blocks as b

log = logging.getLogger(__name__)


def news(proposal: Proposal, status: PullStatus) -> list[str]:
    """What changed since ``proposal`` was last reported, in words (nothing: no message)."""
    link = m.link(status.pull.url, f"#{status.pull.number}")
    out = []
    if status.checks != proposal.checks and status.checks in ("success", "failure"):
        if status.checks == "success":
            out.append(f":white_check_mark: Checks passed on {link}.")
        else:
            failed = ", ".join(m.escape(name) for name in status.failed[:8]) or "some checks"
            out.append(f":x: Checks failed on {link}: {failed}.")
    if status.review != proposal.review and status.review != "none":
        who = ", ".join(m.escape(r) for r in status.reviewers[:5])
        out.append(f":+1: {link} approved by {who}." if status.review == "approved"
                   else f":memo: {who} asked for changes on {link}.")
    conflicted = status.pull.state == "open" and status.pull.mergeable is False
    if conflicted and not proposal.conflicted:
        out.append(f":warning: {link} conflicts with {m.escape(status.pull.base)} now: someone changed the same "
                   "lines there. Resolve it on the branch, or close it and ask again.")
    if status.pull.state == "merged" and proposal.state != "merged":
        sha = (status.pull.merge_sha or "")[:12]
        out.append(f":tada: {link} was merged as `{sha}`. Nothing is deployed yet: an engineer deploys "
                   f"{proposal.hub} at that commit with the button, or `{PREFIX} deploy {proposal.hub} --ref {sha}`.")
    elif status.pull.state == "closed" and proposal.state == "open":
        out.append(f":wastebasket: {link} was closed without merging: nothing changes on {proposal.hub}.")
    return out


async def follow(services: Services) -> int:
    """Report what changed on every pull request still followed; how many messages were posted."""
    proposals, pulls = services.proposals, services.pulls
    if proposals is None or pulls is None:
        return 0
    posted = 0
    for proposal in await proposals.following():
        try:
            status = await pulls.status(proposal.number)
        except HubbotError as exc:  # the host is down or refuses: the next fetch looks again
            log.warning("could not read pull request #%s: %s", proposal.number, exc)
            continue
        lines = news(proposal, status)
        assert proposal.id is not None
        if lines:
            blocks: list[Block] = [b.section(line) for line in lines]
            merged = status.pull.merge_sha if status.pull.state == "merged" else None
            if merged:
                blocks.append(b.actions(b.button(f"Deploy {proposal.hub}", action_id=action_id("quota set",
                                                 "deploy-commit"), value=f"{proposal.hub}@{merged}",
                                                 style="primary")))
            try:
                await services.notifier.post(channel=proposal.channel, text="\n".join(lines), blocks=blocks,
                                             thread_ts=proposal.thread_ts)
            except HubbotError as exc:  # said next time: the stored state moves only once it was said
                log.warning("could not report on pull request #%s: %s", proposal.number, exc)
                continue
            posted += 1
        conflicted = status.pull.state == "open" and status.pull.mergeable is False
        await proposals.update(proposal.id, checks=status.checks, review=status.review, state=status.pull.state,
                               conflicted=conflicted,
                               merge_sha=status.pull.merge_sha if status.pull.state == "merged" else None,
                               updated_at=services.clock.now())
    return posted

