"""Budgets set from chat, overriding the fleet config's."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from sqlalchemy import delete, insert, select

from hubbot.domain import Budget
from hubbot.store.db import Database, as_utc
from hubbot.store.models import BudgetRow


def _budget(row: BudgetRow) -> Budget:
    return Budget(amount=Decimal(row.amount).quantize(Decimal("0.01")), currency=row.currency, period=row.period,
                  thresholds=tuple(int(t) for t in row.thresholds.split(",") if t), forecast=row.forecast,
                  timezone=row.timezone, set_by=row.set_by, set_at=as_utc(row.set_at))


class SqlBudgets:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, community: str) -> Budget | None:
        return await asyncio.to_thread(self._get, community)

    def _get(self, community: str) -> Budget | None:
        with self._db.session() as session:
            row = session.scalar(select(BudgetRow).where(BudgetRow.community == community))
            return None if row is None else _budget(row)

    async def all(self) -> dict[str, Budget]:
        def run() -> dict[str, Budget]:
            with self._db.session() as session:
                return {row.community: _budget(row) for row in session.scalars(select(BudgetRow))}
        return await asyncio.to_thread(run)

    async def set(self, community: str, budget: Budget) -> None:
        await asyncio.to_thread(self._set, community, budget)

    def _set(self, community: str, budget: Budget) -> None:
        with self._db.engine.begin() as conn:
            conn.execute(delete(BudgetRow).where(BudgetRow.community == community))
            conn.execute(insert(BudgetRow), [{
                "community": community, "amount": budget.amount, "currency": budget.currency, "period": budget.period,
                "thresholds": ",".join(str(t) for t in budget.thresholds), "forecast": budget.forecast,
                "timezone": budget.timezone, "set_by": budget.set_by or "", "set_at": budget.set_at}])
