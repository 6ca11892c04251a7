"""A real Kubernetes control plane for the tests: etcd, kube-apiserver and kube-controller-manager.

The binaries come from ``tools/build_kube.sh`` (``make kube``), which builds them once from the Go
module in ``tools/kube`` into a cache outside the repository. :func:`start` runs them on free
loopback ports in a folder of its own:

* a CA, a serving certificate for 127.0.0.1 and client certificates (the admin and the controller
  manager are in ``system:masters``), plus a static token file with the admin's token;
* a service-account signing key pair, RBAC authorization and the NamespaceLifecycle, ServiceAccount
  and ResourceQuota admission plugins;
* the controllers that turn Deployments into ReplicaSets and Pods, keep quotas' usage, delete
  namespaces' contents and collect garbage. No scheduler and no kubelet run: ``tests.support.kube_node``
  binds pods to a registered node and writes their status as a kubelet would.

Each process logs to a file in that folder; if start-up fails, the error carries their last lines.
Without the binaries, a test is skipped ("run `make kube`"); in CI (``CI=true``) it fails.
"""

from __future__ import annotations

import base64
import os
import secrets
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NoReturn

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support.services import free_port, missing
from tests.support.tls import authority, client_pems, server_files

ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = ROOT / "tools" / "build_kube.sh"
BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager")
ISSUER = "https://kubernetes.default.svc.cluster.local"
SERVICE_RANGE = "10.96.0.0/16"  # addresses the API server hands Services; nothing is ever sent to them

# No kubelet heartbeats, so the node lifecycle controller (and the taint eviction that follows it) would
# mark the test node NotReady and its pods not ready after 50 s: those two stay off.
CONTROLLERS = (
    "namespace-controller", "garbage-collector-controller", "resourcequota-controller",
    "serviceaccount-controller", "serviceaccount-token-controller", "root-ca-certificate-publisher-controller",
    "deployment-controller", "replicaset-controller", "statefulset-controller", "daemonset-controller",
    "job-controller", "cronjob-controller", "replicationcontroller-controller", "disruption-controller",
    "endpoints-controller", "endpointslice-controller", "pod-garbage-collector-controller",
    "ttl-after-finished-controller", "clusterrole-aggregation-controller",
)
ADMISSION = ("NamespaceLifecycle", "ServiceAccount", "LimitRanger", "ResourceQuota")
START_TIMEOUT = 90.0


def wait_until(predicate: Callable[[], Any], timeout: float = 30.0, message: str = "condition",
               interval: float = 0.1) -> Any:
    """Poll ``predicate`` until it returns something truthy (returned) or ``timeout`` seconds pass (fail)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout:g}s waiting for {message}")
        time.sleep(interval)


def unavailable(reason: str) -> NoReturn:
    missing(f"a Kubernetes control plane is needed for this test: {reason}; run `make kube`")


def bin_dir() -> Path:
    """Where ``tools/build_kube.sh`` puts (or put) the binaries of the pinned release."""
    done = subprocess.run(["bash", str(BUILD_SCRIPT), "--print-dir"], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        unavailable(f"tools/build_kube.sh --print-dir failed: {done.stderr.strip()}")
    return Path(done.stdout.strip().splitlines()[-1])


def binaries() -> dict[str, Path]:
    folder = bin_dir()
    missing = [name for name in BINARIES if not os.access(folder / name, os.X_OK)]
    if missing:
        unavailable(f"{', '.join(missing)} not built in {folder}")
    return {name: folder / name for name in BINARIES}



def _tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty)"


@dataclass
class _Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    handle: IO[bytes]


@dataclass
class ControlPlane:
    """A running control plane. ``kubeconfig`` holds the admin token (context ``admin``); the same
    file also has a client-certificate user in ``system:masters`` (context ``admin-cert``)."""

    folder: Path
    server: str
    token: str
    ca_pem: bytes
    kubeconfig: Path
    release: str
    started_in: float = 0.0
    _processes: list[_Process] = field(default_factory=list, repr=False)

    def kubeconfig_with_token(self, token: str, name: str = "token") -> Path:
        """A kubeconfig for this server (and its CA) that presents ``token``."""
        path = self.folder / f"kubeconfig-{name}-{secrets.token_hex(4)}.yaml"
        path.write_text(yaml.safe_dump(_kubeconfig(self.server, self.ca_pem, {"admin": {"token": token}})))
        path.chmod(0o600)
        return path

    def wrong_token_kubeconfig(self) -> Path:
        return self.kubeconfig_with_token("not-" + secrets.token_hex(16), name="wrong")

    def api_client(self, context: str = "admin", config_file: Path | None = None) -> Any:
        """A ``kubernetes.client.ApiClient`` configured from the kubeconfig (or ``config_file``)."""
        from kubernetes import config

        return config.new_client_from_config(config_file=str(config_file or self.kubeconfig), context=context)

    def logs(self) -> dict[str, Path]:
        return {p.name: p.log for p in self._processes}

    def log_tails(self, lines: int = 25) -> str:
        return "\n".join(f"--- {p.name} ({p.log}) ---\n{_tail(p.log, lines)}" for p in self._processes)

    def rss_kib(self) -> dict[str, int]:
        """Resident memory of each process (from /proc), for reports."""
        sizes: dict[str, int] = {}
        for p in self._processes:
            try:
                for line in Path(f"/proc/{p.popen.pid}/status").read_text().splitlines():
                    if line.startswith(("VmRSS:", "VmHWM:")):
                        sizes[f"{p.name}.{line.split(':')[0]}"] = int(line.split()[1])
            except OSError:
                continue
        return sizes

    def stop(self) -> None:
        """Stop the controller manager, then the API server, then etcd (each still has its store then)."""
        for p in reversed(self._processes):
            if p.popen.poll() is None:
                p.popen.terminate()
                try:
                    p.popen.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.popen.kill()
                    p.popen.wait(timeout=5)
            p.handle.close()


def _kubeconfig(server: str, ca_pem: bytes, users: dict[str, dict[str, str]]) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "hubbot-test", "cluster": {
            "server": server, "certificate-authority-data": base64.b64encode(ca_pem).decode()}}],
        "users": [{"name": name, "user": user} for name, user in users.items()],
        "contexts": [{"name": name, "context": {"cluster": "hubbot-test", "user": name}} for name in users],
        "current-context": next(iter(users)),
    }


def _cert_user(cert_key: tuple[bytes, bytes]) -> dict[str, str]:
    return {"client-certificate-data": base64.b64encode(cert_key[0]).decode(),
            "client-key-data": base64.b64encode(cert_key[1]).decode()}


def _write(path: Path, data: bytes | str, private: bool = False) -> Path:
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    if private:
        path.chmod(0o600)
    return path


def start(folder: Path, timeout: float = START_TIMEOUT) -> ControlPlane:
    """Start etcd, kube-apiserver and kube-controller-manager; return once the API server is ready
    and the controllers work (the ``default`` namespace has its ``default`` service account)."""
    began = time.monotonic()
    bins = binaries()
    stamp = bins["etcd"].parent.parent / "RELEASE"  # written by tools/build_kube.sh
    release = stamp.read_text().strip() if stamp.exists() else "unknown release"
    folder.mkdir(parents=True, exist_ok=True)
    pki = folder / "pki"
    pki.mkdir(exist_ok=True)

    ca = authority("hubbot-test-kubernetes-ca")
    ca_file = _write(pki / "ca.crt", ca.pem)
    serving_cert, serving_key = server_files(ca, pki)
    sa_key = ec.generate_private_key(ec.SECP256R1())
    sa_private = _write(pki / "sa.key", sa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()), private=True)
    sa_public = _write(pki / "sa.pub", sa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    token = secrets.token_hex(24)
    tokens = _write(pki / "tokens.csv", f'{token},admin,admin-uid,"system:masters"\n', private=True)
    admin_cert = client_pems(ca, "admin", ("system:masters",))
    # With --use-service-account-credentials=false every controller acts as the manager itself.
    manager_cert = client_pems(ca, "system:kube-controller-manager", ("system:masters",))

    etcd_client, etcd_peer, api_port = free_port(), free_port(), free_port()
    server = f"https://127.0.0.1:{api_port}"
    kubeconfig = folder / "kubeconfig.yaml"
    _write(kubeconfig, yaml.safe_dump(_kubeconfig(server, ca.pem, {
        "admin": {"token": token}, "admin-cert": _cert_user(admin_cert)})), private=True)
    manager_kubeconfig = _write(folder / "controller-manager.kubeconfig", yaml.safe_dump(
        _kubeconfig(server, ca.pem, {"controller-manager": _cert_user(manager_cert)})), private=True)

    plane = ControlPlane(folder=folder, server=server, token=token, ca_pem=ca.pem, kubeconfig=kubeconfig,
                         release=release)

    def launch(name: str, *args: str) -> _Process:
        log = folder / f"{name}.log"
        handle = log.open("wb")
        popen = subprocess.Popen([str(bins[name]), *args], stdin=subprocess.DEVNULL, stdout=handle,
                                 stderr=subprocess.STDOUT, cwd=folder, start_new_session=True)
        proc = _Process(name, popen, log, handle)
        plane._processes.append(proc)
        return proc

    def failed(what: str) -> RuntimeError:
        tails = plane.log_tails()  # before stopping, which adds the shutdown's lines
        plane.stop()
        return RuntimeError(f"Kubernetes control plane ({release}) did not start: {what}\n{tails}")

    deadline = began + timeout

    def poll(what: str, check: Callable[[], bool]) -> None:
        while not check():
            for p in plane._processes:
                if p.popen.poll() is not None:
                    raise failed(f"{p.name} exited with code {p.popen.returncode} while waiting for {what}")
            if time.monotonic() > deadline:
                raise failed(f"timed out after {timeout:g}s waiting for {what}")
            time.sleep(0.1)

    try:
        etcd = launch("etcd", "--name=hubbot-test", f"--data-dir={folder / 'etcd'}", f"--listen-client-url=http://127.0.0.1:{etcd_client}",
                      f"--listen-peer-url=http://127.0.0.1:{etcd_peer}", "--unsafe-no-fsync")
        poll("etcd", lambda: b"etcd ready" in etcd.log.read_bytes())

        launch(
            "kube-apiserver",
            f"--etcd-servers=http://127.0.0.1:{etcd_client}",
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", f"--secure-port={api_port}",
            f"--cert-dir={pki}", f"--tls-cert-file={serving_cert}", f"--tls-private-key-file={serving_key}",
            f"--client-ca-file={ca_file}", f"--token-auth-file={tokens}",
            "--authorization-mode=RBAC",
            f"--enable-admission-plugins={','.join(ADMISSION)}",
            f"--service-account-issuer={ISSUER}", f"--service-account-key-file={sa_public}",
            f"--service-account-signing-key-file={sa_private}",
            f"--service-cluster-ip-range={SERVICE_RANGE}",
            # Endpoints may not hold loopback addresses, and nothing reaches the API server through a Service.
            "--endpoint-reconciler-type=none",
            "--profiling=false", "--enable-priority-and-fairness=false",
        )
        ssl_context = ssl.create_default_context(cadata=ca.pem.decode())

        def ready() -> bool:
            request = urllib.request.Request(f"{server}/readyz", headers={"Authorization": f"Bearer {token}"})
            try:
                with urllib.request.urlopen(request, timeout=2, context=ssl_context) as response:
                    return bool(response.status == 200)
            except (urllib.error.URLError, OSError):
                return False

        poll("kube-apiserver /readyz", ready)

        launch(
            "kube-controller-manager",
            f"--kubeconfig={manager_kubeconfig}", "--leader-elect=false", "--use-service-account-credentials=false",
            f"--controllers={','.join(CONTROLLERS)}",
            f"--service-account-private-key-file={sa_private}", f"--root-ca-file={ca_file}",
            "--secure-port=0", "--profiling=false",
            "--concurrent-deployment-syncs=5", "--concurrent-replicaset-syncs=5", "--kube-api-qps=100",
            "--kube-api-burst=200",
        )
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        core = client.CoreV1Api(plane.api_client())

        def has_default_account() -> bool:
            try:
                core.read_namespaced_service_account("default", "default")
            except ApiException as e:
                if e.status == 404:
                    return False
                raise
            return True

        poll("the controller manager (service account default/default)", has_default_account)
    except BaseException:
        plane.stop()
        raise
    plane.started_in = time.monotonic() - began
    return plane
