"""User-group membership from Slack (``usergroups.users.list``), cached for a few minutes."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger("hubbot.slack")
TTL = 300.0


class SlackDirectory:
    """Looks up only the groups the fleet config names, so roles can be granted to a
    user group (``S...``) instead of to each person."""

    def __init__(
        self, client: AsyncWebClient, groups: list[str], *, now: Callable[[], float] = time.monotonic
    ) -> None:
        self._client = client
        self._groups = sorted(set(groups))
        self._cache: dict[str, frozenset[str]] = {}
        self._now = now
        self._loaded: float | None = None

    async def groups_of(self, user_id: str) -> frozenset[str]:
        if not self._groups:
            return frozenset()
        if self._loaded is None or self._now() - self._loaded > TTL:
            await self._load()
        return frozenset(g for g, users in self._cache.items() if user_id in users)

    async def _load(self) -> None:
        for group in self._groups:
            try:
                resp = await self._client.usergroups_users_list(usergroup=group)
                self._cache[group] = frozenset(resp.get("users") or [])
            except SlackApiError as exc:
                # Keep the last known members; a role must not vanish because Slack hiccuped.
                log.warning("could not list members of %s: %s", group, exc.response.get("error"))
        self._loaded = self._now()
