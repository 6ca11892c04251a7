"""``/hub backup now|list|status|restore-plan`` — home-directory backups: take one now (with
progress until it completes), see recent ones, a traffic light per hub against its policy, and
the restore procedure for an engineer to follow. Nothing destructive runs from chat."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta

from commands.target import HUB_ARG, named_hub
from hubbot import markup as m
from hubbot.backups.plans import restore_plan
from hubbot.backups.status import ICON, Health, Light, age_text, judge
from hubbot.backups.targets import config_of, target_of
from hubbot.domain import TAG_HUB, TAG_REASON, TAG_REQUESTED_BY, BackupTarget, Snapshot, SnapshotState, Volume
from hubbot.errors import HubbotError, NotFound, UsageError, UserError
from hubbot.fleet import HubRef
from hubbot.pipeline.access import Permission
from hubbot.pipeline.args import Arg, Opt, Signature
from hubbot.pipeline.contract import PREFIX, CommandSpec, Context, Reply
from hubbot.ports import BackupSource
from hubbot.render import blocks as b

WAIT = timedelta(minutes=15)  # how long `now` follows a snapshot before leaving it to the cloud
POLLS = (5, 10, 15, 30, 60)  # seconds between looks, growing
_USER = re.compile(r"^[A-Za-z0-9._@+-]{1,64}$")


def source_of(ctx: Context, ref: HubRef) -> tuple[BackupSource, BackupTarget]:
    target = target_of(ctx.fleet, ref)
    source = ctx.services.backups.get(ref.provider)
    if source is None:
        raise UserError(f"backups on provider {ref.provider} are not set up in this hubbot process (its "
                        "credentials are missing; see the README's backups section)")
    return source, target


async def _volumes(source: BackupSource, target: BackupTarget) -> list[Volume]:
    found = await source.volumes(target)
    if not found:
        how = (f"volumes {', '.join(target.volumes)}" if target.volumes
               else "tags " + ", ".join(f"{k}={v}" for k, v in target.tags.items()))
        raise UserError(f"no home volume of {target.hub} was found by {how}; tag the volume or list it under "
                        "backup.volumes in the fleet config")
    if len(found) > 1 and not target.volumes:
        names = ", ".join(f"{v.id}{' (' + v.name + ')' if v.name else ''}" for v in found[:6])
        raise UserError(f"{len(found)} volumes carry {target.hub}'s tags ({names}); name the home volume under "
                        "backup.volumes in the fleet config so hubbot snapshots the right one")
    return found


def _line(s: Snapshot, *, now: datetime) -> str:
    when = f"{s.started:%Y-%m-%d %H:%M} UTC ({age_text(now - s.started)} ago)"
    size = f"{s.size_gib} GiB" if s.size_gib else "size ?"
    state = s.state.value + (f" {s.progress}" if s.state is SnapshotState.PENDING and s.progress else "")
    who = s.made_by or "?"
    if s.requested_by:
        who += f" for {m.mention(s.requested_by)}"
    if s.reason:
        who += f" — {s.reason[:80]}"
    keep = f", kept until {s.expires:%Y-%m-%d}" if s.expires else ""
    problem = f" ({s.message[:100]})" if s.message and s.state is SnapshotState.FAILED else ""
    return f"{when} · {s.id} · {state}{problem} · {size} · {who}{keep}"


async def now_handler(ctx: Context) -> Reply:
    ref = named_hub(ctx, "backup now")
    conf = config_of(ref)
    source, target = source_of(ctx, ref)
    reason = " ".join((ctx.args.text("reason") or "").split())[:200]
    volumes = await _volumes(source, target)
    now = ctx.services.clock.now()
    view = (await source.overview([target])).get(ref.qualified)
    window = timedelta(minutes=conf.manual_every_minutes)
    recent = [s for s in (view.snapshots if view else ()) if s.made_by == "hubbot" and now - s.started < window]
    bucket = int(now.timestamp() // window.total_seconds())
    if recent or not await ctx.services.events.first_time(f"backup-now:{ref.qualified}:{bucket}", at=now):
        last = recent[0] if recent else None
        since = f" ({last.id}, {last.started:%H:%M} UTC" + (f", for {m.mention(last.requested_by)}"
                                                            if last.requested_by else "") + ")" if last else ""
        after = (last.started + window) if last else now + window
        raise UserError(f"{ref.qualified} had a manual backup less than {conf.manual_every_minutes} min ago{since}; "
                        f"the next can start after {after:%H:%M} UTC (`{PREFIX} backup list {ref.qualified}`)")
    tags = {TAG_HUB: ref.qualified, TAG_REQUESTED_BY: ctx.caller.user_id, TAG_REASON: reason}
    description = f"hubbot backup of {ref.qualified} for {ctx.caller.user_id}" + (f": {reason}" if reason else "")
    started: list[Snapshot] = []
    for volume in volumes:
        snapshot = await source.start(target, volume, tags=tags, description=description)
        started.append(snapshot)
        await ctx.record_change(command="backup now", args=f"{ref.qualified} {reason}".strip(),
                                community=ref.hub.community,
                                detail=f"started {snapshot.id} of {volume.id} on {ref.provider}")
    await ctx.progress(f"started {', '.join(s.id for s in started)} of {ref.qualified}; following it…")
    finished = await _follow(ctx, source, target, started)
    return await _report(ctx, ref, finished)


async def _follow(ctx: Context, source: BackupSource, target: BackupTarget, started: list[Snapshot]
                  ) -> list[Snapshot]:
    """Look at the snapshots, less and less often, until each is done or ``WAIT`` has passed."""
    current = {s.id: s for s in started}
    waited, polls = 0.0, 0
    while any(s.state is SnapshotState.PENDING for s in current.values()) and waited < WAIT.total_seconds():
        delay = POLLS[min(polls, len(POLLS) - 1)]
        await ctx.services.pause(delay)
        waited += delay
        polls += 1
        looked = await asyncio.gather(*(source.snapshot(target, sid) for sid, s in current.items()
                                        if s.state is SnapshotState.PENDING))
        current.update({s.id: s for s in looked})
        pending = [s for s in current.values() if s.state is SnapshotState.PENDING]
        if pending:
            await ctx.progress(", ".join(f"{s.id} {s.progress or 'pending'}" for s in pending)
                               + f" — {int(waited // 60)} min so far")
    return list(current.values())


async def _report(ctx: Context, ref: HubRef, snapshots: list[Snapshot]) -> Reply:
    lines, failed = [], False
    for s in snapshots:
        if s.state is SnapshotState.COMPLETED:
            lines.append(f":white_check_mark: {s.id} of {s.volume} completed"
                         + (f" ({s.size_gib} GiB)" if s.size_gib else ""))
        elif s.state is SnapshotState.FAILED:
            failed = True
            lines.append(f":x: {s.id} of {s.volume} failed: {s.message or 'the provider gave no reason'} — nothing "
                         "was retried; check the provider's console, then try again")
            await ctx.record_change(command="backup now", args=ref.qualified, community=ref.hub.community,
                                    detail=f"{s.id} failed: {(s.message or '')[:200]}")
        else:
            lines.append(f":hourglass: {s.id} of {s.volume} is still {s.progress or 'pending'} after "
                         f"{int(WAIT.total_seconds() // 60)} min; it carries on in the cloud — `{PREFIX} backup list "
                         f"{ref.qualified}` shows when it completes")
            await ctx.record_change(command="backup now", args=ref.qualified, community=ref.hub.community,
                                    detail=f"{s.id} still pending after {int(WAIT.total_seconds() // 60)} min")
    head = f"Backup of {ref.qualified}"
    return Reply(text=head + "\n" + "\n".join(lines), blocks=(b.section(f"*{head}*\n" + "\n".join(lines)),),
                 kind="upstream" if failed else "ok", public=True)


async def list_handler(ctx: Context) -> Reply:
    ref = named_hub(ctx, "backup list")
    source, target = source_of(ctx, ref)
    limit = ctx.args.number("limit") or 10
    view = (await source.overview([target])).get(ref.qualified)
    if view is None or view.problem:
        raise UserError(f"{ref.provider} could not list {ref.qualified}'s backups: "
                        f"{view.problem if view else 'no answer'}")
    now = ctx.services.clock.now()
    shown = [_line(s, now=now) for s in view.snapshots[:limit]]
    schedule = f"Schedule: {view.schedule}" if view.schedule else "Schedule: none — only manual backups are made"
    head = f"Backups of {ref.qualified} ({len(view.snapshots)} in all, newest first)"
    body = "\n".join(shown) if shown else "none yet"
    more = f"`{PREFIX} backup now {ref.qualified}` takes one now"
    return Reply(text="\n".join([head, body, schedule, more]),
                 blocks=b.limit([b.header(head), b.section(body), b.context(schedule), b.context(more)]))


async def _health(ctx: Context, refs: list[HubRef]) -> list[Health]:
    now = ctx.services.clock.now()
    by_provider: dict[str, list[tuple[HubRef, BackupTarget]]] = {}
    out: dict[str, Health] = {}
    for ref in refs:
        try:
            target = target_of(ctx.fleet, ref)
        except HubbotError as exc:
            out[ref.qualified] = Health(ref.qualified, Light.RED, None, None, None, False, (str(exc),))
            continue
        by_provider.setdefault(ref.provider, []).append((ref, target))

    async def one(provider: str, pairs: list[tuple[HubRef, BackupTarget]]) -> None:
        source = ctx.services.backups.get(provider)
        if source is None:
            for ref, _ in pairs:
                out[ref.qualified] = Health(ref.qualified, Light.RED, None, None, None, False,
                                            (f"backups on provider {provider} are not set up here",))
            return
        try:
            views = await source.overview([t for _, t in pairs])
        except HubbotError as exc:
            views = {}
            for ref, _ in pairs:
                out[ref.qualified] = Health(ref.qualified, Light.RED, None, None, None, False, (str(exc),))
        for ref, _ in pairs:
            if ref.qualified in views:
                conf = config_of(ref)
                out[ref.qualified] = judge(views[ref.qualified], max_age_hours=conf.max_age_hours, now=now)

    await asyncio.gather(*(one(p, pairs) for p, pairs in by_provider.items()))
    return [out[r.qualified] for r in refs if r.qualified in out]


async def status_handler(ctx: Context) -> Reply:
    refs = [ctx.fleet.hub(ctx.hub)] if ctx.hub is not None else [r for r in ctx.fleet.hubs if ctx.sees(r)]
    missing = [r.qualified for r in refs if r.hub.backup is None]
    found = await _health(ctx, [r for r in refs if r.hub.backup is not None])
    lines = []
    for h in sorted(found, key=lambda h: (list(Light).index(h.light) * -1, h.hub)):
        newest = f"newest {age_text(h.age)} ago" if h.age is not None else "no completed backup"
        why = f" — {'; '.join(h.reasons)}" if h.reasons else ""
        lines.append(f"{ICON[h.light]} {h.hub}: {newest}{'' if h.scheduled else ', no schedule'}{why}")
    if missing:
        lines.append(f":white_circle: not set up ({len(missing)}): {', '.join(missing[:20])}"
                     + (" …" if len(missing) > 20 else ""))
    if not lines:
        return Reply(text="No hubs here have backups set up.")
    counts = {light: sum(1 for h in found if h.light is light) for light in Light}
    head = (f"Backups: {counts[Light.GREEN]} fine, {counts[Light.AMBER]} to watch, {counts[Light.RED]} need action")
    return Reply(text=head + "\n" + "\n".join(lines),
                 blocks=b.limit([b.header(head), b.section("\n".join(lines[:40])),
                                 b.context(f"`{PREFIX} backup list <hub>` for a hub's backups")]), public=True)


async def plan_handler(ctx: Context) -> Reply:
    ref = named_hub(ctx, "backup restore-plan")
    source, target = source_of(ctx, ref)
    user = ctx.args.text("user")
    if user is not None and not _USER.fullmatch(user):
        raise UsageError(f"'{user[:40]}' is not a JupyterHub user name")
    volumes = await source.volumes(target)
    wanted = ctx.args.text("snapshot")
    if wanted:
        snapshot = await source.snapshot(target, wanted)
        if volumes and snapshot.volume not in {v.id for v in volumes}:
            raise NotFound(f"{wanted[:80]} is not a backup of {ref.qualified}'s home volume")
        if snapshot.state is not SnapshotState.COMPLETED:
            raise UserError(f"{snapshot.id} is {snapshot.state.value}; only a completed backup can be restored from")
    else:
        view = (await source.overview([target])).get(ref.qualified)
        done = [s for s in (view.snapshots if view else ()) if s.state is SnapshotState.COMPLETED]
        if not done:
            raise UserError(f"{ref.qualified} has no completed backup to restore from")
        snapshot = done[0]
    volume = next((v for v in volumes if v.id == snapshot.volume), None)
    steps = restore_plan(target, snapshot, volume=volume, user=user)
    whom = f"{user}'s home directory" if user else "home directories"
    head = f"Restoring {whom} on {ref.qualified} from {snapshot.id} ({snapshot.started:%Y-%m-%d %H:%M} UTC)"
    body = "\n\n".join(f"{i}. {step}" for i, step in enumerate(steps, 1))
    note = "Nothing has been run: check each step before running it."
    return Reply(text=f"{head}\n\n{body}\n\n{note}",
                 blocks=b.limit([b.header(head[:150]), *(b.section(f"{i}. {step}"[:2900])
                                                          for i, step in enumerate(steps, 1)), b.context(note)]))


_ADMIN, _READ = Permission.COMMUNITY_ADMIN, Permission.COMMUNITY_READ
NOW = CommandSpec(name="backup now", summary="snapshot a hub's home directories now and follow it to the end",
                  handler=now_handler, permission=_ADMIN, scope="hub", slow=True,
                  signature=Signature(args=(HUB_ARG,), opts=(Opt("reason", "why (kept with the snapshot)"),)),
                  examples=(f"{PREFIX} backup now demo-aws/prod --reason before the upgrade",))
LIST = CommandSpec(name="backup list", summary="a hub's recent backups: when, size, state, who made them",
                   handler=list_handler, permission=_ADMIN, scope="hub", slow=True,
                   signature=Signature(args=(HUB_ARG,), opts=(Opt("limit", "how many (default 10)", kind="int",
                                                                  minimum=1, maximum=100),)),
                   examples=(f"{PREFIX} backup list demo-aws/prod --limit 20",))
STATUS = CommandSpec(name="backup status", summary="a traffic light per hub: newest backup against its policy",
                     handler=status_handler, permission=_READ, scope="target", slow=True,
                     signature=Signature(args=(Arg("target", "a community or hub (default: all you may see)",
                                                   required=False),),
                                         opts=(Opt("all", "every hub you may see", kind="flag"),)),
                     examples=(f"{PREFIX} backup status", f"{PREFIX} backup status openscapes"))
RESTORE_PLAN = CommandSpec(name="backup restore-plan", summary="the steps to restore from a backup (nothing runs)",
                           handler=plan_handler, permission=Permission.ENGINEER, scope="hub", slow=True,
                           signature=Signature(args=(HUB_ARG,), opts=(Opt("snapshot", "the backup (default: newest)"),
                                                                      Opt("user", "one user's home directory"))),
                           examples=(f"{PREFIX} backup restore-plan demo-aws/prod --user ana",))
