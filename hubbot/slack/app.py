"""The Bolt app. One generic path for slash commands, mentions, DMs and buttons:
Slack payload -> :class:`Invocation` -> dispatcher -> :class:`Reply` -> Slack message.

Acks: Bolt runs with ``process_before_response=True`` so the HTTP response leaves as soon as
the listener returns; there is no polling for the ack. A quick command answers inside the
ack; one that is declared slow, or that takes longer than ``ack_budget``, acks "working on
it" and posts its result (and progress) later through ``response_url`` or in the thread.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from hubbot.domain import OutboxKind, OutboxMessage, Post
from hubbot.errors import HubbotError
from hubbot.markup import to_plain
from hubbot.metrics import UNKNOWN, Metrics
from hubbot.pipeline.contract import Invocation, Progress, Reply, Trigger
from hubbot.pipeline.dispatch import Dispatcher
from hubbot.ports import Clock, EventLedger
from hubbot.render.blocks import for_slack, text_for_slack
from hubbot.slack.payloads import (
    Action,
    ActionContainer,
    ActionUser,
    BlockActions,
    EventCallback,
    MessageEvent,
    SlashCommand,
)
from hubbot.slack.text import decode, strip_mention

log = logging.getLogger("hubbot.slack")
_ICON = {"usage": ":warning:", "not_found": ":mag:", "denied": ":no_entry:", "upstream": ":cloud:", "error": ":x:"}
PROGRESS_INTERVAL = 1.0  # Slack allows about one update a second per message
RESPONSE_URL_UPDATES = 3  # a response_url takes 5 posts; keep 2 for the result and a spare


def message(reply: Reply) -> dict[str, Any]:
    """Slack message arguments for a reply: the one place replies become mrkdwn."""
    text = reply.text if reply.ok else f"{_ICON.get(reply.kind, ':x:')} {reply.text}"
    out: dict[str, Any] = {"text": text_for_slack(text)}
    if reply.blocks and reply.ok:
        out["blocks"] = for_slack(reply.blocks)
    return out


def _working(text: str) -> str:
    return text_for_slack(f":hourglass_flowing_sand: {text}")


class _Throttle:
    def __init__(self, *, interval: float, budget: int | None = None) -> None:
        self._interval = interval
        self._budget = budget
        self._last = -interval

    def ready(self) -> bool:
        now = time.monotonic()
        if now - self._last < self._interval or self._budget == 0:
            return False
        self._last = now
        if self._budget is not None:
            self._budget -= 1
        return True


async def _finished_within(task: asyncio.Task[Reply], seconds: float) -> bool:
    """Wait for ``task`` at most ``seconds``; it goes on running either way.
    (A leaner :func:`asyncio.wait` with one task, on the ack path of every command.)"""
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[bool] = loop.create_future()

    def settle(result: bool) -> None:
        if not waiter.done():
            waiter.set_result(result)

    task.add_done_callback(lambda _: settle(True))
    timer = loop.call_later(seconds, settle, False)
    try:
        return await waiter
    finally:
        timer.cancel()


@dataclass(frozen=True, slots=True)
class Ack:
    """A slash command's ack: its JSON body (``encoded``: as the HTTP response sends it), and for
    metrics the command's registry name and the reply's kind (``deferred`` when the ack leaves
    before the answer is known)."""

    body: dict[str, Any]
    command: str
    outcome: str
    encoded: bytes

    @classmethod
    def of(cls, body: dict[str, Any], command: str, outcome: str) -> Ack:
        return cls(body, command, outcome, json.dumps(body, ensure_ascii=False).encode())


RENDERED_ACKS = 256  # replies whose rendered ack is kept: those handlers hand out again and again (help)


class _AckBodies:
    """The rendered ack of each reply object seen lately. Rendering is a pure function of the
    reply (escaping, clipping, JSON), and some handlers return the same reply object each time
    (``help`` keeps its overview per permission shape): for those the escaping and encoding of a
    few KB is done once instead of on every request. Keyed by identity, holding the reply, so
    an id is never reused while its entry lives; emptied when full."""

    def __init__(self, size: int = RENDERED_ACKS) -> None:
        self._size = size
        self._entries: dict[int, tuple[Reply, dict[str, Any], bytes]] = {}

    def get(self, reply: Reply) -> tuple[dict[str, Any], bytes]:
        entry = self._entries.get(id(reply))
        if entry is None or entry[0] is not reply:
            body = {"response_type": "in_channel" if reply.public else "ephemeral", **message(reply)}
            if len(self._entries) >= self._size:
                self._entries.clear()
            entry = self._entries[id(reply)] = (reply, body, json.dumps(body, ensure_ascii=False).encode())
        return entry[1], entry[2]


class _NoHook:
    """Stands for a response_url hubbot refused: what would go there is dropped (the refusal is logged)."""

    async def send(self, **_: object) -> None:
        return None


class SlackTransport:
    """Builds the Bolt app over a dispatcher and the process's Slack client (whose retry
    handlers response_url posts use too); ``ack_budget`` is how long a quick command may take
    before we ack anyway."""

    def __init__(
        self,
        *,
        dispatcher: Dispatcher,
        events: EventLedger,
        clock: Clock,
        client: AsyncWebClient,
        signing_secret: str | None,
        redact: Callable[[str], str],
        ack_budget: float = 2.0,
        response_url_prefix: str = "https://hooks.slack.com/",
    ) -> None:
        self._dispatcher = dispatcher
        self._hooks = response_url_prefix
        self._events = events
        self._clock = clock
        self._redact = redact
        self._ack_budget = ack_budget
        # response_url posts retry as the Web API client does
        self._retry: list[AsyncRetryHandler] = list(client.retry_handlers)
        self._tasks: set[asyncio.Task[None]] = set()
        self._acks = _AckBodies()
        # over HTTP, events are recorded (and redeliveries dropped) before they are acknowledged
        self.checked_at_edge = False
        self.client = client
        self.app = AsyncApp(
            client=self.client,
            signing_secret=signing_secret,
            process_before_response=True,
            # The HTTP endpoint verifies signatures before Bolt (hubbot.slack.verify); Socket Mode needs none.
            request_verification_enabled=False,
            logger=logging.getLogger("hubbot.bolt"),
        )
        self.app.command(re.compile(r"^/"))(self._on_command)
        self.app.event("app_mention")(self._on_mention)
        self.app.event("message")(self._on_message)
        self.app.action(re.compile(r"^hubbot:"))(self._on_action)

    @property
    def metrics(self) -> Metrics:
        """The metrics of the app this transport serves."""
        return self._dispatcher.services.metrics

    # -- plumbing ----------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for replies still being sent (tests and graceful shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def first_delivery(self, event_id: str) -> bool:
        """Slack redelivers events it thinks were not acked (``X-Slack-Retry-Num``); the event ID
        is recorded in the database so no replica runs the same event twice. Raises
        :class:`hubbot.errors.HubbotError` when the database cannot say (then the HTTP edge answers
        503, and Slack delivers the event again later)."""
        if await self._events.first_time(f"slack:{event_id}", at=self._clock.now()):
            return True
        log.info("ignoring redelivered event %s", event_id)
        return False

    async def _first_delivery(self, body: EventCallback) -> bool:
        event_id = body.get("event_id")
        if self.checked_at_edge or not isinstance(event_id, str):
            return True  # the HTTP edge recorded it before acknowledging it
        try:
            return await self.first_delivery(event_id)
        except HubbotError as exc:  # Socket Mode acked it already: answer rather than drop it
            log.warning("could not check event %s for a redelivery: %s", event_id, exc)
            return True

    def _hook(self, url: str) -> AsyncWebhookClient | _NoHook:
        """The client for a request's ``response_url`` — only one on Slack's hooks host, so a
        request can never make hubbot post its answer (and its data) anywhere else."""
        if url.startswith(self._hooks) and url.isascii() and url.isprintable() and " " not in url:
            return AsyncWebhookClient(url, retry_handlers=self._retry)
        log.warning("ignoring a response_url that is not Slack's (%s…)", self._redact(url[:40]))
        return _NoHook()

    async def _safely(self, what: str, call: Awaitable[object]) -> None:
        try:
            await call
        except SlackApiError as exc:
            log.error("Slack refused %s: %s", what, self._redact(str(exc.response.get("error", exc))))
        except Exception as exc:
            log.error("could not %s: %s", what, self._redact(repr(exc)))

    async def _upload(self, reply: Reply, *, channel: str, thread_ts: str | None) -> None:
        for f in reply.files:
            await self._safely(
                "upload a file",
                self.client.files_upload_v2(
                    channel=channel, thread_ts=thread_ts, filename=f.name, content=f.content,
                    title=to_plain(f.title or f.name), alt_txt=to_plain(f.alt) or None,
                ),
            )

    # -- slash commands ------------------------------------------------------------------

    async def _on_command(self, ack: AsyncAck, body: SlashCommand) -> None:
        await ack(**await self.command(body))

    async def command(self, body: SlashCommand | Mapping[str, str]) -> dict[str, Any]:
        """Run a slash command and return the ack's JSON body (Socket Mode reaches it through Bolt)."""
        return (await self.slash(body)).body

    async def slash(self, body: SlashCommand | Mapping[str, str]) -> Ack:
        """Run a slash command and return its ack. The HTTP endpoint calls this directly for
        slash commands (the hot path) with the form it read."""
        invocation = Invocation(
            user_id=str(body.get("user_id", "")),
            channel_id=str(body.get("channel_id", "")),
            text=decode(str(body.get("text", ""))),
            transport="slack",
            trigger="command",
        )
        spec = self._dispatcher.find(invocation.text)
        name = spec.name if spec is not None else UNKNOWN
        if spec is not None and spec.slow:
            self._spawn(self._slash_later(invocation, self._hook(str(body.get("response_url", "")))))
            return Ack.of({"text": _working(f"Working on `/hub {spec.name}`…"), "response_type": "ephemeral"},
                          name, "deferred")
        # A task of its own from the start (not run eagerly in this one): code that keeps per-task
        # state, such as anyio's cancel scopes inside httpx, must begin and end in the same task.
        started = asyncio.get_running_loop().create_task(self._dispatcher.run(invocation))
        if not await _finished_within(started, self._ack_budget):
            self._spawn(self._slash_finish(started, invocation, self._hook(str(body.get("response_url", "")))))
            return Ack.of({"text": _working("Working on it…"), "response_type": "ephemeral"}, name, "deferred")
        reply = started.result()
        if reply.files:
            self._spawn(self._upload(reply, channel=invocation.channel_id, thread_ts=None))
        body, encoded = self._acks.get(reply)
        return Ack(body, name, reply.kind, encoded)

    async def _slash_later(self, invocation: Invocation, hook: AsyncWebhookClient | _NoHook) -> None:
        throttle = _Throttle(interval=PROGRESS_INTERVAL, budget=RESPONSE_URL_UPDATES)

        async def progress(text: str) -> None:
            if throttle.ready():
                await self._safely("post progress", hook.send(text=_working(text),
                                                             response_type="ephemeral", replace_original=True))

        task = asyncio.get_running_loop().create_task(self._dispatcher.run(invocation, progress=progress))
        await self._slash_finish(task, invocation, hook)

    async def _slash_finish(
        self, task: asyncio.Task[Reply], invocation: Invocation, hook: AsyncWebhookClient | _NoHook
    ) -> None:
        reply = await task
        kind = "in_channel" if reply.public else "ephemeral"
        await self._safely("post a reply", hook.send(response_type=kind, replace_original=True, **message(reply)))
        await self._upload(reply, channel=invocation.channel_id, thread_ts=None)

    # -- mentions and direct messages ------------------------------------------------------

    async def _on_mention(self, ack: AsyncAck, body: EventCallback, event: MessageEvent) -> None:
        await ack()
        if await self._first_delivery(body):
            self._spawn(self._conversation(event, trigger="mention",
                                           text=strip_mention(str(event.get("text", "")))))

    async def _on_message(self, ack: AsyncAck, body: EventCallback, event: MessageEvent) -> None:
        await ack()
        # Only plain messages from people; edits, joins and bot messages (our own included) are ignored.
        if event.get("subtype") or event.get("bot_id"):
            return
        text = str(event.get("text", ""))
        channel, ts, thread = (str(event.get(k) or "") for k in ("channel", "ts", "thread_ts"))
        if thread and thread != ts and event.get("channel_type") != "im" and self._dispatcher.watches_replies(channel):
            # a reply in a support channel's thread: the team answering an escalated question, perhaps
            if await self._first_delivery(body):
                self._spawn(self._thread_reply(event))
            return
        trigger: Trigger
        if event.get("channel_type") == "im":
            trigger = "dm"
        elif (self._dispatcher.answers_unprompted(str(event.get("channel", "")))
              and text.rstrip().endswith("?") and "<@" not in text):  # mentions arrive as app_mention
            trigger = "message"
            text = f"ask {text}"
        else:
            return
        if await self._first_delivery(body):
            self._spawn(self._conversation(event, trigger=trigger, text=text))

    async def _thread_reply(self, event: MessageEvent) -> None:
        user, channel = str(event.get("user", "")), str(event.get("channel", ""))
        thread = str(event.get("thread_ts", ""))
        invocation = Invocation(user_id=user, channel_id=channel, text=decode(str(event.get("text", ""))),
                                transport="slack", trigger="reply", thread_ts=thread,
                                message_ts=str(event.get("ts", "")) or None)
        reply = await self._dispatcher.run_thread_reply(invocation)
        if reply.kind == "silent":
            return
        # only the person who replied sees the offer
        await self._safely("offer to save an answer", self.client.chat_postEphemeral(
            channel=channel, user=user, thread_ts=thread, **message(reply)))

    async def _conversation(self, event: MessageEvent, *, trigger: Trigger, text: str) -> None:
        channel = str(event.get("channel", ""))
        thread = str(event.get("thread_ts") or event.get("ts") or "") or None
        invocation = Invocation(
            user_id=str(event.get("user", "")), channel_id=channel, text=decode(text), transport="slack",
            trigger=trigger, thread_ts=thread,
        )
        spec = self._dispatcher.find(invocation.text)
        progress: Progress | None = None
        working_ts: str | None = None
        if spec is not None and spec.slow:
            try:
                posted = await self.client.chat_postMessage(
                    channel=channel, thread_ts=thread, text=_working(f"Working on `/hub {spec.name}`…")
                )
                working_ts = str(posted["ts"])
            except SlackApiError as exc:
                log.error("could not post 'working on it': %s", exc.response.get("error"))
            throttle = _Throttle(interval=PROGRESS_INTERVAL)

            async def update(text: str) -> None:
                if working_ts and throttle.ready():
                    await self._safely("update progress", self.client.chat_update(
                        channel=channel, ts=working_ts, text=_working(text)))

            progress = update
        reply = await (self._dispatcher.run(invocation, progress=progress) if progress
                       else self._dispatcher.run(invocation))
        if reply.kind == "silent":
            return
        if working_ts:
            await self._safely(
                "post a reply", self.client.chat_update(channel=channel, ts=working_ts, **message(reply))
            )
        else:
            await self._post_or_keep(reply, channel=channel, thread=thread,
                                     key=f"reply:{channel}:{event.get('ts') or thread}")
        await self._upload(reply, channel=channel, thread_ts=thread)

    async def _post_or_keep(self, reply: Reply, *, channel: str, thread: str | None, key: str) -> None:
        """Post a reply in its thread; when Slack still refuses after the client's retries (an
        outage, a long rate limit), keep it in the outbox, whose delivery retries it until it is
        delivered: an answer is late, never lost."""
        try:
            await self.client.chat_postMessage(channel=channel, thread_ts=thread, **message(reply))
            return
        except SlackApiError as exc:
            error = str(exc.response.get("error", ""))
            if exc.response.status_code not in (429, 500, 502, 503, 504) and error != "ratelimited":
                log.error("Slack refused a reply: %s", self._redact(error or repr(exc)))
                return  # a refusal (channel gone, not in channel) will not change by retrying
        except Exception as exc:
            log.warning("could not reach Slack to post a reply: %s", self._redact(repr(exc)))
        services = self._dispatcher.services
        kept = OutboxMessage(key=key[:200], kind=OutboxKind.ANSWER, community="", channel=channel,
                             payload=Post(text=reply.text, blocks=tuple(reply.blocks), thread_ts=thread),
                             created_at=self._clock.now())
        try:
            await services.outbox.add([kept])
            log.warning("Slack is unavailable: the reply in %s is kept and will be sent when it is back", channel)
        except Exception as exc:
            log.error("could not keep a reply for later: %s", self._redact(repr(exc)))

    # -- buttons -----------------------------------------------------------------------------

    async def _on_action(self, ack: AsyncAck, body: BlockActions) -> None:
        await ack()
        actions = body.get("actions")
        action: Action = actions[0] if isinstance(actions, list) and actions and isinstance(actions[0], dict) else {}
        channel = body.get("channel")
        container: ActionContainer = body.get("container") or {}
        user: ActionUser = body.get("user") or {}
        invocation = Invocation(
            user_id=str(user.get("id", "")),
            channel_id=str(channel.get("id", "")) if isinstance(channel, dict) else "",
            text="",
            transport="slack",
            trigger="action",
            thread_ts=str(container.get("thread_ts") or container.get("message_ts") or "") or None,
        )
        hook = self._hook(str(body.get("response_url", "")))
        self._spawn(self._click(invocation, str(action.get("action_id", "")), str(action.get("value", "")), hook))

    async def _click(
        self, invocation: Invocation, action_id: str, value: str, hook: AsyncWebhookClient | _NoHook
    ) -> None:
        reply = await self._dispatcher.run_action(invocation, action_id=action_id, value=value)
        await self._safely(
            "answer a button",
            hook.send(replace_original=reply.replace, response_type="in_channel" if reply.public else "ephemeral",
                      **message(reply)),
        )
        await self._upload(reply, channel=invocation.channel_id, thread_ts=invocation.thread_ts)
