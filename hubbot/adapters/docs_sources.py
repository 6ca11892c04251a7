"""Where a docs tree's files are: a folder on disk, or a folder of a git repository's branch read
through a :class:`GitMirror` (a bare clone in the cache, one read-only tree per commit).

Answers are synchronous (the :class:`hubbot.ports.Knowledge` port), so a repository is fetched in a
thread of its own: the first question waits for the clone (unless the cache already holds the
branch), later ones find the tree of the last fetch and start a new fetch once ``fetch_minutes``
have passed; the index moves to the new commit on the question after that fetch finishes.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from hubbot.adapters.git import GitMirror
from hubbot.errors import HubbotError, UserError

log = logging.getLogger("hubbot.support")
T = TypeVar("T")


class FolderDocs:
    """A docs folder on disk: always the same root."""

    def __init__(self, root: Path) -> None:
        self._root = root

    @property
    def shown(self) -> str:
        return str(self._root)

    def root(self) -> Path:
        if not self._root.is_dir():
            raise UserError(f"docs folder not found: {self._root}")
        return self._root

    def moved(self) -> bool:
        return False


class RepoDocs:
    """The ``subdir`` of ``mirror``'s branch; :meth:`moved` is True once a fetch found a new commit."""

    def __init__(self, mirror: GitMirror, *, subdir: str = "", every: float = 600,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.mirror = mirror
        self.subdir = subdir
        self.every = every
        self._clock = clock
        self._lock = threading.Lock()
        self._commit: str | None = None
        self._fetched: str | None = None  # the commit the last background fetch found
        self._last = float("-inf")
        self._running: threading.Thread | None = None

    @property
    def shown(self) -> str:
        where = f" ({self.subdir})" if self.subdir else ""
        return f"{self.mirror.shown} at {self.mirror.branch}{where}"

    @property
    def commit(self) -> str | None:
        return self._commit

    def root(self) -> Path:
        """The folder of the commit in use (fetched now, waiting, if there is none yet)."""
        with self._lock:
            if self._commit is None:
                self._commit, fetched = self._run(self._first)
                self._last = self._clock() if fetched else float("-inf")
            commit = self._commit
        tree = self._run(lambda: self.mirror.tree(commit))
        folder = tree / self.subdir if self.subdir else tree
        if not folder.is_dir():
            raise UserError(f"no folder {self.subdir} in the docs repository {self.shown}: check the docs' subdir")
        return folder

    def moved(self) -> bool:
        """Start a fetch when one is due; True when a finished fetch found a newer commit (then
        :meth:`root` is that commit's tree)."""
        with self._lock:
            if self._fetched is not None and self._fetched != self._commit:
                self._commit, self._fetched = self._fetched, None
                return True
            due = self._commit is not None and self._clock() - self._last >= self.every
            if due and (self._running is None or not self._running.is_alive()):
                self._last = self._clock()
                self._running = threading.Thread(target=self._fetch, name="hubbot-docs-fetch", daemon=True)
                self._running.start()
            return False

    def wait(self) -> None:
        """Wait for a fetch :meth:`moved` started (tests, and a clean shutdown)."""
        running = self._running
        if running is not None:
            running.join()

    async def _first(self) -> tuple[str, bool]:
        """The commit to start from, and whether it was fetched just now: a cache already holding
        the branch answers at once (the fetch then follows in the background)."""
        if (self.mirror.repo / "HEAD").is_file():
            try:
                return await self.mirror.resolve(self.mirror.branch), False
            except HubbotError:
                pass
        return await self.mirror.fetch(), True

    def _fetch(self) -> None:
        try:
            found = self._run(self.mirror.fetch)
        except HubbotError as exc:
            log.warning("docs repository %s: %s (answering from the last commit read)", self.shown, exc)
            return
        with self._lock:
            self._fetched = found

    @staticmethod
    def _run(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Run a coroutine of the mirror to its end on an event loop of this call's own, in a thread
        (the caller may itself be running on one)."""
        values: list[T] = []
        errors: list[BaseException] = []

        def target() -> None:
            try:
                values.append(asyncio.run(work()))
            except BaseException as exc:  # handed to the caller's thread as it was
                errors.append(exc)

        thread = threading.Thread(target=target, name="hubbot-docs-git")
        thread.start()
        thread.join()
        if errors:
            raise errors[0]
        return values[0]
