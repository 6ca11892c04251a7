"""The scheduled jobs inside `hubbot serve` / `hubbot socket` (APScheduler 3): the alert cycle,
outbox delivery with deploy-job sweeps, and fleet repository fetches.

Only the scheduler leader runs them (:class:`Election`; leadership is a PostgreSQL advisory lock,
see :mod:`hubbot.store.leadership`, and with SQLite the one process leads): APScheduler 3
schedulers sharing a job store would run every job on every replica. A new leader runs the alert
cycle at once (the cycle is idempotent: whatever the old leader recorded or sent is not again),
then on its interval; the jobs live in a persistent SQLAlchemy job store, and missed runs coalesce
into one (misfire grace: one hour). Should two processes ever both act (a leader cut off from the database
until its session times out), the cycle still records each alert once and claims each send. A
Kubernetes CronJob running `hubbot alerts run` is the alternative; then set HUBBOT_SCHEDULER=false.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from alerts import CycleReport, run_cycle
from hubbot.fleet import Fleet
from hubbot.ports import Leadership, Services

log = logging.getLogger("hubbot.scheduling")
JOB_ID = "hubbot-alert-cycle"
FETCH_JOB_ID = "hubbot-repository-fetch"
DELIVERY_JOB_ID = "hubbot-outbox-delivery"
DELIVERY_SECONDS = 60  # escalated questions and alerts whose first send failed
_ACTIVE: CycleScheduler | None = None


async def scheduled_cycle() -> None:
    """The job's entry point (referenced by name in the job store, so it survives restarts)."""
    if _ACTIVE is not None:
        await _ACTIVE.run_once()


async def scheduled_fetch() -> None:
    """Fetch the fleet repository and read its branch again."""
    if _ACTIVE is not None:
        await _ACTIVE.fetch_once()


async def scheduled_delivery() -> None:
    """Send what the outbox still holds, between cycles."""
    if _ACTIVE is not None:
        await _ACTIVE.deliver_once()


class CycleScheduler:
    """The alert cycle every ``hours``, outbox delivery between cycles and, with a fleet repository,
    a fetch every ``fetch_minutes`` (``refresh`` answers the services and fleet to use from then on)."""

    def __init__(self, *, services: Services, fleet: Fleet, database_url: str, hours: int,
                 on_done: Callable[[CycleReport], Awaitable[None]] | None = None,
                 refresh: Callable[[], Awaitable[tuple[Services, Fleet]]] | None = None,
                 fetch_minutes: int = 10, lease_seconds: int = 300,
                 delivery_seconds: int = DELIVERY_SECONDS) -> None:
        self._services = services
        self._fleet = fleet
        self._url = database_url
        self._hours = hours
        self._on_done = on_done
        self._refresh = refresh
        self._fetch_minutes = fetch_minutes
        self._lease = lease_seconds
        self._delivery = delivery_seconds
        self._scheduler: Any = None

    async def fetch_once(self) -> None:
        """Fetch the fleet repository, then report on the pull requests hubbot follows."""
        from alerts.proposals import follow

        if self._refresh is None:
            return
        try:
            self._services, self._fleet = await self._refresh()
        except Exception as exc:  # an unreachable remote keeps the fleet last read; the next fetch retries
            log.warning("fetching the fleet repository failed: %s", exc)
        try:
            await follow(self._services)
        except Exception:
            log.exception("following pull requests failed")

    async def run_once(self) -> None:
        now = datetime.now(UTC)
        try:
            report = await run_cycle(self._services, self._fleet, at=now, worker=socket.gethostname(),
                                     lease_seconds=self._lease)
        except Exception:  # a scheduled job must log, not die silently
            log.exception("alert cycle failed")
            return
        log.info("alert cycle: %d sent, %d recorded, errors: %s", len(report.sent), len(report.recorded),
                 report.refresh.errors or "none")
        if self._on_done is not None:
            await self._on_done(report)

    async def deliver_once(self) -> None:
        from hubbot.outbox.delivery import deliver

        try:
            await deliver(self._services, self._fleet, at=datetime.now(UTC), worker=socket.gethostname(),
                          lease_seconds=self._lease)
        except Exception:
            log.exception("outbox delivery failed")
        if self._services.deploys is not None:
            from hubbot.deploys.engine import Engine

            try:  # deploy jobs whose replica died: interrupted, and their threads say so
                await Engine(self._services, self._fleet).sweep()
            except Exception:
                log.exception("checking for interrupted deploy jobs failed")

    def start(self) -> None:
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        global _ACTIVE
        _ACTIVE = self
        self._scheduler = AsyncIOScheduler(
            jobstores={"default": SQLAlchemyJobStore(url=self._url, tablename="apscheduler_jobs")},
            job_defaults={"coalesce": True, "misfire_grace_time": 3600, "max_instances": 1},
            timezone=UTC,
        )
        self._scheduler.add_job(f"{__name__}:scheduled_cycle", "interval", hours=self._hours, id=JOB_ID,
                                replace_existing=True, next_run_time=datetime.now(UTC))
        self._scheduler.add_job(f"{__name__}:scheduled_delivery", "interval", seconds=self._delivery,
                                id=DELIVERY_JOB_ID, replace_existing=True)
        if self._refresh is not None:
            self._scheduler.add_job(f"{__name__}:scheduled_fetch", "interval", minutes=self._fetch_minutes,
                                    id=FETCH_JOB_ID, replace_existing=True)
        self._scheduler.start()
        log.info("alert cycle scheduled every %d h", self._hours)

    def stop(self) -> None:
        global _ACTIVE
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        _ACTIVE = None


ELECTION_SECONDS = 5.0  # how often a replica asks for leadership (and a leader checks it still has it)


class Election:
    """Asks for scheduler leadership every ``every`` seconds and starts or stops the scheduled jobs
    as it is won or lost. A leader that dies loses its lock with its database session, so another
    replica leads within one election interval; a leader that loses its database steps down at
    its next step."""

    def __init__(self, leadership: Leadership, *, on_gain: Callable[[], None], on_lose: Callable[[], None],
                 every: float = ELECTION_SECONDS,
                 pause: Callable[[float], Awaitable[None]] | None = None) -> None:
        self._leadership = leadership
        self._on_gain = on_gain
        self._on_lose = on_lose
        self._every = every
        self._pause = pause
        self.leading = False

    async def step(self) -> bool:
        """Ask once; whether this process leads now."""
        try:
            leading = await self._leadership.hold()
        except Exception:  # an unexpected failure must not leave two leaders: step down
            log.exception("asking for scheduler leadership failed")
            leading = False
        if leading != self.leading:
            self.leading = leading
            log.warning("this replica %s the scheduler leader", "is now" if leading else "is no longer")
            (self._on_gain if leading else self._on_lose)()
        return leading

    async def run(self) -> None:
        import asyncio

        pause = self._pause or asyncio.sleep
        while True:
            await self.step()
            await pause(self._every)

    async def resign(self) -> None:
        """At shutdown: stop the jobs and hand leadership over."""
        if self.leading:
            self.leading = False
            self._on_lose()
        try:
            await self._leadership.release()
        except Exception:
            log.exception("releasing scheduler leadership failed")
