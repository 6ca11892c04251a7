"""The backup check of each alert cycle: a hub whose newest completed backup is older than its
policy, whose last backup failed, or that nothing backs up on a schedule is an incident; each is
posted once (to the engineers' channel, and the community's when the hub asks for it), and once
more, as resolved, when a good backup (or a schedule) appears.

An incident is named by what it is about, so the outbox's unique keys are its memory: a stale
incident by the newest completed backup at the time (a newer one ends it), a failure by the
failed snapshot, a missing schedule by the hub."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from hubbot.backups.status import Health, judge
from hubbot.backups.targets import config_of, target_of
from hubbot.domain import Alert, BackupTarget, Basis, DeliveryState, OutboxKind, OutboxMessage, Post
from hubbot.errors import HubbotError
from hubbot.fleet import Fleet, HubRef
from hubbot.pipeline.contract import PREFIX
from hubbot.ports import Services
from hubbot.render import blocks as b

log = logging.getLogger("hubbot.alerts")


def _channels(fleet: Fleet, ref: HubRef) -> list[str | None]:
    out: list[str | None] = []
    if fleet.config.alerts.engineers_channel:
        out.append(fleet.config.alerts.engineers_channel)
    conf = config_of(ref)
    channel = fleet.community(ref.hub.community).channel if ref.hub.community else None
    if conf.alert_community and channel and channel not in out:
        out.append(channel)
    return out or [None]


def _rows(fleet: Fleet, ref: HubRef, key: str, text: str, at: datetime) -> list[OutboxMessage]:
    day = at.date()
    alert = Alert(basis=Basis.BACKUP, period_start=day, period_end=day + timedelta(days=1), currency="")
    hint = f"`{PREFIX} backup status {ref.qualified}` · `{PREFIX} backup list {ref.qualified}`"
    post = Post(text=f"{text}\n{hint}", blocks=(b.section(text), b.context(hint)))
    return [OutboxMessage(key=f"{key}@{ch or '-'}", kind=OutboxKind.ALERT, community=ref.hub.community or "",
                          channel=ch,
                          payload=post, created_at=at, alert=alert,
                          state=DeliveryState.PENDING if ch else DeliveryState.SKIPPED)
            for ch in _channels(fleet, ref)]


def _opened(known: set[str], prefix: str) -> set[str]:
    """What the incidents under ``prefix`` were about (the part of each key after it)."""
    return {k[len(prefix):].split("@", 1)[0] for k in known if k.startswith(prefix)}


def _incidents(known: set[str], fleet: Fleet, ref: HubRef, health: Health, at: datetime) -> list[OutboxMessage]:
    hub = ref.qualified
    out: list[OutboxMessage] = []
    stale = health.newest is None or (health.age is not None
                                      and health.age > timedelta(hours=config_of(ref).max_age_hours))
    about = health.newest.id if health.newest else "none"
    opened, ended = _opened(known, f"backup:{hub}:stale:"), _opened(known, f"backup:{hub}:stale-ended:")
    if stale and health.reasons and about not in opened:
        out += _rows(fleet, ref, f"backup:{hub}:stale:{about}",
                     f":floppy_disk: :red_circle: Backups of {hub} are stale: {health.reasons[0]}", at)
    if not stale and health.newest is not None:
        for old in sorted(opened - ended):
            out += _rows(fleet, ref, f"backup:{hub}:stale-ended:{old}",
                         f":floppy_disk: :large_green_circle: Backups of {hub} are fresh again: {about} completed "
                         f"{health.newest.started:%Y-%m-%d %H:%M} UTC", at)
    failed_opened = _opened(known, f"backup:{hub}:failed:")
    failed_ended = _opened(known, f"backup:{hub}:failed-ended:")
    if health.failed is not None and health.failed.id not in failed_opened:
        why = f": {health.failed.message}" if health.failed.message else ""
        out += _rows(fleet, ref, f"backup:{hub}:failed:{health.failed.id}",
                     f":floppy_disk: :x: A backup of {hub} failed ({health.failed.id}{why})", at)
    if health.failed is None and health.newest is not None:
        for old in sorted(failed_opened - failed_ended):
            out += _rows(fleet, ref, f"backup:{hub}:failed-ended:{old}",
                         f":floppy_disk: :large_green_circle: {hub} has a good backup again after {old} failed: "
                         f"{health.newest.id}", at)
    unscheduled = _opened(known, f"backup:{hub}:unscheduled")
    if not health.scheduled and not unscheduled:
        out += _rows(fleet, ref, f"backup:{hub}:unscheduled",
                     f":floppy_disk: :large_yellow_circle: Nothing backs up {hub} on a schedule: only manual "
                     "backups are made (set up a DLM policy, a backup plan or a snapshot schedule)", at)
    if health.scheduled and unscheduled and not _opened(known, f"backup:{hub}:scheduled"):
        out += _rows(fleet, ref, f"backup:{hub}:scheduled",
                     f":floppy_disk: :large_green_circle: {hub}'s backups are on a schedule now", at)
    return out


async def backup_alerts(services: Services, fleet: Fleet, *, at: datetime) -> list[OutboxMessage]:
    """The incidents of every hub with a ``backup:`` section; a provider that cannot be read is
    logged and checked again next cycle (its hubs keep their open incidents)."""
    by_provider: dict[str, list[tuple[HubRef, BackupTarget]]] = {}
    for ref in fleet.hubs:
        if ref.hub.backup is None or ref.provider not in services.backups:
            continue
        try:
            by_provider.setdefault(ref.provider, []).append((ref, target_of(fleet, ref)))
        except HubbotError as exc:
            log.warning("backups of %s cannot be checked: %s", ref.qualified, exc)

    if not by_provider:
        return []
    known = await services.outbox.keys(prefix="backup:")  # every incident so far, read once a cycle

    async def check(provider: str, pairs: list[tuple[HubRef, BackupTarget]]) -> list[OutboxMessage]:
        try:
            views = await services.backups[provider].overview([t for _, t in pairs])
        except HubbotError as exc:
            log.warning("backups on %s could not be read: %s", provider, exc)
            return []
        out: list[OutboxMessage] = []
        for ref, _ in pairs:
            view = views.get(ref.qualified)
            if view is None or view.problem:
                log.warning("backups of %s could not be read: %s", ref.qualified, view.problem if view else "")
                continue
            health = judge(view, max_age_hours=config_of(ref).max_age_hours, now=at)
            out += _incidents(known, fleet, ref, health, at)
        return out

    found = await asyncio.gather(*(check(p, pairs) for p, pairs in by_provider.items()))
    return [m for messages in found for m in messages]
