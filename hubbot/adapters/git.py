"""The fleet repository through the real ``git``: a bare clone kept in a cache folder, fetched on
a schedule and on demand; read-only trees of the commits hubbot reads and deploys; and change
branches pushed for pull requests (never the deploy branch itself).

git runs without prompts (``GIT_TERMINAL_PROMPT=0``, ssh in batch mode) with the credentials of
the process (an ssh key, a credential helper, or a token in an https URL — redacted from every
message). Failures become :mod:`hubbot.errors` saying what to do."""

from __future__ import annotations

import asyncio
import fcntl
import io
import logging
import os
import re
import shutil
import tarfile
import tempfile
import time
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path

from hubbot.errors import NotFound, UpstreamError, UserError
from hubbot.fleet import did_you_mean

log = logging.getLogger(__name__)

# a branch, tag or commit as a user may name it (no leading dash: it must never read as an option)
REF = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_./-]{0,199}$")
SHA = re.compile(r"^[0-9a-f]{7,40}$")
KEEP_TREES = 8  # the newest trees kept; older ones go once a day has passed since they were used
_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")
_UNREACHABLE = ("could not resolve host", "connection refused", "connection timed out", "unable to access",
                "network is unreachable", "could not read from remote repository", "operation timed out")
_REFUSED = ("authentication failed", "permission denied", "could not read username", "terminal prompts disabled",
            "invalid username or password", "returned error: 403", "host key verification failed")
_MISSING = ("does not appear to be a git repository", "repository not found", "not found", "does not exist")


def redact_url(text: str) -> str:
    """``https://user:token@host/x`` -> ``https://host/x``: credentials never reach a message."""
    return _USERINFO.sub("", text)


class GitMirror:
    """A bare clone of ``url`` under ``cache`` (``repo.git``, and ``trees/<sha>`` per commit read).
    ``url`` may be a local path. One fetch or clone runs at a time, also across processes sharing
    the cache (a file lock). ``what`` names the repository in messages, ``setting`` where its URL is set."""

    def __init__(self, url: str, *, cache: Path, branch: str = "main", git: str = "git",
                 time_limit: float = 120, what: str = "the fleet repository",
                 setting: str = "repository.url") -> None:
        self.url = url
        self.what = what
        self.setting = setting
        self.cache = cache
        self.branch = branch
        self.git = git
        self.time_limit = time_limit
        self.repo = cache / "repo.git"
        self._lock = asyncio.Lock()

    @property
    def shown(self) -> str:
        return redact_url(self.url)

    async def fetch(self) -> str:
        """Clone or fetch every branch and tag; the deploy branch's commit now."""
        async with self._lock:
            await asyncio.to_thread(self.cache.mkdir, parents=True, exist_ok=True)
            fd = await asyncio.to_thread(os.open, self.cache / ".lock", os.O_CREAT | os.O_RDWR, 0o600)
            try:
                await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
                if not (self.repo / "HEAD").is_file():
                    shutil.rmtree(self.repo, ignore_errors=True)
                    await self._run("clone", "--bare", "--quiet", "--", self.url, str(self.repo), remote=True)
                await self._run("fetch", "--prune", "--quiet", "--no-tags", "origin",
                                "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*", remote=True)
            finally:
                os.close(fd)  # closing the descriptor releases the lock
        return await self.resolve(self.branch)

    async def branches(self) -> list[str]:
        out = await self._run("for-each-ref", "--format=%(refname:short)", "refs/heads/")
        return out.split()

    async def resolve(self, ref: str) -> str:
        """The full commit SHA of a branch, tag or (abbreviated) commit; NotFound with the closest
        branch when there is none."""
        if not REF.match(ref) or ".." in ref:
            raise UserError(f"'{ref[:60]}' is not a branch, tag or commit name")
        candidates = [f"refs/heads/{ref}", f"refs/tags/{ref}"] + ([ref] if SHA.match(ref) else [])
        for candidate in candidates:
            found = await self._run("rev-parse", "--verify", "--quiet", "--end-of-options", f"{candidate}^{{commit}}",
                                    check=False)
            if found:
                return found.strip()
        branches = await self.branches()
        raise NotFound(f"no branch, tag or commit '{ref}' in {self.what}{did_you_mean(ref, branches)}")

    async def subject(self, sha: str) -> str:
        """The first line of the commit's message."""
        return (await self._run("log", "-1", "--format=%s", sha)).strip()

    async def tree(self, sha: str) -> Path:
        """The files of commit ``sha`` in a read-only folder of their own (made once, kept while in use)."""
        if not re.fullmatch(r"[0-9a-f]{40}", sha):
            raise UserError(f"'{sha[:60]}' is not a full commit SHA")
        dest = self.cache / "trees" / sha
        if dest.is_dir():
            os.utime(dest)
            return dest
        data = await self._run_bytes("archive", "--format=tar", sha)
        await asyncio.to_thread(self._unpack, data, dest)
        await asyncio.to_thread(self._prune, dest.parent)
        return dest

    async def propose(self, *, base: str, branch: str, files: Mapping[str, str], message: str,
                      author: tuple[str, str]) -> str:
        """Commit ``files`` (path in the repository -> new text) on top of ``base`` and push them as
        the new branch ``branch``; the commit's SHA. Never pushes to an existing branch."""
        if not REF.match(branch) or branch == self.branch:
            raise UserError(f"'{branch}' cannot be a change branch")
        if await self._run("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", check=False):
            raise UserError(f"a branch {branch} already exists in the fleet repository")
        work = Path(tempfile.mkdtemp(prefix="hubbot-change-"))
        tree = work / "tree"
        try:
            await self._run("worktree", "add", "--detach", "--quiet", str(tree), base)
            for name, text in files.items():
                path = (tree / name).resolve()
                if not path.is_relative_to(tree.resolve()):
                    raise UserError(f"{name} is outside the repository")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
            await self._run("-C", str(tree), "add", "--", *files)
            name, email = author
            await self._run("-C", str(tree), "-c", f"user.name={name}", "-c", f"user.email={email}",
                            "commit", "--quiet", "--no-verify", "-m", message)
            sha = (await self._run("-C", str(tree), "rev-parse", "HEAD")).strip()
            await self._run("-C", str(tree), "push", "--quiet", "origin", f"HEAD:refs/heads/{branch}", remote=True)
            await self._run("update-ref", f"refs/heads/{branch}", sha)
            return sha
        finally:
            with suppress(UpstreamError, UserError):
                await self._run("worktree", "remove", "--force", str(tree))
            shutil.rmtree(work, ignore_errors=True)

    # -- running git --------------------------------------------------------------------------

    async def _run(self, *args: str, remote: bool = False, check: bool = True) -> str:
        return (await self._run_bytes(*args, remote=remote, check=check)).decode("utf-8", "replace")

    async def _run_bytes(self, *args: str, remote: bool = False, check: bool = True) -> bytes:
        where = [] if args[0] in ("clone", "-C") else ["--git-dir", str(self.repo)]
        try:
            proc = await asyncio.create_subprocess_exec(
                self.git, *where, *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, env=_environment())
        except FileNotFoundError:
            raise UserError("git is not installed: install it (Debian: apt-get install git)") from None
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout=self.time_limit)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise UpstreamError(f"git {args[0]} on {self.what} {self.shown} took longer than "
                                f"{self.time_limit:.0f} s") from None
        if proc.returncode != 0 and check:
            raise self._failure(args[0], err.decode("utf-8", "replace"), remote=remote)
        return out if proc.returncode == 0 else b""

    def _failure(self, verb: str, stderr: str, *, remote: bool) -> Exception:
        lines = [redact_url(line.strip()) for line in stderr.splitlines() if line.strip()]
        detail = next((line for line in lines if line.lower().startswith(("fatal", "error"))),
                      lines[-1] if lines else "no message")[:300]
        low = stderr.lower()
        if remote and any(word in low for word in _REFUSED):
            return UserError(f"{self.what} {self.shown} refused hubbot's credentials ({detail}); give "
                             "hubbot an ssh key or a token that may read (and push change branches to) it")
        if remote and any(word in low for word in _MISSING):
            return UserError(f"there is no repository at {self.shown} ({detail}); check {self.setting}")
        if remote and any(word in low for word in _UNREACHABLE):
            return UpstreamError(f"cannot reach {self.what} {self.shown} ({detail})")
        return UpstreamError(f"git {verb} failed on {self.what} {self.shown}: {detail}")

    @staticmethod
    def _unpack(data: bytes, dest: Path) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tree-", dir=dest.parent))
        try:
            with tarfile.open(fileobj=io.BytesIO(data)) as archive:
                archive.extractall(tmp, filter="data")
            os.replace(tmp, dest)  # whole or not at all; a racing process's identical tree is as good
        except OSError:
            if not dest.is_dir():
                raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    @staticmethod
    def _prune(trees: Path) -> None:
        found = sorted((p for p in trees.iterdir() if p.is_dir() and not p.name.startswith(".")),
                       key=lambda p: p.stat().st_mtime, reverse=True)
        day_ago = time.time() - 86400
        for old in found[KEEP_TREES:]:
            if old.stat().st_mtime < day_ago:
                shutil.rmtree(old, ignore_errors=True)


# what git needs from the process's environment to reach the remote with hubbot's credentials
# (hubbot's own secrets are never passed on)
_INHERITED = ("PATH", "HOME", "SSH_AUTH_SOCK", "GIT_SSH_COMMAND", "GIT_SSH", "GIT_CONFIG_GLOBAL", "HTTPS_PROXY",
              "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "no_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR",
              "GIT_SSL_CAINFO", "TMPDIR")


def _environment() -> dict[str, str]:
    env = {key: os.environ[key] for key in _INHERITED if key in os.environ}
    env.setdefault("PATH", os.defpath)
    env.update(GIT_TERMINAL_PROMPT="0", LC_ALL="C", GIT_ASKPASS="", SSH_ASKPASS="")
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    return env
