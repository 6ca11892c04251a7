"""JetStream2 allocation usage, in service units (SUs), from its allocation accounting API.

JetStream2 is an OpenStack cloud that does not bill money: a project holds allocations of SUs,
one per resource (CPU, GPU, large memory, storage), and the accounting API states each
allocation's SUs used so far. :class:`Jetstream2CostSource` signs in to Keystone with an
application credential and turns the project's allocations into :class:`CostReading` totals.
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

CPU_RESOURCE = "jetstream2.indiana.edu"
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

    ``fetch`` returns one reading per allocation of the project whose title matches the project
    (case-insensitively), whose resource is in ``resources`` (the CPU resource by default; None
    for every resource, each kept apart in ``source``) and whose period overlaps the requested
    days. Readings are in ``"SU"``; ``start``/``end`` are the allocation's dates as stated; there
    are no daily lines. The Keystone token is cached until shortly before it expires, and a 401
    from the accounting API is retried once with a fresh token. Every failure, including a
    missing allocation, raises :class:`UpstreamError`; messages never contain the secret.

    ``http`` is used as given and never closed; without it, each fetch opens its own client.
    Raises :class:`UserError` at construction when the provider has no ``accounting_url``.
    """

    def __init__(
        self, provider: OpenStackProvider, *, application_credential_id: str,
        application_credential_secret: SecretStr | str, http: httpx.AsyncClient | None = None,
        clock: Clock | None = None, resources: Collection[str] | None = (CPU_RESOURCE,),
    ) -> None:
        if not provider.accounting_url:
            raise UserError(f"OpenStack project '{provider.project}' has no accounting_url; set it to the "
                            "JetStream2 allocation accounting API to read its service units")
        if not application_credential_id:
            raise UserError(f"OpenStack project '{provider.project}' needs an application credential id")
        secret = application_credential_secret
        self._secret = secret if isinstance(secret, SecretStr) else SecretStr(secret)
        self._credential_id = application_credential_id
        self._project = provider.project
        self._accounting_url = provider.accounting_url
        base = provider.auth_url.rstrip("/")
        self._token_url = f"{base if base.endswith('/v3') else base + '/v3'}/auth/tokens"
        self._http = http
        self._clock: Clock = clock or SystemClock()
        self._resources = None if resources is None else frozenset(resources)
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
        return _Token(value, expires_at if expires_at.tzinfo else expires_at.replace(tzinfo=UTC))

    def _readings(self, data: Any, start: date, end: date, now: datetime) -> list[CostReading]:
        if not isinstance(data, list):
            raise UpstreamError("JetStream2 accounting API answered with something other than a list of allocations")
        titles: set[str] = set()
        found: list[CostReading] = []
        for item in data:
            if not isinstance(item, dict) or not isinstance(item.get("title"), str):
                raise UpstreamError("JetStream2 accounting API listed an allocation without a title")
            titles.add(item["title"])
            if item["title"].strip().casefold() == self._project.strip().casefold():
                found.append(_reading(item, now))
        if not found:
            listed = ", ".join(sorted(titles)) or "none"
            raise UpstreamError(f"JetStream2 has no allocation titled '{self._project}' for this credential; "
                                f"it has: {listed}")
        wanted = self._resources
        chosen = [r for r in found if (wanted is None or r.source in wanted) and r.start < end and r.end >= start]
        if not chosen:
            have = "; ".join(f"{r.source} {r.start}..{r.end}" for r in found)
            raise UpstreamError(f"JetStream2 allocation '{self._project}' has nothing on "
                                f"{', '.join(sorted(wanted or ['any resource']))} for {start}..{end}; it has: {have}")
        return sorted(chosen, key=lambda r: (r.source != CPU_RESOURCE, r.source, r.start))


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
    # The API's end_date is the allocation's last day; hubbot's periods end the day after.
    return CostReading(
        start=_field(item, "start_date", _day), end=_field(item, "end_date", _day) + timedelta(days=1),
        amount=_field(item, "service_units_used", _units), currency="SU", as_of=now,
        source=_field(item, "resource", _name),
        allocated=None if allocated is None else _field(item, "service_units_allocated", _units),
    )


def _field(item: dict[str, Any], key: str, parse: Callable[[Any], _T]) -> _T:
    try:
        return parse(item[key])
    except (KeyError, TypeError, ValueError, ArithmeticError):
        raise UpstreamError(f"JetStream2 allocation '{item['title']}' has a missing or malformed {key}: "
                            f"{item.get(key)!r:.40}") from None


def _day(value: Any) -> date:
    return datetime.fromisoformat(value).date()  # "YYYY-MM-DD", or a full timestamp


def _units(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise TypeError(value)
    result = Decimal(value.strip() if isinstance(value, str) else value)
    if not result.is_finite():
        raise ValueError(value)
    return result


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError(value)
    return value
