"""A notifier that keeps what it was asked to post."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from hubbot.errors import UpstreamError


class RecordingNotifier:
    """Keeps what would have been posted; can be told to fail, like an unreachable chat."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, str]] = []
        self.blocks: list[Sequence[dict[str, object]]] = []  # of each post, in the order of posts
        self.threads: dict[str, str | None] = {}  # ts -> thread it was posted in
        self.messages: dict[str, list[str]] = {}  # ts -> every text it had, oldest first
        self.failing: set[str] = set()
        self.keys: dict[tuple[str, str], str] = {}  # (channel, outbox key) -> ts

    async def post(
        self, *, channel: str, text: str, blocks: Sequence[dict[str, object]], thread_ts: str | None = None,
        key: str | None = None,
    ) -> str | None:
        if channel in self.failing:
            raise UpstreamError(f"could not post to {channel}")
        self.posts.append((channel, text))
        self.blocks.append(blocks)
        ts = f"{len(self.posts)}.000100"
        self.threads[ts] = thread_ts
        self.messages[ts] = [text]
        if key is not None:
            self.keys[(channel, key)] = ts
        return ts

    async def find(self, *, channel: str, key: str, since: datetime) -> str | None:
        return self.keys.get((channel, key))

    async def update(self, *, channel: str, ts: str, text: str, blocks: Sequence[dict[str, object]]) -> None:
        if channel in self.failing:
            raise UpstreamError(f"could not update a message in {channel}")
        self.messages.setdefault(ts, []).append(text)
