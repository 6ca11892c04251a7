"""The request id: six characters naming one request, event or button click in the logs. It is
the reference a user sees in "Something went wrong (reference K3QZ7A)", and every log line
written while that request is handled carries it (:mod:`hubbot.logs`), so an operator can grep
for what a user pasted."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_CURRENT: ContextVar[str | None] = ContextVar("hubbot_request_id", default=None)


def new_reference() -> str:
    """Six random characters, e.g. ``K3QZ7A``: enough to find one request in the logs
    (not a secret, so the fast non-cryptographic generator is fine)."""
    bits = random.getrandbits(30)
    return "".join(_ALPHABET[(bits >> shift) & 31] for shift in (0, 5, 10, 15, 20, 25))


def current() -> str | None:
    """The id of the request being handled here, if any."""
    return _CURRENT.get()


@contextmanager
def handling(reference: str | None = None) -> Iterator[str]:
    """Name the request handled inside the block: ``reference``, else the one already being
    handled (a transport named it on receipt), else a new one. Tasks started inside inherit it."""
    value = reference or _CURRENT.get() or new_reference()
    token = _CURRENT.set(value)
    try:
        yield value
    finally:
        _CURRENT.reset(token)
