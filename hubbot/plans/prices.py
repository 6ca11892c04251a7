"""Prices for an estimate: the table kept from the API when it is less than a day old; else read
again (and kept); when the API cannot be reached, the last table kept — or the bundled snapshot —
with a note saying how old it is. Never a made-up number: with nothing to fall back on, an error."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from hubbot.domain.prices import PriceTable
from hubbot.errors import HubbotError, NotFound, UpstreamError
from hubbot.ports import Services

FRESH = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Priced:
    table: PriceTable
    why_older: str  # why older prices were used (empty when read within a day from the provider's API)

    def dated(self, now: datetime) -> str:
        """``prices of 2026-12-01 (6 days old, bundled snapshot …; the API could not be read …)``."""
        days = (now - self.table.fetched_at).days
        age = "today" if days < 1 else "1 day old" if days == 1 else f"{days} days old"
        why = f"; {self.why_older}" if self.why_older else ""
        return f"prices of {self.table.fetched_at:%Y-%m-%d} ({age}, {self.table.source}{why})"


def _covers(table: PriceTable, machines: Sequence[str]) -> bool:
    return {m.name for m in table.machines} >= set(machines)


async def prices_for(services: Services, *, provider: str, region: str, machines: Sequence[str],
                     now: datetime) -> Priced:
    cache, source = services.price_cache, services.prices.get(provider)
    kept = await cache.get(provider, region) if cache is not None else None
    if kept is not None and now - kept.fetched_at < FRESH and _covers(kept, machines):
        return Priced(kept, "")
    why = f"hubbot reads no {provider} prices from an API here"
    if source is not None:
        try:
            table = await source.table(region, machines=machines)
        except NotFound:
            raise
        except HubbotError as exc:
            why = f"{provider}'s price API could not be read ({str(exc)[:160]})"
        else:
            if cache is not None:
                await cache.put(table)
            return Priced(table, "")
    fallback = kept
    snapshot = services.price_snapshots.get(provider)
    also = ""
    if fallback is None and snapshot is not None:
        try:
            fallback = await snapshot.table(region, machines=machines)
        except NotFound:
            also = ", nor has the price snapshot"
    if fallback is None:
        raise UpstreamError(f"no {provider} prices for {region}: {why}, none were kept before{also}")
    return Priced(fallback, why)
