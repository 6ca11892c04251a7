"""The :class:`hubbot.ports.Helm` port, by running the ``helm`` executable.

Each call runs helm in a process group of its own with a minimal environment (no ``KUBECONFIG``,
none of hubbot's secrets) and private ``HELM_*_HOME`` folders. Memory stays bounded however much
helm prints: only the last lines are kept, and stdout whole (up to :attr:`HelmCli.max_stdout`)
only where hubbot parses it. Cluster tokens go into a short-lived kubeconfig file, never onto the
command line; all output shown or raised is redacted, the plan's secret values included.
Values files that carry sops metadata are decrypted for the length of one run
(:mod:`hubbot.adapters.values_files`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import tempfile
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hubbot.adapters.chart_dependencies import missing_dependencies
from hubbot.adapters.sops import SopsCli
from hubbot.adapters.values_files import existing, prepared
from hubbot.domain import KubeTarget, ReleaseInfo, ReleasePlan
from hubbot.errors import ToolFailed, UserError
from hubbot.ports import LineSink
from hubbot.redact import Redactor

TAIL_LINES = 40
LINE_CHARS = 500
# Lines are read this far and redacted before the cut to LINE_CHARS, so no secret is cut in half.
_LINE_BYTES = 8192
_CHUNK = 65536
_RULES = {  # what may go on helm's command line
    "release name": (re.compile(r"[a-z0-9]([-a-z0-9]{0,51}[a-z0-9])?"), "lowercase letters, digits, -; at most 53"),
    "namespace": (re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"), "lowercase letters, digits, -; at most 63"),
    "": (re.compile(r"[^\s-][^\s]{0,199}"), "one word that does not start with '-'"),
}
_NOT_FOUND = "release: not found"
# What helm prints when the API server answers 401 to the credentials it was given.
_REFUSED = "the server has asked for the client to provide credentials"
# Proxy and CA settings helm needs to reach chart repositories; nothing else is inherited.
_INHERITED = ("PATH", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "no_proxy",
              "SSL_CERT_FILE", "SSL_CERT_DIR")


class _Overflow(Exception):
    """helm printed more on stdout than :attr:`HelmCli.max_stdout`."""


@dataclass
class _Output:
    """What one helm run printed: the redacted tail of its lines and, if kept, its raw stdout."""

    redact: Callable[[str], str]
    on_line: LineSink | None
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))
    stdout: bytearray = field(default_factory=bytearray)

    def line(self, raw: bytes) -> None:
        text = raw.decode("utf-8", "replace").rstrip()
        if not text.strip():
            return
        text = self.redact(text)
        if len(text) > LINE_CHARS:
            text = text[: LINE_CHARS - 1] + "…"
        self.tail.append(text)
        if self.on_line is not None:
            self.on_line(text)

    def excerpt(self) -> str:
        return "\n".join(self.tail)


class HelmCli:
    """Runs ``executable`` (helm v3). Relative chart and values paths in a :class:`ReleasePlan`
    resolve against ``base``; ``home`` holds helm's config, cache and data folders (by default a
    private folder under the system temp dir); ``redact`` is applied to all output after the
    plan's own secrets have been masked. ``sops`` decrypts the values files that carry sops
    metadata (without it such a file is refused), into a private folder under ``scratch`` (by
    default the system temp dir; a tmpfs keeps decrypted values off disk)."""

    max_stdout = 8 * 1024 * 1024
    # helm upgrade catches SIGTERM and marks the release failed; killing it outright could leave
    # the release stuck in pending-upgrade, which blocks every later upgrade.
    kill_grace = 5.0

    def __init__(
        self, executable: str, *, base: Path, redact: Callable[[str], str] = lambda s: s, home: Path | None = None,
        sops: SopsCli | None = None, scratch: Path | None = None,
    ) -> None:
        self.executable = executable
        self.base = base
        self._redact = redact
        self.home = home or Path(tempfile.gettempdir()) / f"hubbot-helm-{os.getuid()}"
        self._updating: dict[str, asyncio.Lock] = {}
        self.sops = sops
        self.scratch = scratch

    async def template(self, plan: ReleasePlan, *, time_limit: float) -> str:
        """The chart rendered locally, as helm printed it (not redacted: it is data, not a message)."""
        source = self._source(plan, create_namespace=False)
        await self._dependencies(plan, time_limit=time_limit)
        async with prepared(plan, base=self.base, sops=self.sops, scratch=self.scratch) as values:
            args = ["template", *source, *values.args]
            out = await self._helm("template", args, time_limit=time_limit, secrets=values.secrets, capture=True)
        return (out or b"").decode("utf-8", "replace")

    async def upgrade(
        self, plan: ReleasePlan, *, target: KubeTarget, time_limit: float, on_line: LineSink
    ) -> ReleaseInfo:
        """``helm upgrade --install``, creating the namespace; the release helm reports."""
        source = self._source(plan, create_namespace=True)
        await self._dependencies(plan, time_limit=time_limit)
        async with prepared(plan, base=self.base, sops=self.sops, scratch=self.scratch) as values:
            args = ["upgrade", "--install", *source, *values.args]
            args += ["--timeout", _seconds(time_limit), "--output", "json"]
            out = await self._helm(
                "upgrade", args, time_limit=time_limit, target=target, secrets=values.secrets, on_line=on_line,
                capture=True,
            )
        return _release("upgrade", out or b"")

    async def rollback(
        self, name: str, namespace: str, *, revision: int | None, target: KubeTarget, time_limit: float,
        on_line: LineSink,
    ) -> None:
        """``helm rollback`` to ``revision``, or to the previous one when None."""
        if revision is not None and revision < 1:
            raise UserError(f"Revision {revision} does not exist: Helm numbers revisions from 1.")
        args = ["rollback", _word(name, "release name"), *([str(revision)] if revision is not None else [])]
        args += ["--namespace", _word(namespace, "namespace"), "--timeout", _seconds(time_limit)]
        await self._helm("rollback", args, time_limit=time_limit, target=target, on_line=on_line)

    async def status(self, name: str, namespace: str, *, target: KubeTarget, time_limit: float) -> ReleaseInfo | None:
        """The release as ``helm get metadata`` reports it, or None when there is no such release.
        (``helm status`` leaves the chart out of its JSON, and prints the values, secrets included.)"""
        args = ["get", "metadata", _word(name, "release name"), "--namespace", _word(namespace, "namespace")]
        args += ["--output", "json"]
        out = await self._helm("get metadata", args, time_limit=time_limit, target=target, capture=True,
                               absent_ok=True)
        return None if out is None else _metadata(out)

    async def manifest(self, name: str, namespace: str, *, target: KubeTarget, time_limit: float) -> str | None:
        """The live release's manifests, or None when there is no such release."""
        args = ["get", "manifest", _word(name, "release name"), "--namespace", _word(namespace, "namespace")]
        out = await self._helm("get manifest", args, time_limit=time_limit, target=target, capture=True, absent_ok=True)
        return None if out is None else out.decode("utf-8", "replace")

    # -- arguments ---------------------------------------------------------------------------

    def _source(self, plan: ReleasePlan, *, create_namespace: bool) -> list[str]:
        """``NAME CHART --namespace NS [--create-namespace] [--repo R] [--version V]``."""
        if plan.repo is None and not plan.chart.startswith("oci://"):
            chart = str(existing(self.base, plan.chart, "chart", directory_ok=True))
        else:
            chart = _word(plan.chart, "chart")
        args = [_word(plan.name, "release name"), chart, "--namespace", _word(plan.namespace, "namespace")]
        args += ["--create-namespace"] if create_namespace else []
        args += ["--repo", _word(plan.repo, "chart repository")] if plan.repo is not None else []
        args += ["--version", _word(plan.version, "chart version")] if plan.version is not None else []
        return args

    async def _dependencies(self, plan: ReleasePlan, *, time_limit: float) -> None:
        """A local chart whose dependencies are not in its ``charts/`` folder gets them first with
        ``helm dependency update``, as the field's deployer does — a ``file://`` dependency (daskhub's
        basehub) before the chart that needs it. One update of a folder at a time."""
        if plan.repo is not None or plan.chart.startswith("oci://"):
            return
        chart = existing(self.base, plan.chart, "chart", directory_ok=True)
        for folder in missing_dependencies(chart):
            lock = self._updating.setdefault(str(folder), asyncio.Lock())
            async with lock:
                if folder in missing_dependencies(folder, recurse=False):
                    await self._helm("dependency update", ["dependency", "update", str(folder)],
                                     time_limit=time_limit)

    # -- running -----------------------------------------------------------------------------

    async def _helm(
        self, verb: str, args: list[str], *, time_limit: float, target: KubeTarget | None = None,
        secrets: Sequence[str] = (), on_line: LineSink | None = None, capture: bool = False,
        absent_ok: bool = False,
    ) -> bytes | None:
        """Run helm; its stdout (if ``capture``), or None if ``absent_ok`` and the release does not exist.
        ``secrets`` (and the target's token) are masked in all it prints."""
        secrets = list(secrets)
        if target is not None and target.token:
            secrets.append(target.token)
        masked = Redactor(secrets)
        out = _Output(lambda text: self._redact(masked(text)), on_line)
        with _credentials(target) as kube:
            code = await self._run(verb, [*args, *kube], time_limit=time_limit, out=out, capture=capture)
        if code == 0:
            return bytes(out.stdout)
        if absent_ok and any(_NOT_FOUND in line for line in out.tail):
            return None
        if target is not None and any(_REFUSED in line for line in out.tail):
            raise ToolFailed(f"helm {verb} failed: cluster {target.cluster} refused hubbot's credentials (401)",
                             output=out.excerpt())
        raise ToolFailed(out.redact(f"helm {verb} failed (exit {code})"), output=out.excerpt())

    async def _run(self, verb: str, args: list[str], *, time_limit: float, out: _Output, capture: bool) -> int:
        env = self._environment()
        try:
            proc = await asyncio.create_subprocess_exec(
                self.executable, *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, env=env, start_new_session=True,
            )
        except (FileNotFoundError, PermissionError, NotADirectoryError):
            raise UserError(
                out.redact(f"Could not run helm ({self.executable}): install helm v3 (in a hubbot checkout, "
                           "`make helm`) or set HUBBOT_HELM to the helm executable.")
            ) from None
        assert proc.stdout is not None and proc.stderr is not None
        pipes = (proc.stdout, proc.stderr)
        stdout = _collect(proc.stdout, out.stdout, self.max_stdout) if capture else _lines(proc.stdout, out.line)
        readers = [asyncio.ensure_future(stdout), asyncio.ensure_future(_lines(proc.stderr, out.line))]
        try:
            async with asyncio.timeout(time_limit):
                # asyncio.wait, unlike gather, leaves the readers running when the time is up, so
                # they keep draining the pipes while helm shuts down.
                done, _ = await asyncio.wait(readers, return_when=asyncio.FIRST_EXCEPTION)
                for reader in done:
                    reader.result()
                return await proc.wait()
        except (TimeoutError, _Overflow) as exc:
            await self._stop(proc, readers, pipes)
            what = f"printed more than {self.max_stdout // 2**20} MiB" if isinstance(exc, _Overflow) else (
                f"did not finish within {time_limit:g} s")
            raise ToolFailed(out.redact(f"helm {verb} {what}"), output=out.excerpt()) from None
        except BaseException:  # cancelled, or on_line raised: helm must not outlive the call
            await self._stop(proc, readers, pipes)
            raise

    async def _stop(
        self, proc: asyncio.subprocess.Process, readers: Sequence[asyncio.Future[None]],
        pipes: Sequence[asyncio.StreamReader],
    ) -> None:
        """End helm's process group (SIGTERM, then SIGKILL after :attr:`kill_grace`) and its readers."""
        _signal_group(proc.pid, signal.SIGTERM)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), self.kill_grace)
        finally:
            _signal_group(proc.pid, signal.SIGKILL)  # also whatever helm started that is still there
            # Read every pipe to its end, also where a reader gave up early, or it would stay open.
            rest = [asyncio.ensure_future(_drain(pipe)) if _failed(reader) else reader
                    for reader, pipe in zip(readers, pipes, strict=True)]
            await asyncio.wait(rest, timeout=self.kill_grace)
            for task in rest:
                task.cancel()
        await proc.wait()

    def _environment(self) -> dict[str, str]:
        home = self.home
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        if home.stat().st_uid != os.getuid():
            raise UserError(f"The helm home folder {home} belongs to another user; configure a private one.")
        env = {key: os.environ[key] for key in _INHERITED if key in os.environ}
        env.setdefault("PATH", os.defpath)
        env["HOME"] = str(home)  # so helm never falls back to the host user's ~/.kube/config
        for part in ("config", "cache", "data"):
            (home / part).mkdir(mode=0o700, exist_ok=True)
            env[f"HELM_{part.upper()}_HOME"] = str(home / part)
        return env


async def _lines(stream: asyncio.StreamReader, emit: Callable[[bytes], None]) -> None:
    """Pass each line of ``stream`` to ``emit``, keeping at most ``_LINE_BYTES`` of any line."""
    partial = bytearray()
    while chunk := await stream.read(_CHUNK):
        *complete, rest = chunk.split(b"\n")
        for piece in complete:
            partial += piece[: _LINE_BYTES - len(partial)]
            emit(bytes(partial))
            partial.clear()
        partial += rest[: _LINE_BYTES - len(partial)]
    if partial:
        emit(bytes(partial))


def _failed(reader: asyncio.Future[None]) -> bool:
    return reader.done() and not reader.cancelled() and reader.exception() is not None


async def _drain(pipe: asyncio.StreamReader) -> None:
    while await pipe.read(_CHUNK):
        pass


async def _collect(stream: asyncio.StreamReader, into: bytearray, limit: int) -> None:
    while chunk := await stream.read(_CHUNK):
        if len(into) + len(chunk) > limit:
            raise _Overflow
        into += chunk


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


@contextlib.contextmanager
def _credentials(target: KubeTarget | None) -> Iterator[list[str]]:
    """The helm arguments that reach ``target``; a token goes into a 0600 kubeconfig in a private
    folder that is removed when the block ends, however it ends."""
    if target is None:
        yield []
    elif target.server and target.token:
        if not target.server.startswith(("https://", "http://")):
            raise UserError(f"The API server of cluster {target.cluster} is not an http(s) URL.")
        cluster: dict[str, str] = {"server": target.server}
        if target.ca_data:
            cluster["certificate-authority-data"] = target.ca_data
        config = {
            "apiVersion": "v1", "kind": "Config", "current-context": "hubbot",
            "clusters": [{"name": "hubbot", "cluster": cluster}],
            "users": [{"name": "hubbot", "user": {"token": target.token}}],
            "contexts": [{"name": "hubbot", "context": {"cluster": "hubbot", "user": "hubbot"}}],
        }
        folder = tempfile.mkdtemp(prefix="hubbot-kube-")
        try:
            path = os.path.join(folder, "config")
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
                json.dump(config, file)  # JSON is YAML, and quotes every value safely
            yield ["--kubeconfig", path]
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    elif target.kubeconfig:
        context = ["--kube-context", _word(target.context, "kube context")] if target.context else []
        yield ["--kubeconfig", target.kubeconfig, *context]
    else:
        raise UserError(f"hubbot has no credentials for cluster {target.cluster} (neither a token nor a kubeconfig).")


def _release(verb: str, stdout: bytes) -> ReleaseInfo:
    try:
        data = json.loads(stdout)
        info = data.get("info") or {}
        meta = (data.get("chart") or {}).get("metadata") or {}
        return ReleaseInfo(
            name=str(data["name"]), namespace=str(data["namespace"]), revision=int(data["version"]),
            status=str(info.get("status") or ""),
            chart=f"{meta['name']}-{meta.get('version', '')}" if meta.get("name") else "",
            app_version=str(meta.get("appVersion") or ""), updated=str(info.get("last_deployed") or ""),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        # No excerpt: the release JSON holds the user-supplied values, secrets included.
        raise ToolFailed(f"helm {verb} succeeded but printed a release hubbot could not read") from None


def _metadata(stdout: bytes) -> ReleaseInfo:
    try:
        data = json.loads(stdout)
        return ReleaseInfo(
            name=str(data["name"]), namespace=str(data["namespace"]), revision=int(data["revision"]),
            status=str(data.get("status") or ""),
            chart=f"{data['chart']}-{data.get('version', '')}" if data.get("chart") else "",
            app_version=str(data.get("appVersion") or ""), updated=str(data.get("deployedAt") or ""),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ToolFailed("helm get metadata succeeded but printed a release hubbot could not read") from None


def _word(value: str, what: str) -> str:
    pattern, rule = _RULES.get(what) or _RULES[""]
    if not pattern.fullmatch(value):
        raise UserError(f"{value!r} is not a valid {what} ({rule}).")
    return value


def _seconds(time_limit: float) -> str:
    return f"{max(1, int(time_limit))}s"
