"""The only error vocabulary hubbot speaks.

Every error says what the caller should do next: fix their input (:class:`UsageError`,
:class:`NotFound`), ask someone who is allowed (:class:`NotAllowed`), or try again later
(:class:`UpstreamError`). Transports turn these into replies and exit codes in one place.
"""

from __future__ import annotations


class HubbotError(Exception):
    """Base class; ``str(err)`` is safe to show to a user as is."""

    exit_code = 1


class UserError(HubbotError):
    """The request cannot be done as asked; the message tells the user what to change."""

    exit_code = 2


class UsageError(UserError):
    """Arguments did not match the command's declaration; carries the usage line."""

    def __init__(self, message: str, *, usage: str = "") -> None:
        super().__init__(message)
        self.usage = usage


class NotFound(UserError):
    """A named thing (hub, community, command) does not exist."""


class NotMirrored(UserError):
    """A provider's own budgets cannot hold this budget (its period, or whose spend it counts), so
    the provider gets none; hubbot still tracks the budget itself."""


class NotAllowed(HubbotError):
    """The caller lacks the permission; the message names who can do it."""

    exit_code = 3


class UpstreamError(HubbotError):
    """An outside system failed; ``retry_after`` is a hint in seconds when known."""

    exit_code = 4

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ToolFailed(UpstreamError):
    """An outside program or API failed in a way a retry may not fix; ``output`` holds the last
    lines it printed (already redacted) so the user can see why."""

    def __init__(self, message: str, *, output: str = "") -> None:
        super().__init__(message)
        self.output = output
