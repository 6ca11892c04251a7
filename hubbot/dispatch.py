"""The one pipeline every transport uses: parse, resolve the caller, authorise, run, audit.

Errors from :mod:`hubbot.errors` become replies here, once, for all transports; anything
else becomes "something went wrong (reference ABC123)" with the details logged under that
reference. Every invocation, denial and button click is written to the audit log.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from hubbot.access import Caller, Permission, authorize, resolve_caller
from hubbot.args import MAX_TEXT, ParsedArgs, normalize, parse
from hubbot.chat import (
    ACTION_PREFIX,
    PREFIX,
    CommandSpec,
    Context,
    Invocation,
    Progress,
    Registry,
    Reply,
    no_progress,
)
from hubbot.domain import AuditEntry, Outcome
from hubbot.errors import HubbotError, NotAllowed, NotFound, UpstreamError, UsageError, UserError
from hubbot.fleet import Fleet
from hubbot.ports import Services

log = logging.getLogger("hubbot.dispatch")
_KIND = {UsageError: "usage", NotFound: "not_found", NotAllowed: "denied", UpstreamError: "upstream"}
_OUTCOME = {
    "usage": Outcome.USAGE,
    "not_found": Outcome.NOT_FOUND,
    "denied": Outcome.DENIED,
    "upstream": Outcome.UPSTREAM,
    "error": Outcome.ERROR,
    "ok": Outcome.OK,
}


_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_reference() -> str:
    """Six random characters, e.g. ``K3QZ7A``: enough to find one request in the logs
    (not a secret, so the fast non-cryptographic generator is fine)."""
    bits = random.getrandbits(30)
    return "".join(_ALPHABET[(bits >> shift) & 31] for shift in (0, 5, 10, 15, 20, 25))


def strip_prefix(text: str) -> str:
    stripped = text.strip()
    if stripped.lower() == PREFIX or stripped.lower().startswith(PREFIX + " "):
        return stripped[len(PREFIX) :].strip()
    return stripped


@dataclass(frozen=True, slots=True)
class _Target:
    spec: CommandSpec
    rest: str


class Dispatcher:
    """Runs invocations against a registry of commands for one fleet."""

    def __init__(
        self, *, fleet: Fleet, registry: Registry, services: Services, redact: Callable[[str], str]
    ) -> None:
        self.fleet = fleet
        self.registry = registry
        self.services = services
        self._redact = redact

    def find(self, text: str) -> CommandSpec | None:
        """The command a text names, if any (cheap; lets transports decide how to ack)."""
        words = strip_prefix(text[:200]).split(maxsplit=3)[:3]
        return self.registry.match(words)[0] if words else self.registry.get("help")

    async def run(self, invocation: Invocation, *, progress: Progress = no_progress) -> Reply:
        started = time.perf_counter()
        reference = new_reference()
        text = strip_prefix(invocation.text)
        name = ""
        scope: tuple[str | None, str | None] = (None, None)
        try:
            target = self._target(text)
            name = target.spec.name
            args = parse(target.spec.signature, target.rest, usage=target.spec.usage)
            caller = await self._caller(invocation)
            scope = self._scope(target.spec, args, invocation)
            communities = authorize(
                caller, target.spec.permission, fleet=self.fleet, community=scope[0],
                action=f"run `{PREFIX} {name}`" + (f" for '{scope[0]}'" if scope[0] else ""),
            )
            ctx = self._context(invocation, args, caller, scope[0], communities, reference, progress)
            reply = await target.spec.handler(ctx)
        except Exception as exc:  # the one broad catch: every failure becomes a reply here
            reply = self._failure(exc, reference, name or text.split(" ", 1)[0][:40])
        await self._audit(invocation, name or "?", text, reply, scope, started, reference)
        return reply

    async def run_action(
        self, invocation: Invocation, *, action_id: str, value: str, progress: Progress = no_progress
    ) -> Reply:
        """Run the handler behind a button: ``hubbot:<command>:<action>``."""
        started = time.perf_counter()
        reference = new_reference()
        label = action_id[:80]
        try:
            prefix, _, tail = action_id.partition(":")
            command, _, action_name = tail.rpartition(":")
            spec = self.registry.get(command) if prefix == ACTION_PREFIX else None
            action = spec.action(action_name) if spec else None
            if spec is None or action is None:
                raise NotFound("that button no longer does anything here (the command changed)")
            caller = await self._caller(invocation)
            communities = authorize(
                caller, action.permission, fleet=self.fleet, community=None, action="use this button"
            )
            ctx = self._context(invocation, ParsedArgs(), caller, None, communities, reference, progress)
            reply = await action.handler(ctx, value)
        except Exception as exc:
            reply = self._failure(exc, reference, label)
        await self._audit(invocation, f"button {label}", value, reply, (None, None), started, reference)
        return reply

    # -- steps ---------------------------------------------------------------------------

    def _target(self, text: str) -> _Target:
        if len(text) > MAX_TEXT:
            raise UsageError(f"that is too long ({len(text)} characters; the limit is {MAX_TEXT})")
        text = normalize(text)
        words = text.split()
        if not words:
            help_spec = self.registry.get("help")
            if help_spec is None:
                raise NotFound("no commands are available")
            return _Target(help_spec, "")
        spec, used = self.registry.match(words)
        if spec is None:
            word = words[0][:40]
            hints = self.registry.suggest(word)
            mean = f" — did you mean {' or '.join(f'`{PREFIX} {h}`' for h in hints)}?" if hints else ""
            raise NotFound(f"unknown command `{word}`{mean} Try `{PREFIX} help`.")
        return _Target(spec, " ".join(text.split(maxsplit=used)[used:]))

    async def _caller(self, invocation: Invocation) -> Caller:
        groups = await self.services.directory.groups_of(invocation.user_id)
        return resolve_caller(self.fleet, invocation.user_id, groups=groups, channel=invocation.channel_id)

    def _scope(
        self, spec: CommandSpec, args: ParsedArgs, invocation: Invocation
    ) -> tuple[str | None, str | None]:
        """(community, hub) the command acts on: from its scope argument, else the channel."""
        if spec.scope is not None:
            named = args.text(spec.scope)
            if named:
                if named in self.fleet.communities:
                    return named, None
                try:
                    ref = self.fleet.hub(named)
                except NotFound:
                    raise NotFound(
                        f"'{named}' is neither a community nor a hub — see `{PREFIX} hubs`"
                    ) from None
                return ref.hub.community, ref.qualified
        here = self.fleet.community_for_channel(invocation.channel_id)
        if here is not None and spec.permission is not Permission.ANYONE:
            return here.name, None
        return None, None

    def _context(
        self,
        invocation: Invocation,
        args: ParsedArgs,
        caller: Caller,
        community: str | None,
        communities: list[str],
        reference: str,
        progress: Progress,
    ) -> Context:
        return Context(
            invocation=invocation, args=args, caller=caller, fleet=self.fleet, services=self.services,
            registry=self.registry, community=community, communities=communities, reference=reference,
            progress=progress,
        )

    def _failure(self, exc: Exception, reference: str, what: str) -> Reply:
        if isinstance(exc, HubbotError):
            kind = next((k for cls, k in _KIND.items() if isinstance(exc, cls)), None)
            kind = kind or ("usage" if isinstance(exc, UserError) else "error")
            message = self._redact(str(exc))
            if isinstance(exc, UsageError) and exc.usage:
                message += f"\nUsage: `{exc.usage}` — see `{PREFIX} help {what}`"
            if isinstance(exc, UpstreamError) and exc.retry_after:
                message += f" (try again in about {int(exc.retry_after)} s)"
            return Reply(text=message, kind=kind)
        log.error("unexpected error in %s (reference %s)", what, reference, exc_info=exc)
        return Reply(text=f"Something went wrong (reference {reference}). The team can look it up in the logs.",
                     kind="error")

    async def _audit(
        self,
        invocation: Invocation,
        command: str,
        args: str,
        reply: Reply,
        scope: tuple[str | None, str | None],
        started: float,
        reference: str,
    ) -> None:
        entry = AuditEntry(
            at=self.services.clock.now(),
            user=invocation.user_id[:32],
            channel=invocation.channel_id[:32],
            transport=invocation.transport,
            command=command[:80],
            args=self._redact(args)[:1000],
            outcome=_OUTCOME.get(reply.kind, Outcome.ERROR),
            community=scope[0],
            hub=scope[1],
            detail="" if reply.ok else self._redact(reply.text)[:500],
            duration_ms=int((time.perf_counter() - started) * 1000),
            reference=reference,
        )
        try:
            await self.services.audit.record(entry)
        except Exception:  # an audit failure must not hide the answer; it is logged loudly
            log.exception("could not write audit entry (reference %s)", reference)
