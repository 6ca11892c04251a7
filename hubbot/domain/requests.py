"""Work a community asks for beyond the standard services (a workshop hub, a custom image, extra
guidance hours), with its estimate, and what the engineers decided."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

RequestState = Literal["open", "accepted", "declined"]


@dataclass(frozen=True, slots=True)
class ServiceRequest:
    community: str
    what: str
    hours: Decimal  # of work, at the menu's hourly rate
    amount: Decimal  # hours × rate, in ``currency``
    currency: str
    requested_by: str
    channel: str  # where it was asked (the community hears the outcome in its own channel)
    created_at: datetime
    id: int | None = None
    state: RequestState = "open"
    decided_by: str | None = None
    decided_at: datetime | None = None
