"""Keep secrets out of logs, replies and the audit log."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

# Slack tokens (bot, user, app-level, refresh), GitHub tokens (classic and fine-grained personal
# access tokens, OAuth, app installation and refresh tokens), bearer headers and key=value secrets.
_PATTERNS = [
    re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{6,}"),
    re.compile(r"\bxapp-[A-Za-z0-9-]{6,}"),
    re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"),
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)\b(password|passwd|secret|token|api[_-]?key|client[_-]?secret)(\s*[=:]\s*)(\S+)"),
]
MASK = "[redacted]"
# Every pattern above needs one of these; one cheap search rules them all out.
_SUSPECT = re.compile(r"(?i)xox|xapp|gh[pousr]_|github_pat_|bearer|[=:]")


class Redactor:
    """Replaces known secret values and secret-looking strings with ``[redacted]``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        if not _SUSPECT.search(text):
            return text  # the common case: nothing token-shaped, skip the patterns
        for pattern in _PATTERNS:
            if pattern.groups == 3:
                text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
            else:
                text = pattern.sub(MASK, text)
        return text


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the formatted message and any exception text."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self._redact = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._redact(record.getMessage())
        record.args = None
        if record.exc_info:
            formatter = logging.Formatter()
            record.exc_text = self._redact(formatter.formatException(record.exc_info))
            record.exc_info = None
        return True
