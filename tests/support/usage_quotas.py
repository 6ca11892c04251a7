"""The quota policy as jupyterhub-usage-quotas itself reads it from a hub's Helm values.

hubbot writes policies under z2jh's ``hub.config.UsageQuotaManager`` (values path
``<root>jupyterhub.hub.config.UsageQuotaManager``; root is ``""`` for a basehub chart and
``"basehub."`` for a daskhub chart). The hub applies ``hub.config`` section by section
(``c[section].update(sub)``) and the library validates it when its ``UsageQuotaManager`` is made.
:class:`QuotaLibrary` does exactly that with the real library, in its own virtualenv (Python 3.12+;
0.2.1 does not import on 3.11) built by `make usage-quotas`, through usage_quotas_probe.py: JSON
lines over the process's stdin and stdout. Importing the library takes seconds, so one process
answers many readings.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, NoReturn

from tests.support.services import missing

ROOT = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name("usage_quotas_probe.py")
GIB_HOURS = 1024**3  # byte-hours in one GiB-hour, the unit of a memory limit such as "500G"


def unavailable(reason: str) -> NoReturn:
    missing(f"jupyterhub-usage-quotas is needed for this test: {reason}; "
            "run `make usage-quotas` (it needs Python 3.12 or newer)")


def install_dir() -> Path:
    out = subprocess.run(["bash", str(ROOT / "tools" / "build_usage_quotas.sh"), "--print-dir"],
                         capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


def installed_python() -> Path:
    """The interpreter of the library's virtualenv; skips (fails under CI=true) when it is not built."""
    installed = install_dir()
    python = installed / "bin" / "python"
    if not (installed / ".complete").is_file() or not os.access(python, os.X_OK):
        unavailable(f"no install at {installed}")
    return python


@dataclass(frozen=True)
class Quota:
    """One policy applying to a user, as ``UsageQuotaManager.resolve_policy`` returns it."""

    resource: str  # "memory" or "cpu"
    limit: str | int | float  # as written ("500G", 200); a number in ``unit`` when "sum" added limits
    pure_limit: int | float  # byte-hours (memory) or CPU-hours (cpu)
    unit: str  # "K", "M", "G", "T" or "" for a plain number
    window: int | float  # days
    groups: tuple[str, ...]  # the groups whose policies merged into this one; () for the "empty" fallback


@dataclass(frozen=True)
class Decision:
    """``UsageQuotaManager.get_output`` for one quota at a given usage."""

    resource: str
    window: int | float
    allowed: bool
    message: str | None  # the library's "quota exceeded" message when not allowed


@dataclass(frozen=True)
class LibraryReading:
    """What the library made of a hub's values: refused (``ok`` false, with its ``error``) or read."""

    ok: bool
    error: str = ""
    stage: str = ""  # when refused: "config" (UsageQuotaManager raised) or "resolve" (resolve_policy raised)
    policy: tuple[Mapping[str, Any], ...] = ()  # the manager's policy list as it holds it
    fallback: Mapping[str, Any] = field(default_factory=dict)  # its scope_fallback_strategy
    resolved: Mapping[str, tuple[Quota, ...]] = field(default_factory=dict)  # by username
    decisions: Mapping[str, tuple[Decision, ...]] = field(default_factory=dict)  # by username
    warnings: tuple[str, ...] = ()  # e.g. "Config option `polcy` not recognized by `UsageQuotaManager`. ..."

    @property
    def first_error_line(self) -> str:
        return self.error.splitlines()[0] if self.error else ""


def chart_values(values: Mapping[str, Any], root: str) -> Mapping[str, Any]:
    """The z2jh chart's own values inside a hub's merged values: ``<root>jupyterhub``."""
    if root and not root.endswith("."):
        raise ValueError(f"a values root is empty or ends with a dot, not {root!r}")
    node: Any = values
    for key in f"{root}jupyterhub".split("."):
        if not isinstance(node, Mapping) or key not in node:
            return {}
        node = node[key]
    return node if isinstance(node, Mapping) else {}


def _quota(raw: Mapping[str, Any]) -> Quota:
    return Quota(resource=raw["resource"], limit=raw["limit"], pure_limit=raw["pure_limit"], unit=raw["unit"],
                 window=raw["window"], groups=tuple(raw.get("scope", {}).get("group", ())))


def _reading(raw: Mapping[str, Any]) -> LibraryReading:
    if not raw["ok"]:
        return LibraryReading(ok=False, error=raw["error"], stage=raw["stage"])
    return LibraryReading(
        ok=True,
        policy=tuple(raw["policy"]),
        fallback=raw["fallback"],
        resolved={name: tuple(_quota(q) for q in quotas) for name, quotas in raw["resolved"].items()},
        decisions={name: tuple(Decision(resource=d["resource"], window=d["window"], allowed=d["allow"],
                                        message=d["message"]) for d in found)
                   for name, found in raw["decisions"].items()},
        warnings=tuple(raw["warnings"]),
    )


class QuotaLibrary:
    """The probe running in the library's virtualenv; ``read`` as often as needed, then ``close``."""

    def __init__(self, python: Path) -> None:
        # The library reads JUPYTERHUB_USAGE_QUOTAS_* for its defaults: only PATH gets through.
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (open while the probe runs; close())
        self._process = subprocess.Popen([str(python), "-I", str(PROBE)], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=self._stderr, text=True,
                                         env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})

    def read(self, values: Mapping[str, Any], *, root: str, users: Sequence[tuple[str, Sequence[str]]] = (),
             usage: Mapping[str, Mapping[str, float]] | None = None) -> LibraryReading:
        """What the library reads from a hub's merged Helm ``values`` (z2jh chart at ``<root>jupyterhub``).

        ``users`` are (username, groups) pairs to resolve; ``usage`` maps a username to the usage of
        each resource (byte-hours for memory, CPU-hours for cpu) to decide a launch at.
        """
        request = {"values": chart_values(values, root), "users": [[name, list(groups)] for name, groups in users],
                   "usage": usage or {}}
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None and stdout is not None
        try:
            stdin.write(json.dumps(request) + "\n")
            stdin.flush()
            line = stdout.readline()
        except BrokenPipeError:
            line = ""
        if not line:
            raise RuntimeError(f"the usage quotas probe stopped ({self._process.wait(timeout=10)}):\n{self._log()}")
        reading: Mapping[str, Any] = json.loads(line)
        return _reading(reading)

    def _log(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-4000:]

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=5)
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._stderr.close()

    def __enter__(self) -> QuotaLibrary:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()


def read_quotas(python: Path, values: Mapping[str, Any], *, root: str,
                users: Sequence[tuple[str, Sequence[str]]] = (),
                usage: Mapping[str, Mapping[str, float]] | None = None) -> LibraryReading:
    """One reading in a process of its own (see :meth:`QuotaLibrary.read`)."""
    with QuotaLibrary(python) as library:
        return library.read(values, root=root, users=users, usage=usage)
