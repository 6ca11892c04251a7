"""A throwaway PostgreSQL server for the tests (Debian's postgresql package).

``initdb`` refuses to run as root, so as root the server runs as the ``postgres`` user. In
CI (``CI=true``) a missing server is a failure, not a skip.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.services import free_port, missing


def _bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None



def unavailable(reason: str) -> None:
    missing(f"PostgreSQL is needed for this test: {reason} (apt-get install postgresql)")


class PostgresServer:
    """A private server in ``base`` that can be stopped and started again on the same port (the
    load and fault tests restart it under running replicas)."""

    def __init__(self, base: Path) -> None:
        initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
        if not initdb or not pg_ctl:
            unavailable("initdb/pg_ctl not found")
            raise AssertionError("unreachable")
        self._pg_ctl = pg_ctl
        as_root = os.geteuid() == 0
        self._prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
        self.base, self.data, sockets = base, base / "data", base / "sock"
        base.mkdir(parents=True, exist_ok=True)
        sockets.mkdir()
        if as_root:
            os.chmod(base.parent, 0o755)
            shutil.chown(base, "postgres")
            shutil.chown(sockets, "postgres")
            os.chmod(base, 0o755)
        self.port = free_port()
        self._env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        self._opts = f"-p {self.port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *cmd: str) -> None:
        done = subprocess.run([*self._prefix, *cmd], capture_output=True, text=True, env=self._env, cwd=self.base,
                              check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[:2])} failed: {done.stderr.strip() or done.stdout.strip()}")

    def start(self) -> None:
        self._run(self._pg_ctl, "-D", str(self.data), "-o", self._opts, "-l", str(self.base / "log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """``fast`` ends every session (a restart); ``immediate`` is a crash."""
        subprocess.run([*self._prefix, self._pg_ctl, "-D", str(self.data), "-m", mode, "-w", "stop"], check=False,
                       capture_output=True, env=self._env, cwd=self.base)


@contextmanager
def postgres_server(base: Path) -> Iterator[str]:
    """Yield a SQLAlchemy URL of a fresh server's ``postgres`` database."""
    server = PostgresServer(base)
    server.start()
    try:
        yield server.url
    finally:
        server.stop("immediate")
