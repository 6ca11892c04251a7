"""Health checks of hubs over HTTP (JupyterHub's ``/hub/api/``, BinderHub's ``/health``)."""

from __future__ import annotations

import time

import httpx

from hubbot.domain import Health

_MAX_BODY = 4000


class HttpHealth:
    """GETs a URL; any answer other than 2xx, and any network failure, is unhealthy."""

    def __init__(self, *, verify: bool = True) -> None:
        self._verify = verify

    async def check(self, url: str, *, time_limit: float) -> Health:
        started = time.perf_counter()

        def took() -> int:
            return int((time.perf_counter() - started) * 1000)

        try:
            async with httpx.AsyncClient(timeout=time_limit, verify=self._verify, follow_redirects=True,
                                         headers={"User-Agent": "hubbot health check"}) as client:
                response = await client.get(url)
        except httpx.TimeoutException:
            return Health(ok=False, status=None, detail=f"no answer within {time_limit:g} s", elapsed_ms=took())
        except httpx.HTTPError as exc:
            return Health(ok=False, status=None, detail=f"could not connect: {exc.__class__.__name__}",
                          elapsed_ms=took())
        body = response.text[:_MAX_BODY]
        return Health(ok=response.is_success, status=response.status_code, detail=body, elapsed_ms=took())
