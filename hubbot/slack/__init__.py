"""The Slack transport: a Bolt app whose one generic listener acks, parses, authorises, runs and
replies through :class:`hubbot.pipeline.dispatch.Dispatcher`."""

from hubbot.slack.app import SlackTransport

__all__ = ["SlackTransport"]
