"""The audit log is written off the ack path, in batches: every entry still lands, in order,
on SQLite and PostgreSQL; through the real app, what was acknowledged is in the log once the
app has shut down cleanly, even when the last batch was still waiting to be written."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hubbot.domain import AuditEntry, Outcome
from hubbot.store.audit import CHUNKS, SqlAuditLog
from hubbot.store.db import Database
from tests.support.fleet import CHANNEL_A, CHANNEL_OPS, ENGINEER, MEMBER_A, OUTSIDER
from tests.support.harness import fleet_harness


def _entry(n: int) -> AuditEntry:
    return AuditEntry(
        at=datetime(2026, 3, 1, tzinfo=UTC) + timedelta(seconds=n), user=f"U{n:05d}", channel=f"C{n % 7}",
        transport="slack" if n % 2 else "console", command=f"cmd {n % 5}", args=f"arg ‘{n}’ → ✓",
        outcome=Outcome.DENIED if n % 3 == 0 else Outcome.OK, community=None if n % 4 == 0 else f"comm{n % 4}",
        hub=None if n % 2 else f"hub{n}", detail="" if n % 3 else f"detail {n}", duration_ms=n,
        reference=f"R{n:05d}",
    )


def test_every_entry_of_odd_sized_batches_lands_in_order(database_url: str) -> None:
    db = Database(database_url)
    db.upgrade()
    log = SqlAuditLog(db)
    # sizes that use every INSERT size, and a batch of one
    sizes = [sum(CHUNKS) * 2 + 3, 1, CHUNKS[0], 7]
    entries = [_entry(n) for n in range(sum(sizes))]

    async def go() -> list[AuditEntry]:
        start = 0
        for size in sizes:
            for entry in entries[start:start + size]:
                await log.record(entry)
            await log.flush()
            start += size
        return await log.query(communities=None, hub=None, limit=len(entries) + 10)

    stored = list(reversed(asyncio.run(go())))  # newest first
    db.dispose()
    assert len(stored) == len(entries)
    for got, want in zip(stored, entries, strict=True):
        assert got.id is not None
        assert AuditEntry(**{**{f: getattr(got, f) for f in got.__slots__}, "id": None}) == want


def test_acknowledged_commands_are_in_the_log_after_a_clean_shutdown(tmp_path: Path) -> None:
    callers = [(MEMBER_A, CHANNEL_A), (OUTSIDER, "CNOWHERE01"), (ENGINEER, CHANNEL_OPS)]
    with fleet_harness(tmp_path) as bot:
        audit = bot.runtime.services.audit
        assert isinstance(audit, SqlAuditLog)
        audit._window = 3600.0  # nothing is written until the shutdown flushes it
        acked = []
        for n in range(30):
            user, channel = callers[n % 3]
            resp = bot.slash("help" if n % 2 else "whoami", user=user, channel=channel)
            assert resp.status_code == 200
            acked.append((user, "help" if n % 2 else "whoami"))
        url = bot.runtime.database.url.render_as_string(hide_password=False)
    # the harness stopped the app: its shutdown flushed the audit log
    db = Database(url)
    stored = asyncio.run(SqlAuditLog(db).query(communities=None, hub=None, limit=100))
    db.dispose()
    assert sorted((e.user, e.command) for e in stored) == sorted(acked)
    assert all(e.transport == "slack" and e.reference for e in stored)
