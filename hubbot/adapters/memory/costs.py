"""The cost ledger in memory (held to :class:`hubbot.store.SqlCostLedger` by contract tests):
the same lines, readings, statuses and forecasts, summed with plain loops."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

from hubbot.domain import READING_HISTORY_DAYS, CostReading, LedgerLine, PeriodSpend, ProviderStatus

_ZERO = Decimal("0.000000")
K = TypeVar("K")


def _kept(amount: Decimal) -> Decimal:
    """An amount as the ledger keeps it: six decimal places, like its SQL columns."""
    return amount.quantize(_ZERO, rounding=ROUND_HALF_UP)


def _add(sums: dict[K, Decimal], key: K, amount: Decimal) -> None:
    sums[key] = sums.get(key, _ZERO) + amount


def _hub_name(line: LedgerLine) -> str:
    return "shared" if line.hub is None else line.hub


class MemoryCostLedger:
    def __init__(self) -> None:
        self.lines: list[LedgerLine] = []
        self.statuses: dict[str, ProviderStatus] = {}
        # by (provider, source, start), each with the community it was last put for
        self.kept_readings: dict[tuple[str, str, date], tuple[str | None, CostReading]] = {}
        # by (provider, source, start, UTC day of as_of): the last reading put that day
        self.kept_history: dict[tuple[str, str, date, date], tuple[str | None, CostReading]] = {}
        self.kept_forecasts: dict[str, tuple[date, date, Decimal]] = {}

    async def replace(
        self, *, provider: str, start: date, end: date, lines: Sequence[LedgerLine], at: datetime
    ) -> None:
        kept = [ln for ln in self.lines if not (ln.provider == provider and start <= ln.day < end)]
        self.lines = kept + [
            dataclasses.replace(ln, provider=provider, service=ln.service[:128], amount=_kept(ln.amount))
            for ln in lines if start <= ln.day < end]

    async def put_readings(self, *, provider: str, community: str | None, readings: Sequence[CostReading]) -> None:
        for r in readings:
            key = (provider, r.source[:128], r.start)
            allocated = None if r.allocated is None else _kept(r.allocated)
            kept = dataclasses.replace(r, source=key[1], amount=_kept(r.amount), allocated=allocated,
                                       as_of=r.as_of.astimezone(UTC))
            self.kept_readings[key] = (community, kept)
            for old, (_, earlier) in list(self.kept_history.items()):
                if old[:3] == key:
                    self.kept_history[old] = (community, earlier)
            self.kept_history[(*key, kept.as_of.date())] = (community, kept)
        if readings:
            cutoff = max(r.as_of.astimezone(UTC).date() for r in readings) - timedelta(days=READING_HISTORY_DAYS)
            self.kept_history = {k: v for k, v in self.kept_history.items() if k[0] != provider or k[3] >= cutoff}

    async def record_status(self, *, provider: str, at: datetime, error: str | None, requests: int) -> None:
        old = self.statuses.get(provider) or ProviderStatus(provider=provider, ok_at=None, error_at=None, error=None)
        requests += old.requests
        self.statuses[provider] = (dataclasses.replace(old, error_at=at, error=error[:1000], requests=requests) if error
                                   else dataclasses.replace(old, ok_at=at, requests=requests))

    async def status(self) -> dict[str, ProviderStatus]:
        return dict(self.statuses)

    def _scope(
        self, start: date, end: date, communities: Sequence[str] | None, currency: str | None = None
    ) -> list[LedgerLine]:
        """Lines of ``start <= day < end`` (of ``communities`` and in ``currency``, if given)."""
        return [ln for ln in self.lines if start <= ln.day < end
                and (communities is None or ln.community in communities)
                and (currency is None or ln.currency == currency)]

    async def totals(
        self, *, start: date, end: date, currency: str, communities: Sequence[str] | None
    ) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for ln in self._scope(start, end, communities, currency):
            if ln.community is not None:
                _add(out, ln.community, ln.amount)
        return out

    async def currencies(
        self, *, start: date, end: date, communities: Sequence[str] | None
    ) -> dict[str, dict[str, Decimal]]:
        out: dict[str, dict[str, Decimal]] = {}
        for ln in self._scope(start, end, communities):
            if ln.community is not None:
                _add(out.setdefault(ln.community, {}), ln.currency, ln.amount)
        return out

    async def unallocated(self, *, start: date, end: date) -> dict[str, dict[str, Decimal]]:
        out: dict[str, dict[str, Decimal]] = {}
        for ln in self._scope(start, end, None):
            if ln.community is None:
                _add(out.setdefault(ln.provider, {}), ln.currency, ln.amount)
        return out

    async def period_sums(
        self, *, start: date, end: date, recent: tuple[date, date], today: date, currency: str,
        communities: Sequence[str] | None = None,
    ) -> dict[str, PeriodSpend]:
        sums: dict[str, list[Decimal]] = {}
        month, following = today.replace(day=1), (today.replace(day=1) + timedelta(days=32)).replace(day=1)
        for ln in self._scope(start, end, communities, currency):
            if ln.community is not None:
                total, run_rate, today_so_far, recurring = sums.setdefault(ln.community, [_ZERO] * 4)
                usage = ln.kind == "usage"
                sums[ln.community] = [
                    total + ln.amount,
                    run_rate + (ln.amount if usage and recent[0] <= ln.day < recent[1] else _ZERO),
                    today_so_far + (ln.amount if usage and ln.day == today else _ZERO),
                    recurring + (ln.amount if ln.kind == "recurring" and month <= ln.day < following else _ZERO),
                ]
        return {c: PeriodSpend(*figures) for c, figures in sums.items()}

    async def hub_daily(
        self, *, start: date, end: date, communities: Sequence[str] | None
    ) -> dict[str, dict[date, tuple[Decimal, bool]]]:
        out: dict[str, dict[date, tuple[Decimal, bool]]] = {}
        for ln in self._scope(start, end, communities):  # every currency, like the SQL store
            if ln.hub is not None:
                days = out.setdefault(ln.hub, {})
                amount, estimated = days.get(ln.day, (_ZERO, False))
                days[ln.day] = (amount + ln.amount, estimated or ln.estimated)
        return out

    async def breakdown(
        self, *, community: str, start: date, end: date, currency: str, by: str, hub: str | None = None
    ) -> list[tuple[str, Decimal]]:
        key: Callable[[LedgerLine], str] = {"hub": _hub_name, "service": lambda ln: ln.service,
                                            "day": lambda ln: ln.day.isoformat()}[by]
        sums: dict[str, Decimal] = {}
        for ln in self._scope(start, end, [community], currency):
            if hub is None or ln.hub == hub:
                _add(sums, key(ln), ln.amount)
        rows = sorted(sums.items())
        return rows if by == "day" else sorted(rows, key=lambda r: r[1], reverse=True)

    async def readings(self, *, communities: Sequence[str] | None) -> list[tuple[str, CostReading]]:
        return [(community, r) for community, r in self.kept_readings.values()
                if community is not None and (communities is None or community in communities)]

    async def reading_history(
        self, *, communities: Sequence[str] | None, since: date
    ) -> list[tuple[str, CostReading]]:
        found = [(community, r) for (_, _, _, day), (community, r) in self.kept_history.items()
                 if community is not None and day >= since and (communities is None or community in communities)]
        return sorted(found, key=lambda item: (item[1].as_of, item[1].source, item[1].start))

    async def put_forecast(self, *, provider: str, start: date, end: date, amount: Decimal, at: datetime) -> None:
        self.kept_forecasts[provider] = (start, end, _kept(amount))

    async def forecasts(self) -> dict[str, tuple[date, date, Decimal]]:
        return dict(self.kept_forecasts)

    async def hub_totals(self, *, start: date, end: date, currency: str) -> dict[str, list[tuple[str, Decimal]]]:
        # Grouped by the hub itself: shared lines and a hub named "shared" stay two rows, as in SQL.
        sums: dict[tuple[str, str | None], Decimal] = {}
        for ln in self._scope(start, end, None, currency):
            if ln.community is not None:
                _add(sums, (ln.community, ln.hub), ln.amount)
        out: dict[str, list[tuple[str, Decimal]]] = {}
        for (community, hub), amount in sorted(sums.items(), key=lambda item: (item[0][0], item[0][1] or "")):
            out.setdefault(community, []).append(("shared" if hub is None else hub, amount))
        for rows in out.values():
            rows.sort(key=lambda r: r[1], reverse=True)
        return out
