"""Deploy and rollback jobs: one hub's stages run in order, shown live in one message of the
thread, with the hub locked for the job's whole life.

A deploy runs credentials → render (``helm template``) → upgrade (``helm upgrade --install``)
→ rollout (workloads ready, through the Kubernetes API) → health (the hub answers). A rollback
runs credentials → rollback → rollout → health. Each job is a row in the job store before it
starts, so a cancel from any replica, a restart mid-job (the job is marked *interrupted* and
its thread says so) or a failure at any stage ends it visibly and frees the lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from hubbot.deploys.messages import (
    EXCERPT_LINES,
    LiveMessage,
    batch_message,
    describe,
    ended_message,
    queued_message,
    running_message,
    summary_line,
    thread_root,
)
from hubbot.deploys.rollout import summary as rollout_summary
from hubbot.domain import (
    AuditEntry,
    Block,
    HubLock,
    Job,
    JobKind,
    JobState,
    KubeTarget,
    Outcome,
    ReleaseInfo,
    ReleasePlan,
)
from hubbot.errors import HubbotError, ToolFailed, UserError
from hubbot.fleet import Fleet, HubRef
from hubbot.ports import DeployPorts, Services

log = logging.getLogger("hubbot.jobs")
T = TypeVar("T")
STAGES: dict[JobKind, tuple[str, ...]] = {
    JobKind.DEPLOY: ("credentials", "render", "upgrade", "rollout", "health"),
    JobKind.ROLLBACK: ("credentials", "rollback", "rollout", "health"),
}
HEARTBEAT_EVERY = timedelta(seconds=20)
STALE_AFTER = timedelta(minutes=2)  # an active job silent this long has lost its process


def task_name(job_id: int) -> str:
    return f"job-{job_id}"


def ports_of(services: Services) -> DeployPorts:
    if services.deploys is None:
        raise UserError("deploys are not set up in this hubbot process")
    return services.deploys


def plan_for(fleet: Fleet, ref: HubRef, *, chart_version: str | None = None, overlay: str = "") -> ReleasePlan:
    """The Helm release of a hub: named after the hub, in a namespace of the same name, with
    hubbot's values ``overlay`` of it."""
    chart = ref.chart
    if chart is None:
        raise UserError(f"{ref.qualified} has no chart: add `chart:` to the hub or to cluster {ref.cluster} "
                        "in the fleet config")
    source = str(fleet.base / chart.path) if chart.path else str(chart.name)
    return ReleasePlan(
        name=ref.hub.name, namespace=ref.hub.name, chart=source, repo=chart.repo,
        version=chart_version or chart.version,
        values=tuple(str(fleet.base / v) for v in ref.hub.values),
        secret_values=tuple(str(fleet.base / v) for v in ref.hub.secret_values), overlay=overlay,
    )


async def overlay_of(services: Services, hub: str) -> str:
    """hubbot's values overlay of ``hub`` (empty when it has none)."""
    found = await services.overlays.get(hub) if services.overlays is not None else None
    return found.values if found is not None else ""


@dataclass
class Batch:
    """The jobs of one ``deploy --all``: at most ``concurrency`` run at once, and one summary
    message fills in as they finish."""

    id: str
    slots: asyncio.Semaphore
    hubs: list[str]
    message: LiveMessage
    title: str
    lines: dict[str, str] = field(default_factory=dict)

    async def finished(self, hub: str, line: str) -> None:
        self.lines[hub] = line
        text, blocks = self.render()
        await self.message.show(text, blocks, final=len(self.lines) == len(self.hubs))

    def render(self) -> tuple[str, list[Block]]:
        return batch_message(self.title, self.hubs, self.lines)


@dataclass
class _Run:
    """A running job's changing state, rendered into its live message."""

    job: Job
    stages: tuple[str, ...]
    started: datetime
    done: dict[str, timedelta] = field(default_factory=dict)
    current: str = ""
    note: str = ""
    lines: deque[str] = field(default_factory=lambda: deque(maxlen=200))
    writing: asyncio.Task[None] | None = None  # the latest progress write to the job store

    def render(self, now: datetime) -> tuple[str, list[Block]]:
        return running_message(self.job, self.stages, done=self.done, current=self.current, note=self.note,
                               elapsed=now - self.started)


class Engine:
    """Starts and runs jobs for one fleet over the services' ports."""

    def __init__(self, services: Services, fleet: Fleet) -> None:
        self.services = services
        self.fleet = fleet
        self.ports = ports_of(services)
        self.limits = fleet.config.deploys

    def slots(self) -> asyncio.Semaphore:
        """How many jobs of one ``deploy --all`` may run at once."""
        return asyncio.Semaphore(self.limits.concurrency)

    # -- starting -------------------------------------------------------------------------

    async def start(
        self, ref: HubRef, *, kind: JobKind, requested_by: str, channel: str, thread_ts: str | None = None,
        approved_by: str | None = None, chart_version: str | None = None, previous_revision: int | None = None,
        batch: Batch | None = None, ref_name: str | None = None,
    ) -> Job | HubLock:
        """Create the job (taking the hub's lock), post its live message and start it.
        Returns the lock instead when another job holds the hub."""
        now = self.services.clock.now()
        created = await self.ports.jobs.create(Job(
            kind=kind, hub=ref.qualified, community=ref.hub.community or "", state=JobState.QUEUED,
            requested_by=requested_by, approved_by=approved_by, channel=channel, created_at=now,
            thread_ts=batch.message.ts if batch else thread_ts, batch=batch.id if batch else None,
            chart_version=chart_version, previous_revision=previous_revision, commit=self.fleet.commit,
            ref=ref_name if self.fleet.commit else None))
        if isinstance(created, HubLock):
            return created
        assert created.id is not None
        job = await self._post_live(created) if batch is None else created
        self.ports.background.start(task_name(created.id), self.run(job, ref=ref, batch=batch))
        return job

    async def _post_live(self, job: Job) -> Job:
        notifier = self.services.notifier
        root = job.thread_ts
        try:
            if root is None:
                text, blocks = thread_root(job)
                root = await notifier.post(channel=job.channel, text=text, blocks=blocks)
            text, blocks = queued_message(job)
            ts = await notifier.post(channel=job.channel, text=text, blocks=blocks, thread_ts=root)
        except HubbotError as exc:
            log.warning("could not post the live message of job %s: %s", job.id, exc)
            return job
        assert job.id is not None
        return await self.ports.jobs.update(job.id, thread_ts=root, message_ts=ts)

    # -- running --------------------------------------------------------------------------

    async def run(self, job: Job, *, ref: HubRef, batch: Batch | None = None) -> JobState:
        assert job.id is not None
        live = LiveMessage(self.services, channel=job.channel, ts=job.message_ts)
        run = _Run(job=job, stages=STAGES[job.kind], started=self.services.clock.now())
        # the heartbeat starts with the job, so one queued behind others in a fan-out is not an orphan
        ticker = asyncio.get_running_loop().create_task(self._tick(run, live))
        self.services.metrics.deploy_jobs_running.inc()
        try:
            async with batch.slots if batch else contextlib.nullcontext():
                now = self.services.clock.now()
                run.job = replace(run.job, state=JobState.RUNNING, started_at=now)
                self._record(run, state=JobState.RUNNING, started_at=now, heartbeat_at=now,
                             worker=self.ports.worker, stage="credentials")
                await self._stages(run, live, ref)
            final = await self._end(run, JobState.SUCCEEDED, result=run.note)
        except asyncio.CancelledError:
            current = await self.ports.jobs.get(job.id)
            cancelled = current is not None and current.cancel_requested
            final = await self._end(run, JobState.CANCELLED if cancelled else JobState.INTERRUPTED,
                                    result="cancelled on request" if cancelled
                                    else "hubbot stopped while this job ran; check the hub with /hub status")
        except HubbotError as exc:
            excerpt = exc.output if isinstance(exc, ToolFailed) and exc.output else "\n".join(
                list(run.lines)[-EXCERPT_LINES:])
            final = await self._end(run, JobState.FAILED, result=str(exc), excerpt=excerpt)
        except Exception as exc:
            log.exception("job %s failed unexpectedly", job.id)
            final = await self._end(run, JobState.FAILED, result=f"unexpected error ({exc.__class__.__name__}); "
                                                                  "the details are in hubbot's log")
        finally:
            ticker.cancel()
            self.services.metrics.deploy_jobs_running.dec()
        if batch is not None:
            await batch.finished(final.hub, summary_line(final))
        else:
            text, blocks = ended_message(final, excerpt=final.log if final.state is JobState.FAILED else "")
            await live.show(text, blocks, final=True)
        return final.state

    async def _stages(self, run: _Run, live: LiveMessage, ref: HubRef) -> None:
        job = run.job
        limits = self.limits
        # the job row was moved to "credentials" when it started running
        target: KubeTarget = await self._stage(run, live, "credentials", self.ports.clusters.target(ref.cluster),
                                               recorded=True)
        info: ReleaseInfo | None = None
        if job.kind == JobKind.DEPLOY:
            plan = plan_for(self.fleet, ref, chart_version=job.chart_version,
                            overlay=await overlay_of(self.services, ref.qualified))
            helm, limit = self.ports.helm, limits.helm_timeout
            # the live revision is read beside the render: it is what Roll back returns to
            _, before = await self._stage(run, live, "render", asyncio.gather(
                helm.template(plan, time_limit=limit),
                helm.status(plan.name, plan.namespace, target=target, time_limit=limit)))
            info = await self._stage(run, live, "upgrade", helm.upgrade(
                plan, target=target, time_limit=limit, on_line=run.lines.append),
                previous_revision=before.revision if before else None)
            upgraded: dict[str, Any] = {"revision": info.revision}
        else:
            async def roll_back() -> ReleaseInfo | None:
                # helm records a rollback as a new revision holding the old one's release
                await self.ports.helm.rollback(ref.hub.name, ref.hub.name, revision=job.previous_revision,
                                               target=target, time_limit=limits.helm_timeout,
                                               on_line=run.lines.append)
                return await self.ports.helm.status(ref.hub.name, ref.hub.name, target=target,
                                                    time_limit=limits.helm_timeout)

            info = await self._stage(run, live, "rollback", roll_back())
            upgraded = {"revision": info.revision} if info else {}
        ready = await self._stage(run, live, "rollout", self._rollout(run, live, target, ref.hub.name), **upgraded)
        healthy = await self._stage(run, live, "health", self._health(ref))
        if job.kind == JobKind.DEPLOY or info is None:
            revision = str(info.revision if info else run.job.previous_revision)
        else:
            revision = f"{info.revision} (revision {job.previous_revision} again)"
        chart = f" · chart {info.chart}" if info and info.chart else ""
        run.note = f"revision {revision}{chart} · {ready} · {healthy}"

    async def _stage(self, run: _Run, live: LiveMessage, name: str, work: Awaitable[T], *, recorded: bool = False,
                     **changes: Any) -> T:
        """Run one stage: record it (with ``changes`` learnt in the stage before, in the same write),
        show it, and time it."""
        run.current, run.note = name, ""
        assert run.job.id is not None
        if not recorded:
            self._record(run, stage=name, **changes)
        await live.show(*run.render(self.services.clock.now()))
        began = self.services.clock.now()
        result = await work
        run.done[name] = self.services.clock.now() - began
        return result

    async def _rollout(self, run: _Run, live: LiveMessage, target: KubeTarget, namespace: str) -> str:
        clusters, clock = self.ports.clusters, self.services.clock
        deadline = clock.now() + timedelta(seconds=self.limits.rollout_timeout)
        while True:
            workloads = await clusters.workloads(target, namespace)
            text = rollout_summary(workloads)
            failed = [w for w in workloads if w.failed]
            if failed:
                raise ToolFailed(f"{failed[0].kind} {failed[0].name} will not become ready: {failed[0].failed}",
                                 output=describe(workloads))
            if all(w.done for w in workloads):
                return text
            if clock.now() >= deadline:
                waiting = ", ".join(f"{w.kind} {w.name}" + (f" ({w.stuck})" if w.stuck else "")
                                    for w in workloads if not w.done)
                raise ToolFailed(f"not ready after {self.limits.rollout_timeout} s: {waiting}",
                                 output=describe(workloads))
            run.note = text
            await live.show(*run.render(clock.now()))
            await self.ports.pause(self.limits.poll_seconds)

    async def _health(self, ref: HubRef) -> str:
        url = ref.hub.health
        health = await self.ports.health.check(url, time_limit=self.limits.health_timeout)
        health = health.expecting(ref.hub.health_status)
        if not health.ok:
            answer = f"HTTP {health.status}" if health.status else "no answer"
            raise ToolFailed(f"health check {url} failed: {answer}", output=health.detail[:1500])
        return f"healthy ({health.status}, {health.elapsed_ms} ms)"

    async def _tick(self, run: _Run, live: LiveMessage) -> None:
        """While the job is queued or runs: keep its heartbeat fresh, refresh the elapsed time
        shown, and stop the job when a cancel was asked for on another replica."""
        assert run.job.id is not None
        last = self.services.clock.now()
        while True:
            await asyncio.sleep(min(self.limits.poll_seconds, HEARTBEAT_EVERY.total_seconds()))
            now = self.services.clock.now()
            await live.show(*run.render(now))
            if now - last >= HEARTBEAT_EVERY:
                last = now
                current = await self.ports.jobs.update(run.job.id, heartbeat_at=now)
                if current.cancel_requested:
                    self.ports.background.cancel(task_name(run.job.id))
                    return

    def _record(self, run: _Run, **changes: Any) -> None:
        """Write a job's progress without holding it up: its writes go in order, each after the last,
        and the job's end waits for them."""
        job_id, previous = run.job.id, run.writing
        assert job_id is not None

        async def write() -> None:
            if previous is not None:
                with contextlib.suppress(Exception):  # a failed write is logged where it failed
                    await previous
            try:
                run.job = await self.ports.jobs.update(job_id, **changes)
            except Exception:
                log.exception("could not record the progress of job %s", job_id)
                raise

        run.writing = asyncio.get_running_loop().create_task(write())

    async def _end(self, run: _Run, state: JobState, *, result: str, excerpt: str = "") -> Job:
        assert run.job.id is not None
        if run.writing is not None:
            with contextlib.suppress(Exception):
                await run.writing
        log_tail = excerpt or "\n".join(list(run.lines)[-EXCERPT_LINES:])
        job = await self.ports.jobs.update(
            run.job.id, state=state, result=result, finished_at=self.services.clock.now(),
            stage=run.current, log=log_tail)
        self.services.metrics.job_ended(kind=job.kind.value, state=state.value,
                                        seconds=(self.services.clock.now() - run.started).total_seconds())
        await self.services.audit.record(_audit_entry(job, at=self.services.clock.now()))
        return job

    # -- after a restart -----------------------------------------------------------------

    async def sweep(self) -> list[Job]:
        """Mark jobs whose process is gone as interrupted, and say so in their threads."""
        now = self.services.clock.now()
        ended = []
        stale_before = now - STALE_AFTER
        for job in await self.ports.jobs.orphans(worker=self.ports.worker, stale_before=stale_before):
            assert job.id is not None
            if task_name(job.id) in self.ports.background.running():
                continue  # alive in this process, only quiet (its clock and ours disagree): not an orphan
            if not gone(job, worker=self.ports.worker, alive=self.ports.alive, stale_before=stale_before):
                continue  # a sibling replica on this host runs it
            job = await self.ports.jobs.update(
                job.id, state=JobState.INTERRUPTED, finished_at=now,
                result="hubbot restarted while this job ran, so it did not finish: the release may be half "
                       f"upgraded. Check it with `/hub status {job.hub}` and deploy again.")
            await self.services.audit.record(_audit_entry(job, at=now))
            text, blocks = ended_message(job)
            # Each on its own: a live message someone deleted must not keep the thread from hearing it.
            if job.message_ts:
                with contextlib.suppress(HubbotError):
                    await self.services.notifier.update(channel=job.channel, ts=job.message_ts, text=text,
                                                        blocks=blocks)
            with contextlib.suppress(HubbotError):
                await self.services.notifier.post(channel=job.channel, text=text, blocks=blocks,
                                                  thread_ts=job.thread_ts)
            ended.append(job)
        return ended


def gone(job: Job, *, worker: str, alive: Callable[[int], bool], stale_before: datetime) -> bool:
    """Whether the process that ran ``job`` is gone: its heartbeat is stale, or it ran on this host
    and is this process's predecessor (same pid, another instance: a restarted container) or a
    process that no longer runs. A live sibling's job is never gone while its heartbeat is fresh."""
    if (job.heartbeat_at or job.created_at) < stale_before:
        return True
    host, _, rest = job.worker.partition(":")
    own_host, _, own_rest = worker.partition(":")
    if host != own_host or job.worker == worker:
        return False
    pid, own_pid = rest.partition(":")[0], own_rest.partition(":")[0]
    if not pid.isdigit():
        return False
    return pid == own_pid or not alive(int(pid))


def _audit_entry(job: Job, *, at: datetime) -> AuditEntry:
    return AuditEntry(at=at, user=job.requested_by, channel=job.channel, transport="job", command=str(job.kind),
                      args=f"job #{job.id} {job.hub}", outcome=Outcome.CHANGED if job.state is JobState.SUCCEEDED
                      else Outcome.ERROR, community=job.community, hub=job.hub,
                      detail=f"{job.state.value} at {job.stage}: {job.result}"[:500]
                      + (f" (approved by {job.approved_by})" if job.approved_by else "")
                      + (f" (commit {job.commit})" if job.commit else ""))


def new_batch_id() -> str:
    return secrets.token_hex(6)

