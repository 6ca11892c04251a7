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
            "'aiohttp', 'githubkit') if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_every_package_is_in_the_distributions_explicit_list() -> None:
    """A package left out of pyproject's list works in the editable checkout and is missing from
    the wheel (and the image built from it)."""
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    listed = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(init.parent.relative_to(root).parts)
             for top in ("hubbot", "commands", "alerts") for init in (root / top).rglob("__init__.py")}
    assert found - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
