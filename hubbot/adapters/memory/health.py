"""Health answers given up front."""

from __future__ import annotations

from hubbot.domain import Health


class StaticHealth:
    """Health answers given up front by URL (default: healthy), for command tests and the demo."""

    def __init__(self, answers: dict[str, Health] | None = None) -> None:
        self.answers = answers or {}
        self.asked: list[str] = []

    async def check(self, url: str, *, time_limit: float) -> Health:
        self.asked.append(url)
        return self.answers.get(url, Health(ok=True, status=200, detail='{"version": "demo"}', elapsed_ms=1))
