"""JetStream2 allocation usage, in service units (SUs), from its allocation accounting API.

JetStream2 is an OpenStack cloud that does not bill money: a project holds allocations, one per
resource — CPU (``jetstream2.indiana.xsede.org``), GPU (``jetstream2-gpu.indiana.xsede.org``),
large memory (``jetstream2-lm.indiana.xsede.org``) and storage
(``jetstream2-storage.indiana.xsede.org``, which is not counted in SUs). Asked with a token
scoped to the project, the accounting API lists that project's allocations, each with
``resource``, ``description``, ``abstract``, ``service_units_allocated``, ``service_units_used``
(null until any use is recorded), ``start_date`` and ``end_date``; usage is updated about once a
day. :class:`Jetstream2CostSource` signs in to Keystone with an application credential and turns
the project's SU allocations into :class:`CostReading` totals, one per resource.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import httpx
from pydantic import SecretStr

from hubbot.adapters.clock import SystemClock
from hubbot.domain import CostBatch, CostReading
from hubbot.errors import UpstreamError, UserError
from hubbot.fleet import OpenStackProvider
from hubbot.ports import Clock

CPU_RESOURCE = "jetstream2.indiana.xsede.org"
GPU_RESOURCE = "jetstream2-gpu.indiana.xsede.org"
LARGE_MEMORY_RESOURCE = "jetstream2-lm.indiana.xsede.org"
STORAGE_RESOURCE = "jetstream2-storage.indiana.xsede.org"
SU_RESOURCES = (CPU_RESOURCE, GPU_RESOURCE, LARGE_MEMORY_RESOURCE)  # what is charged in service units
_TIMEOUT = httpx.Timeout(30.0)
_RENEW_EARLY = timedelta(minutes=5)  # a token this close to expiry is replaced before use
_KEYSTONE = "identity service (Keystone)"
_ACCOUNTING = "accounting API"
_T = TypeVar("_T")


def su_to_money(amount: Decimal, provider: OpenStackProvider) -> Decimal | None:
    """``amount`` SUs as money in ``provider.su_rate_currency`` at ``provider.su_rate``, unrounded;
    None when the provider has no rate configured."""
    return None if provider.su_rate is None else amount * provider.su_rate


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    expires_at: datetime


@dataclass(slots=True)
class _Calls:
    count: int = 0


class Jetstream2CostSource:
    """The :class:`hubbot.ports.CostSource` for one JetStream2 project (``provider.project``).

    The accounting API answers for the project the token is scoped to, so the project is
    identified by the application credential: its token must name ``provider.project`` (the
    OpenStack project's name, case-insensitively, or its id), else the fetch fails rather than
    read another project's usage. ``fetch`` returns one reading per allocation whose resource is
    in ``resources`` (CPU, GPU and large memory by default, each named by its resource in
    ``source``; storage is never read, it is not counted in SUs) and whose period overlaps the
    requested days; allocations marked inactive (``active: 0``) are left out. Rows are picked by
    their resource before they are parsed, so a storage row or an unknown resource never fails
    the fetch, whatever it holds; the rows picked are parsed strictly. A null
    ``service_units_used`` means nothing used yet (0). Readings are in ``"SU"``; ``start``/``end``
    are the allocation's dates as stated (the end made exclusive); there are no daily lines.

    The Keystone token is cached until shortly before it expires, and a 401 from the accounting
    API is retried once with a fresh token. Every failure, including a project without SU
    allocations for the days, raises :class:`UpstreamError`; messages never contain the secret.

    ``http`` is used as given and never closed; without it, each fetch opens its own client.
    Raises :class:`UserError` at construction when the provider has no ``accounting_url``, or
    when ``resources`` is empty or names storage.
    """

    def __init__(
        self, provider: OpenStackProvider, *, application_credential_id: str,
        application_credential_secret: SecretStr | str, http: httpx.AsyncClient | None = None,
        clock: Clock | None = None, resources: Collection[str] = SU_RESOURCES,
    ) -> None:
        if not provider.accounting_url:
            raise UserError(f"OpenStack project '{provider.project}' has no accounting_url; set it to the "
                            "JetStream2 allocation accounting API to read its service units")
        if not application_credential_id:
            raise UserError(f"OpenStack project '{provider.project}' needs an application credential id")
        if not resources or STORAGE_RESOURCE in resources:
            raise UserError("JetStream2 usage is read from its CPU, GPU and large-memory allocations "
                            "(storage is not counted in service units)")
        secret = application_credential_secret
        self._secret = secret if isinstance(secret, SecretStr) else SecretStr(secret)
        self._credential_id = application_credential_id
        self._project = provider.project
        self._accounting_url = provider.accounting_url
        base = provider.auth_url.rstrip("/")
        self._token_url = f"{base if base.endswith('/v3') else base + '/v3'}/auth/tokens"
        self._http = http
        self._clock: Clock = clock or SystemClock()
        self._resources = frozenset(resources)
        self._token: _Token | None = None
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"Jetstream2CostSource(project={self._project!r}, credential={self._credential_id!r})"

    async def fetch(self, *, start: date, end: date) -> CostBatch:
        """The project's allocations overlapping ``start <= day < end``, as SU readings."""
        if self._http is not None:
            return await self._fetch(self._http, start, end)
        async with httpx.AsyncClient(timeout=_TIMEOUT) as client:
            return await self._fetch(client, start, end)

    async def _fetch(self, client: httpx.AsyncClient, start: date, end: date) -> CostBatch:
        calls, stale = _Calls(), None
        for _attempt in range(2):  # a 401 means the token was revoked or expired early: renew it once
            token = await self._valid_token(client, calls, stale)
            headers = {"X-Auth-Token": token}
            response = await _send(client, calls, "GET", self._accounting_url, _ACCOUNTING, headers=headers)
            if response.status_code != 401:
                break
            stale = token
        else:
            raise UpstreamError("JetStream2 accounting API refused a freshly issued token (HTTP 401)")
        _raise_for_status(response, _ACCOUNTING)
        readings = self._readings(_json(response, _ACCOUNTING), start, end, self._clock.now())
        return CostBatch(readings=readings, requests=calls.count)

    async def _valid_token(self, client: httpx.AsyncClient, calls: _Calls, stale: str | None) -> str:
        async with self._lock:  # concurrent fetches share one sign-in
            token = self._token
            if token is None or token.value == stale or self._clock.now() >= token.expires_at - _RENEW_EARLY:
                self._token = token = await self._authenticate(client, calls)
            return token.value

    async def _authenticate(self, client: httpx.AsyncClient, calls: _Calls) -> _Token:
        credential = {"id": self._credential_id, "secret": self._secret.get_secret_value()}
        body = {"auth": {"identity": {"methods": ["application_credential"], "application_credential": credential}}}
        response = await _send(client, calls, "POST", self._token_url, _KEYSTONE, json=body)
        if response.status_code == 401:
            raise UpstreamError(f"JetStream2 rejected the application credential {self._credential_id} — check "
                                "its id and secret, and that it has not expired or been deleted")
        _raise_for_status(response, _KEYSTONE)
        value = response.headers.get("X-Subject-Token")
        if not value:
            raise UpstreamError(f"JetStream2 {_KEYSTONE} answered without an X-Subject-Token header")
        payload = _json(response, _KEYSTONE)
        token = payload.get("token") if isinstance(payload, dict) else None
        raw = token.get("expires_at") if isinstance(token, dict) else None
        try:
            expires_at = datetime.fromisoformat(str(raw))
        except ValueError:
            raise UpstreamError(f"JetStream2 {_KEYSTONE} gave a malformed token.expires_at: {raw!r:.40}") from None
        self._check_scope(token)
        return _Token(value, expires_at if expires_at.tzinfo else expires_at.replace(tzinfo=UTC))

    def _check_scope(self, token: Any) -> None:
        """The accounting API answers for the token's project: it must be the configured one."""
        project = token.get("project") if isinstance(token, dict) else None
        if not isinstance(project, dict):
            return  # an application credential is always project-scoped; nothing to compare
        name, ident = project.get("name"), project.get("id")
        wanted = self._project.strip()
        if (isinstance(name, str) and name.strip().casefold() == wanted.casefold()) or ident == wanted:
            return
        raise UpstreamError(f"JetStream2 application credential {self._credential_id} is for project "
                            f"'{name or ident!s:.64}', not '{self._project}' — create the credential in that project")

    def _readings(self, data: Any, start: date, end: date, now: datetime) -> list[CostReading]:
        if not isinstance(data, list):
            raise UpstreamError("JetStream2 accounting API answered with something other than a list of allocations")
        listed: set[str] = set()
        found: list[CostReading] = []
        for item in data:
            resource = item.get("resource") if isinstance(item, dict) else None
            if not isinstance(resource, str):
                continue  # not a row we could use: it cannot fail the fetch
            listed.add(resource)
            if resource in self._resources and item.get("active", 1) not in (0, False):
                found.append(_reading(item, now))
        chosen = [r for r in found if r.start < end and r.end > start]
        if not chosen:
            have = "; ".join(f"{r.source} {r.start}..{r.end}" for r in found) or ", ".join(sorted(listed)) or "none"
            raise UpstreamError(f"JetStream2 project '{self._project}' has no allocation on "
                                f"{', '.join(sorted(self._resources))} for {start}..{end}; it has: {have}")
        return sorted(chosen, key=lambda r: (SU_RESOURCES.index(r.source) if r.source in SU_RESOURCES else 9,
                                             r.source, r.start))


async def _send(client: httpx.AsyncClient, calls: _Calls,
                method: str, url: str, what: str, **kw: Any) -> httpx.Response:
    calls.count += 1
    try:
        return await client.request(method, url, **kw)
    except httpx.TimeoutException:
        raise UpstreamError(f"JetStream2 {what} timed out; try again later") from None
    except httpx.HTTPError as exc:  # `from None`: the request, with the secret in it, stays out of the chain
        raise UpstreamError(f"could not reach JetStream2 {what} ({type(exc).__name__}); try again later") from None


def _raise_for_status(response: httpx.Response, what: str) -> None:
    status = response.status_code
    if status < 400:
        return
    if status == 429 or status >= 500:
        hint = response.headers.get("Retry-After", "")
        retry_after = float(hint) if hint.isdigit() else None
        raise UpstreamError(f"JetStream2 {what} failed (HTTP {status}); try again later", retry_after=retry_after)
    if status == 403:
        raise UpstreamError(f"JetStream2 {what} refused the application credential (HTTP 403) — check its access")
    raise UpstreamError(f"JetStream2 {what} refused the request (HTTP {status})")


def _json(response: httpx.Response, what: str) -> Any:
    try:
        return json.loads(response.content, parse_float=Decimal)
    except ValueError:
        raise UpstreamError(f"JetStream2 {what} answered with something other than JSON") from None


def _reading(item: dict[str, Any], now: datetime) -> CostReading:
    allocated = item.get("service_units_allocated")
    # null until the allocation's first use is recorded; a missing field is still malformed
    unused = "service_units_used" in item and item["service_units_used"] is None
    # The API's end_date is the allocation's last day; hubbot's periods end the day after.
    return CostReading(
        start=_field(item, "start_date", _day), end=_field(item, "end_date", _day) + timedelta(days=1),
        amount=Decimal(0) if unused else _field(item, "service_units_used", _units), currency="SU", as_of=now,
        source=item["resource"],
        allocated=None if allocated is None else _field(item, "service_units_allocated", _units),
    )


def _field(item: dict[str, Any], key: str, parse: Callable[[Any], _T]) -> _T:
    try:
        return parse(item[key])
    except (KeyError, TypeError, ValueError, ArithmeticError):
        raise UpstreamError(f"JetStream2 allocation on {item['resource']} (from {item.get('start_date')!s:.20}) "
                            f"has a missing or malformed {key}: {item.get(key)!r:.40}") from None


def _day(value: Any) -> date:
    return datetime.fromisoformat(value).date()  # "YYYY-MM-DD", or a full timestamp


def _units(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise TypeError(value)
    result = Decimal(value.strip() if isinstance(value, str) else value)
    if not result.is_finite():
        raise ValueError(value)
    return result
