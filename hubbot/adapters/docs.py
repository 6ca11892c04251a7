"""Documentation trees (folders on disk, or folders of git repositories) as a searchable
:class:`hubbot.ports.Knowledge`, with citation links shaped as each tree's site builder shapes them."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from hubbot.adapters import mystmd
from hubbot.adapters.docs_sources import FolderDocs
from hubbot.domain import Answer, SavedAnswer, Verdict
from hubbot.fleet import DocsConfig
from hubbot.support.faq import Index
from hubbot.support.faq.curated import Curated
from hubbot.support.saved import sections

log = logging.getLogger("hubbot.support")
SUFFIXES = (".md", ".rst", ".ipynb", ".txt")


class DocsSource(Protocol):
    """Where a tree's files are (:mod:`hubbot.adapters.docs_sources`)."""

    @property
    def shown(self) -> str: ...

    def root(self) -> Path:
        """The folder to read now."""
        ...

    def moved(self) -> bool:
        """True when :meth:`root` is a different folder than before (a git fetch found a new commit)."""
        ...


Tree = tuple[Path | DocsSource, DocsConfig]


class DocsKnowledge:
    """One or more docs trees and where they are published. Files that change are re-read on
    the next question (at most every ``check_every`` questions a stat of the tree)."""

    def __init__(self, trees: Sequence[Tree], faqs: list[Path] | None = None) -> None:
        self._sources: list[DocsSource] = [FolderDocs(t) if isinstance(t, Path) else t for t, _ in trees]
        self._confs = [conf for _, conf in trees]
        roots = [source.root() for source in self._sources]
        self.curated = Curated(faqs or [])
        self._lock = threading.Lock()
        self._pages: dict[str, str] | None = None  # published page URL -> docs path, built on first use
        # One index per tree: each is published at its own URL, and a citation's path is
        # relative to its tree. A question is answered by the tree most confident about it.
        self.indexes = [Index.build([root]) for root in roots]
        for source, index in zip(self._sources, self.indexes, strict=True):
            if not index.pages:
                log.warning("no Markdown or reStructuredText pages under %s", source.shown)

    def answer(
        self, question: str, *, verdicts: Sequence[Verdict] = (), saved: Sequence[SavedAnswer] = ()
    ) -> Answer:
        extra = sections(saved)
        answers = [index.answer(question, verdicts=verdicts, extra=extra) for index in self.indexes]
        best = max(answers, key=lambda a: a.confidence) if answers else None
        curated = self.curated.answer(question) if self.curated.entries else None
        if curated is not None and (best is None or (curated.answered and curated.confidence >= best.confidence)):
            return curated
        assert best is not None
        return best

    def page_of(self, url: str) -> str | None:
        wanted = _page_url(url)
        with self._lock:
            if self._pages is None:
                self._pages = {}
                for index in self.indexes:
                    for path in dict.fromkeys(section.path for section in index.sections):
                        self._pages.setdefault(_page_url(self.url(path, "")), path)
            return self._pages.get(wanted)

    def fingerprint(self, path: str) -> str | None:
        for root in (d for index in self.indexes for d in index.dirs):
            file = root / path
            try:
                if file.is_file() and file.resolve().is_relative_to(root.resolve()):
                    return hashlib.sha256(file.read_bytes()).hexdigest()[:16]
            except OSError:
                return None
        return None

    def refresh(self) -> bool:
        with self._lock:
            changed = False
            for number, source in enumerate(self._sources):
                if source.moved():
                    self.indexes[number] = Index.build([source.root()])
                    changed = True
                elif self.indexes[number].refresh():
                    changed = True
            if changed:
                self._pages = None
            if self.curated.changed():
                self.curated = Curated(self.curated.files)
                return True
            return changed

    def url(self, path: str, anchor: str) -> str:
        if self.curated.knows(path, anchor):
            return self.curated.link(path, anchor) or (self._confs[0].base_url if self._confs else "")
        number = next((n for n, index in enumerate(self.indexes) if any((d / path).is_file() for d in index.dirs)), 0)
        conf = self._confs[number]
        page = _page(path, conf)
        if anchor and conf.anchors == "mystmd":
            anchor = self._mystmd_anchor(self.indexes[number], path, anchor)
        return f"{conf.base_url.rstrip('/')}/{page}" + (f"#{anchor}" if anchor else "")

    @staticmethod
    def _mystmd_anchor(index: Index, path: str, anchor: str) -> str:
        """The id a MyST site gives the heading hubbot knows as ``anchor`` (the index's own anchors
        follow the GitHub rule); the anchor itself for a heading the index no longer has."""
        ids = mystmd.page_ids(s for s in index.sections if s.path == path)
        return ids.get(anchor, anchor)


def _page(path: str, conf: DocsConfig) -> str:
    """A page's URL path under ``conf.base_url``."""
    if conf.pages == "mystmd":
        return mystmd.page_path(path, folders=conf.folders)
    page = path
    for suffix in SUFFIXES:
        if page.endswith(suffix):
            page = page[: -len(suffix)]
            break
    if page.endswith("/index") or page == "index":
        return page[: -len("index")]
    return page + conf.page_suffix


class LazyKnowledge:
    """Builds its :class:`DocsKnowledge` on the first question, so commands that never answer
    one (and the CLI's one-shot runs) do not pay for indexing."""

    def __init__(self, trees: Sequence[Tree], faqs: list[Path] | None = None) -> None:
        self._trees = trees
        self._faqs = faqs or []
        self._built: DocsKnowledge | None = None
        self._lock = threading.Lock()

    def _get(self) -> DocsKnowledge:
        with self._lock:
            if self._built is None:
                self._built = DocsKnowledge(self._trees, self._faqs)
            return self._built

    def answer(
        self, question: str, *, verdicts: Sequence[Verdict] = (), saved: Sequence[SavedAnswer] = ()
    ) -> Answer:
        return self._get().answer(question, verdicts=verdicts, saved=saved)

    def refresh(self) -> bool:
        return self._get().refresh()

    def url(self, path: str, anchor: str) -> str:
        return self._get().url(path, anchor)

    def page_of(self, url: str) -> str | None:
        return self._get().page_of(url)

    def fingerprint(self, path: str) -> str | None:
        return self._get().fingerprint(path)


def _page_url(url: str) -> str:
    """A page's URL without fragment, query or trailing slash, scheme and host in lower case."""
    parts = urlsplit(url.strip())
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"
