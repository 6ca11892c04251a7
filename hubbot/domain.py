"""Plain values shared by the core, the store and the transports."""

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
