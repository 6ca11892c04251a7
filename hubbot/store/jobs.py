"""Deploy jobs and hub locks in SQL. A job's lock row is inserted in the same transaction as
the job, and deleted in the same transaction that ends it, so a lock never outlives its job."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from hubbot.domain import JOB_LOG_CHARS, JOB_RESULT_CHARS, HubLock, Job, JobKind, JobState
from hubbot.store.db import Database, as_utc
from hubbot.store.models import HubLockRow, JobRow

_FIELDS = [f.name for f in dataclasses.fields(Job)]
_TIMES = ("created_at", "started_at", "finished_at", "heartbeat_at")
_ACTIVE = [JobState.QUEUED.value, JobState.RUNNING.value]


def _job(row: JobRow) -> Job:
    return _job_of({name: getattr(row, name) for name in _FIELDS})


def _job_of(row: Any) -> Job:
    """A job from a row's columns by name (an ORM row's attributes, or a RETURNING mapping)."""
    values: dict[str, Any] = {name: row[name] for name in _FIELDS}
    values["kind"] = JobKind(values["kind"])
    values["state"] = JobState(values["state"])
    for name in _TIMES:
        if values[name] is not None:
            values[name] = as_utc(values[name])
    return Job(**values)


def _column_values(changes: dict[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - set(_FIELDS) - {"id"}
    if unknown or "id" in changes:
        raise ValueError(f"cannot change job fields {sorted(unknown | ({'id'} & set(changes)))}")
    out = dict(changes)
    if "kind" in out:
        out["kind"] = JobKind(out["kind"]).value
    if "state" in out:
        out["state"] = JobState(out["state"]).value
    if "log" in out:
        out["log"] = str(out["log"])[-JOB_LOG_CHARS:]
    if "result" in out:
        out["result"] = str(out["result"])[:JOB_RESULT_CHARS]
    return out


class SqlJobs:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, job: Job) -> Job | HubLock:
        def run() -> Job | HubLock:
            for _ in range(3):
                try:
                    with self._db.engine.begin() as conn:
                        values = _column_values({k: v for k, v in dataclasses.asdict(job).items() if k != "id"})
                        key = conn.execute(insert(JobRow).values(**values)).inserted_primary_key
                        assert key is not None
                        job_id = int(key[0])
                        conn.execute(insert(HubLockRow).values(hub=job.hub, job_id=job_id, holder=job.requested_by,
                                                               since=job.created_at))
                    return dataclasses.replace(job, id=job_id)
                except IntegrityError:
                    held = self._lock(job.hub)
                    if held is not None:
                        return held
            raise RuntimeError(f"could not take or read the lock of {job.hub}")
        return await asyncio.to_thread(run)

    def _lock(self, hub: str) -> HubLock | None:
        with self._db.session() as session:
            row = session.get(HubLockRow, hub)
            return None if row is None else HubLock(hub=row.hub, job_id=row.job_id, holder=row.holder,
                                                    since=as_utc(row.since))

    async def lock(self, hub: str) -> HubLock | None:
        return await asyncio.to_thread(self._lock, hub)

    async def get(self, job_id: int) -> Job | None:
        def run() -> Job | None:
            with self._db.session() as session:
                row = session.get(JobRow, job_id)
                return None if row is None else _job(row)
        return await asyncio.to_thread(run)

    async def update(self, job_id: int, **changes: Any) -> Job:
        values = _column_values(changes)

        def run() -> Job:
            # one statement that changes the row and hands it back (UPDATE ... RETURNING)
            stmt = update(JobRow).where(JobRow.id == job_id).values(**values).returning(*JobRow.__table__.columns)
            with self._db.engine.begin() as conn:
                row = conn.execute(stmt).mappings().first() if values else conn.execute(
                    select(*JobRow.__table__.columns).where(JobRow.id == job_id)).mappings().first()
                if row is None:
                    raise KeyError(f"no job {job_id}")
                if "state" in values and values["state"] not in _ACTIVE:
                    conn.execute(delete(HubLockRow).where(HubLockRow.job_id == job_id))
            return _job_of(row)
        return await asyncio.to_thread(run)

    async def request_cancel(self, job_id: int) -> bool:
        def run() -> bool:
            with self._db.engine.begin() as conn:
                stmt = (update(JobRow).where(JobRow.id == job_id, JobRow.state.in_(_ACTIVE))
                        .values(cancel_requested=True))
                return bool(conn.execute(stmt).rowcount)
        return await asyncio.to_thread(run)

    async def recent(
        self, *, communities: Sequence[str] | None, active_only: bool, limit: int, batch: str | None = None
    ) -> list[Job]:
        def run() -> list[Job]:
            where: list[ColumnElement[bool]] = []
            if communities is not None:
                where.append(JobRow.community.in_(list(communities)))
            if active_only:
                where.append(JobRow.state.in_(_ACTIVE))
            if batch is not None:
                where.append(JobRow.batch == batch)
            with self._db.session() as session:
                rows = session.scalars(select(JobRow).where(*where).order_by(JobRow.id.desc()).limit(limit))
                return [_job(r) for r in rows]
        return await asyncio.to_thread(run)

    async def last(self, hub: str) -> Job | None:
        def run() -> Job | None:
            with self._db.session() as session:
                row = session.scalars(select(JobRow).where(JobRow.hub == hub, JobRow.state.not_in(_ACTIVE))
                                      .order_by(JobRow.id.desc()).limit(1)).first()
                return None if row is None else _job(row)
        return await asyncio.to_thread(run)

    async def orphans(self, *, worker: str, stale_before: datetime) -> list[Job]:
        host = worker.split(":", 1)[0] + ":"

        def run() -> list[Job]:
            with self._db.session() as session:
                rows = session.scalars(select(JobRow).where(
                    JobRow.state.in_(_ACTIVE),
                    or_(JobRow.worker.startswith(host, autoescape=True) & (JobRow.worker != worker),
                        JobRow.heartbeat_at < stale_before,
                        (JobRow.heartbeat_at.is_(None)) & (JobRow.created_at < stale_before)),
                ).order_by(JobRow.id))
                return [_job(r) for r in rows]
        return await asyncio.to_thread(run)
