from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.support.jupyterhub_server import JupyterHubServer
    from tests.support.kube_control_plane import ControlPlane
    from tests.support.kube_node import TestNode
    from tests.support.prometheus_server import Binaries, PrometheusServer
    from tests.support.sops import AgeKey, SopsTools
    from tests.support.usage_quotas import QuotaLibrary

# Bolt and the cloud SDKs silently read some of these; no test may see the developer's.
_PREFIXES = ("HUBBOT_", "SLACK_", "AWS_", "GOOGLE_", "GCLOUD_", "OS_", "KUBECONFIG")


# Settings of the tests themselves, e.g. HUBBOT_TEST_HELM; HUBBOT_KUBE_CACHE, HUBBOT_SOPS_CACHE,
# HUBBOT_JUPYTERHUB_CACHE and HUBBOT_USAGE_QUOTAS_CACHE say where `make kube` put the control plane's binaries,
# `make sops` sops and age, `make jupyterhub` the hub and `make usage-quotas` the quota library.
_KEEP = ("HUBBOT_TEST_", "HUBBOT_KUBE_CACHE", "HUBBOT_SOPS_CACHE", "HUBBOT_JUPYTERHUB_CACHE",
         "HUBBOT_USAGE_QUOTAS_CACHE")


def _clean_environ() -> None:
    for key in list(os.environ):
        if key.startswith(_PREFIXES) and not key.startswith(_KEEP):
            del os.environ[key]


_clean_environ()
# Never let an AWS SDK look for instance credentials over the network.
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in list(os.environ):
        if key.startswith(_PREFIXES) and key != "AWS_EC2_METADATA_DISABLED" and not key.startswith(_KEEP):
            monkeypatch.delenv(key)
    yield


@pytest.fixture
def fleet_file(tmp_path: Path) -> Path:
    from tests.support.fleet import FLEET_YAML

    path = tmp_path / "fleet.yaml"
    path.write_text(FLEET_YAML)
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    import shutil
    import tempfile

    from tests.support.postgres import postgres_server

    # Not under pytest's tmp dir: that is private to root, and the server runs as postgres.
    base = Path(tempfile.mkdtemp(prefix="hubbot-pg-"))
    try:
        with postgres_server(base / "pg") as url:
            yield url
    finally:
        shutil.rmtree(base, ignore_errors=True)


_db_counter = iter(range(1, 1_000_000))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each kind hubbot supports."""
    return new_database(request.param, request, tmp_path)


def new_database(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    import psycopg

    server: str = request.getfixturevalue("postgres_url")
    name = f"t{next(_db_counter)}"
    plain = server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def jupyterhub_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterHubServer]:
    """A real JupyterHub with configurable-http-proxy on loopback (installed by `make jupyterhub`),
    with a ``hubbot`` service token; one per test session."""
    from tests.support.jupyterhub_server import start

    server = start(tmp_path_factory.mktemp("jupyterhub"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def usage_quotas_python() -> Path:
    """The Python 3.12+ of jupyterhub-usage-quotas' own virtualenv (built by `make usage-quotas`)."""
    from tests.support.usage_quotas import installed_python

    return installed_python()


@pytest.fixture(scope="session")
def usage_quotas(usage_quotas_python: Path) -> Iterator[QuotaLibrary]:
    """The real jupyterhub-usage-quotas reading a hub's Helm values as z2jh's hub does; one per test session."""
    from tests.support.usage_quotas import QuotaLibrary

    with QuotaLibrary(usage_quotas_python) as library:
        yield library


@pytest.fixture(scope="session")
def prometheus_binaries() -> Binaries:
    """``prometheus`` and ``promtool`` (Debian's prometheus package, or HUBBOT_TEST_PROMETHEUS and
    HUBBOT_TEST_PROMTOOL); a test without them is skipped, or fails in CI."""
    from tests.support.prometheus_server import binaries

    return binaries()


@pytest.fixture
def start_prometheus(prometheus_binaries: Binaries,
                     tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., PrometheusServer]]:
    """Start a private Prometheus over OpenMetrics texts backfilled with promtool:
    ``start_prometheus(text, ..., lookback_delta="5m")``. Each is stopped after the test."""
    from tests.support.prometheus_server import start

    servers: list[PrometheusServer] = []

    def starter(*texts: str, lookback_delta: str = "5m", basic_auth: tuple[str, str] | None = None
                ) -> PrometheusServer:
        server = start(tmp_path_factory.mktemp("prometheus"), *texts, bins=prometheus_binaries,
                       lookback_delta=lookback_delta, basic_auth=basic_auth)
        servers.append(server)
        return server

    try:
        yield starter
    finally:
        for server in servers:
            server.stop()


@pytest.fixture(scope="session")
def sops_tools() -> SopsTools:
    """The real sops, age and age-keygen (built by `make sops`); a test without them is skipped, or
    fails in CI."""
    from tests.support.sops import tools

    return tools()


@pytest.fixture
def age_key(sops_tools: SopsTools, tmp_path: Path) -> AgeKey:
    """A fresh age key pair, made by age-keygen in the test's folder."""
    return sops_tools.new_key(tmp_path / "age")


@pytest.fixture(scope="session")
def kube_control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """A real etcd, kube-apiserver and kube-controller-manager on loopback (built by `make kube`)."""
    from tests.support.kube_control_plane import start

    plane = start(tmp_path_factory.mktemp("kube"))
    try:
        yield plane
    finally:
        plane.stop()


@pytest.fixture(scope="session")
def kube_node(kube_control_plane: ControlPlane) -> TestNode:
    """The control plane's one node, registered Ready; it binds pods and writes their status."""
    from tests.support.kube_node import TestNode

    node = TestNode(kube_control_plane.api_client())
    node.register()
    return node


_namespace_counter = iter(range(1, 1_000_000))


@pytest.fixture
def kube_namespace(kube_control_plane: ControlPlane, kube_node: TestNode) -> Iterator[str]:
    """A fresh namespace of the control plane, with its default service account; deleted after the test."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    from tests.support.kube_control_plane import wait_until

    core = client.CoreV1Api(kube_control_plane.api_client())
    name = f"t{next(_namespace_counter)}-{os.urandom(3).hex()}"
    core.create_namespace({"metadata": {"name": name, "labels": {"hubbot-test": "true"}}})

    def has_account() -> bool:
        try:
            core.read_namespaced_service_account("default", name)
        except ApiException as e:
            if e.status == 404:
                return False
            raise
        return True

    wait_until(has_account, 30, f"service account default in namespace {name}")
    try:
        yield name
    finally:
        try:
            core.delete_namespace(name)
        except ApiException as e:
            if e.status != 404:
                raise
        # No kubelet confirms that pods stopped: remove them, or the namespace stays Terminating.
        kube_node.reap(name, all_pods=True)
