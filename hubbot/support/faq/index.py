"""The FAQ index: docs discovery over one or more docs dirs, parsing, ranking state, change detection.

Citation paths are relative to the docs dir each page was found in.  ``refresh()`` compares an (mtime, size)
snapshot of every docs page and rebuilds when a page was added, removed or changed, so a running bot picks up
docs edits without a restart.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

from hubbot.domain import Answer, Verdict
from hubbot.support.faq.answer import answer_question
from hubbot.support.faq.markup import DOC_SUFFIXES, parse_file
from hubbot.support.faq.ranker import Ranker
from hubbot.support.faq.sections import Section

__all__ = ["Index", "Snapshot", "discover"]

log = logging.getLogger(__name__)

Snapshot = dict[str, tuple[int, int]]
SKIP_DIRS = frozenset({"_build", "build", "node_modules", "__pycache__", "site-packages", "_static", "_templates"})


def discover(docs_dir: Path) -> list[tuple[Path, str]]:
    """Docs pages under ``docs_dir`` as (file, path relative to docs_dir), sorted; hidden and build dirs skipped."""
    found: list[tuple[Path, str]] = []
    if docs_dir.is_file():
        return [(docs_dir, docs_dir.name)] if docs_dir.suffix.lower() in DOC_SUFFIXES else []
    for root, dirs, files in os.walk(docs_dir, onerror=lambda exc: log.warning("faq: %s", exc)):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS)
        for name in sorted(files):
            if name.startswith(".") or not name.lower().endswith(DOC_SUFFIXES):
                continue
            file = Path(root) / name
            found.append((file, file.relative_to(docs_dir).as_posix()))
    return found


def _snapshot(dirs: Sequence[Path]) -> Snapshot:
    snap: Snapshot = {}
    for docs_dir in dirs:
        for file, _ in discover(docs_dir):
            try:
                st = file.stat()
            except OSError:
                continue
            snap[str(file)] = (st.st_mtime_ns, st.st_size)
    return snap


class Index:
    """Sections of one or more docs trees, ready to answer questions."""

    def __init__(self, dirs: Sequence[Path], sections: Sequence[Section], snapshot: Snapshot) -> None:
        self.dirs = [Path(d) for d in dirs]
        self._ranker = Ranker(sections)
        self._snapshot = snapshot
        self._lock = threading.Lock()
        self._extended: tuple[Ranker, tuple[Section, ...], Ranker] | None = None

    @classmethod
    def build(cls, dirs: Iterable[Path | str]) -> Index:
        """Parse every ``.md``/``.markdown``/``.rst`` page under each docs dir (missing dirs are warned about)."""
        paths = [Path(d) for d in dirs]
        snapshot = _snapshot(paths)
        return cls(paths, _parse(paths), snapshot)

    @property
    def sections(self) -> list[Section]:
        return self._ranker.sections

    @property
    def ranker(self) -> Ranker:
        return self._ranker

    @property
    def pages(self) -> int:
        return self._ranker.page_count

    def changed(self) -> bool:
        return _snapshot(self.dirs) != self._snapshot

    def refresh(self) -> bool:
        """Rebuild if any docs page was added, removed or modified since the last build; True if rebuilt."""
        with self._lock:
            snapshot = _snapshot(self.dirs)
            if snapshot == self._snapshot:
                return False
            ranker = Ranker(_parse(self.dirs))
            self._ranker, self._snapshot = ranker, snapshot
            log.info("faq: index rebuilt: %d sections", len(ranker.sections))
            return True

    def answer(self, question: str, *, verdicts: Sequence[Verdict] = (), extra: Sequence[Section] = ()) -> Answer:
        """``extra`` sections (saved answers) are ranked beside the docs' own, with the docs' word
        statistics, so the same confidence rule judges them."""
        return answer_question(self._with(tuple(extra)), question, verdicts=verdicts)

    def _with(self, extra: tuple[Section, ...]) -> Ranker:
        if not extra:
            return self._ranker
        with self._lock:
            ranker, cached = self._ranker, self._extended
            if cached is not None and cached[0] is ranker and cached[1] == extra:
                return cached[2]
        built = Ranker([*ranker.sections, *extra])  # tens of ms for a tree of 100 pages; kept until they change
        with self._lock:
            self._extended = (ranker, extra, built)
        return built


def _parse(dirs: Sequence[Path]) -> list[Section]:
    sections: list[Section] = []
    for docs_dir in dirs:
        if not docs_dir.exists():
            log.warning("faq: docs dir %s does not exist", docs_dir)
            continue
        for file, rel in discover(docs_dir):
            sections.extend(parse_file(file, rel))
    return sections
