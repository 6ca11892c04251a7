"""A real JupyterHub for the tests, started on loopback from the install `make jupyterhub` caches.

It runs with configurable-http-proxy in front, the dummy authenticator, an SQLite database in a
temp folder, and one service, ``hubbot``, whose API token has the scopes hubbot asks hub
operators to grant it (groups and users). Tests reach the REST API at :attr:`JupyterHubServer.api`
with :attr:`JupyterHubServer.token`, exactly as hubbot does.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, NoReturn

import httpx

from tests.support.services import free_port, missing

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0
SCOPES = ["admin:groups", "admin:users", "list:users", "read:users"]


def unavailable(reason: str) -> NoReturn:
    missing(f"a real JupyterHub is needed for this test: {reason}; run `make jupyterhub`")


def install_dir() -> Path:
    out = subprocess.run(["bash", str(ROOT / "tools" / "build_jupyterhub.sh"), "--print-dir"],
                         capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())



@dataclass
class JupyterHubServer:
    url: str  # the public URL, through the proxy
    token: str  # the hubbot service's API token
    admin_token: str  # the tests' own service, which starts and stops servers
    folder: Path
    log: Path
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _handle: IO[bytes] | None = field(default=None, repr=False)

    @property
    def api(self) -> str:
        return f"{self.url}/hub/api"

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def create_users(self, *names: str) -> None:
        """Users as an admin would add them (the service's admin:users scope)."""
        with httpx.Client(headers={"Authorization": f"token {self.token}"}, timeout=10) as client:
            answer = client.post(f"{self.api}/users", json={"usernames": list(names)})
            assert answer.status_code in (201, 409), answer.text

    def start_server(self, name: str) -> None:
        """Start ``name``'s server (a stand-in HTTP server, see :func:`start`) and wait until the hub
        says it is ready."""
        with httpx.Client(headers={"Authorization": f"token {self.admin_token}"}, timeout=10) as client:
            answer = client.post(f"{self.api}/users/{name}/server")
            assert answer.status_code in (201, 202, 400), answer.text  # 400: already running
            deadline = time.monotonic() + START_TIMEOUT
            while not (client.get(f"{self.api}/users/{name}").json().get("servers", {}).get("") or {}).get("ready"):
                assert time.monotonic() < deadline, f"{name}'s server did not start:\n{self.tail()}"
                time.sleep(0.05)

    def stop_server(self, name: str) -> None:
        with httpx.Client(headers={"Authorization": f"token {self.admin_token}"}, timeout=30) as client:
            answer = client.delete(f"{self.api}/users/{name}/server")
            assert answer.status_code in (202, 204, 400), answer.text

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()  # the hub stops the proxy it started
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)
        if self._handle is not None:
            self._handle.close()


def start(folder: Path, *, extra_config: str = "") -> JupyterHubServer:
    """Start JupyterHub in ``folder``; return once its API answers (or fail with its log's tail)."""
    installed = install_dir()
    hub, proxy = installed / "bin" / "jupyterhub", installed / "node_modules" / ".bin" / "configurable-http-proxy"
    if not (os.access(hub, os.X_OK) and os.access(proxy, os.X_OK)):
        unavailable(f"no JupyterHub install at {installed}")
    port, hub_port, proxy_api = free_port(), free_port(), free_port()
    token, admin_token = secrets.token_hex(24), secrets.token_hex(24)
    config = folder / "jupyterhub_config.py"
    config.write_text(f"""
c = get_config()  # noqa: F821
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api}"
c.ConfigurableHTTPProxy.command = [{str(proxy)!r}]
c.JupyterHub.db_url = "sqlite:///{folder / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = {str(folder / 'cookie_secret')!r}
c.JupyterHub.pid_file = {str(folder / 'jupyterhub.pid')!r}
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.JupyterHub.services = [{{"name": "hubbot", "api_token": {token!r}}},
                         {{"name": "tests", "api_token": {admin_token!r}}}]
c.JupyterHub.load_roles = [{{"name": "hubbot", "scopes": {SCOPES!r}, "services": ["hubbot"]}},
                           {{"name": "tests", "scopes": ["admin:users", "admin:servers"], "services": ["tests"]}}]

import sys
from jupyterhub.spawner import LocalProcessSpawner


# A user server that is a plain HTTP server on loopback, run as this user: the hub only needs it
# to answer (there is no notebook server in this install).
class StandInServer(LocalProcessSpawner):

    def make_preexec_fn(self, name):
        return None

    def user_env(self, env):
        return env

    def get_args(self):
        return ["--bind", "127.0.0.1", str(self.port)]


c.JupyterHub.spawner_class = StandInServer
c.Spawner.cmd = [sys.executable, "-m", "http.server"]
c.Spawner.notebook_dir = {str(folder)!r}
{extra_config}
""")
    log = folder / "jupyterhub.log"
    handle = log.open("wb")
    process = subprocess.Popen([str(hub), "-f", str(config)], cwd=folder, stdout=handle, stderr=subprocess.STDOUT,
                               start_new_session=True)
    server = JupyterHubServer(url=f"http://127.0.0.1:{port}", token=token, admin_token=admin_token, folder=folder,
                              log=log,
                              _process=process, _handle=handle)
    deadline = time.monotonic() + START_TIMEOUT
    with httpx.Client(timeout=2) as client:
        while True:
            if process.poll() is not None:
                server.stop()
                raise RuntimeError(f"JupyterHub exited with {process.returncode}:\n{server.tail()}")
            try:
                if client.get(f"{server.api}/").status_code == 200:
                    return server
            except httpx.TransportError:
                pass
            if time.monotonic() >= deadline:
                server.stop()
                raise RuntimeError(f"JupyterHub did not answer within {START_TIMEOUT:g} s:\n{server.tail()}")
            time.sleep(0.1)
