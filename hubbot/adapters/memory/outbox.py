"""The outbox in memory (held to :class:`hubbot.store.SqlOutbox` by contract tests): a key is
recorded once, a claim holds a message for its lease."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from hubbot.domain import CENT, DeliveryState, OutboxKind, OutboxMessage, Post, Ticket


def _cents(amount: Decimal | None) -> Decimal | None:
    """An alert's figure as the store gives it back: kept to six places, read in cents."""
    return None if amount is None else amount.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP).quantize(CENT)


def _kept(message: OutboxMessage, message_id: int) -> OutboxMessage:
    """``message`` as the outbox keeps it: with an id, no delivery history yet, and a copy of its
    blocks as they come back from JSON. A message whose kind, alert and payload disagree is
    refused (the SQL store refuses some and files the others as another kind)."""
    if (message.kind is OutboxKind.ALERT) != (message.alert is not None):
        raise ValueError(f"{message.key}: a cost alert, and only a cost alert, says what it is about")
    if (message.kind is OutboxKind.TICKET) != isinstance(message.payload, Ticket):
        raise ValueError(f"{message.key}: a ticket, and only a ticket, carries a Ticket")
    payload = message.payload
    kept = payload if isinstance(payload, Ticket) else Post(
        text=payload.text, blocks=tuple(json.loads(json.dumps(list(payload.blocks)))))
    alert = message.alert and dataclasses.replace(message.alert, spend=_cents(message.alert.spend),
                                                  budget=_cents(message.alert.budget),
                                                  forecast=_cents(message.alert.forecast))
    return dataclasses.replace(message, id=message_id, payload=kept, alert=alert, sent_at=None, attempts=0,
                               last_error=None, acked_by=None, acked_at=None, muted_until=None)


class MemoryOutbox:
    def __init__(self) -> None:
        self.messages: dict[int, OutboxMessage] = {}  # by id, oldest first
        self.claimed_at: dict[int, datetime] = {}
        self.claims: dict[int, int] = {}  # times each row was claimed (see OutboxMessage.uncertain)

    async def add(self, messages: Sequence[OutboxMessage]) -> list[OutboxMessage]:
        for m in messages:
            _kept(m, 0)  # refuse the whole batch before recording any of it
        known = {m.key for m in self.messages.values()}
        added = []
        for m in messages:
            if m.key not in known:
                known.add(m.key)
                message_id = len(self.messages) + 1
                self.messages[message_id] = _kept(m, message_id)
                added.append(self.messages[message_id])
        return added

    async def keys(self, *, prefix: str) -> set[str]:
        return {m.key for m in self.messages.values() if m.key.startswith(prefix)}

    async def pending_summary(self) -> tuple[int, datetime | None]:
        pending = [m.created_at for m in self.messages.values() if m.state is DeliveryState.PENDING]
        return len(pending), min(pending, default=None)

    async def claim(
        self, *, worker: str, at: datetime, lease_seconds: int, limit: int, key: str | None = None
    ) -> list[OutboxMessage]:
        expired = at - timedelta(seconds=lease_seconds)
        free = [i for i, m in self.messages.items()
                if m.state is DeliveryState.PENDING and (key is None or m.key == key)
                and (i not in self.claimed_at or self.claimed_at[i] < expired)][:limit]
        for i in free:
            self.claimed_at[i] = at
            self.claims[i] = self.claims.get(i, 0) + 1
        return [dataclasses.replace(self.messages[i], uncertain=self.claims[i] - 1 > self.messages[i].attempts)
                for i in free]

    async def delivered(self, message_id: int, *, at: datetime) -> None:
        if (m := self.messages.get(message_id)) is not None:
            self.messages[message_id] = dataclasses.replace(m, state=DeliveryState.SENT, sent_at=at,
                                                            attempts=m.attempts + 1, last_error=None)

    async def failed(self, message_id: int, *, at: datetime, error: str, give_up: bool) -> None:
        # The claim stays: the lease keeps this cycle from retrying at once; the next one retries.
        if (m := self.messages.get(message_id)) is not None:
            state = DeliveryState.FAILED if give_up else DeliveryState.PENDING
            self.messages[message_id] = dataclasses.replace(m, state=state, attempts=m.attempts + 1,
                                                            last_error=error[:1000])

    async def recent(self, *, communities: Sequence[str] | None, limit: int) -> list[OutboxMessage]:
        rows = [m for m in reversed(self.messages.values()) if m.state is not DeliveryState.SKIPPED
                and (communities is None or m.community in communities)]
        return rows[:limit]

    async def get(self, message_id: int) -> OutboxMessage | None:
        return self.messages.get(message_id)

    async def acknowledge(self, message_id: int, *, by: str, at: datetime) -> bool:
        m = self.messages.get(message_id)
        if m is None or m.acked_by is not None:
            return False
        self.messages[message_id] = dataclasses.replace(m, acked_by=by, acked_at=at)
        return True

    async def mute(self, message_id: int, *, until: date) -> bool:
        m = self.messages.get(message_id)
        if m is None:
            return False
        self.messages[message_id] = dataclasses.replace(m, muted_until=until)
        return True

    async def muted(self, *, on: date) -> set[str]:
        return {m.community for m in self.messages.values() if m.muted_until is not None and m.muted_until > on}
