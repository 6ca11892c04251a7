"""Delivery ports: the outbox, and where its messages go (Slack channels, ticket desks)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol

from hubbot.domain import (
    OutboxMessage,
)


class Outbox(Protocol):
    """Messages waiting to be delivered (cost alerts, escalations, tickets): recorded at most
    once by key, claimed with a lease, marked delivered or failed."""

    async def add(self, messages: Sequence[OutboxMessage]) -> list[OutboxMessage]:
        """Record the messages whose key is new; return those (with ids) that this call added."""
        ...

    async def keys(self, *, prefix: str) -> set[str]: ...

    async def pending_summary(self) -> tuple[int, datetime | None]:
        """How many messages wait to be delivered, and when the oldest of them was recorded
        (None when none waits): one cheap aggregate, read for ``/metrics``."""
        ...

    async def claim(
        self, *, worker: str, at: datetime, lease_seconds: int, limit: int, key: str | None = None
    ) -> list[OutboxMessage]:
        """Take pending messages (only the one with ``key``, if given) nobody else claimed within the lease."""
        ...

    async def delivered(self, message_id: int, *, at: datetime) -> None: ...

    async def failed(self, message_id: int, *, at: datetime, error: str, give_up: bool) -> None:
        """Record a failed attempt; pending again for the next try, or failed for good with ``give_up``."""
        ...

    async def recent(self, *, communities: Sequence[str] | None, limit: int) -> list[OutboxMessage]:
        """Newest first, without the skipped ones."""
        ...

    async def get(self, message_id: int) -> OutboxMessage | None: ...

    async def acknowledge(self, message_id: int, *, by: str, at: datetime) -> bool:
        """True if this call acknowledged it (False: someone already had)."""
        ...

    async def mute(self, message_id: int, *, until: date) -> bool: ...

    async def muted(self, *, on: date) -> set[str]:
        """Communities with an alert muted past ``on``."""
        ...


class Notifier(Protocol):
    async def post(
        self, *, channel: str, text: str, blocks: Sequence[dict[str, object]], thread_ts: str | None = None,
        key: str | None = None,
    ) -> str | None:
        """Post a message (in a thread, if given); its timestamp, which names it for :meth:`update`.
        ``key`` (an outbox key) travels with the message, so :meth:`find` can tell it was posted.
        Raise :class:`hubbot.errors.UpstreamError` if it could not be delivered."""
        ...

    async def find(self, *, channel: str, key: str, since: datetime) -> str | None:
        """The timestamp of a message posted with ``key`` in ``channel`` since ``since``, if there
        is one (None also when the chat cannot be asked). Before sending again a message whose
        sender died mid-send, the outbox asks, so the message is not posted twice."""
        ...

    async def update(self, *, channel: str, ts: str, text: str, blocks: Sequence[dict[str, object]]) -> None:
        """Replace a message posted earlier. Raise :class:`hubbot.errors.UpstreamError` on failure."""
        ...


class Ticketing(Protocol):
    async def open_ticket(self, *, subject: str, description: str, tags: list[str]) -> str:
        """Open a ticket; return its ID. Raise :class:`hubbot.errors.UpstreamError` if the desk is unavailable."""
        ...
