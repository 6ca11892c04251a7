"""The Slack payloads hubbot reads, with only the fields it reads: a slash command, a button click
(``block_actions``) and the ``event_callback`` of an ``app_mention`` or ``message`` event.

Slack sends each of these fields as a string, and leaves out those that do not apply (``thread_ts``
outside a thread, ``subtype`` on a plain message, ``channel`` on a click in a modal), so every
field may be missing. Over HTTP and Socket Mode, :func:`hubbot.slack.verify.payload_problem` has
refused event and button payloads with objects, arrays or numbers where these strings go; what
is read is still converted with ``str()`` or checked where it is used.
"""

from __future__ import annotations

from typing import TypedDict


class SlashCommand(TypedDict, total=False):
    """A slash command's form fields (Socket Mode delivers the same fields as JSON)."""

    user_id: str
    channel_id: str
    text: str  # what follows the command, with Slack's escaping
    response_url: str  # where the answer goes, for half an hour


class MessageEvent(TypedDict, total=False):
    """An ``app_mention`` or ``message`` event."""

    type: str
    user: str
    text: str
    channel: str
    channel_type: str  # message events: "im" in a direct message
    ts: str
    thread_ts: str  # only in a thread
    subtype: str  # edits, joins, bot messages…; absent on a plain message
    bot_id: str  # only on a bot's message


class EventCallback(TypedDict, total=False):
    """The events API's envelope around an event."""

    type: str  # "event_callback"
    event_id: str  # the same on each redelivery
    event: MessageEvent


class Action(TypedDict, total=False):
    """One clicked element of a ``block_actions`` payload."""

    action_id: str
    value: str


class ActionUser(TypedDict, total=False):
    id: str


class ActionChannel(TypedDict, total=False):
    id: str


class ActionContainer(TypedDict, total=False):
    """Where the clicked message is."""

    message_ts: str
    thread_ts: str  # only when the message is in a thread


class BlockActions(TypedDict, total=False):
    """A button click."""

    type: str  # "block_actions"
    user: ActionUser
    channel: ActionChannel
    container: ActionContainer
    actions: list[Action]
    response_url: str
