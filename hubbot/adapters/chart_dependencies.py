"""Which local charts lack dependencies in their ``charts/`` folder (``helm dependency update``
fetches them): a fleet repository's charts come without them, as the field keeps its charts."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _dependencies(chart: Path) -> list[dict[str, Any]]:
    from hubbot.fleet.repository import load_file

    data = load_file(chart / "Chart.yaml")
    found = data.get("dependencies") if isinstance(data, dict) else None
    return [d for d in found or [] if isinstance(d, dict) and isinstance(d.get("name"), str)]


def _present(chart: Path, name: str) -> bool:
    folder = chart / "charts"
    return (folder / name).is_dir() or any(folder.glob(f"{name}-*.tgz"))


def missing_dependencies(chart: Path, *, recurse: bool = True, seen: frozenset[Path] = frozenset()) -> list[Path]:
    """The chart folders, ``chart`` included, whose dependencies are missing, in the order to update
    them: a ``file://`` dependency's folder before the chart that needs it. A chart folder only
    (a packaged .tgz carries its dependencies)."""
    chart = chart.resolve()
    if not chart.is_dir() or chart in seen:
        return []
    out: list[Path] = []
    lacking = False
    for dep in _dependencies(chart):
        repository = str(dep.get("repository") or "")
        if recurse and repository.startswith("file://"):
            for folder in missing_dependencies(chart / repository.removeprefix("file://"), seen=seen | {chart}):
                if folder not in out:
                    out.append(folder)
        lacking = lacking or not _present(chart, str(dep["name"]))
    if lacking:
        out.append(chart)
    return out
