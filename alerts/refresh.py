"""Fetch every provider's costs into the ledger. A provider that fails keeps its previous
figures and is marked stale: an API error never turns into "$0 spent"."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from hubbot.costs.periods import Period
from hubbot.costs.spend import SETTLE_DAYS
from hubbot.domain import CostLine, LedgerLine
from hubbot.errors import HubbotError
from hubbot.fleet import Fleet, HubRef
from hubbot.ports import ForecastSource, Services

log = logging.getLogger("hubbot.alerts")


@dataclass
class RefreshReport:
    requests: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def window(at: datetime) -> Period:
    """From the 1st of last month or the start of this quarter, whichever is earlier
    (providers revise recent figures; every monthly and quarterly period in any time zone is
    inside), through today, UTC (no provider knows tomorrow's costs)."""
    today = at.date()
    first = today.replace(day=1)
    last_month = (first - timedelta(days=1)).replace(day=1)
    quarter = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    return Period(min(last_month, quarter), today + timedelta(days=1))


def attribute(fleet: Fleet, provider: str, lines: list[CostLine]) -> list[LedgerLine]:
    """Map provider tags to hubs; untagged or unknown tags are the provider's shared cost,
    charged to its community when a single community owns the provider."""
    hubs: dict[str, HubRef] = {}
    for ref in fleet.hubs:
        if ref.provider == provider:
            hubs.setdefault(ref.hub.name, ref)
            hubs[ref.qualified] = ref
    shared = fleet.owner_of(provider)
    out = []
    for line in lines:
        found = hubs.get(line.hub_tag) if line.hub_tag else None
        out.append(LedgerLine(day=line.day, provider=provider, hub=found.qualified if found else None,
                              community=found.hub.community if found else shared, service=line.service,
                              amount=line.amount, currency=line.currency, estimated=line.estimated,
                              kind=line.kind))
    return out


def recent_window(at: datetime) -> Period:
    """The days a provider may still revise: from the first incomplete one through today. Later
    refreshes of a day read only these (Cost Explorer charges per request page, BigQuery per
    byte scanned); the first refresh of each UTC day reads the whole :func:`window`."""
    today = at.date()
    return Period(today - timedelta(days=SETTLE_DAYS), today + timedelta(days=1))


async def refresh(services: Services, fleet: Fleet, *, at: datetime) -> RefreshReport:
    report = RefreshReport()
    statuses = await services.ledger.status()
    for name, source in services.sources.items():
        last = statuses.get(name)
        whole = last is None or last.ok_at is None or last.ok_at.date() != at.date()
        span = window(at) if whole else recent_window(at)
        try:
            batch = await source.fetch(start=span.start, end=span.end)
        except HubbotError as exc:
            report.errors[name] = str(exc)
            log.warning("cost refresh of %s failed: %s", name, exc)
            await services.ledger.record_status(provider=name, at=at, error=str(exc), requests=0)
            continue
        report.requests[name] = batch.requests
        if batch.lines or not batch.readings:
            await services.ledger.replace(provider=name, start=span.start, end=span.end,
                                          lines=attribute(fleet, name, batch.lines), at=at)
        if batch.readings:
            await services.ledger.put_readings(provider=name, community=fleet.owner_of(name), readings=batch.readings)
        await services.ledger.record_status(provider=name, at=at, error=None, requests=batch.requests)
        if isinstance(source, ForecastSource) and fleet.owner_of(name):
            await _forecast(services, name, source, at=at)
    return report


async def _forecast(services: Services, name: str, source: ForecastSource, *, at: datetime) -> None:
    """The provider's own forecast of the rest of this UTC month (used instead of hubbot's when
    a community owns the whole provider); a failure just leaves hubbot's run-rate forecast."""
    today = at.date()
    month_end = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    try:
        remaining = await source.forecast(start=today, end=month_end)
    except HubbotError as exc:
        log.info("no provider forecast for %s: %s", name, exc)
        return
    if remaining is not None:
        await services.ledger.put_forecast(provider=name, start=today, end=month_end, amount=remaining, at=at)
