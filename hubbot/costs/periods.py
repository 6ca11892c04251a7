"""Budget periods, in a community's own time zone.

A monthly period runs from the 1st to the 1st of the next month, a quarterly one over calendar
quarters, an allocation period over the dates the provider states (JetStream2 allocations).
Ends are exclusive. "Today" is the calendar day in the community's time zone, so a community
in Australia starts its new month hours before one in California.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hubbot.errors import UserError


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date  # exclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def key(self) -> str:
        return self.start.isoformat()

    def label(self) -> str:
        if self.start.day == 1 and self.end == _add_months(self.start, 1):
            return f"{self.start:%B %Y}"
        if self.start.day == 1 and self.end == _add_months(self.start, 3) and self.start.month % 3 == 1:
            return f"Q{(self.start.month - 1) // 3 + 1} {self.start.year}"
        return f"{self.start:%Y-%m-%d} – {self.end - timedelta(days=1):%Y-%m-%d}"

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def local_day(at: datetime, timezone: str) -> date:
    return at.astimezone(ZoneInfo(timezone)).date()


def period_of(kind: str, today: date, *, allocation: tuple[date, date] | None = None) -> Period:
    """The period of ``kind`` containing ``today``."""
    if kind == "monthly":
        start = today.replace(day=1)
        return Period(start, _add_months(start, 1))
    if kind == "quarterly":
        start = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
        return Period(start, _add_months(start, 3))
    if kind == "allocation":
        if allocation is None:
            raise UserError("an allocation budget needs the provider's allocation dates (JetStream2 only)")
        return Period(allocation[0], allocation[1])
    raise UserError(f"unknown budget period '{kind}' (monthly, quarterly or allocation)")


def month(text: str) -> Period:
    """Parse ``YYYY-MM`` into that month's period."""
    try:
        start = datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise UserError(f"'{text[:20]}' is not a month; write it as YYYY-MM, like 2026-03") from None
    return Period(start, _add_months(start, 1))
