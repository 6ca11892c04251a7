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
