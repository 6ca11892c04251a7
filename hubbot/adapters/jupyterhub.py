"""One hub's JupyterHub REST API (``/hub/api``), as hubbot's service token uses it: groups and
their members, and the users with their groups, last activity and servers. Every answer is read
defensively; every failure becomes a message that says what to fix, without the token."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from hubbot.adapters.lazy import LoopClient
from hubbot.domain import HubGroup, HubUser
from hubbot.errors import NotFound, UpstreamError, UserError

_NO_USER = re.compile(r"No such user: (.+)")
# What JupyterHub answered before 5.0 when the authenticator owned group membership.
_MANAGED = "Group management via API is disabled"
PAGE = 200  # JupyterHub's largest page (api_page_max_limit) by default
_PAGED = "application/jupyterhub-pagination+json"
_PAGES_AT_ONCE = 4


class JupyterHubApi:
    """A :class:`hubbot.ports.HubApi` for the hub whose API is at ``url`` (``https://<domain>/hub/api``).
    ``client`` is shared and left open (one per process); without one, the adapter keeps its own."""

    def __init__(self, url: str, token: str, *, hub: str, timeout: float = 10.0,
                 client: httpx.AsyncClient | None = None) -> None:
        self.url = url.rstrip("/")
        self.hub = hub
        self._token = token
        self._timeout = timeout
        self._client = client
        self._own = LoopClient(timeout=timeout)

    async def groups(self) -> list[HubGroup]:
        found = await self._call("GET", "/groups")
        if not isinstance(found, list):
            raise self._unreadable("the group list")
        return sorted((self._group(g) for g in found), key=lambda g: g.name)

    async def group(self, name: str) -> HubGroup:
        return self._group(await self._call("GET", f"/groups/{quote(name, safe='')}", group=name))

    async def create_group(self, name: str) -> HubGroup:
        return self._group(await self._call("POST", f"/groups/{quote(name, safe='')}", body={}, group=name))

    async def delete_group(self, name: str) -> None:
        await self._call("DELETE", f"/groups/{quote(name, safe='')}", group=name)

    async def add_users(self, group: str, users: Sequence[str]) -> HubGroup:
        return self._group(await self._call("POST", f"/groups/{quote(group, safe='')}/users",
                                            body={"users": list(users)}, group=group))

    async def remove_users(self, group: str, users: Sequence[str]) -> HubGroup:
        return self._group(await self._call("DELETE", f"/groups/{quote(group, safe='')}/users",
                                            body={"users": list(users)}, group=group))

    async def users(self) -> list[HubUser]:
        """Every user, by name: the first page says how many there are, the rest are fetched a few
        at a time."""
        first = await self._call("GET", f"/users?offset=0&limit={PAGE}", paged=True)
        items, total = self._page(first)
        gate = asyncio.Semaphore(_PAGES_AT_ONCE)

        async def page(offset: int) -> list[Any]:
            async with gate:
                return self._page(await self._call("GET", f"/users?offset={offset}&limit={PAGE}", paged=True))[0]

        rest = await asyncio.gather(*(page(offset) for offset in range(len(items), total, PAGE))) if items else []
        found = {user.name: user for user in map(self._user, [*items, *(i for chunk in rest for i in chunk)])}
        return [found[name] for name in sorted(found)]

    async def active_count(self) -> int:
        """How many users have a server running or starting."""
        return self._page(await self._call("GET", "/users?state=active&offset=0&limit=1", paged=True))[1]

    # -- the wire ---------------------------------------------------------------------------------

    async def _call(self, method: str, path: str, *, body: Any = None, group: str | None = None,
                    paged: bool = False) -> Any:
        headers = {"Authorization": f"token {self._token}", "Accept": _PAGED if paged else "application/json"}
        request = {"headers": headers, "json": body} if body is not None else {"headers": headers}
        try:
            client = self._client or self._own()
            answer = await client.request(method, self.url + path, timeout=self._timeout, **request)
        except httpx.TimeoutException:
            raise UpstreamError(f"{self.hub}'s API at {self.url} did not answer within {self._timeout:g} s; "
                                "is the hub up? (/hub status)") from None
        except httpx.TransportError as exc:
            raise UpstreamError(f"could not reach {self.hub}'s API at {self.url} ({type(exc).__name__}); "
                                "is the hub up? (/hub status)") from None
        if answer.status_code == 204:
            return None
        message = self._message(answer)
        if answer.status_code in (200, 201):
            try:
                return answer.json()
            except ValueError:
                raise self._unreadable("its answer") from None
        if answer.status_code in (401, 403):
            # JupyterHub answers 403 "Missing or invalid credentials." to an unknown token
            raise UpstreamError(
                f"{self.hub} refused hubbot's service token ({answer.status_code}: {message[:120]}): check the "
                "token named for this hub in the fleet config, and that its role has the admin:groups and "
                "read:users scopes")
        if answer.status_code == 404 and group is not None:
            raise NotFound(f"{self.hub} has no group '{group}' (/hub group list {self.hub} shows them)")
        if answer.status_code == 409 and group is not None:
            raise UserError(f"{self.hub} already has a group '{group}'")
        if answer.status_code == 400:
            unknown = _NO_USER.search(message)
            if unknown:
                raise NotFound(f"{self.hub} has no user '{unknown.group(1)[:80]}': nothing was changed (users "
                               "appear once they have signed in, or an admin adds them)")
            if _MANAGED in message:
                raise UserError(f"{self.hub}'s authenticator manages its groups: change membership where its "
                                "users sign in (e.g. the identity provider's groups), not here")
            raise UserError(f"{self.hub} refused the change: {message[:200]}")
        raise UpstreamError(f"{self.hub}'s API answered {answer.status_code} ({message[:120]}); try again later")

    @staticmethod
    def _message(answer: httpx.Response) -> str:
        try:
            data = answer.json()
        except ValueError:
            return answer.text[:200]
        return str(data.get("message", "")) if isinstance(data, dict) else ""

    def _group(self, data: Any) -> HubGroup:
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            raise self._unreadable("a group")
        users = data.get("users") or []
        if not isinstance(users, list) or not all(isinstance(u, str) for u in users):
            raise self._unreadable(f"the members of group '{data['name']}'")
        return HubGroup(name=data["name"], users=tuple(sorted(users)))

    def _page(self, data: Any) -> tuple[list[Any], int]:
        """A page's items and how many there are in all (a hub before 2.0 answers a bare list)."""
        if isinstance(data, list):
            return data, len(data)
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise self._unreadable("a page of users")
        total = (data.get("_pagination") or {}).get("total")
        return data["items"], total if isinstance(total, int) and total >= 0 else len(data["items"])

    def _user(self, data: Any) -> HubUser:
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            raise self._unreadable("a user")
        groups = data.get("groups") or []
        if not isinstance(groups, list):
            raise self._unreadable(f"the groups of user '{data['name'][:80]}'")
        seen = data.get("last_activity")
        try:
            last = datetime.fromisoformat(seen) if isinstance(seen, str) else None
        except ValueError:
            last = None
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=UTC)  # JupyterHub writes UTC
        running = bool(data.get("server") or data.get("pending"))
        return HubUser(name=data["name"], groups=tuple(sorted(str(g) for g in groups)), last_activity=last,
                       server=running)

    def _unreadable(self, what: str) -> UpstreamError:
        return UpstreamError(f"{self.hub}'s API at {self.url} answered with {what} in a shape hubbot cannot read; "
                             "is it a JupyterHub?")
