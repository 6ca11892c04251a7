"""The real sops and age for the tests, and a stand-in of GCP KMS that refuses every key.

The binaries come from ``tools/build_sops.sh`` (``make sops``), which builds them once from the Go
module in ``tools/sops`` into a cache outside the repository. :class:`SopsTools` makes age key
pairs with ``age-keygen`` and encrypts files for them with ``sops --encrypt --age`` (given an empty
config of its own, so no ``.sops.yaml`` above the test's folder has a say), and builds the
:class:`hubbot.adapters.sops.SopsCli` that decrypts with a key file. Without the binaries a test is
skipped ("run `make sops`"); in CI (``CI=true``) it fails.

:func:`gcp_kms_refusing` serves the KMS REST API's ``cryptoKeys:decrypt`` on loopback and answers
every call 403 ``PERMISSION_DENIED`` as Google does for a caller without
``cloudkms.cryptoKeyVersions.useToDecrypt``; sops reaches it through ``SOPS_GCP_KMS_ENDPOINT`` with
a static token, so the real KMS-wrapped sample files fail as they would for hubbot's own
credentials, without leaving the machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import NoReturn

from hubbot.adapters.sops import SopsCli
from tests.support.services import missing

ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = ROOT / "tools" / "build_sops.sh"
BINARIES = ("sops", "age", "age-keygen")
_TYPES = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}


def unavailable(reason: str) -> NoReturn:
    missing(f"sops and age are needed for this test: {reason}; run `make sops`")


def bin_dir() -> Path:
    """Where ``tools/build_sops.sh`` puts (or put) the binaries of the pinned releases."""
    done = subprocess.run(["bash", str(BUILD_SCRIPT), "--print-dir"], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        unavailable(f"tools/build_sops.sh --print-dir failed: {done.stderr.strip()}")
    return Path(done.stdout.strip().splitlines()[-1])


@dataclass(frozen=True)
class AgeKey:
    identity_file: Path  # the secret key, as age-keygen wrote it
    recipient: str  # the public key, age1...


@dataclass(frozen=True)
class SopsTools:
    folder: Path

    @property
    def sops(self) -> Path:
        return self.folder / "sops"

    def new_key(self, folder: Path) -> AgeKey:
        """A fresh age key pair in ``folder`` (made if need be)."""
        folder.mkdir(parents=True, exist_ok=True)
        identity = folder / "key.txt"
        subprocess.run([str(self.folder / "age-keygen"), "-o", str(identity)], capture_output=True, check=True)
        for line in identity.read_text().splitlines():
            if line.startswith("# public key: "):
                return AgeKey(identity, line.removeprefix("# public key: ").strip())
        raise AssertionError(f"age-keygen wrote no public key line in {identity}")

    def encrypt(self, plain: Path, out: Path, *, recipient: str) -> Path:
        """``plain`` (YAML or JSON, by its suffix) encrypted with sops for the age ``recipient`` into ``out``."""
        kind = _TYPES[plain.suffix]
        config = out.parent / f".{out.name}.sops-config.yaml"
        config.write_text("{}\n")  # none of the creation rules of a .sops.yaml above the folder
        try:
            with out.open("wb") as sink:
                subprocess.run(
                    [str(self.sops), "--config", str(config), "--encrypt", "--age", recipient,
                     "--input-type", kind, "--output-type", kind, str(plain)],
                    stdout=sink, stderr=subprocess.PIPE, env={"PATH": os.defpath}, check=True,
                )
        finally:
            config.unlink()
        return out

    def cli(self, key: AgeKey | None = None, **env: str) -> SopsCli:
        """hubbot's adapter running this sops with ``key`` (SOPS_AGE_KEY_FILE) and ``env`` only."""
        given = {"SOPS_AGE_KEY_FILE": str(key.identity_file)} if key is not None else {}
        return SopsCli(str(self.sops), env={**given, **env})


def tools() -> SopsTools:
    folder = bin_dir()
    absent = [name for name in BINARIES if not os.access(folder / name, os.X_OK)]
    if absent:
        unavailable(f"{', '.join(absent)} not built in {folder}")
    return SopsTools(folder)


@dataclass
class KmsStandIn:
    url: str
    decrypt_calls: list[str] = field(default_factory=list)  # the key resource names sops asked to use

    @property
    def env(self) -> dict[str, str]:
        """What sops needs to call this stand-in with a token of its own (no credential discovery)."""
        return {"GOOGLE_OAUTH_ACCESS_TOKEN": "test-access-token", "SOPS_GCP_KMS_ENDPOINT": self.url,
                "SOPS_GCP_KMS_CLIENT_TYPE": "rest"}


@contextmanager
def gcp_kms_refusing() -> Iterator[KmsStandIn]:
    """A loopback stand-in of Cloud KMS (REST) that denies every decrypt, as GCP answers a caller
    whose credentials lack ``cloudkms.cryptoKeyVersions.useToDecrypt`` on the key."""
    calls: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path = self.path.split("?", 1)[0]
            if not (path.startswith("/v1/") and path.endswith(":decrypt")):
                self.send_error(404)
                return
            key = path.removeprefix("/v1/").removesuffix(":decrypt")
            calls.append(key)
            body = json.dumps({"error": {
                "code": 403, "status": "PERMISSION_DENIED",
                "message": f"Permission 'cloudkms.cryptoKeyVersions.useToDecrypt' denied on resource '{key}' "
                           "(or it may not exist).",
            }}).encode()
            self.send_response(403)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield KmsStandIn(f"http://127.0.0.1:{server.server_address[1]}", calls)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
