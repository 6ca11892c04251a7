"""The request id: six characters naming one request, event or button click in the logs. It is
the reference a user sees in "Something went wrong (reference K3QZ7A)", and every log line
written while that request is handled carries it (:mod:`hubbot.logs`), so an operator can grep
for what a user pasted."""

from __future__ import annotations

import random
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


class handling:  # a lower-case name: it is used like a function, `with handling() as reference:`
    """Name the request handled inside the block: ``reference``, else the one already being
    handled (a transport named it on receipt), else a new one. Tasks started inside inherit it.
    (A class rather than a generator: it is entered twice on every request.)"""

    __slots__ = ("_token", "_value")

    def __init__(self, reference: str | None = None) -> None:
        self._value = reference or _CURRENT.get() or new_reference()

    def __enter__(self) -> str:
        self._token = _CURRENT.set(self._value)
        return self._value

    def __exit__(self, *_: object) -> None:
        _CURRENT.reset(self._token)
