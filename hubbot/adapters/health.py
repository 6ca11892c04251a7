"""Health checks of hubs over HTTP (JupyterHub's ``/hub/api/``, BinderHub's ``/health``)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from hubbot.domain import Health

if TYPE_CHECKING:
    import httpx

_MAX_BODY = 4000


class HttpHealth:
    """GETs a URL; any answer other than 2xx, and any network failure, is unhealthy. One client
    (and one TLS context, which costs tens of milliseconds of CPU to build) serves every check."""

    def __init__(self, *, verify: bool = True) -> None:
        self._verify = verify
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        import httpx

        if self._client is None:
            self._client = httpx.AsyncClient(verify=self._verify, follow_redirects=True,
                                             headers={"User-Agent": "hubbot health check"})
        return self._client

    async def check(self, url: str, *, time_limit: float) -> Health:
        import httpx

        started = time.perf_counter()

        def took() -> int:
            return int((time.perf_counter() - started) * 1000)

        try:
            response = await self._http().get(url, timeout=time_limit)
        except httpx.TimeoutException:
            return Health(ok=False, status=None, detail=f"no answer within {time_limit:g} s", elapsed_ms=took())
        except httpx.HTTPError as exc:
            return Health(ok=False, status=None, detail=f"could not connect: {exc.__class__.__name__}",
                          elapsed_ms=took())
        body = response.text[:_MAX_BODY]
        return Health(ok=response.is_success, status=response.status_code, detail=body, elapsed_ms=took())
