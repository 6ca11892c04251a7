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


@contextmanager
def postgres_server(base: Path) -> Iterator[str]:
    """Yield a SQLAlchemy URL of a fresh server's ``postgres`` database."""
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if not initdb or not pg_ctl:
        unavailable("initdb/pg_ctl not found")
        raise AssertionError("unreachable")
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    data, sockets = base / "data", base / "sock"
    base.mkdir(parents=True, exist_ok=True)
    sockets.mkdir()
    if as_root:
        os.chmod(base.parent, 0o755)
        shutil.chown(base, "postgres")
        shutil.chown(sockets, "postgres")
        os.chmod(base, 0o755)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}

    def run(*cmd: str) -> None:
        done = subprocess.run([*prefix, *cmd], capture_output=True, text=True, env=env, cwd=base, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[:2])} failed: {done.stderr.strip() or done.stdout.strip()}")

    run(initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
    opts = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
    run(pg_ctl, "-D", str(data), "-o", opts, "-l", str(base / "log"), "-w", "start")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], check=False,
                       capture_output=True, env=env, cwd=base)
