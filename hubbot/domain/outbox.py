"""What waits in the outbox for delivery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert in the outbox. ``basis``: actual, forecast, spike, digest, billing, undelivered."""

    key: str
    community: str
    channel: str | None
    basis: str
    period_start: date
    period_end: date
    currency: str
    text: str
    blocks: str  # Block Kit JSON
    state: str
    created_at: datetime
    threshold: int | None = None
    spend: Decimal | None = None
    budget: Decimal | None = None
    forecast: Decimal | None = None
    id: int | None = None
    sent_at: datetime | None = None
    attempts: int = 0
    last_error: str | None = None
    acked_by: str | None = None
    acked_at: datetime | None = None
    muted_until: date | None = None
