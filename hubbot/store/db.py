"""Engine creation and schema migration."""

from __future__ import annotations

import contextlib
import fcntl
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from hubbot.errors import UpstreamError, UserError

MIGRATIONS = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


UNAVAILABLE = "hubbot's database is not answering right now — try again in a minute"


def _unavailable(context: ExceptionContext) -> None:
    """A lost or refused database connection (a restart, a failover) becomes an error that says
    "try again", in every command and transport, instead of an unexpected failure. The pool
    drops the broken connections; the next request connects afresh, so service resumes by itself."""
    if context.is_pre_ping:
        return  # the pool checks a connection and replaces it: not an error anyone sees
    if context.is_disconnect or isinstance(context.sqlalchemy_exception, (OperationalError, InterfaceError)):
        raise UpstreamError(UNAVAILABLE, retry_after=30) from context.original_exception


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything hubbot stores is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def serialize(conn: Connection, name: str) -> None:
    """Make concurrent transactions that touch ``name`` run one after another (PostgreSQL:
    a transaction-scoped advisory lock; SQLite already allows one writer at a time)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(name.encode()) - 2**31})


class Database:
    """One engine per process. ``url`` is a SQLAlchemy URL (``sqlite:///file``,
    ``postgresql+psycopg://user@host/db``); a bare ``postgresql://`` uses psycopg 3."""

    def __init__(self, url: str) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise UserError("HUBBOT_DATABASE_URL is not a valid database URL") from None
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        self.url = parsed
        kwargs: dict[str, Any] = {"future": True}
        if parsed.get_backend_name() == "sqlite":
            kwargs["connect_args"] = {"check_same_thread": False}
        else:
            kwargs["pool_pre_ping"] = True
        try:
            self.engine: Engine = create_engine(parsed, **kwargs)
        except (ArgumentError, ImportError) as exc:
            raise UserError(f"cannot use database driver '{parsed.drivername}': {exc}") from None
        if parsed.get_backend_name() == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            event.listen(self.engine, "handle_error", _unavailable)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> Session:
        return self.sessions()

    def upgrade(self) -> None:
        """Bring the schema to the newest migration (safe to run on every start, and by several
        replicas starting at once: one migrates, the others wait for it and then find nothing to do)."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        try:
            with self._migration_lock(), self.engine.begin() as connection:
                serialize(connection, "hubbot:migrate")  # PostgreSQL: held until this transaction ends
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except (SQLAlchemyError, UpstreamError) as exc:
            why = "it is not answering" if isinstance(exc, UpstreamError) else exc.__class__.__name__
            raise UpstreamError(
                f"cannot migrate the database at {self.url.render_as_string(hide_password=True)}: {why}"
            ) from None

    @contextlib.contextmanager
    def _migration_lock(self) -> Iterator[None]:
        """SQLite: an exclusive lock on a file beside the database while migrating (SQLite's own
        locks let two processes both find the schema missing and both try to create it)."""
        database = self.url.database if self.url.get_backend_name() == "sqlite" else None
        if not database or database == ":memory:":
            yield
            return
        with open(f"{database}.migrate-lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def dispose(self) -> None:
        self.engine.dispose()
