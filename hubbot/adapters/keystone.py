"""Signing in to an OpenStack cloud's identity service (Keystone v3) with an application
credential, shared by every adapter that calls an OpenStack API over httpx.

``POST {auth_url}/v3/auth/tokens`` with the credential's id and secret answers 201 with the token
in ``X-Subject-Token`` and, in the body, the token document: when it expires, the project it is
scoped to (an application credential is always project-scoped) and the service catalog, where
each service (``type``: ``volumev3``, ``block-storage`` …) lists its endpoints by ``interface``
and ``region_id``. :class:`Keystone` caches the token until shortly before it expires, signs in
once for concurrent callers, and renews a token an API refuses with 401 exactly once.

Every failure is a :class:`hubbot.errors.HubbotError`; no message, ``repr`` or exception chain
carries the secret.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from pydantic import SecretStr

from hubbot.adapters import metered
from hubbot.errors import UpstreamError
from hubbot.ports import Clock

RENEW_EARLY = timedelta(minutes=5)  # a token this close to expiry is replaced before use
IDENTITY = "identity service (Keystone)"
# what a request is to (as callers name it) -> the service label of hubbot_cloud_api_calls_total
_SERVICES = {IDENTITY: "keystone", "accounting API": "accounting", "Block Storage API (Cinder)": "cinder"}


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One endpoint of a service in the token's catalog."""

    type: str
    interface: str
    region: str
    url: str


@dataclass(frozen=True, slots=True)
class Token:
    """An issued token: its value (sent as ``X-Auth-Token``), when it expires, the project it is
    scoped to (``{"id", "name", "domain"}``, or None) and the catalog's endpoints."""

    value: str
    expires_at: datetime
    project: Mapping[str, Any] | None = None
    endpoints: tuple[Endpoint, ...] = ()

    def __repr__(self) -> str:
        return f"Token(expires_at={self.expires_at.isoformat()})"  # never the value

    def find(self, types: Sequence[str], *, interface: str = "public") -> list[Endpoint]:
        """The catalog's ``interface`` endpoints of any service of ``types``, in the order of ``types``."""
        return [e for t in types for e in self.endpoints if e.type == t and e.interface == interface]


@dataclass(slots=True)
class Calls:
    """Counts the HTTP requests one operation makes (sign-ins included)."""

    count: int = 0


@dataclass(slots=True)
class Keystone:
    """An application credential's tokens for one cloud, named ``cloud`` in messages
    (``JetStream2``, ``OpenStack``). With ``project``, a token scoped to another project is
    refused (by the project's name, case-insensitively, or its id) before anything is called
    with it."""

    auth_url: str
    credential_id: str
    secret: SecretStr = field(repr=False)
    cloud: str
    clock: Clock
    project: str | None = None
    _token: Token | None = field(default=None, init=False, repr=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)

    @property
    def token_url(self) -> str:
        base = self.auth_url.rstrip("/")
        return f"{base if base.endswith('/v3') else base + '/v3'}/auth/tokens"

    async def token(self, client: httpx.AsyncClient, calls: Calls, *, stale: str | None = None) -> Token:
        """A valid token: the cached one, unless it is ``stale`` (refused by an API) or about to
        expire. Concurrent callers share one sign-in."""
        async with self._lock:
            token = self._token
            if token is None or token.value == stale or self.clock.now() >= token.expires_at - RENEW_EARLY:
                self._token = token = await self._authenticate(client, calls)
            return token

    async def request(self, client: httpx.AsyncClient, calls: Calls, method: str,
                      url: str | Callable[[Token], str], what: str, **kw: Any) -> httpx.Response:
        """Send a request with a token; ``url`` may be worked out from the token (its catalog).
        A 401 means the token was revoked or expired early: it is renewed and the request sent
        once more; a second 401 is an :class:`UpstreamError`. Other statuses are the caller's."""
        given = kw.pop("headers", {})
        stale: str | None = None
        for _attempt in range(2):
            token = await self.token(client, calls, stale=stale)
            target = url(token) if callable(url) else url
            headers = {**given, "X-Auth-Token": token.value}
            response = await send(client, calls, method, target, what, cloud=self.cloud, headers=headers, **kw)
            if response.status_code != 401:
                return response
            stale = token.value
        raise UpstreamError(f"{self.cloud} {what} refused a freshly issued token (HTTP 401)")

    async def _authenticate(self, client: httpx.AsyncClient, calls: Calls) -> Token:
        credential = {"id": self.credential_id, "secret": self.secret.get_secret_value()}
        body = {"auth": {"identity": {"methods": ["application_credential"], "application_credential": credential}}}
        response = await send(client, calls, "POST", self.token_url, IDENTITY, cloud=self.cloud, json=body)
        if response.status_code == 401:
            raise UpstreamError(f"{self.cloud} rejected the application credential {self.credential_id} — check "
                                "its id and secret, and that it has not expired or been deleted")
        raise_for_status(response, IDENTITY, cloud=self.cloud)
        value = response.headers.get("X-Subject-Token")
        if not value:
            raise UpstreamError(f"{self.cloud} {IDENTITY} answered without an X-Subject-Token header")
        payload = read_json(response, IDENTITY, cloud=self.cloud)
        document = payload.get("token") if isinstance(payload, dict) else None
        document = document if isinstance(document, dict) else {}
        raw = document.get("expires_at")
        try:
            expires_at = datetime.fromisoformat(str(raw))
        except ValueError:
            raise UpstreamError(f"{self.cloud} {IDENTITY} gave a malformed token.expires_at: {raw!r:.40}") from None
        project = document.get("project")
        token = Token(value, expires_at if expires_at.tzinfo else expires_at.replace(tzinfo=UTC),
                      project=project if isinstance(project, dict) else None,
                      endpoints=_endpoints(document.get("catalog")))
        self._check_scope(token)
        return token

    def _check_scope(self, token: Token) -> None:
        if self.project is None or token.project is None:
            return  # an application credential is always project-scoped; nothing to compare
        name, ident = token.project.get("name"), token.project.get("id")
        wanted = self.project.strip()
        if (isinstance(name, str) and name.strip().casefold() == wanted.casefold()) or ident == wanted:
            return
        raise UpstreamError(f"{self.cloud} application credential {self.credential_id} is for project "
                            f"'{name or ident!s:.64}', not '{self.project}' — create the credential in that project")


def _endpoints(catalog: Any) -> tuple[Endpoint, ...]:
    """The catalog's endpoints; entries not of the documented shape are skipped (a cloud's
    catalog lists services no caller here uses)."""
    found: list[Endpoint] = []
    for service in catalog if isinstance(catalog, list) else ():
        kind = service.get("type") if isinstance(service, dict) else None
        endpoints = service.get("endpoints") if isinstance(service, dict) else None
        if not isinstance(kind, str) or not isinstance(endpoints, list):
            continue
        for e in endpoints:
            if not isinstance(e, dict) or not isinstance(e.get("url"), str):
                continue
            region = e.get("region_id") or e.get("region") or ""
            found.append(Endpoint(kind, str(e.get("interface", "")), str(region), e["url"]))
    return tuple(found)


async def send(client: httpx.AsyncClient, calls: Calls, method: str, url: str, what: str, *, cloud: str,
               **kw: Any) -> httpx.Response:
    """One request, its transport failures as :class:`UpstreamError` (without the request)."""
    calls.count += 1
    try:
        response = await client.request(method, url, **kw)
    except httpx.TimeoutException:
        metered.count("openstack", _SERVICES.get(what, "other"), None)
        raise UpstreamError(f"{cloud} {what} timed out; try again later") from None
    except httpx.HTTPError as exc:  # `from None`: the request, with the secret in it, stays out of the chain
        metered.count("openstack", _SERVICES.get(what, "other"), None)
        raise UpstreamError(f"could not reach {cloud} {what} ({type(exc).__name__}); try again later") from None
    metered.count("openstack", _SERVICES.get(what, "other"), response.status_code)
    return response


def raise_for_status(response: httpx.Response, what: str, *, cloud: str) -> None:
    """Any status of 400 and over as an :class:`UpstreamError`; 429 and 5xx say to try later."""
    status = response.status_code
    if status < 400:
        return
    if status == 429 or status >= 500:
        hint = response.headers.get("Retry-After", "")
        retry_after = float(hint) if hint.isdigit() else None
        raise UpstreamError(f"{cloud} {what} failed (HTTP {status}); try again later", retry_after=retry_after)
    if status == 403:
        raise UpstreamError(f"{cloud} {what} refused the application credential (HTTP 403) — check its access")
    raise UpstreamError(f"{cloud} {what} refused the request (HTTP {status})")


def read_json(response: httpx.Response, what: str, *, cloud: str) -> Any:
    """The body as JSON, numbers with a fraction as :class:`Decimal`."""
    try:
        return json.loads(response.content, parse_float=Decimal)
    except ValueError:
        raise UpstreamError(f"{cloud} {what} answered with something other than JSON") from None
