"""The schema: replicas starting at once on a fresh database, and the models agreeing with the
migrations, on SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect

from hubbot.store import Database
from hubbot.store.models import Base
from tests.conftest import new_database

REPLICAS = 4


def _start(url: str, barrier: Any) -> None:
    barrier.wait(timeout=60)  # all four reach upgrade() together, not by chance
    Database(url).upgrade()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_replicas_starting_at_once_on_a_fresh_database_all_start(
        kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    url = new_database(kind, request, tmp_path)
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(REPLICAS)
    procs = [ctx.Process(target=_start, args=(url, barrier)) for _ in range(REPLICAS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=180)
    assert [p.exitcode for p in procs] == [0] * REPLICAS
    engine = create_engine(Database(url).url)
    try:
        assert set(inspect(engine).get_table_names()) >= set(Base.metadata.tables)
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_models_and_the_migrations_describe_the_same_schema(
        kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    db = Database(new_database(kind, request, tmp_path))
    db.upgrade()
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
        differences = compare_metadata(context, Base.metadata)
    db.dispose()
    assert differences == []
    assert len(Base.metadata.tables) >= 12  # every table, not a few


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_the_monthly_sums_are_filled_from_the_lines_already_in_the_ledger(
        kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """A ledger written before the monthly sums existed reads the same after the upgrade."""
    from datetime import UTC, date, datetime
    from decimal import Decimal

    from alembic import command
    from alembic.config import Config
    from sqlalchemy import insert

    from hubbot.store import SqlCostLedger
    from hubbot.store.db import MIGRATIONS
    from hubbot.store.models import CostRow

    at = datetime(2026, 4, 2, tzinfo=UTC)

    db = Database(new_database(kind, request, tmp_path))
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0008")
        # the lines table as it is at 0008, written through its model (which has not changed since)
        conn.execute(insert(CostRow), [
            {"day": date.fromisoformat(day), "provider": "aws", "hub": hub, "community": "alpha", "service": "EC2",
             "amount": Decimal(amount), "currency": "USD", "estimated": False, "kind": kind_, "fetched_at": at}
            for day, hub, amount, kind_ in [
                ("2026-02-27", "c1/prod", "5", "usage"), ("2026-03-01", "c1/prod", "100", "recurring"),
                ("2026-03-02", "c1/prod", "10.5", "usage"), ("2026-03-31", None, "2", "usage"),
                ("2026-04-01", "c1/prod", "7", "usage")]])
    db.upgrade()
    ledger = SqlCostLedger(db)
    march = await ledger.period_sums(start=date(2026, 3, 1), end=date(2026, 4, 1), recent=(date(2026, 3, 1),
                                     date(2026, 3, 8)), today=date(2026, 3, 8), currency="USD")
    assert march["alpha"].total == Decimal("112.5") and march["alpha"].recurring == Decimal(100)
    assert await ledger.hub_totals(start=date(2026, 3, 1), end=date(2026, 4, 1), currency="USD") == {
        "alpha": [("c1/prod", Decimal("110.5")), ("shared", Decimal(2))]}
    db.dispose()
