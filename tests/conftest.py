from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Bolt and the cloud SDKs silently read some of these; no test may see the developer's.
_PREFIXES = ("HUBBOT_", "SLACK_", "AWS_", "GOOGLE_", "GCLOUD_", "OS_", "KUBECONFIG")


_KEEP = ("HUBBOT_TEST_",)  # settings of the tests themselves, e.g. HUBBOT_TEST_HELM


def _clean_environ() -> None:
    for key in list(os.environ):
        if key.startswith(_PREFIXES) and not key.startswith(_KEEP):
            del os.environ[key]


_clean_environ()
# Never let an AWS SDK look for instance credentials over the network.
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in list(os.environ):
        if key.startswith(_PREFIXES) and key != "AWS_EC2_METADATA_DISABLED" and not key.startswith(_KEEP):
            monkeypatch.delenv(key)
    yield


@pytest.fixture
def fleet_file(tmp_path: Path) -> Path:
    from tests.support.fleet import FLEET_YAML

    path = tmp_path / "fleet.yaml"
    path.write_text(FLEET_YAML)
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    import shutil
    import tempfile

    from tests.support.postgres import postgres_server

    # Not under pytest's tmp dir: that is private to root, and the server runs as postgres.
    base = Path(tempfile.mkdtemp(prefix="hubbot-pg-"))
    try:
        with postgres_server(base / "pg") as url:
            yield url
    finally:
        shutil.rmtree(base, ignore_errors=True)


_db_counter = iter(range(1, 1_000_000))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each kind hubbot supports."""
    return new_database(request.param, request, tmp_path)


def new_database(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    import psycopg

    server: str = request.getfixturevalue("postgres_url")
    name = f"t{next(_db_counter)}"
    plain = server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server.rsplit("/", 1)[0] + f"/{name}"
