"""The one pipeline every transport uses: parse, resolve the caller, authorise, run, audit.

Errors from :mod:`hubbot.errors` become replies here, once, for all transports; anything
else becomes "something went wrong (reference ABC123)" with the details logged under that
reference. Every invocation, denial and button click is written to the audit log.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from hubbot import markup as m
from hubbot.domain import AuditEntry, Outcome, PendingAction
from hubbot.errors import HubbotError, NotAllowed, NotFound, UpstreamError, UsageError, UserError
from hubbot.fleet import Fleet, did_you_mean
from hubbot.metrics import UNKNOWN
from hubbot.pipeline.access import Caller, authorize, resolve_caller
from hubbot.pipeline.args import MAX_TEXT, ParsedArgs, normalize, parse
from hubbot.pipeline.confirm import ACCEPT, PENDING, VERBS
from hubbot.pipeline.contract import (
    ACTION_PREFIX,
    PREFIX,
    CommandSpec,
    Context,
    Invocation,
    Progress,
    Registry,
    Reply,
    ReplyKind,
    no_progress,
)
from hubbot.ports import Services
from hubbot.reference import handling, new_reference

__all__ = ["QUESTION_WORDS", "Dispatcher", "new_reference", "strip_prefix"]

log = logging.getLogger("hubbot.pipeline.dispatch")
_KIND: dict[type[HubbotError], ReplyKind] = {UsageError: "usage", NotFound: "not_found", NotAllowed: "denied",
                                              UpstreamError: "upstream"}
_OUTCOME = {
    "usage": Outcome.USAGE,
    "not_found": Outcome.NOT_FOUND,
    "denied": Outcome.DENIED,
    "upstream": Outcome.UPSTREAM,
    "error": Outcome.ERROR,
    "ok": Outcome.OK,
    "silent": Outcome.OK,
}
QUESTION_WORDS = 4  # free text this long (or ending in "?") that names no command is a question


def strip_prefix(text: str) -> str:
    """Drop a leading ``/hub`` (or ``@hubbot``, as people type it in a terminal)."""
    stripped = text.strip()
    head = stripped[:8].lower()  # enough for either prefix and the space after it
    for prefix in (PREFIX, "@hubbot"):
        if head == prefix or head.startswith(prefix + " "):
            return stripped[len(prefix) :].strip()
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

    def looks_like_question(self, text: str) -> bool:
        """Free text that is a question rather than a mistyped command: it ends with "?", or it is
        a sentence (several words, no ``--options``) that does not start like a command."""
        words = text.split()
        if not words or any(w.startswith("--") for w in words):
            return False
        if text.rstrip().endswith("?"):
            return True
        return len(words) >= QUESTION_WORDS and not self.registry.suggest(words[0][:40])

    def answers_unprompted(self, channel: str) -> bool:
        """Whether questions posted in ``channel`` (without a mention) get answered."""
        if channel in self.fleet.config.support.answer_unprompted:
            return True
        return any(c.support and channel in c.support.answer_unprompted for c in self.fleet.config.communities)

    def watches_replies(self, channel: str) -> bool:
        """Whether replies in threads of ``channel`` may matter (a support channel: the team
        answers escalated questions there)."""
        support = self.fleet.config.support
        if channel and channel == support.channel:
            return True
        return any(c.support and c.support.channel == channel for c in self.fleet.config.communities)

    async def run_thread_reply(self, invocation: Invocation) -> Reply:
        """Offer a reply in a support channel's thread to the commands that follow such threads;
        silent unless one of them has something to say (only that is audited)."""
        with handling() as reference:
            return await self._thread_reply(invocation, reference)

    async def _thread_reply(self, invocation: Invocation, reference: str) -> Reply:
        started = time.perf_counter()
        for spec in self.registry.commands:
            if spec.thread_reply is None:
                continue
            try:
                caller = await self._caller(invocation)
                ctx = self._context(invocation, spec.name, ParsedArgs(), caller, (None, None), [], reference,
                                    no_progress)
                reply = await spec.thread_reply(ctx)
            except Exception as exc:
                reply = self._failure(exc, reference, spec.name)
            if reply.kind != "silent":
                self._count(spec.name, reply, invocation)
                await self._audit(invocation, f"reply {spec.name}", "", reply, (None, None), started, reference)
                return reply
        return Reply(text="", kind="silent")

    async def run(self, invocation: Invocation, *, progress: Progress = no_progress) -> Reply:
        with handling() as reference:
            return await self._run(invocation, progress, reference)

    async def _run(self, invocation: Invocation, progress: Progress, reference: str) -> Reply:
        started = time.perf_counter()
        text = strip_prefix(m.clean(invocation.text))
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
                action=f"run `{PREFIX} {name}`" + (f" for '{scope[0] or scope[1]}'" if scope[0] or scope[1] else ""),
                unowned=scope[1] if scope[0] is None else None,
            )
            ctx = self._context(invocation, name, args, caller, scope, communities, reference, progress)
            reply = await target.spec.handler(ctx)
        except Exception as exc:  # the one broad catch: every failure becomes a reply here
            reply = self._failure(exc, reference, name or text.split(" ", 1)[0][:40])
        self._count(name or UNKNOWN, reply, invocation)
        await self._audit(invocation, name or "?", text, reply, scope, started, reference)
        return reply

    async def run_action(
        self, invocation: Invocation, *, action_id: str, value: str, progress: Progress = no_progress
    ) -> Reply:
        """Run the handler behind a button: ``hubbot:<command>:<action>``; confirmations and
        approvals (``hubbot:_pending:<verb>``) are decided here, see :mod:`hubbot.pipeline.confirm`."""
        with handling() as reference:
            return await self._run_action(invocation, action_id, value, progress, reference)

    async def _run_action(
        self, invocation: Invocation, action_id: str, value: str, progress: Progress, reference: str
    ) -> Reply:
        started = time.perf_counter()
        action_id, value = m.clean(action_id), m.clean(value)
        label = action_id[:80]
        scope: tuple[str | None, str | None] = (None, None)
        outcome: Outcome | None = None
        command_name = UNKNOWN  # for metrics: a name from the registry, never the clicked text
        try:
            prefix, _, tail = action_id.partition(":")
            command, _, action_name = tail.rpartition(":")
            if prefix == ACTION_PREFIX and command == PENDING:
                pending = await self.services.pending.get(value[:64])
                if pending is not None:
                    scope = (pending.community, pending.hub)
                    label = f"{action_name} {pending.command}"
                    command_name = pending.command if self.registry.get(pending.command) else UNKNOWN
                reply = await self._decide(invocation, action_name, pending, reference, progress)
                outcome = Outcome.CONFIRMED if action_name in ACCEPT and reply.ok else None
            else:
                spec = self.registry.get(command) if prefix == ACTION_PREFIX else None
                action = spec.action(action_name) if spec else None
                if spec is None or action is None or not action.button:  # approval-only: never clicked directly
                    raise NotFound("that button no longer does anything here (the command changed)")
                command_name = spec.name
                caller = await self._caller(invocation)
                communities = authorize(
                    caller, action.permission, fleet=self.fleet, community=None, action="use this button"
                )
                ctx = self._context(invocation, spec.name, ParsedArgs(), caller, (None, None), communities,
                                    reference, progress)
                reply = await action.handler(ctx, value)
        except Exception as exc:
            reply = self._failure(exc, reference, label)
        self._count(command_name, reply, invocation)
        await self._audit(invocation, f"button {label}", value, reply, scope, started, reference, outcome=outcome)
        return reply

    async def _decide(
        self, invocation: Invocation, verb: str, pending: PendingAction | None, reference: str,
        progress: Progress,
    ) -> Reply:
        if verb not in VERBS:
            raise NotFound("that button no longer does anything here")
        if pending is None:
            raise NotFound("that request is no longer known — run the command again")
        clicker = await self._caller(invocation)
        now = self.services.clock.now()
        if pending.state != "pending":
            by = f" by {m.mention(pending.decided_by)}" if pending.decided_by else ""
            raise UserError(f"that request was already {pending.state}{by}")
        if (verb in ("confirm", "cancel")) != (pending.kind == "confirm"):
            raise UserError("that button does not belong to this request")
        if now >= pending.expires_at:
            await self.services.pending.decide(pending.id, state="expired", by=clicker.user_id, at=now)
            raise UserError(f"that request expired at {pending.expires_at:%H:%M} UTC — run the command again")
        own = clicker.user_id == pending.requested_by
        if pending.kind == "confirm" and not own:
            raise NotAllowed(f"only {m.mention(pending.requested_by)}, who asked, can {verb} this")
        if verb == "approve" and own:
            raise NotAllowed("you cannot approve your own request — ask another hub engineer")
        if pending.kind == "approve" and not clicker.engineer and not (verb == "reject" and own):
            raise NotAllowed(f"only hub engineers can {verb} this")
        if not await self.services.pending.decide(pending.id, state=VERBS[verb], by=clicker.user_id, at=now):
            raise UserError("someone else handled that request a moment ago")
        if verb not in ACCEPT:
            return Reply(text=f"{VERBS[verb].capitalize()} by {m.mention(clicker.user_id)}: {pending.summary}",
                         replace=True)
        spec = self.registry.get(pending.command)
        action = spec.action(pending.action) if spec else None
        if spec is None or action is None:
            raise NotFound(f"`{PREFIX} {pending.command}` can no longer do this — run it again")
        # The change runs as the requester, with the requester's permission as of now.
        requester = resolve_caller(self.fleet, pending.requested_by, channel=pending.channel,
                                   groups=await self.services.directory.groups_of(pending.requested_by))
        communities = authorize(requester, action.permission, fleet=self.fleet, community=pending.community,
                                action=f"run `{PREFIX} {pending.command}`")
        as_requester = Invocation(user_id=pending.requested_by, channel_id=pending.channel, text=pending.summary,
                                  transport=invocation.transport, trigger="action", thread_ts=invocation.thread_ts)
        ctx = self._context(as_requester, spec.name, ParsedArgs(), requester, (pending.community, pending.hub),
                            communities, reference, progress,
                            approved_by=clicker.user_id if pending.kind == "approve" else None)
        reply = await action.handler(ctx, pending.payload)
        return dataclasses.replace(reply, replace=True)

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
        ask = self.registry.get("ask")
        if spec is None and ask is not None and self.looks_like_question(text):
            return _Target(ask, text)
        help_spec = self.registry.get("help")
        if spec is None and help_spec is not None and len(words) == 1 and self.registry.group(words[0]):
            return _Target(help_spec, words[0])  # `/hub budget` lists what `budget` can do
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
                    names = [*self.fleet.communities, *(h.qualified for h in self.fleet.hubs),
                             *{h.hub.name for h in self.fleet.hubs}]
                    raise NotFound(
                        f"'{named}' is neither a community nor a hub{did_you_mean(named, names)} — see "
                        f"`{PREFIX} hubs`"
                    ) from None
                return ref.hub.community, ref.qualified  # community None: a hub of no community
        here = self.fleet.community_for_channel(invocation.channel_id)
        return (here.name, None) if here is not None else (None, None)

    def _context(
        self,
        invocation: Invocation,
        command: str,
        args: ParsedArgs,
        caller: Caller,
        scope: tuple[str | None, str | None],
        communities: list[str],
        reference: str,
        progress: Progress,
        *,
        approved_by: str | None = None,
    ) -> Context:
        return Context(
            invocation=invocation, command=command, args=args, caller=caller, fleet=self.fleet,
            services=self.services, registry=self.registry, community=scope[0], hub=scope[1],
            communities=communities, reference=reference, progress=progress, approved_by=approved_by,
        )

    def _count(self, command: str, reply: Reply, invocation: Invocation) -> None:
        self.services.metrics.request(command=command, outcome=reply.kind, transport=invocation.transport)

    def _failure(self, exc: Exception, reference: str, what: str) -> Reply:
        if isinstance(exc, HubbotError):
            kind: ReplyKind = next((k for cls, k in _KIND.items() if isinstance(exc, cls)),
                                   "usage" if isinstance(exc, UserError) else "error")
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
        *,
        outcome: Outcome | None = None,
    ) -> None:
        entry = AuditEntry(
            at=self.services.clock.now(),
            user=invocation.user_id[:32],
            channel=invocation.channel_id[:32],
            transport=invocation.transport,
            command=command[:80],
            args=self._redact(args)[:1000],
            outcome=outcome or _OUTCOME.get(reply.kind, Outcome.ERROR),
            community=scope[0],
            hub=scope[1],
            detail="" if reply.ok else self._redact(m.to_plain(reply.text))[:500],  # as a person reads it
            duration_ms=int((time.perf_counter() - started) * 1000),
            reference=reference,
        )
        try:
            await self.services.audit.record(entry)
        except Exception:  # an audit failure must not hide the answer; it is logged loudly
            log.exception("could not write audit entry (reference %s)", reference)
