"""A stand-in for the helm executable, for testing :mod:`hubbot.adapters.helm` without a cluster.

:func:`install_fake_helm` writes an executable ``helm`` wrapper that runs this file with the test's
Python and points it at a JSON state file (env ``FAKE_HELM_STATE``). The state's ``mode`` picks the
behaviour:

``ok``
    ``upgrade`` prints the release as JSON with a revision that grows with each call; ``status``
    prints it without its chart, as real helm does, and ``get metadata`` its metadata (or
    ``Error: release: not found`` and exit 1 before the first upgrade); ``rollback``
    succeeds; ``get manifest`` prints the stored manifest; ``template`` prints a fixed manifest.
``fail``
    prints a few lines, then ``Error: UPGRADE FAILED: ...`` and exits 1.
``hang``
    starts a child in the same process group, prints both PIDs on stderr and sleeps far past any test's limit
    (ignoring SIGTERM when the state has ``"ignore_term": true``).
``flood``
    prints about 5 MB of lines on stdout and stderr, plus one very long line, then fails.
``slow``
    sleeps ``delay`` seconds from the state, then behaves like ``ok``.
``barrier``
    waits until ``parties`` runs (from the state) are running at once, then behaves like ``ok``; a
    run that waits ``barrier_timeout`` seconds (default 30) without them fails, so calls made one at
    a time fail instead of passing slowly.
``echo-secret``
    prints every ``--values`` file (and the base64 of each value in it) and fails.

Every run is first checked by the real helm (``"real_helm"`` in the state, set by default from
:func:`tests.support.deploy_env.real_helm`): the same command line with ``--help`` added, which
helm parses flag by flag — an unknown verb, an unknown flag, or a flag given a value it cannot
take fails there as it would against a cluster. (``--help`` skips the check of how many
positional arguments a verb takes; the tests of argv shapes cover those.)

With ``"only": [verbs]`` in the state (e.g. ``["upgrade"]``, ``["get manifest"]``), the mode applies
to those commands only and every other command behaves as in ``ok``.

Every run appends its arguments to the state's ``calls``, and for a ``--kubeconfig`` file, what it
found in it to ``kubeconfigs``; ``envs`` gets the names of the environment variables it was given.
Runs may overlap, so the state is changed under an exclusive lock on a file next to it.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

MANIFEST = """---
# Source: testhub/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: hub-config
data:
  ANNOUNCEMENT: "hello"
---
# Source: testhub/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hub
spec:
  replicas: 1
"""
_KEPT: dict[str, Any] = {"revision": 0, "release": None, "calls": [], "kubeconfigs": [], "envs": []}
_VALUE_FLAGS = {
    "--namespace", "--repo", "--version", "--values", "--timeout", "--output", "--kubeconfig", "--kube-context",
}


def install_fake_helm(folder: Path, *, mode: str, state: Path, **settings: Any) -> Path:
    """Write ``folder/helm`` running the stand-in in ``mode`` with ``state``; its path.

    ``settings`` (``delay``, ``ignore_term``, ``only``, ``release``...) replace those of an earlier
    install; the state file keeps its release, revision and recorded calls.
    """
    old = read_state(state) if state.exists() else {}
    kept = {key: old.get(key, empty) for key, empty in _KEPT.items()}
    settings.setdefault("real_helm", _real_helm())
    state.write_text(json.dumps({**kept, "mode": mode, **settings}))
    wrapper = folder / "helm"
    script = Path(__file__).resolve()
    wrapper.write_text(
        f"#!/bin/sh\nFAKE_HELM_STATE={shlex.quote(str(state))}\nexport FAKE_HELM_STATE\n"
        f'exec {shlex.quote(sys.executable)} {shlex.quote(str(script))} "$@"\n'
    )
    wrapper.chmod(0o755)
    return wrapper


def _real_helm() -> str | None:
    from tests.support.deploy_env import real_helm

    return real_helm()


def _refused_by_real_helm(real: str | None, argv: list[str]) -> str | None:
    """What real helm says about this command line (None: it accepts it)."""
    if not real:
        return None
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME")}
    checked = subprocess.run([real, *argv, "--help"], capture_output=True, text=True, env=env, timeout=60, check=False)
    return None if checked.returncode == 0 else (checked.stderr.strip() or f"helm exited {checked.returncode}")


def read_state(state: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(state.read_text())
    return result


@contextlib.contextmanager
def _locked(state: Path) -> Iterator[dict[str, Any]]:
    """The state, written back when the block ends; other runs wait meanwhile."""
    with open(f"{state}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = read_state(state)
        yield data
        state.write_text(json.dumps(data))


def _options(args: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    positional: list[str] = []
    options: dict[str, list[str]] = {}
    rest = iter(args)
    for arg in rest:
        if arg in _VALUE_FLAGS:
            options.setdefault(arg, []).append(next(rest))
        elif arg.startswith("-"):
            options.setdefault(arg, [])
        else:
            positional.append(arg)
    return positional, options


def _kubeconfig(path: str) -> dict[str, Any]:
    """What a kubeconfig (JSON or YAML, as users write them) holds for its first cluster and user."""
    config = yaml.safe_load(Path(path).read_text())
    cluster = config["clusters"][0]["cluster"]
    return {
        "path": path, "mode": oct(os.stat(path).st_mode & 0o777), "server": cluster["server"],
        "ca_data": cluster.get("certificate-authority-data"), "token": config["users"][0]["user"].get("token"),
    }


def _not_found() -> int:
    print("Error: release: not found", file=sys.stderr)
    return 1


def _ok(positional: list[str], options: dict[str, list[str]], state: Path) -> int:
    verb = positional[0]
    namespace = options.get("--namespace", ["default"])[-1]
    with _locked(state) as data:
        release = data["release"]
        if verb == "version":
            print("v3.17.3+fake")
        elif verb == "template":
            print(MANIFEST, end="")
        elif verb == "upgrade":
            print("a warning helm prints on stderr", file=sys.stderr)
            data["revision"] += 1
            version = options.get("--version", ["0.1.0"])[-1]
            data["release"] = release = {
                "name": positional[1], "namespace": namespace, "version": data["revision"],
                "info": {"status": "deployed", "last_deployed": "2025-01-02T03:04:05.678Z", "notes": ""},
                "chart": {"metadata": {"name": "testhub", "version": version, "appVersion": "5.2.1"}},
                "config": {}, "manifest": MANIFEST,
            }
            print(json.dumps(release))
        elif release is None or release["name"] != positional[-1 if verb == "get" else 1]:
            return _not_found()
        elif verb == "status":  # as real helm prints it: without the chart
            print(json.dumps({k: v for k, v in release.items() if k != "chart"}))
        elif verb == "get" and positional[1] == "metadata":
            chart = release["chart"]["metadata"]
            print(json.dumps({"name": release["name"], "chart": chart["name"], "version": chart["version"],
                              "appVersion": chart["appVersion"], "namespace": release["namespace"],
                              "revision": release["version"], "status": release["info"]["status"],
                              "deployedAt": release["info"]["last_deployed"]}))
        elif verb == "get":
            print(release["manifest"], end="")
        elif verb == "rollback":
            data["revision"] += 1
            release["version"] = data["revision"]
            print("Rollback was a success! Happy Helming!")
        else:
            print(f"Error: unknown command {verb!r} for fake helm", file=sys.stderr)
            return 1
    return 0


def _hang(ignore_term: bool) -> int:
    if ignore_term:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # The child inherits the pipes and stays in this process group: the adapter must end it too.
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    # on stderr, which the adapter reads line by line for every verb (it keeps some verbs' stdout whole)
    print(f"fake helm pid {os.getpid()} child {child.pid}", file=sys.stderr, flush=True)
    time.sleep(600)
    return 0


def _flood() -> int:
    line = "level=debug msg=" + "x" * 90
    for number in range(25_000):
        print(f"{number} {line}")
        print(f"{number} {line}", file=sys.stderr)
    print("y" * 200_000)
    print("Error: flood of output", file=sys.stderr)
    return 1


def _echo_secret(options: dict[str, list[str]]) -> int:
    texts = [Path(path).read_text() for path in options.get("--values", [])]
    for text in texts:
        for line in text.splitlines():
            print(f"values: {line}")  # what a debug run of helm would print, on both streams
            print(f"values: {line}", file=sys.stderr)
            key, colon, value = line.partition(":")
            if colon and value.strip():
                encoded = base64.b64encode(value.strip().encode()).decode()
                print(f"{key.strip()}: {encoded}", file=sys.stderr)
    print(f"Error: UPGRADE FAILED: cannot patch with values {texts!r}", file=sys.stderr)
    return 1


def main(argv: list[str]) -> int:
    state = Path(os.environ["FAKE_HELM_STATE"])
    positional, options = _options(argv)
    with _locked(state) as data:
        data["calls"].append(argv)
        data["envs"].append(sorted(os.environ))
        if "--kubeconfig" in options and Path(options["--kubeconfig"][0]).is_file():
            data["kubeconfigs"].append(_kubeconfig(options["--kubeconfig"][0]))
        settings = dict(data)
    refused = _refused_by_real_helm(settings.get("real_helm"), argv)
    if refused is not None:
        with _locked(state) as data:
            data.setdefault("refused", []).append(argv)
        print(refused, file=sys.stderr)
        return 1
    verb = " ".join(positional[:2]) if positional[:1] == ["get"] else " ".join(positional[:1])
    only = settings.get("only")
    mode = settings["mode"] if only is None or verb in only else "ok"
    if mode == "fail":
        print('Release "hub" does not exist. Installing it now.')
        print("coalesce.go:237: warning: skipped value for hub.config: Not a table.", file=sys.stderr)
        print("coalesce.go:298: warning: destination for hub.extraEnv is a table. Ignoring non-table value (<nil>)",
              file=sys.stderr)
        print("Error: UPGRADE FAILED: cannot patch \"hub\" with kind Deployment: field is immutable & <no value>",
              file=sys.stderr)
        return 1
    if mode == "hang":
        return _hang(bool(settings.get("ignore_term")))
    if mode == "flood":
        return _flood()
    if mode == "echo-secret":
        return _echo_secret(options)
    if mode == "slow":
        time.sleep(float(settings.get("delay", 0)))
    limit = float(settings.get("barrier_timeout", 30))
    if mode == "barrier" and not _rendezvous(state, int(settings["parties"]), limit):
        print(f"Error: fake helm barrier: fewer than {settings['parties']} runs at once", file=sys.stderr)
        return 1
    return _ok(positional, options, state)


def _rendezvous(state: Path, parties: int, limit: float) -> bool:
    """Arrive, then wait until ``parties`` runs have arrived (polling the shared state)."""
    with _locked(state) as data:
        data["arrived"] = data.get("arrived", 0) + 1
        data["most_at_once"] = max(data.get("most_at_once", 0), data["arrived"])
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with _locked(state) as data:  # read under the lock: another run may be writing it
            if data.get("most_at_once", 0) >= parties:
                return True
        time.sleep(0.01)
    return False


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
