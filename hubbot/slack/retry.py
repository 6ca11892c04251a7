"""Retrying Slack Web API and response_url calls on 429 (honouring Retry-After) and transient 5xx."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

Sleep = Callable[[float], Awaitable[None]]
TRANSIENT = frozenset({500, 502, 503, 504})
MAX_WAIT = 60.0
_METHOD = re.compile(r"/api/([a-z]+(?:\.[a-zA-Z]+)+)$")


def method_of(url: str) -> str:
    """The Web API method a request URL calls (``chat.postMessage``), or ``response_url`` for
    a post to a request's response URL; never more of the URL (it may carry a token)."""
    found = _METHOD.search(url.split("?", 1)[0])
    return found.group(1)[:64] if found else "response_url"


def retry_after(response: HttpResponse) -> float | None:
    for key, values in response.headers.items():
        if key.lower() == "retry-after" and values:
            try:
                return max(0.0, min(float(values[0]), MAX_WAIT))
            except ValueError:
                return None
    return None


class SlackRetry(AsyncRetryHandler):
    """One handler for both cases, with an injectable ``sleep`` so tests can see the waits
    without waiting. 429: wait what Retry-After says (1 s if absent). 5xx: 0.5, 1, 2 s..."""

    def __init__(self, *, max_retries: int = 3, sleep: Sleep = asyncio.sleep,
                 on_rate_limited: Callable[[str], None] | None = None) -> None:
        super().__init__(max_retry_count=max_retries)
        self._sleep = sleep
        self._on_rate_limited = on_rate_limited

    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        # Asked about every answer, so every 429 is seen here, retried or not.
        if response is not None and response.status_code == 429 and self._on_rate_limited is not None:
            self._on_rate_limited(method_of(request.url))
        return await super().can_retry_async(state=state, request=request, response=response, error=error)

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and (response.status_code == 429 or response.status_code in TRANSIENT)

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        if response is not None and response.status_code == 429:
            wait = retry_after(response)
            delay = 1.0 if wait is None else wait
        else:
            delay = 0.5 * (2**state.current_attempt)
        await self._sleep(delay)
        state.increment_current_attempt()
