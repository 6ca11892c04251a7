"""Process logging: one stderr handler, JSON lines for servers, every record redacted first.

A JSON line carries ``ts`` (RFC 3339, UTC) and, while a request is handled, its ``request_id``:
the reference a user sees in "Something went wrong (reference K3QZ7A)"."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from hubbot.redact import RedactingFilter, Redactor
from hubbot.reference import current
from hubbot.settings import Settings


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        out: dict[str, Any] = {"ts": ts, "level": record.levelname.lower(), "logger": record.name,
                               "message": record.getMessage()}
        request_id = getattr(record, "request_id", None) or current()
        if request_id:
            out["request_id"] = request_id
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
