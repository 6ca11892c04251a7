"""The Slack transport: a Bolt app whose one generic listener acks, parses, authorises, runs and
replies through :class:`hubbot.pipeline.dispatch.Dispatcher`.

Public surface: :class:`SlackTransport`. The modules beside it are used by the web endpoint and
the wiring: :mod:`~hubbot.slack.verify` (signatures and payload shapes), :mod:`~hubbot.slack.socket`
(Socket Mode), :mod:`~hubbot.slack.notifier`, :mod:`~hubbot.slack.directory` and
:mod:`~hubbot.slack.retry`; :mod:`~hubbot.slack.payloads` types the payloads the app reads.
"""

from hubbot.slack.app import SlackTransport

__all__ = ["SlackTransport"]
