"""Documentation trees on disk as a searchable :class:`hubbot.ports.Knowledge`."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from hubbot.domain import Answer, SavedAnswer, Verdict
from hubbot.errors import UserError
from hubbot.fleet import DocsConfig
from hubbot.support.faq import Index
from hubbot.support.faq.curated import Curated
from hubbot.support.saved import sections

log = logging.getLogger("hubbot.support")


class DocsKnowledge:
    """One or more docs trees and where they are published. Files that change are re-read on
    the next question (at most every ``check_every`` questions a stat of the tree)."""

    def __init__(self, trees: list[tuple[Path, DocsConfig]], faqs: list[Path] | None = None) -> None:
        missing = [str(path) for path, _ in trees if not path.is_dir()]
        if missing:
            raise UserError(f"docs folder not found: {', '.join(missing)}")
        self._trees = trees
        self.curated = Curated(faqs or [])
        self._lock = threading.Lock()
        self._pages: dict[str, str] | None = None  # published page URL -> docs path, built on first use
        # One index per tree: each is published at its own URL, and a citation's path is
        # relative to its tree. A question is answered by the tree most confident about it.
        self.indexes = [Index.build([path]) for path, _ in trees]
        for (path, _), index in zip(trees, self.indexes, strict=True):
            if not index.pages:
                log.warning("no Markdown or reStructuredText pages under %s", path)

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
        for root, _ in self._trees:
            file = root / path
            try:
                if file.is_file() and file.resolve().is_relative_to(root.resolve()):
                    return hashlib.sha256(file.read_bytes()).hexdigest()[:16]
            except OSError:
                return None
        return None

    def refresh(self) -> bool:
        with self._lock:
            docs = any([index.refresh() for index in self.indexes])
            if docs:
                self._pages = None
            if self.curated.changed():
                self.curated = Curated(self.curated.files)
                return True
            return docs

    def url(self, path: str, anchor: str) -> str:
        if self.curated.knows(path, anchor):
            return self.curated.link(path, anchor) or (self._trees[0][1].base_url if self._trees else "")
        conf = next((c for root, c in self._trees if (root / path).is_file()), self._trees[0][1])
        page = path
        for suffix in (".md", ".rst", ".ipynb", ".txt"):
            if page.endswith(suffix):
                page = page[: -len(suffix)]
                break
        if page.endswith("/index") or page == "index":
            page = page[: -len("index")]
        else:
            page += conf.page_suffix
        return f"{conf.base_url.rstrip('/')}/{page}" + (f"#{anchor}" if anchor else "")


class LazyKnowledge:
    """Builds its :class:`DocsKnowledge` on the first question, so commands that never answer
    one (and the CLI's one-shot runs) do not pay for indexing."""

    def __init__(self, trees: list[tuple[Path, DocsConfig]], faqs: list[Path] | None = None) -> None:
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
