"""The chat-neutral contract between transports and commands.

A transport turns whatever arrived (a slash command, a mention, a console line, a button
click) into an :class:`Invocation`; a command handler gets a :class:`Context` and returns a
:class:`Reply`; the transport renders the reply. Handlers never see Slack or a terminal.
"""

from __future__ import annotations

import difflib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from hubbot.domain import AuditEntry, Block, Outcome
from hubbot.fleet import Fleet, HubRef
from hubbot.pipeline.access import Caller, Permission
from hubbot.pipeline.args import ParsedArgs, Signature
from hubbot.ports import Services

Trigger = Literal["command", "mention", "dm", "console", "action", "message", "reply"]
# ok, silent (nothing to post), or what kind of failure: the caller's input, not found, not
# allowed, an outside system, or hubbot itself
ReplyKind = Literal["ok", "silent", "usage", "not_found", "denied", "upstream", "error"]
PREFIX = "/hub"
ACTION_PREFIX = "hubbot"


@dataclass(frozen=True, slots=True)
class Invocation:
    """Who asked, where, and what they typed (without the leading ``/hub``)."""

    user_id: str
    channel_id: str
    text: str
    transport: str = "console"
    trigger: Trigger = "console"
    thread_ts: str | None = None
    message_ts: str | None = None  # the message itself, for a reply in a thread


@dataclass(frozen=True, slots=True)
class File:
    name: str
    content: bytes
    mimetype: str = "application/octet-stream"
    title: str = ""
    alt: str = ""  # what an image shows, for screen readers and notifications


@dataclass(frozen=True, slots=True)
class Reply:
    """What a command answers. ``text`` is the plain fallback; ``blocks`` the rich form.

    ``kind`` is ``ok``, ``silent`` (nothing to post: an unprompted question hubbot is unsure
    about) or the class of failure (``usage``, ``not_found``, ``denied``, ``upstream``,
    ``error``); ``public`` posts a slash-command answer to the whole channel;
    ``replace`` replaces the message whose button was clicked.
    """

    text: str
    blocks: Sequence[Block] = ()
    files: Sequence[File] = ()
    kind: ReplyKind = "ok"
    public: bool = False
    replace: bool = False

    @property
    def ok(self) -> bool:
        return self.kind in ("ok", "silent")


Progress = Callable[[str], Awaitable[None]]


async def no_progress(_: str) -> None:
    return None


@dataclass(frozen=True)
class Context:
    """Everything a handler may use. ``communities`` is what the caller may act on here:
    the one named (or implied by the channel), or, when none was, all the caller may see.
    ``hub`` is the hub named by the scope argument, if it named one. ``approved_by`` is set
    when an action runs after a second engineer's approval."""

    invocation: Invocation
    command: str
    args: ParsedArgs
    caller: Caller
    fleet: Fleet
    services: Services
    registry: Registry
    community: str | None
    communities: list[str]
    reference: str
    hub: str | None = None
    progress: Progress = no_progress
    approved_by: str | None = None

    def sees(self, ref: HubRef) -> bool:
        """Whether this command may act on ``ref``: a hub of a community it was authorised for, or
        (for an engineer, when no one community was named) a hub of no community."""
        if ref.hub.community is None:
            return self.caller.engineer and self.community is None
        return ref.hub.community in self.communities

    async def record_change(self, *, command: str, args: str, community: str | None, detail: str) -> None:
        """Write a change this command made to the audit log (invocations are logged anyway)."""
        await self.services.audit.record(AuditEntry(
            at=self.services.clock.now(), user=self.caller.user_id, channel=self.invocation.channel_id,
            transport=self.invocation.transport, command=command, args=args[:1000], outcome=Outcome.CHANGED,
            community=community, detail=detail + (f" (approved by {self.approved_by})" if self.approved_by else ""),
            reference=self.reference))


Handler = Callable[[Context], Awaitable[Reply]]
ActionHandler = Callable[[Context, str], Awaitable[Reply]]


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """A button handler: ``hubbot:<command>:<name>``, run with the button's value. An action
    with ``button=False`` runs only once a confirmation or approval accepted it (its payload is
    the stored one); a click that names it directly is refused."""

    name: str
    permission: Permission
    handler: ActionHandler
    button: bool = True


@dataclass(frozen=True)
class CommandSpec:
    """A ``/hub`` subcommand. ``scope`` names the argument that holds a community or hub;
    ``slow`` commands are acknowledged at once and answer later with progress."""

    name: str
    summary: str
    handler: Handler
    permission: Permission
    signature: Signature = field(default_factory=Signature)
    help: str = ""
    scope: str | None = None
    slow: bool = False
    examples: tuple[str, ...] = ()
    actions: tuple[ActionSpec, ...] = ()
    # Runs on a person's reply in a thread of a support channel (the text is what they wrote, not
    # a command); a silent reply means "not mine".
    thread_reply: Handler | None = None

    @cached_property
    def usage(self) -> str:
        return self.signature.usage(f"{PREFIX} {self.name}")

    def action(self, name: str) -> ActionSpec | None:
        return next((a for a in self.actions if a.name == name), None)


def action_id(command: str, action: str) -> str:
    return f"{ACTION_PREFIX}:{command}:{action}"


@dataclass(frozen=True)
class Registry:
    """The commands in the order given; names may have several words (``budget set``)."""

    commands: tuple[CommandSpec, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        names = [c.name for c in self.commands]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(f"commands declared twice: {sorted(dupes)}")
        # every command reads the registry by name (a few times on the ack path): a dict, not a scan
        object.__setattr__(self, "_by_name", {c.name: c for c in self.commands})

    def get(self, name: str) -> CommandSpec | None:
        by_name: dict[str, CommandSpec] = self.__dict__["_by_name"]
        return by_name.get(name)

    def match(self, words: list[str]) -> tuple[CommandSpec | None, int]:
        """The command named by the longest prefix of ``words`` and how many words it took."""
        for length in range(min(len(words), 3), 0, -1):
            spec = self.get(" ".join(words[:length]).lower())
            if spec is not None:
                return spec, length
        return None, 0

    def group(self, word: str) -> list[CommandSpec]:
        """The commands of a group (``budget`` -> ``budget show``, ``budget set``), in order."""
        prefix = word.lower() + " "
        return [c for c in self.commands if c.name.startswith(prefix)]

    def suggest(self, word: str) -> list[str]:
        names = [c.name for c in self.commands]
        firsts = sorted({n.split()[0] for n in names})
        return difflib.get_close_matches(word.lower(), sorted(set(names) | set(firsts)), n=2, cutoff=0.5)
