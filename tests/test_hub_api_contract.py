"""A hub's API: the in-memory twin and a real JupyterHub (with configurable-http-proxy, from
`make jupyterhub`) agree on groups and members, unknown names, conflicts and refused tokens."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest

from hubbot.adapters.jupyterhub import JupyterHubApi
from hubbot.adapters.memory import MemoryHubApi
from hubbot.domain import HubGroup
from hubbot.errors import NotFound, UpstreamError, UserError
from hubbot.ports import HubApi
from tests.support.jupyterhub_server import JupyterHubServer

HUB = "c1/lab"


@dataclass
class Hub:
    api: HubApi
    users: list[str]  # who exists on it, made for this test
    prefix: str  # for this test's group names (the real hub lasts the session)
    add_users: Callable[[list[str]], None]
    start_server: Callable[[str], None]
    stop_server: Callable[[str], None]


@pytest.fixture(params=["memory", "jupyterhub"])
def hub(request: pytest.FixtureRequest) -> Iterator[Hub]:
    prefix = f"t{secrets.token_hex(3)}"
    users = [f"{prefix}-ana", f"{prefix}-bo", f"{prefix}-cy"]
    if request.param == "memory":
        twin = MemoryHubApi(HUB, users=users)
        yield Hub(twin, users, prefix, add_users=twin.names.update, start_server=twin.running.add,
                  stop_server=twin.running.discard)
        return
    server: JupyterHubServer = request.getfixturevalue("jupyterhub_server")
    server.create_users(*users)
    yield Hub(JupyterHubApi(server.api, server.token, hub=HUB), users, prefix,
              add_users=lambda names: server.create_users(*names), start_server=server.start_server,
              stop_server=server.stop_server)


async def test_a_group_is_made_filled_emptied_and_deleted(hub: Hub) -> None:
    name = f"{hub.prefix}-students"
    ana, bo, cy = hub.users
    assert await hub.api.create_group(name) == HubGroup(name)
    assert await hub.api.add_users(name, [cy, ana]) == HubGroup(name, (ana, cy))
    assert await hub.api.add_users(name, [ana, bo]) == HubGroup(name, (ana, bo, cy))  # ana again: no change
    assert await hub.api.group(name) == HubGroup(name, (ana, bo, cy))
    assert HubGroup(name, (ana, bo, cy)) in await hub.api.groups()
    assert await hub.api.remove_users(name, [bo]) == HubGroup(name, (ana, cy))
    await hub.api.delete_group(name)
    assert name not in [g.name for g in await hub.api.groups()]


async def test_groups_are_listed_by_name(hub: Hub) -> None:
    for suffix in ("zeta", "alpha", "mid"):
        await hub.api.create_group(f"{hub.prefix}-{suffix}")
    mine = [g.name for g in await hub.api.groups() if g.name.startswith(hub.prefix)]
    assert mine == [f"{hub.prefix}-alpha", f"{hub.prefix}-mid", f"{hub.prefix}-zeta"]


async def test_an_unknown_group_is_not_found_and_nothing_is_made(hub: Hub) -> None:
    name = f"{hub.prefix}-nowhere"
    for call in (hub.api.group(name), hub.api.delete_group(name), hub.api.add_users(name, hub.users[:1]),
                 hub.api.remove_users(name, hub.users[:1])):
        with pytest.raises(NotFound, match=f"{HUB} has no group '{name}'"):
            await call
    assert name not in [g.name for g in await hub.api.groups()]


async def test_an_unknown_user_changes_nothing(hub: Hub) -> None:
    name = f"{hub.prefix}-class"
    await hub.api.create_group(name)
    ghost = f"{hub.prefix}-ghost"
    with pytest.raises(NotFound, match=f"{HUB} has no user '{ghost}': nothing was changed"):
        await hub.api.add_users(name, [ghost, hub.users[0]])
    with pytest.raises(NotFound, match=f"has no user '{ghost}'"):
        await hub.api.add_users(name, [hub.users[0], ghost])
    assert await hub.api.group(name) == HubGroup(name)


async def test_a_group_that_exists_is_not_made_again(hub: Hub) -> None:
    name = f"{hub.prefix}-twice"
    await hub.api.add_users((await hub.api.create_group(name)).name, hub.users[:1])
    with pytest.raises(UserError, match=f"already has a group '{name}'"):
        await hub.api.create_group(name)
    assert await hub.api.group(name) == HubGroup(name, (hub.users[0],))  # members kept


async def test_a_wrong_token_is_refused_without_showing_it(jupyterhub_server: JupyterHubServer) -> None:
    wrong = "not-the-token-" + secrets.token_hex(8)
    api = JupyterHubApi(jupyterhub_server.api, wrong, hub=HUB)
    with pytest.raises(UpstreamError, match=f"{HUB} refused hubbot's service token \\(403") as caught:
        await api.groups()
    assert wrong not in str(caught.value) and jupyterhub_server.token not in str(caught.value)


async def test_an_unreachable_hub_says_so() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    api = JupyterHubApi(f"http://127.0.0.1:{port}/hub/api", "token", hub=HUB, timeout=2)
    with pytest.raises(UpstreamError, match=f"could not reach {HUB}'s API at http://127.0.0.1:{port}/hub/api"):
        await api.groups()


async def test_users_are_listed_by_name_with_their_groups(hub: Hub) -> None:
    ana, bo, cy = hub.users
    await hub.api.add_users((await hub.api.create_group(f"{hub.prefix}-z")).name, [ana, cy])
    await hub.api.add_users((await hub.api.create_group(f"{hub.prefix}-a")).name, [ana])
    mine = {u.name: u for u in await hub.api.users() if u.name.startswith(hub.prefix)}
    assert list(mine) == [ana, bo, cy]
    assert mine[ana].groups == (f"{hub.prefix}-a", f"{hub.prefix}-z") and mine[bo].groups == ()
    assert mine[bo].last_activity is None and not mine[bo].server  # never used the hub


async def test_every_page_of_users_is_read(hub: Hub) -> None:
    many = [f"{hub.prefix}-u{i:03d}" for i in range(450)]  # more than two of JupyterHub's pages of 200
    hub.add_users(many)
    names = [u.name for u in await hub.api.users()]
    assert names == sorted(names) and len(names) == len(set(names))
    assert set(many) <= set(names)


async def test_running_servers_are_counted_and_shown(hub: Hub) -> None:
    ana, bo, _ = hub.users
    before = await hub.api.active_count()
    hub.start_server(ana)
    try:
        assert await hub.api.active_count() == before + 1
        mine = {u.name: u for u in await hub.api.users() if u.name in (ana, bo)}
        assert mine[ana].server and not mine[bo].server
    finally:
        hub.stop_server(ana)


async def test_a_hub_failing_inside_says_try_later_and_nothing_about_the_token() -> None:
    def failing(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, json={"status": 500, "message": "Unhandled error in API request"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(failing)) as client:
        api = JupyterHubApi("http://hub.test/hub/api", "tok-secret-123", hub=HUB, client=client)
        for call in (api.users(), api.active_count(), api.groups()):
            with pytest.raises(UpstreamError, match=f"{HUB}'s API answered 500 \\(Unhandled error in API request\\); "
                                                    "try again later") as caught:
                await call
            assert "tok-secret-123" not in str(caught.value)
