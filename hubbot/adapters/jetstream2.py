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

from collections.abc import Callable, Collection
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import httpx
from pydantic import SecretStr

from hubbot.adapters.clock import SystemClock
from hubbot.adapters.keystone import Calls, Keystone, raise_for_status, read_json
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
_CLOUD = "JetStream2"
_ACCOUNTING = "accounting API"
_T = TypeVar("_T")


def su_to_money(amount: Decimal, provider: OpenStackProvider) -> Decimal | None:
    """``amount`` SUs as money in ``provider.su_rate_currency`` at ``provider.su_rate``, unrounded;
    None when the provider has no rate configured."""
    return None if provider.su_rate is None else amount * provider.su_rate


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
        self._credential_id = application_credential_id
        self._project = provider.project
        self._accounting_url = provider.accounting_url
        self._http = http
        self._clock: Clock = clock or SystemClock()
        self._resources = frozenset(resources)
        # the accounting API answers for the token's project: it must be the configured one
        self._keystone = Keystone(provider.auth_url, application_credential_id,
                                  secret if isinstance(secret, SecretStr) else SecretStr(secret),
                                  cloud=_CLOUD, clock=self._clock, project=provider.project)

    def __repr__(self) -> str:
        return f"Jetstream2CostSource(project={self._project!r}, credential={self._credential_id!r})"

    async def fetch(self, *, start: date, end: date) -> CostBatch:
        """The project's allocations overlapping ``start <= day < end``, as SU readings."""
        if self._http is not None:
            return await self._fetch(self._http, start, end)
        async with httpx.AsyncClient(timeout=_TIMEOUT) as client:
            return await self._fetch(client, start, end)

    async def _fetch(self, client: httpx.AsyncClient, start: date, end: date) -> CostBatch:
        calls = Calls()
        response = await self._keystone.request(client, calls, "GET", self._accounting_url, _ACCOUNTING)
        raise_for_status(response, _ACCOUNTING, cloud=_CLOUD)
        readings = self._readings(read_json(response, _ACCOUNTING, cloud=_CLOUD), start, end, self._clock.now())
        return CostBatch(readings=readings, requests=calls.count)

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
