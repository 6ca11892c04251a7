"""Who did what: audit entries, and changes waiting for a confirmation or an approval."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Outcome(StrEnum):
    OK = "ok"
    USAGE = "usage"
    NOT_FOUND = "not_found"
    DENIED = "denied"
    UPSTREAM = "upstream"
    ERROR = "error"
    CONFIRMED = "confirmed"
    CHANGED = "changed"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the audit log. ``args`` is already redacted."""

    at: datetime
    user: str
    channel: str
    transport: str
    command: str
    args: str
    outcome: Outcome
    community: str | None = None
    hub: str | None = None
    detail: str = ""
    duration_ms: int = 0
    reference: str | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class PendingAction:
    """A change waiting for its requester's confirmation, or for a second engineer's approval.

    ``kind`` is ``confirm`` or ``approve``; ``state`` moves once from ``pending`` to one of
    ``confirmed``, ``approved``, ``cancelled``, ``rejected`` or ``expired``.
    """

    id: str
    command: str
    action: str
    payload: str
    summary: str
    kind: str
    requested_by: str
    channel: str
    created_at: datetime
    expires_at: datetime
    community: str | None = None
    hub: str | None = None
    state: str = "pending"
    decided_by: str | None = None
    decided_at: datetime | None = None
