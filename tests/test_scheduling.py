"""The in-process scheduler runs the same alert cycle, from a persistent job store."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import create_engine, inspect, text

from alerts import CycleReport
from hubbot.scheduling import DELIVERY_JOB_ID, JOB_ID, CycleScheduler
from tests.support.costs import runtime, setup_costs


async def test_the_scheduler_runs_the_cycle_and_keeps_its_job(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sched.sqlite3'}"
    rt = runtime(setup_costs(tmp_path), url)
    done = asyncio.Event()
    reports: list[CycleReport] = []

    async def finished(report: CycleReport) -> None:
        reports.append(report)
        done.set()

    scheduler = CycleScheduler(services=rt.services, fleet=rt.fleet, database_url=url, hours=6,
                               on_done=finished)
    scheduler.start()
    try:
        await asyncio.wait_for(done.wait(), timeout=30)
    finally:
        scheduler.stop()
        await rt.aclose()
    assert reports[0].refresh.requests == {"aws-a": 0, "csv-b": 0} and not reports[0].refresh.errors
    engine = create_engine(url)
    assert "apscheduler_jobs" in inspect(engine).get_table_names()
    with engine.connect() as conn:
        assert sorted(conn.execute(text("SELECT id FROM apscheduler_jobs")).scalars().all()) == sorted(
            [JOB_ID, DELIVERY_JOB_ID])
    engine.dispose()
