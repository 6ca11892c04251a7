"""In-memory twins of the ports, for command tests and the demo. Contract tests in
``tests/test_contracts.py`` hold them to the same behaviour as the real adapters."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from hubbot.domain import JOB_LOG_CHARS, JOB_RESULT_CHARS, AuditEntry, Health, HubLock, Job, JobState, PendingAction
from hubbot.errors import UpstreamError


class FrozenClock:
    """A clock that moves only when told to."""

    def __init__(self, at: datetime | None = None) -> None:
        self._now = at or datetime(2026, 1, 15, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


class MemoryAuditLog:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    async def record(self, entry: AuditEntry) -> None:
        self.entries.append(entry)

    async def flush(self) -> None:
        return None

    async def query(
        self, *, communities: list[str] | None, hub: str | None, limit: int
    ) -> list[AuditEntry]:
        rows = [e for e in reversed(self.entries)
                if (communities is None or e.community in communities) and (hub is None or e.hub == hub)]
        return rows[:limit]


class MemoryEventLedger:
    def __init__(self) -> None:
        self.seen: set[str] = set()

    async def first_time(self, key: str, *, at: datetime) -> bool:
        key = key[:128]
        if key in self.seen:
            return False
        self.seen.add(key)
        return True


class StaticDirectory:
    """User-group membership given up front: ``{"S123": {"U1", "U2"}}``."""

    def __init__(self, groups: dict[str, set[str]] | None = None) -> None:
        self._groups = groups or {}

    async def groups_of(self, user_id: str) -> frozenset[str]:
        return frozenset(g for g, users in self._groups.items() if user_id in users)


class MemoryPendingActions:
    def __init__(self) -> None:
        self.actions: dict[str, PendingAction] = {}

    async def create(self, action: PendingAction) -> None:
        if action.id in self.actions:
            raise ValueError(f"pending action {action.id} exists")
        self.actions[action.id] = action

    async def get(self, action_id: str) -> PendingAction | None:
        return self.actions.get(action_id)

    async def decide(self, action_id: str, *, state: str, by: str, at: datetime) -> bool:
        current = self.actions.get(action_id)
        if current is None or current.state != "pending":
            return False
        self.actions[action_id] = dataclasses.replace(current, state=state, decided_by=by, decided_at=at)
        return True


class RecordingNotifier:
    """Keeps what would have been posted; can be told to fail, like an unreachable chat."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, str]] = []
        self.threads: dict[str, str | None] = {}  # ts -> thread it was posted in
        self.messages: dict[str, list[str]] = {}  # ts -> every text it had, oldest first
        self.failing: set[str] = set()

    async def post(
        self, *, channel: str, text: str, blocks: Sequence[dict[str, object]], thread_ts: str | None = None
    ) -> str | None:
        if channel in self.failing:
            raise UpstreamError(f"could not post to {channel}")
        self.posts.append((channel, text))
        ts = f"{len(self.posts)}.000100"
        self.threads[ts] = thread_ts
        self.messages[ts] = [text]
        return ts

    async def update(self, *, channel: str, ts: str, text: str, blocks: Sequence[dict[str, object]]) -> None:
        if channel in self.failing:
            raise UpstreamError(f"could not update a message in {channel}")
        self.messages.setdefault(ts, []).append(text)


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
        host = worker.rsplit(":", 1)[0] + ":"

        def gone(j: Job) -> bool:
            seen = j.heartbeat_at or j.created_at
            return (j.worker.startswith(host) and j.worker != worker) or seen < stale_before

        return [j for _, j in sorted(self.jobs.items()) if j.state.active and gone(j)]


class StaticHealth:
    """Health answers given up front by URL (default: healthy), for command tests and the demo."""

    def __init__(self, answers: dict[str, Health] | None = None) -> None:
        self.answers = answers or {}
        self.asked: list[str] = []

    async def check(self, url: str, *, time_limit: float) -> Health:
        self.asked.append(url)
        return self.answers.get(url, Health(ok=True, status=200, detail='{"version": "demo"}', elapsed_ms=1))
