"""``/readyz`` tells the truth: 503 while the database is gone, ready again once it is back
(the real app on uvicorn, a real PostgreSQL database dropped under it)."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests.conftest import new_database
from tests.support.fleet import FLEET_YAML
from tests.support.harness import harness


def test_readyz_is_503_while_the_database_is_down(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    url = new_database("postgresql", request, tmp_path)
    server, name = url.rsplit("/", 1)
    admin = f"{server}/postgres".replace("postgresql+psycopg://", "postgresql://")
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(FLEET_YAML)
    with harness(tmp_path, fleet, database_url=url) as bot:
        ready = f"{bot.served.url}/readyz"
        assert bot.http.get(ready).json() == {"ok": True}
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")
        down = bot.http.get(ready)
        assert down.status_code == 503 and down.json()["reason"].startswith("database unavailable")
        assert bot.http.get(f"{bot.served.url}/healthz").status_code == 200  # alive, just not ready
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        assert bot.http.get(ready).json() == {"ok": True}
