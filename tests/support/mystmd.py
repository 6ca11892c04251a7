"""The real MyST engine (mystmd, from the cache `make mystmd` fills) for the book tests: MyST's own
validation of a project's myst.yml, and an offline build of a site's content (pages and heading ids)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.support.services import missing

ROOT = Path(__file__).resolve().parents[2]
# the book theme would be downloaded; a local stand-in template lets `myst build --site` run offline
STUB_THEME = "jtex: v1\ntitle: Offline stand-in for the book theme\nkind: site\n"


def myst() -> Path:
    out = subprocess.run(["bash", str(ROOT / "tools" / "build_mystmd.sh"), "--print-dir"],
                         capture_output=True, text=True, check=True)
    found = Path(out.stdout.strip()) / "myst"
    if not found.is_file() or shutil.which("node") is None:
        missing("mystmd (the MyST engine of Jupyter Book 2) is needed for this test; run `make mystmd`")
    return found


def _run(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    home = project.parent / f".{project.name}-home"
    home.mkdir(exist_ok=True)
    env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": str(home), "NO_COLOR": "1", "CI": "true"}
    return subprocess.run([str(myst()), *args], cwd=project, env=env, capture_output=True, text=True, timeout=120,
                          check=False)


def problems(project: Path) -> list[str]:
    """What mystmd warns of or refuses while reading ``project``'s myst.yml and pages (``myst build
    --md`` reads and validates the config without fetching a theme)."""
    out = _run(project, "build", "--md")
    lines = (out.stdout + out.stderr).splitlines()
    flagged = [line.strip() for line in lines if line.lstrip().startswith(("⚠", "⛔", "🛑", "❌"))]
    if out.returncode != 0:
        flagged.append(f"exit status {out.returncode}: {lines[-3:]}")
    return flagged


def site_ids(project: Path) -> dict[str, set[str]]:
    """Build ``project``'s site content offline (its myst.yml's template swapped for a stand-in): the
    URL path of each page ("" for the root page) -> the html ids of its headings."""
    (project / ".stub-theme").mkdir(exist_ok=True)
    (project / ".stub-theme" / "template.yml").write_text(STUB_THEME)
    config = project / "myst.yml"
    original = config.read_text()
    config.write_text(original.replace("template: book-theme", "template: ./.stub-theme"))
    try:
        out = _run(project, "build", "--site")
    finally:
        config.write_text(original)
    if out.returncode != 0:
        raise AssertionError(f"myst build --site failed: {out.stdout[-2000:]}{out.stderr[-2000:]}")
    site = json.loads((project / "_build" / "site" / "config.json").read_text())
    index = site["projects"][0]["index"]
    found: dict[str, set[str]] = {}
    for page in (project / "_build" / "site" / "content").glob("*.json"):
        data = json.loads(page.read_text())
        slug = data["slug"]
        path = "" if slug == index else slug.removesuffix(".index").replace(".", "/")
        found[path] = set(_heading_ids(data["mdast"]))
    return found


def _heading_ids(node: Any) -> list[str]:
    if not isinstance(node, dict):
        return []
    own = [node["html_id"]] if node.get("type") == "heading" and node.get("html_id") else []
    return own + [i for child in node.get("children", []) for i in _heading_ids(child)]
