"""A change asked for in chat that hubbot turned into a pull request on the fleet repository, as
hubbot follows it: its checks and reviews as last reported in its thread, until merged or closed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

ProposalState = Literal["open", "merged", "closed"]


@dataclass(frozen=True, slots=True)
class Proposal:
    hub: str  # cluster/hub the change is for
    community: str  # "" for a hub of no community
    title: str
    branch: str
    number: int  # the pull request's number on the hosting service
    url: str
    requested_by: str
    channel: str
    created_at: datetime
    thread_ts: str | None = None
    id: int | None = None
    state: ProposalState = "open"
    checks: str = "none"  # none | pending | success | failure, as last reported
    review: str = "none"  # none | approved | changes_requested, as last reported
    merge_sha: str | None = None
    conflicted: bool = False  # said to conflict with its base (said again only once resolved and back)
    deploy_when_merged: bool = False
    updated_at: datetime | None = None
