"""Freshdesk tickets for escalated support questions (REST API v2, basic auth with the API key)."""

from __future__ import annotations

import httpx
from pydantic import SecretStr

from hubbot.errors import UpstreamError
from hubbot.fleet import FreshdeskConfig

STATUS_OPEN = 2
PRIORITY_LOW = 1


class FreshdeskTickets:
    def __init__(self, conf: FreshdeskConfig, *, api_key: SecretStr, http: httpx.AsyncClient | None = None) -> None:
        self._conf = conf
        self._key = api_key
        self._http = http
        self._base = (conf.api_url or f"https://{conf.domain}").rstrip("/")

    async def open_ticket(self, *, subject: str, description: str, tags: list[str]) -> str:
        body = {"subject": subject[:250], "description": description, "email": self._conf.email,
                "status": STATUS_OPEN, "priority": PRIORITY_LOW, "tags": tags}
        auth = (self._key.get_secret_value(), "X")
        try:
            if self._http is not None:
                response = await self._http.post(f"{self._base}/api/v2/tickets", json=body, auth=auth, timeout=20)
            else:
                async with httpx.AsyncClient() as client:
                    response = await client.post(f"{self._base}/api/v2/tickets", json=body, auth=auth, timeout=20)
        except httpx.HTTPError as exc:
            raise UpstreamError(f"could not reach Freshdesk ({self._conf.domain}): {exc.__class__.__name__}") from None
        if response.status_code == 429:
            retry = response.headers.get("retry-after", "")
            raise UpstreamError("Freshdesk is rate limiting hubbot",
                                retry_after=float(retry) if retry.isdigit() else 60.0)
        if response.status_code in (401, 403):
            raise UpstreamError("Freshdesk refused the API key — check HUBBOT_FRESHDESK_API_KEY")
        if response.status_code != 201:
            raise UpstreamError(f"Freshdesk answered HTTP {response.status_code} when opening a ticket")
        try:
            return str(response.json()["id"])
        except (ValueError, KeyError, TypeError):
            raise UpstreamError("Freshdesk's answer had no ticket id") from None
