"""Process logging: one stderr handler, JSON lines for servers, every record redacted first."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from hubbot.redact import RedactingFilter, Redactor
from hubbot.settings import Settings


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {"level": record.levelname.lower(), "logger": record.name,
                               "message": record.getMessage()}
        if record.exc_text:
            out["exc"] = record.exc_text
        return json.dumps(out, ensure_ascii=False)


def configure_logging(settings: Settings, redactor: Redactor, *, json_lines: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter(redactor))
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper() if json_lines else logging.WARNING)


def redactor_for(settings: Settings) -> Redactor:
    """A redactor that knows this process's secrets: the Slack tokens, the Freshdesk key, the
    OpenStack application credential secrets, the hubs' service tokens and the database password."""
    secrets = [s.get_secret_value() for s in (settings.slack.bot_token, settings.slack.signing_secret,
                                               settings.slack.app_token, settings.freshdesk_api_key,
                                               settings.github_token, settings.metrics_token) if s is not None]
    secrets += [credential.secret.get_secret_value() for credential in settings.openstack.values()]
    secrets += [token.get_secret_value() for token in settings.hub_tokens.values()]
    for credential in settings.prometheus_credentials.values():
        value = credential.get_secret_value()
        secrets += [value, value.partition(":")[2]]
    url = settings.database.url
    if "@" in url and ":" in url.split("@", 1)[0]:
        secrets.append(url.split("@", 1)[0].rsplit(":", 1)[1])  # the database password
    return Redactor(secrets)
