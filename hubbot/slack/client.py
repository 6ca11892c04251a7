"""The Slack Web API client hubbot uses, counting every call into :mod:`hubbot.metrics` (one
hook for every caller: replies, alerts, uploads, the user-group directory, Bolt itself)."""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from hubbot.metrics import Metrics

UNREACHABLE = "unreachable"  # the error counted when no answer came back at all


class MeteredWebClient(AsyncWebClient):
    """An :class:`AsyncWebClient` whose calls count as ``hubbot_slack_api_calls_total`` (and
    ``hubbot_slack_api_errors_total``) as they end, after the client's own retries."""

    def __init__(self, *, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._metrics = metrics

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:
        try:
            response = await super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            status = getattr(exc.response, "status_code", None)
            error = "ratelimited" if status == 429 else str(exc.response.get("error") or "other")
            self._metrics.slack_call(method=api_method, error=error)
            raise
        except Exception:
            self._metrics.slack_call(method=api_method, error=UNREACHABLE)
            raise
        self._metrics.slack_call(method=api_method, error=None)
        return response
