"""Snapshots of hubs' home volumes on an OpenStack cloud's Block Storage API (Cinder v3) — on
JetStream2, the volume each hub's jupyterhub-home-nfs server keeps home directories on.

What Cinder does, as its API reference and source say, and what this adapter relies on:

- ``GET /volumes/detail?metadata={"k":"v"}``: the value is a dict literal (Cinder reads it with
  ``ast.literal_eval``; JSON with string keys and values is one), matched key by key. A value that
  is not a dict matches no volume. At the base microversion a filter the cloud has not enabled for
  members is dropped without a word, so the metadata is checked again here.
- Lists are paged by ``limit`` (capped by the cloud's ``osapi_max_limit``) and ``marker`` (the
  last id seen); a full page carries ``volumes_links`` / ``snapshots_links`` with a ``next`` href,
  which may end in an empty page. Cinder writes that href on the host it believes it serves (an
  internal one unless its operators set ``public_endpoint``), so only its marker is used.
- ``POST /snapshots`` answers 202 with the snapshot ``creating``. An attached volume (the NFS
  server's) needs ``force: true`` before microversion 3.66 and is accepted with it after. Metadata
  keys match ``[a-zA-Z0-9-_:. /]{1,255}``; values, the name and the description are at most 255
  characters.
- Snapshot statuses: ``creating``, ``available``, ``error``, ``deleting``, ``deleted``,
  ``error_deleting``, ``updating``, ``backing-up``, ``restoring``, ``unmanaging``. Progress
  ("45%") is ``os-extended-snapshot-attributes:progress`` on show and list (not on create), when
  policy lets the caller see it.
- Faults are ``{"badRequest": {"code": 400, "message": …}}`` (also ``forbidden`` 403 naming the
  policy, ``itemNotFound`` 404, ``overLimit`` 413 for quota: "Maximum number of snapshots allowed
  (10) exceeded").

OpenStack has no snapshot schedule of its own: a hub's schedule is what its volume's
``hubbot:schedule`` metadata says (a cron job run by someone), else None.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
from pydantic import SecretStr

from hubbot.adapters.clock import SystemClock
from hubbot.adapters.keystone import Calls, Keystone, Token, raise_for_status, read_json
from hubbot.domain import TAG_REASON, TAG_REQUESTED_BY, BackupTarget, BackupView, Snapshot, SnapshotState, Volume
from hubbot.errors import HubbotError, NotFound, UpstreamError, UserError
from hubbot.fleet import OpenStackProvider
from hubbot.ports import Clock

BLOCK_STORAGE = ("block-storage", "volumev3")  # the catalog's service types for Cinder v3, newest name first
HUB_NAME = "2i2c:hub-name"  # the metadata 2i2c's terraform gives a hub's home volume on JetStream2
SCHEDULE = "hubbot:schedule"  # volume metadata naming what snapshots it on a schedule, when anything does
_CLOUD = "OpenStack"
_API = "Block Storage API (Cinder)"
_TIMEOUT = httpx.Timeout(30.0)
_PAGE = 1000  # Cinder's default osapi_max_limit; a cloud with a lower cap pages sooner
_MAX_PAGES = 1000
_STATES = {
    "creating": SnapshotState.PENDING,
    "available": SnapshotState.COMPLETED,
    # an existing snapshot in use: being backed up, restored from, updated
    "backing-up": SnapshotState.COMPLETED, "restoring": SnapshotState.COMPLETED, "updating": SnapshotState.COMPLETED,
    "error": SnapshotState.FAILED, "error_deleting": SnapshotState.FAILED,
    # going or gone: no longer a backup anyone can restore
    "deleting": SnapshotState.FAILED, "deleted": SnapshotState.FAILED, "unmanaging": SnapshotState.FAILED,
}


def home_volume_metadata(hub: str) -> dict[str, str]:
    """The metadata that finds ``hub``'s home volume when its backup names neither volumes nor
    tags: ``2i2c:hub-name=<hub>``, as 2i2c's terraform sets it on JetStream2 (volumes named
    ``hub-nfs-homedirs-<hub>``, with no ``2i2c:volume-purpose``)."""
    return {HUB_NAME: hub.rpartition("/")[2]}


class CinderBackups:
    """The :class:`hubbot.ports.BackupSource` for one OpenStack project (``provider.project``),
    signed in with an application credential of that project (a token scoped to another
    project is refused). Cinder is found in the token's catalog, public interface, in the
    target's region, else the provider's, else the catalog's only one.

    Failures: a 401 is retried once with a new token; 403 is an :class:`UpstreamError` saying
    the credential's role lacks the rights; a missing volume or snapshot is :class:`NotFound`;
    400 and 413 (quota) are :class:`UserError` with Cinder's words; 429, 5xx and transport errors
    say to try later. No message carries the secret. ``http`` is used as given and never closed;
    without it, each call opens its own client.
    """

    def __init__(self, provider: OpenStackProvider, *, application_credential_id: str,
                 application_credential_secret: SecretStr, http: httpx.AsyncClient | None = None,
                 clock: Clock | None = None) -> None:
        if not application_credential_id:
            raise UserError(f"OpenStack project '{provider.project}' needs an application credential id")
        self._project = provider.project
        self._region = provider.region
        self._http = http
        self._clock: Clock = clock or SystemClock()
        self._keystone = Keystone(provider.auth_url, application_credential_id, application_credential_secret,
                                  cloud=_CLOUD, clock=self._clock, project=provider.project)

    def __repr__(self) -> str:
        return f"CinderBackups(project={self._project!r}, credential={self._keystone.credential_id!r})"

    # -- the port ---------------------------------------------------------------------------------

    async def volumes(self, target: BackupTarget) -> list[Volume]:
        async with self._client() as client:
            api = self._api(client, Calls(), target.region)
            if target.volumes:
                found = [_volume(await api.one(f"volumes/{quote(v, safe='')}", "volume", doing=f"read volume {v}",
                                               missing=f"no volume {v} in {api.where} — check {target.hub}'s backup "
                                                       "volumes")) for v in target.volumes]
                return sorted(found, key=lambda v: v.id)
            tags = _wanted(target)
            params = {"metadata": json.dumps(tags, sort_keys=True, separators=(",", ":"))}
            rows = await api.list("volumes/detail", "volumes", doing="list volumes", params=params)
            return sorted((v for v in map(_volume, rows) if _matches(v, tags)), key=lambda v: v.id)

    async def start(self, target: BackupTarget, volume: Volume, *, tags: Mapping[str, str],
                    description: str) -> Snapshot:
        name = f"hubbot-{target.hub.replace('/', '-')}-{self._clock.now():%Y%m%d-%H%M%S}"
        body = {"snapshot": {"volume_id": volume.id, "name": name[:255], "description": _text(description),
                             # the volume is attached to the NFS server: Cinder snapshots it in use only when forced
                             "force": True, "metadata": {k: v[:255] for k, v in tags.items()}}}
        async with self._client() as client:
            api = self._api(client, Calls(), target.region)
            return _snapshot(await api.one("snapshots", "snapshot", method="POST", json=body,
                                           doing=f"snapshot volume {volume.id}",
                                           missing=f"no volume {volume.id} in {api.where} to snapshot"))

    async def snapshot(self, target: BackupTarget, snapshot_id: str) -> Snapshot:
        async with self._client() as client:
            api = self._api(client, Calls(), target.region)
            return _snapshot(await api.one(f"snapshots/{quote(snapshot_id, safe='')}", "snapshot",
                                           doing=f"read snapshot {snapshot_id[:80]}",
                                           missing=f"no snapshot {snapshot_id[:80]} in {api.where} for {target.hub}"))

    async def overview(self, targets: Sequence[BackupTarget]) -> dict[str, BackupView]:
        """Each region's volumes and snapshots listed once (paged), shared out to its hubs. A
        region that fails gives its hubs a ``problem``; when every region fails, it raises."""
        regions: dict[str | None, list[BackupTarget]] = {}
        for target in targets:
            regions.setdefault(target.region or self._region, []).append(target)
        if not regions:
            return {}
        async with self._client() as client:
            calls = Calls()
            await self._keystone.token(client, calls)  # a refused credential fails the whole provider at once
            answers = await asyncio.gather(*(self._region_views(self._api(client, calls, region), group)
                                             for region, group in regions.items()))
        failures = [a for a in answers if isinstance(a, HubbotError)]
        if len(failures) == len(answers):
            raise failures[0]
        views: dict[str, BackupView] = {}
        for answer, group in zip(answers, regions.values(), strict=True):
            if isinstance(answer, HubbotError):
                views.update({t.hub: BackupView(hub=t.hub, problem=str(answer)) for t in group})
            else:
                views.update(answer)
        return views

    # -- inside -----------------------------------------------------------------------------------

    @asynccontextmanager
    async def _client(self) -> AsyncIterator[httpx.AsyncClient]:
        if self._http is not None:
            yield self._http
            return
        async with httpx.AsyncClient(timeout=_TIMEOUT) as client:
            yield client

    def _api(self, client: httpx.AsyncClient, calls: Calls, region: str | None) -> _Api:
        return _Api(self._keystone, client, calls, self._project, region or self._region)

    async def _region_views(self, api: _Api, group: list[BackupTarget]) -> dict[str, BackupView] | HubbotError:
        try:
            volumes = [_volume(r) for r in await api.list("volumes/detail", "volumes", doing="list volumes")]
            snapshots = await api.list("snapshots/detail", "snapshots", doing="list snapshots")
        except HubbotError as exc:
            return exc
        by_id = {v.id: v for v in volumes}
        views: dict[str, BackupView] = {}
        for target in group:
            if target.volumes:
                mine = [by_id[v] for v in target.volumes if v in by_id]
                gone = [v for v in target.volumes if v not in by_id]
                problem = f"volume {', '.join(gone)} is not in {api.where}" if gone else None
            else:
                tags = _wanted(target)
                mine = [v for v in volumes if _matches(v, tags)]
                named = ", ".join(f"{k}={v}" for k, v in sorted(tags.items()))
                problem = None if mine else f"no volume in {api.where} has metadata {named}"
            ids = {v.id for v in mine}
            try:  # rows are picked by volume before they are parsed: another hub's odd snapshot is not this one's
                shots = sorted((_snapshot(r) for r in snapshots if r.get("volume_id") in ids),
                               key=lambda s: (s.started, s.id), reverse=True)
            except UpstreamError as exc:
                views[target.hub] = BackupView(hub=target.hub, problem=str(exc))
                continue
            schedules = sorted({v.tags[SCHEDULE] for v in mine if v.tags.get(SCHEDULE)})
            views[target.hub] = BackupView(hub=target.hub, snapshots=tuple(shots),
                                           schedule="; ".join(schedules) or None, problem=problem)
        return views


@dataclass(slots=True)
class _Api:
    """Cinder in one region, for one operation."""

    keystone: Keystone
    client: httpx.AsyncClient
    calls: Calls
    project: str
    region: str | None
    where: str = field(init=False)

    def __post_init__(self) -> None:
        self.where = f"OpenStack project '{self.project}'" + (f" (region {self.region})" if self.region else "")

    async def call(self, method: str, path: str, *, doing: str, missing: str | None = None, **kw: Any) -> Any:
        response = await self.keystone.request(self.client, self.calls, method,
                                               lambda token: f"{self._endpoint(token)}/{path}", _API, **kw)
        self._check(response, doing=doing, missing=missing)
        return read_json(response, _API, cloud=_CLOUD)

    async def one(self, path: str, key: str, *, doing: str, missing: str, method: str = "GET",
                  **kw: Any) -> dict[str, Any]:
        data = await self.call(method, path, doing=doing, missing=missing, **kw)
        row = data.get(key) if isinstance(data, dict) else None
        if not isinstance(row, dict):
            raise UpstreamError(f"{_CLOUD} {_API} answered without a '{key}' object")
        return row

    async def list(self, path: str, key: str, *, doing: str,
                   params: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """Every page of a list, following ``{key}_links`` by its marker."""
        query = {**(params or {}), "limit": str(_PAGE)}
        rows: list[dict[str, Any]] = []
        seen: set[str] = set()
        for _page in range(_MAX_PAGES):
            data = await self.call("GET", path, doing=doing, params=query)
            page = data.get(key) if isinstance(data, dict) else None
            if not isinstance(page, list):
                raise UpstreamError(f"{_CLOUD} {_API} answered a list without '{key}'")
            rows.extend(r for r in page if isinstance(r, dict))
            marker = _next_marker(data.get(f"{key}_links"), page)
            if marker is None or marker in seen:
                return rows
            seen.add(marker)
            query["marker"] = marker
        raise UpstreamError(f"{_CLOUD} {_API} kept paging {key} past {_MAX_PAGES} pages")

    def _endpoint(self, token: Token) -> str:
        found = token.find(BLOCK_STORAGE)
        regions = sorted({e.region for e in found})
        if not found:
            raise UpstreamError(f"{self.where}: the service catalog has no public block storage endpoint (type "
                                f"{' or '.join(BLOCK_STORAGE)}) — ask the cloud's operators to offer Cinder to it")
        chosen = next((e for e in found if e.region == self.region), None) if self.region else found[0]
        if chosen is None:
            raise UserError(f"{self.where}: the service catalog has block storage only in {', '.join(regions)} — "
                            "set the provider's or the hub's backup region to one of them")
        if self.region is None and len(regions) > 1:
            raise UserError(f"OpenStack project '{self.project}' has block storage in {', '.join(regions)} — set "
                            "the provider's or the hub's backup region")
        url = chosen.url.rstrip("/")
        if not re.search(r"/v3(/|$)", url):  # an unversioned endpoint: the project's v3 API below it
            project_id = token.project.get("id") if token.project else None
            url += f"/v3/{project_id}" if project_id else "/v3"
        return url

    def _check(self, response: httpx.Response, *, doing: str, missing: str | None) -> None:
        status = response.status_code
        if status < 400:
            return
        said = _said(response)
        if status == 400:
            raise UserError(f"Cinder refused to {doing}: {said or 'bad request (HTTP 400)'}")
        if status == 403:
            raise UpstreamError(
                f"{self.where} does not let hubbot {doing} (HTTP 403{': ' + said if said else ''}) — the application "
                f"credential {self.keystone.credential_id}'s role lacks the rights to read volumes and make "
                "snapshots; create it as a member of the project (not reader only)")
        if status == 404 and missing:
            raise NotFound(missing)
        if status == 413:
            raise UserError(f"Cinder would not {doing}: {said or 'over the limit (HTTP 413)'} — the project's "
                            "snapshot quota is used up: delete old snapshots, or ask the cloud's operators for more")
        raise_for_status(response, _API, cloud=_CLOUD)


def _wanted(target: BackupTarget) -> dict[str, str]:
    return dict(target.tags) if target.tags else home_volume_metadata(target.hub)


def _matches(volume: Volume, tags: Mapping[str, str]) -> bool:
    return bool(tags) and all(volume.tags.get(k) == v for k, v in tags.items())


def _next_marker(links: Any, page: list[Any]) -> str | None:
    """The marker of the ``next`` link, when there is one (the last id of the page if the href
    names none)."""
    for link in links if isinstance(links, list) else ():
        if isinstance(link, dict) and link.get("rel") == "next" and isinstance(link.get("href"), str):
            marker = parse_qs(urlsplit(link["href"]).query).get("marker")
            last = page[-1].get("id") if page and isinstance(page[-1], dict) else None
            found = marker[0] if marker else last
            return found if isinstance(found, str) and found else None
    return None


def _said(response: httpx.Response) -> str:
    """Cinder's own message from a fault body (``{"badRequest": {"message": …}}``), or ""."""
    try:
        body = response.json()
    except ValueError:
        return ""
    fault = next(iter(body.values()), None) if isinstance(body, dict) and len(body) == 1 else None
    message = fault.get("message") if isinstance(fault, dict) else None
    return " ".join(message.split())[:300] if isinstance(message, str) else ""


def _text(value: str) -> str:
    return " ".join(value.split())[:255]  # Cinder takes printable text of at most 255 characters


def _strings(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _size(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _volume(row: dict[str, Any]) -> Volume:
    vid = row.get("id")
    if not isinstance(vid, str) or not vid:
        raise UpstreamError(f"{_CLOUD} {_API} listed a volume without an id")
    return Volume(id=vid, name=str(row.get("name") or ""), size_gib=_size(row.get("size")),
                  where=str(row.get("availability_zone") or ""), tags=_strings(row.get("metadata")))


def _snapshot(row: dict[str, Any]) -> Snapshot:
    sid, volume, status, raw = row.get("id"), row.get("volume_id"), row.get("status"), row.get("created_at")
    if not isinstance(sid, str) or not sid or not isinstance(volume, str) or not isinstance(status, str):
        raise UpstreamError(f"{_CLOUD} {_API} gave a snapshot without its id, volume_id or status: {sid!s:.40}")
    try:
        started = datetime.fromisoformat(str(raw))
    except ValueError:
        raise UpstreamError(f"{_CLOUD} {_API} gave snapshot {sid} a malformed created_at: {raw!r:.40}") from None
    metadata = _strings(row.get("metadata"))
    state = _STATES.get(status, SnapshotState.PENDING)
    progress = row.get("os-extended-snapshot-attributes:progress")
    message = None
    if state is SnapshotState.FAILED:
        message = f"Cinder reports the snapshot as {status}"
    elif status not in _STATES:
        message = f"Cinder reports an unknown status {status!r:.40}"
    return Snapshot(
        id=sid, volume=volume, state=state, started=started if started.tzinfo else started.replace(tzinfo=UTC),
        size_gib=_size(row.get("size")), progress=progress if isinstance(progress, str) else None,
        made_by="hubbot" if TAG_REQUESTED_BY in metadata else "someone in the project",
        requested_by=metadata.get(TAG_REQUESTED_BY), reason=metadata.get(TAG_REASON) or None, message=message)
