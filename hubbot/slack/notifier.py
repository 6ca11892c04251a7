"""Posting alerts to Slack channels (the Notifier port), with the transport's retries."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from hubbot.errors import UpstreamError
from hubbot.render.blocks import for_slack, text_for_slack

log = logging.getLogger("hubbot.alerts")
# Message metadata (https://api.slack.com/metadata): the outbox key of each message hubbot posts from
# its outbox, so a message whose sender died mid-send is found instead of posted twice.
METADATA_TYPE = "hubbot_outbox"
HISTORY_PAGES = 5

_HINTS = {
    "channel_not_found": "the channel ID is wrong, or the channel is private and hubbot is not in it",
    "not_in_channel": "invite hubbot to the channel (/invite @hubbot)",
    "is_archived": "the channel is archived",
    "invalid_auth": "the bot token is not valid",
    "ratelimited": "Slack is rate limiting hubbot; it will retry",
}


class SlackNotifier:
    """Posts hubbot text and blocks (rendered to mrkdwn here, as for replies)."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def post(
        self, *, channel: str, text: str, blocks: Sequence[dict[str, object]], thread_ts: str | None = None,
        key: str | None = None,
    ) -> str | None:
        metadata = {"event_type": METADATA_TYPE, "event_payload": {"key": key}} if key else None
        try:
            answer = await self._client.chat_postMessage(channel=channel, text=text_for_slack(text),
                                                         blocks=for_slack(blocks), thread_ts=thread_ts,
                                                         metadata=metadata)
        except SlackApiError as exc:
            raise _refused(channel, exc) from None
        except Exception as exc:  # transport failures after the client's own retries
            raise UpstreamError(f"could not reach Slack to post to {channel}: {exc.__class__.__name__}") from None
        ts = answer.get("ts")
        return str(ts) if ts else None

    async def find(self, *, channel: str, key: str, since: datetime) -> str | None:
        """Read the channel's history since ``since`` (newest first, a few pages at most) for a
        message carrying ``key``; needs the channels:history (groups:history, im:history) scope."""
        cursor: str | None = None
        try:
            for _ in range(HISTORY_PAGES):
                page = await self._client.conversations_history(
                    channel=channel, oldest=f"{since.timestamp() - 1:.6f}", include_all_metadata=True,
                    limit=200, cursor=cursor)
                for message in page.get("messages") or []:
                    meta = message.get("metadata") or {}
                    if meta.get("event_type") == METADATA_TYPE and (meta.get("event_payload") or {}).get("key") == key:
                        return str(message.get("ts") or "") or None
                cursor = ((page.get("response_metadata") or {}).get("next_cursor")) or None
                if not cursor:
                    break
        except Exception as exc:  # cannot ask: the caller sends (a duplicate is better than a loss)
            log.warning("could not read %s's history to find message %s: %s", channel, key, exc.__class__.__name__)
        return None

    async def update(self, *, channel: str, ts: str, text: str, blocks: Sequence[dict[str, object]]) -> None:
        try:
            await self._client.chat_update(channel=channel, ts=ts, text=text_for_slack(text), blocks=for_slack(blocks))
        except SlackApiError as exc:
            raise _refused(channel, exc) from None
        except Exception as exc:
            raise UpstreamError(f"could not reach Slack to update a message in {channel}: "
                                f"{exc.__class__.__name__}") from None


def _refused(channel: str, exc: SlackApiError) -> UpstreamError:
    error = str(exc.response.get("error", "error"))
    return UpstreamError(f"Slack refused the message to {channel}: {error} — {_HINTS.get(error, 'see logs')}")
