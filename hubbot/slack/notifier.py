"""Posting alerts to Slack channels (the Notifier port), with the transport's retries."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from hubbot.errors import UpstreamError

_HINTS = {
    "channel_not_found": "the channel ID is wrong, or the channel is private and hubbot is not in it",
    "not_in_channel": "invite hubbot to the channel (/invite @hubbot)",
    "is_archived": "the channel is archived",
    "invalid_auth": "the bot token is not valid",
    "ratelimited": "Slack is rate limiting hubbot; it will retry",
}


class SlackNotifier:
    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def post(self, *, channel: str, text: str, blocks: Sequence[dict[str, object]]) -> None:
        try:
            await self._client.chat_postMessage(channel=channel, text=text[:39000], blocks=list(blocks)[:50])
        except SlackApiError as exc:
            error = str(exc.response.get("error", "error"))
            raise UpstreamError(f"Slack refused the message to {channel}: {error} — {_HINTS.get(error, 'see logs')}",
                                retry_after=None) from None
        except Exception as exc:  # transport failures after the client's own retries
            raise UpstreamError(f"could not reach Slack to post to {channel}: {exc.__class__.__name__}") from None
