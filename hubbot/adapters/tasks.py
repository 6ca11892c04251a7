"""Background work in this process: deploy jobs run as asyncio tasks that outlive the request
that started them, and can be cancelled by name."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from hubbot.domain import JobState

log = logging.getLogger("hubbot.jobs")


class AsyncioBackground:
    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[JobState]] = {}
        self._done: list[JobState] = []

    def start(self, name: str, work: Coroutine[Any, Any, JobState]) -> None:
        if name in self._tasks:
            work.close()
            raise ValueError(f"{name} is already running")
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks[name] = task
        task.add_done_callback(lambda t: self._finished(name, t))

    def _finished(self, name: str, task: asyncio.Task[JobState]) -> None:
        self._tasks.pop(name, None)
        if task.cancelled():
            self._done.append(JobState.CANCELLED)
        elif task.exception() is not None:
            log.error("background work %s failed", name, exc_info=task.exception())
            self._done.append(JobState.FAILED)
        else:
            self._done.append(task.result())

    def cancel(self, name: str) -> bool:
        task = self._tasks.get(name)
        if task is None:
            return False
        task.cancel()
        return True

    def running(self) -> list[str]:
        return sorted(self._tasks)

    async def drain(self) -> list[JobState]:
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)
        done, self._done = self._done, []
        return done
