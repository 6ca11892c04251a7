"""`commands` and `alerts` are generic names: make sure they are ours."""

from __future__ import annotations

import importlib.metadata


def test_top_level_packages_belong_to_hubbot() -> None:
    owners = importlib.metadata.packages_distributions()
    for name in ("hubbot", "commands", "alerts"):
        assert set(owners.get(name, [])) == {"hubbot"}, f"{name} is provided by {owners.get(name)}"


def test_cli_start_does_not_import_heavy_modules() -> None:
    import subprocess
    import sys

    code = ("import sys, hubbot.cli; heavy = [m for m in ('slack_bolt', 'sqlalchemy', 'fastapi', 'alembic', "
            "'aiohttp') if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
