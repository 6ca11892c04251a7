"""Alembic environment: runs on the connection :meth:`hubbot.store.Database.upgrade` passes in."""

from __future__ import annotations

from alembic import context

from hubbot.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `hubbot db upgrade`")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
