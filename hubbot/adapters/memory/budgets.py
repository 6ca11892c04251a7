"""Budgets set from chat, in memory (held to :class:`hubbot.store.SqlBudgets` by contract tests)."""

from __future__ import annotations

import dataclasses
from decimal import ROUND_HALF_UP, Decimal

from hubbot.domain import CENT, Budget


class MemoryBudgets:
    def __init__(self) -> None:
        self.budgets: dict[str, Budget] = {}

    async def get(self, community: str) -> Budget | None:
        return self.budgets.get(community)

    async def set(self, community: str, budget: Budget) -> None:
        if budget.set_at is None:  # a NOT NULL column in SQL
            raise ValueError(f"the budget of {community} says nothing of when it was set")
        # as the SQL columns keep it: the amount to six places, read back in cents; no setter as ""
        amount = budget.amount.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP).quantize(CENT)
        self.budgets[community] = dataclasses.replace(budget, amount=amount, set_by=budget.set_by or "")

    async def all(self) -> dict[str, Budget]:
        return dict(self.budgets)
