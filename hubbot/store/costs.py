"""The cost ledger in SQL. Aggregations run in the database: the alert cycle over thousands of
communities reads sums, not rows."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, Integer, and_, case, cast, delete, func, insert, literal, select, update

from hubbot.domain import READING_HISTORY_DAYS, CostReading, LedgerLine, PeriodSpend, ProviderStatus
from hubbot.store.db import Database, as_utc, serialize
from hubbot.store.models import (
    CostDayRow,
    CostMonthRow,
    CostRow,
    ForecastRow,
    ProviderStatusRow,
    ReadingHistoryRow,
    ReadingRow,
)


def _dec(value: Any) -> Decimal:
    # Numeric columns come back as Decimal at the column's scale (SQLite's float sums are
    # formatted to it by SQLAlchemy); anything else (a NULL sum, a literal) is converted
    return value if isinstance(value, Decimal) else Decimal(str(value or 0))


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _whole_months(start: date, end: date) -> tuple[list[date], list[tuple[date, date]]]:
    """The calendar months wholly inside ``start <= day < end`` (read from ``cost_months``), and
    the day ranges left over at either edge (read from the lines)."""
    months = []
    month = start if start.day == 1 else _next_month(start)
    while _next_month(month) <= end:
        months.append(month)
        month = _next_month(month)
    if not months:
        return [], [(start, end)] if start < end else []
    edges = [(start, months[0])] if start < months[0] else []
    tail = _next_month(months[-1])
    return months, edges + ([(tail, end)] if tail < end else [])


class SqlCostLedger:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def replace(
        self, *, provider: str, start: date, end: date, lines: Sequence[LedgerLine], at: datetime
    ) -> None:
        await asyncio.to_thread(self._replace, provider, start, end, lines, at)

    def _replace(self, provider: str, start: date, end: date, lines: Sequence[LedgerLine], at: datetime) -> None:
        rows = [{"day": ln.day, "provider": provider, "hub": ln.hub, "community": ln.community,
                 "service": ln.service[:128], "amount": ln.amount, "currency": ln.currency,
                 "estimated": ln.estimated, "kind": ln.kind, "fetched_at": at} for ln in lines if start <= ln.day < end]
        with self._db.engine.begin() as conn:
            serialize(conn, f"ledger:{provider}")  # two refreshes at once must not both insert
            conn.execute(delete(CostRow).where(CostRow.provider == provider, CostRow.day >= start, CostRow.day < end))
            if rows:
                conn.execute(insert(CostRow), rows)
            self._roll_up(conn, provider, start, end)

    @staticmethod
    def _roll_up(conn: Any, provider: str, start: date, end: date) -> None:
        """Sum the provider's lines again for the replaced days, and for every month they touch
        (whole months: their other days' lines count too), in the replace's own transaction."""
        d = CostDayRow
        conn.execute(delete(d).where(d.provider == provider, d.day >= start, d.day < end))
        conn.execute(insert(d).from_select(
            ["provider", "community", "day", "currency", "kind", "amount"],
            select(CostRow.provider, CostRow.community, CostRow.day, CostRow.currency, CostRow.kind,
                   func.sum(CostRow.amount))
            .where(CostRow.provider == provider, CostRow.day >= start, CostRow.day < end)
            .group_by(CostRow.provider, CostRow.community, CostRow.day, CostRow.currency, CostRow.kind)))
        m = CostMonthRow
        month = start.replace(day=1)
        while month < end:
            following = _next_month(month)
            conn.execute(delete(m).where(m.provider == provider, m.month == month))
            conn.execute(insert(m).from_select(
                ["provider", "community", "hub", "month", "currency", "kind", "amount"],
                select(CostRow.provider, CostRow.community, CostRow.hub, literal(month, Date), CostRow.currency,
                       CostRow.kind, func.sum(CostRow.amount))
                .where(CostRow.provider == provider, CostRow.day >= month, CostRow.day < following)
                .group_by(CostRow.provider, CostRow.community, CostRow.hub, CostRow.currency, CostRow.kind)))
            month = following

    async def put_readings(self, *, provider: str, community: str | None, readings: Sequence[CostReading]) -> None:
        await asyncio.to_thread(self._put_readings, provider, community, readings)

    def _put_readings(self, provider: str, community: str | None, readings: Sequence[CostReading]) -> None:
        h = ReadingHistoryRow
        with self._db.engine.begin() as conn:
            serialize(conn, f"ledger:{provider}")
            for r in readings:
                source, as_of = r.source[:128], r.as_of.astimezone(UTC)  # SQLite keeps no offset
                day = as_of.date()
                row = {"provider": provider, "community": community, "source": source, "start": r.start,
                       "end": r.end, "amount": r.amount, "allocated": r.allocated, "currency": r.currency,
                       "as_of": as_of}
                conn.execute(delete(ReadingRow).where(ReadingRow.provider == provider,
                                                      ReadingRow.source == source, ReadingRow.start == r.start))
                conn.execute(insert(ReadingRow), [row])
                conn.execute(delete(h).where(h.provider == provider, h.source == source, h.start == r.start,
                                             h.day == day))
                conn.execute(update(h).where(h.provider == provider, h.source == source, h.start == r.start)
                             .values(community=community))
                conn.execute(insert(h), [{**row, "day": day}])
            if readings:
                newest = max(r.as_of.astimezone(UTC).date() for r in readings)
                cutoff = newest - timedelta(days=READING_HISTORY_DAYS)
                conn.execute(delete(h).where(h.provider == provider, h.day < cutoff))

    async def record_status(self, *, provider: str, at: datetime, error: str | None, requests: int) -> None:
        await asyncio.to_thread(self._record_status, provider, at, error, requests)

    def _record_status(self, provider: str, at: datetime, error: str | None, requests: int) -> None:
        values: dict[str, Any] = {"error_at": at, "error": error[:1000]} if error else {"ok_at": at}
        with self._db.engine.begin() as conn:
            serialize(conn, f"status:{provider}")
            done = conn.execute(update(ProviderStatusRow).where(ProviderStatusRow.provider == provider)
                                .values(requests=ProviderStatusRow.requests + requests, **values))
            if done.rowcount == 0:
                conn.execute(insert(ProviderStatusRow), [{"provider": provider, "requests": requests, **values}])

    async def status(self) -> dict[str, ProviderStatus]:
        return await asyncio.to_thread(self._status)

    def _status(self) -> dict[str, ProviderStatus]:
        with self._db.engine.connect() as conn:
            rows = conn.execute(select(ProviderStatusRow.provider, ProviderStatusRow.ok_at, ProviderStatusRow.error_at,
                                       ProviderStatusRow.error, ProviderStatusRow.requests)).all()
        return {r[0]: ProviderStatus(provider=r[0], ok_at=as_utc(r[1]) if r[1] else None,
                                     error_at=as_utc(r[2]) if r[2] else None, error=r[3], requests=r[4])
                for r in rows}

    def _scope(self, start: date, end: date, communities: Sequence[str] | None) -> Any:
        where = and_(CostRow.day >= start, CostRow.day < end)
        if communities is not None:
            where = and_(where, CostRow.community.in_(list(communities)))
        return where

    async def totals(
        self, *, start: date, end: date, currency: str, communities: Sequence[str] | None
    ) -> dict[str, Decimal]:
        stmt = (select(CostRow.community, func.sum(CostRow.amount))
                .where(self._scope(start, end, communities), CostRow.currency == currency,
                       CostRow.community.is_not(None))
                .group_by(CostRow.community))
        rows = await asyncio.to_thread(self._all, stmt)
        return {r[0]: _dec(r[1]) for r in rows}

    async def currencies(
        self, *, start: date, end: date, communities: Sequence[str] | None
    ) -> dict[str, dict[str, Decimal]]:
        stmt = (select(CostRow.community, CostRow.currency, func.sum(CostRow.amount))
                .where(self._scope(start, end, communities), CostRow.community.is_not(None))
                .group_by(CostRow.community, CostRow.currency))
        out: dict[str, dict[str, Decimal]] = {}
        for community, currency, amount in await asyncio.to_thread(self._all, stmt):
            out.setdefault(community, {})[currency] = _dec(amount)
        return out

    async def unallocated(self, *, start: date, end: date) -> dict[str, dict[str, Decimal]]:
        stmt = (select(CostRow.provider, CostRow.currency, func.sum(CostRow.amount))
                .where(self._scope(start, end, None), CostRow.community.is_(None))
                .group_by(CostRow.provider, CostRow.currency))
        out: dict[str, dict[str, Decimal]] = {}
        for provider, currency, amount in await asyncio.to_thread(self._all, stmt):
            out.setdefault(provider, {})[currency] = _dec(amount)
        return out

    async def period_sums(
        self, *, start: date, end: date, recent: tuple[date, date], today: date, currency: str,
        communities: Sequence[str] | None = None,
    ) -> dict[str, PeriodSpend]:
        return await asyncio.to_thread(self._period_sums, start, end, recent, today, currency, communities)

    def _period_sums(self, start: date, end: date, recent: tuple[date, date], today: date, currency: str,
                     communities: Sequence[str] | None) -> dict[str, PeriodSpend]:
        # whole months from the monthly sums; edge days and the run-rate days from the daily ones
        months, edges = _whole_months(start, end)
        this_month, following = today.replace(day=1), _next_month(today)
        m = CostMonthRow
        totals: dict[str, Decimal] = {}
        booked: dict[str, Decimal] = {}
        run_rate: dict[str, Decimal] = {}
        so_far: dict[str, Decimal] = {}
        zero = Decimal(0)
        statements = []
        if months:
            fees = and_(m.kind == "recurring", m.month == this_month)
            statements.append(
                select(m.community, func.sum(m.amount), func.sum(case((fees, m.amount), else_=0)))
                .where(m.month.in_(months), m.currency == currency, *self._of(m.community, communities))
                .group_by(m.community))
        d = CostDayRow
        for lo, hi in edges:
            fees = and_(d.kind == "recurring", d.day >= this_month, d.day < following)
            statements.append(
                select(d.community, func.sum(d.amount), func.sum(case((fees, d.amount), else_=0)))
                .where(d.day >= lo, d.day < hi, d.currency == currency, *self._of(d.community, communities))
                .group_by(d.community))
        with self._db.engine.connect() as conn:
            for stmt in statements:
                for community, total, recurring in conn.execute(stmt):
                    totals[community] = totals.get(community, zero) + _dec(total)
                    booked[community] = booked.get(community, zero) + _dec(recurring)
            lo, hi = max(start, min(recent[0], today)), min(end, max(recent[1], today + timedelta(days=1)))
            if lo < hi:
                usage = d.kind == "usage"
                in_recent = and_(usage, d.day >= recent[0], d.day < recent[1])
                stmt = (select(d.community, func.sum(case((in_recent, d.amount), else_=0)),
                               func.sum(case((and_(usage, d.day == today), d.amount), else_=0)))
                        .where(d.day >= lo, d.day < hi, d.currency == currency, *self._of(d.community, communities))
                        .group_by(d.community))
                for community, recent_usage, today_usage in conn.execute(stmt):
                    run_rate[community] = _dec(recent_usage)
                    so_far[community] = _dec(today_usage)
        return {c: PeriodSpend(total, run_rate.get(c, zero), so_far.get(c, zero), booked[c])
                for c, total in totals.items()}

    @staticmethod
    def _of(column: Any, communities: Sequence[str] | None) -> list[Any]:
        """``column`` (a community column) names a community, and one of ``communities`` if given."""
        where = [column.is_not(None)]
        if communities is not None:
            where.append(column.in_(list(communities)))
        return where

    async def hub_daily(
        self, *, start: date, end: date, communities: Sequence[str] | None
    ) -> dict[str, dict[date, tuple[Decimal, bool]]]:
        stmt = (select(CostRow.hub, CostRow.day, func.sum(CostRow.amount), func.max(cast(CostRow.estimated, Integer)))
                .where(self._scope(start, end, communities), CostRow.hub.is_not(None))
                .group_by(CostRow.hub, CostRow.day))
        out: dict[str, dict[date, tuple[Decimal, bool]]] = {}
        for hub, day, amount, estimated in await asyncio.to_thread(self._all, stmt):
            out.setdefault(hub, {})[day] = (amount if isinstance(amount, Decimal) else _dec(amount), bool(estimated))
        return out

    async def breakdown(
        self, *, community: str, start: date, end: date, currency: str, by: str, hub: str | None = None
    ) -> list[tuple[str, Decimal]]:
        column = {"hub": func.coalesce(CostRow.hub, "shared"), "service": CostRow.service, "day": CostRow.day}[by]
        stmt = (select(column, func.sum(CostRow.amount))
                .where(self._scope(start, end, [community]), CostRow.currency == currency)
                .group_by(column))
        if hub is not None:
            stmt = stmt.where(CostRow.hub == hub)
        rows = [(str(k), _dec(v)) for k, v in await asyncio.to_thread(self._all, stmt)]
        return sorted(rows) if by == "day" else sorted(rows, key=lambda r: r[1], reverse=True)

    async def readings(self, *, communities: Sequence[str] | None) -> list[tuple[str, CostReading]]:
        stmt = select(ReadingRow).where(ReadingRow.community.is_not(None))
        if communities is not None:
            stmt = stmt.where(ReadingRow.community.in_(list(communities)))
        with self._db.session() as session:
            rows = await asyncio.to_thread(lambda: list(session.scalars(stmt)))
            return [(str(r.community), CostReading(start=r.start, end=r.end, amount=_dec(r.amount), currency=r.currency,
                                                   as_of=as_utc(r.as_of),
                                                   allocated=_dec(r.allocated) if r.allocated is not None else None,
                                                   source=r.source)) for r in rows]

    async def reading_history(
        self, *, communities: Sequence[str] | None, since: date
    ) -> list[tuple[str, CostReading]]:
        h = ReadingHistoryRow
        stmt = (select(h.community, h.source, h.start, h.end, h.amount, h.allocated, h.currency, h.as_of)
                .where(h.community.is_not(None), h.day >= since).order_by(h.as_of, h.source, h.start))
        if communities is not None:
            stmt = stmt.where(h.community.in_(list(communities)))
        rows = await asyncio.to_thread(self._all, stmt)
        return [(str(c), CostReading(start=start, end=end, amount=_dec(amount), currency=currency,
                                     as_of=as_utc(as_of), allocated=None if allocated is None else _dec(allocated),
                                     source=source))
                for c, source, start, end, amount, allocated, currency, as_of in rows]

    async def put_forecast(self, *, provider: str, start: date, end: date, amount: Decimal, at: datetime) -> None:
        def run() -> None:
            with self._db.engine.begin() as conn:
                serialize(conn, f"forecast:{provider}")
                conn.execute(delete(ForecastRow).where(ForecastRow.provider == provider))
                conn.execute(insert(ForecastRow), [{"provider": provider, "start": start, "end": end, "amount": amount,
                                                    "as_of": at}])
        await asyncio.to_thread(run)

    async def forecasts(self) -> dict[str, tuple[date, date, Decimal]]:
        stmt = select(ForecastRow.provider, ForecastRow.start, ForecastRow.end, ForecastRow.amount)
        return {r[0]: (r[1], r[2], _dec(r[3])) for r in await asyncio.to_thread(self._all, stmt)}

    async def hub_totals(self, *, start: date, end: date, currency: str) -> dict[str, list[tuple[str, Decimal]]]:
        months, edges = _whole_months(start, end)
        m = CostMonthRow
        statements = []
        if months:
            statements.append(select(m.community, m.hub, func.sum(m.amount))
                              .where(m.month.in_(months), m.currency == currency, *self._of(m.community, None))
                              .group_by(m.community, m.hub))
        statements += [select(CostRow.community, CostRow.hub, func.sum(CostRow.amount))
                       .where(self._scope(lo, hi, None), CostRow.currency == currency, CostRow.community.is_not(None))
                       .group_by(CostRow.community, CostRow.hub) for lo, hi in edges]
        sums: dict[tuple[str, str | None], Decimal] = {}  # untagged lines apart from a hub named "shared"
        for stmt in statements:
            for community, hub, amount in await asyncio.to_thread(self._all, stmt):
                key = (community, hub)
                sums[key] = sums.get(key, Decimal(0)) + _dec(amount)
        out: dict[str, list[tuple[str, Decimal]]] = {}
        for (community, hub), amount in sums.items():
            out.setdefault(community, []).append((hub or "shared", amount))
        for rows in out.values():
            rows.sort(key=lambda r: r[1], reverse=True)
        return out

    def _all(self, stmt: Any) -> list[Any]:
        with self._db.engine.connect() as conn:
            return list(conn.execute(stmt).all())
