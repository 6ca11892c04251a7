"""Deploy jobs and hub locks in memory."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from hubbot.domain import JOB_LOG_CHARS, JOB_RESULT_CHARS, HubLock, Job, JobState


class MemoryJobs:
    """Deploy jobs and hub locks in memory (held to :class:`hubbot.store.SqlJobs` by contract tests)."""

    def __init__(self) -> None:
        self.jobs: dict[int, Job] = {}
        self.locks: dict[str, HubLock] = {}

    async def create(self, job: Job) -> Job | HubLock:
        held = self.locks.get(job.hub)
        if held is not None:
            return held
        stored = dataclasses.replace(job, id=len(self.jobs) + 1)
        self.jobs[stored.id or 0] = stored
        self.locks[job.hub] = HubLock(hub=job.hub, job_id=stored.id or 0, holder=job.requested_by,
                                      since=job.created_at)
        return stored

    async def get(self, job_id: int) -> Job | None:
        return self.jobs.get(job_id)

    async def update(self, job_id: int, **changes: Any) -> Job:
        if "id" in changes or set(changes) - {f.name for f in dataclasses.fields(Job)}:
            raise ValueError(f"cannot change job fields {sorted(changes)}")
        if "state" in changes:
            changes["state"] = JobState(changes["state"])
        if "log" in changes:
            changes["log"] = str(changes["log"])[-JOB_LOG_CHARS:]
        if "result" in changes:
            changes["result"] = str(changes["result"])[:JOB_RESULT_CHARS]
        job = dataclasses.replace(self.jobs[job_id], **changes)
        self.jobs[job_id] = job
        if not job.state.active and self.locks.get(job.hub, None) is not None and self.locks[job.hub].job_id == job_id:
            del self.locks[job.hub]
        return job

    async def request_cancel(self, job_id: int) -> bool:
        job = self.jobs.get(job_id)
        if job is None or not job.state.active:
            return False
        self.jobs[job_id] = dataclasses.replace(job, cancel_requested=True)
        return True

    async def recent(
        self, *, communities: Sequence[str] | None, active_only: bool, limit: int, batch: str | None = None
    ) -> list[Job]:
        rows = [j for _, j in sorted(self.jobs.items(), reverse=True)
                if (communities is None or j.community in communities) and (not active_only or j.state.active)
                and (batch is None or j.batch == batch)]
        return rows[:limit]

    async def last(self, hub: str) -> Job | None:
        return next((j for _, j in sorted(self.jobs.items(), reverse=True) if j.hub == hub and not j.state.active),
                    None)

    async def lock(self, hub: str) -> HubLock | None:
        return self.locks.get(hub)

    async def orphans(self, *, worker: str, stale_before: datetime) -> list[Job]:
        host = worker.split(":", 1)[0] + ":"

        def gone(j: Job) -> bool:
            seen = j.heartbeat_at or j.created_at
            return (j.worker.startswith(host) and j.worker != worker) or seen < stale_before

        return [j for _, j in sorted(self.jobs.items()) if j.state.active and gone(j)]
