"""Decrypting sops-encrypted files by running the ``sops`` executable.

A file is decrypted into a file of its caller's choosing (created readable by this user only),
never onto a pipe hubbot reads, and nothing hubbot logs or raises quotes what it holds: messages
name the file, the keys its sops metadata lists, and at most one line of sops' own reason (sops'
error output names keys and services, never the decrypted text).

sops is given a small environment: what the caller passes, or else only the variables sops and
the credential chains it uses read (``SOPS_*``, ``GOOGLE_*``, ``AWS_*``, ``AZURE_*``, ``VAULT_*``,
GnuPG's, proxies, ``HOME``, ``PATH``), never hubbot's own settings and secrets.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from hubbot.errors import ToolFailed, UpstreamError, UserError
from hubbot.fleet.repository import has_sops_metadata

# sops' exit status when no key listed in the file could decrypt its data key (codes.CouldNotRetrieveKey)
_NO_KEY = 128
_STDERR_BYTES = 65536
_REASON_CHARS = 300
_KEY_CHARS = 200
_TYPES = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".env": "dotenv", ".ini": "ini"}
_INHERITED_PREFIXES = ("SOPS_", "GOOGLE_", "CLOUDSDK_", "GCE_METADATA_", "AWS_", "AZURE_", "MSI_", "IDENTITY_",
                       "VAULT_", "GNUPG", "GPG_")
_INHERITED = ("PATH", "HOME", "XDG_CONFIG_HOME", "TMPDIR", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy",
              "http_proxy", "no_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR")
INSTALL_HINT = "run `make sops` in a hubbot checkout, or set HUBBOT_SOPS to a sops binary"


class SopsCli:
    """Runs ``executable`` (sops v3). ``env`` is sops' whole environment when given (tests pass
    ``SOPS_AGE_KEY_FILE`` there); ``time_limit`` bounds one decryption, in seconds."""

    def __init__(self, executable: str, *, env: Mapping[str, str] | None = None, time_limit: float = 60) -> None:
        self.executable = executable
        self.env = dict(env) if env is not None else None
        self.time_limit = time_limit

    async def decrypt(self, path: Path, dest: Path, *, name: str | None = None) -> None:
        """Decrypt the sops file ``path`` into ``dest`` (mode 0600, replaced if it exists).
        ``name`` is how messages call the file (by default its path)."""
        shown = name or str(path)
        _check(path, shown)
        kind = _TYPES.get(path.suffix.lower(), "binary")
        _private_file(dest)
        args = ["--decrypt", "--input-type", kind, "--output-type", kind, "--output", str(dest), str(path)]
        try:
            code, stderr = await self._run(args, shown)
        except BaseException:
            _remove(dest)
            raise
        if code == 0:
            return
        _remove(dest)  # sops leaves it empty (it writes only once decryption succeeded)
        if code == _NO_KEY:
            raise UserError(_no_key_message(shown, path, stderr))
        first = next((line.strip() for line in stderr.splitlines() if line.strip()), "no message")
        raise ToolFailed(f"sops could not decrypt {shown} (exit {code}): {_cut(first, _REASON_CHARS)}",
                         output=_cut(stderr.strip(), 4 * _REASON_CHARS))

    async def _run(self, args: list[str], shown: str) -> tuple[int, str]:
        try:
            proc = await asyncio.create_subprocess_exec(
                self.executable, *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE, env=self._environment(), start_new_session=True,
            )
        except (FileNotFoundError, PermissionError, NotADirectoryError):
            raise UserError(f"sops is not installed (could not run {self.executable}): {INSTALL_HINT}.") from None
        assert proc.stderr is not None
        kept = bytearray()
        try:
            async with asyncio.timeout(self.time_limit):
                while chunk := await proc.stderr.read(_STDERR_BYTES):
                    kept += chunk[: _STDERR_BYTES - len(kept)]
                code = await proc.wait()
        except TimeoutError:
            await _stop(proc)
            raise UpstreamError(f"sops did not finish decrypting {shown} within {self.time_limit:g} s.") from None
        except BaseException:  # cancelled: sops must not outlive the call
            await _stop(proc)
            raise
        return code, kept.decode("utf-8", "replace")

    def _environment(self) -> dict[str, str]:
        if self.env is not None:
            env = dict(self.env)
        else:
            env = {key: value for key, value in os.environ.items()
                   if key in _INHERITED or key.startswith(_INHERITED_PREFIXES)}
        env.setdefault("PATH", os.defpath)  # for gpg, which sops runs for PGP keys
        return env


def required_keys(path: Path) -> list[str]:
    """Every key that could decrypt the sops file at ``path``, in words ("GCP KMS key projects/…",
    "age key age1…"), in the order its metadata lists them; empty when it has none or is unreadable."""
    return list(dict.fromkeys(key for group in _key_groups(_metadata(path) or {}) for key in group))


def _check(path: Path, shown: str) -> None:
    if not path.is_file():
        raise UserError(f"{shown} does not exist.")
    if not _has_metadata(path):
        raise UserError(f"Refusing {shown}: it carries no sops metadata, so it is not sops-encrypted "
                        "(it may be a leaked plaintext secret: encrypt it with sops).")


def _has_metadata(path: Path) -> bool:
    """Whether ``path`` carries sops metadata: a ``sops`` section in YAML and JSON (and in sops'
    binary format, a JSON document whatever the file's name), ``sops_*`` entries in dotenv, a
    ``[sops]`` section in INI."""
    kind = _TYPES.get(path.suffix.lower())
    if kind not in ("dotenv", "ini"):
        return has_sops_metadata(path) or _metadata(path) is not None
    try:
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    except (OSError, UnicodeDecodeError):
        return False
    return "[sops]" in lines if kind == "ini" else any(line.startswith("sops_mac=") for line in lines)


def _metadata(path: Path) -> Mapping[str, Any] | None:
    """The file's ``sops`` section; None when it has none or cannot be read."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() in (".yaml", ".yml"):
            data = yaml.safe_load(text)
        else:  # sops writes JSON with tab indents, which PyYAML refuses
            try:
                data = json.loads(text)
            except ValueError:
                data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError):
        return None
    meta = data.get("sops") if isinstance(data, dict) else None
    return meta if isinstance(meta, dict) else None


# sops' key types in the order it lists them, with how each names its key in the file's metadata
def _aws(key: Mapping[str, Any]) -> str:
    role = f" (assuming role {key['role']})" if isinstance(key.get("role"), str) and key["role"] else ""
    return f"AWS KMS key {key['arn']}{role}"


_DESCRIBE: tuple[tuple[str, tuple[str, ...], Callable[[Mapping[str, Any]], str]], ...] = (
    ("kms", ("arn",), _aws),
    ("gcp_kms", ("resource_id",), lambda k: f"GCP KMS key {k['resource_id']}"),
    ("hckms", ("key_id",), lambda k: f"HuaweiCloud KMS key {k['key_id']}"),
    ("azure_kv", ("vault_url", "name", "version"),
     lambda k: f"Azure Key Vault key {k['vault_url'].rstrip('/')}/keys/{k['name']}/{k['version']}"),
    ("hc_vault", ("vault_address", "engine_path", "key_name"),
     lambda k: f"HashiCorp Vault key {k['vault_address'].rstrip('/')}/v1/{k['engine_path'].strip('/')}"
               f"/keys/{k['key_name']}"),
    ("age", ("recipient",), lambda k: f"age key {k['recipient']}"),
    ("pgp", ("fp",), lambda k: f"PGP key {k['fp']}"),
)


def _describe(group: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    for field, needed, describe in _DESCRIBE:
        entries = group.get(field)
        for entry in entries if isinstance(entries, list) else ():
            if isinstance(entry, dict) and all(isinstance(entry.get(n), str) and entry[n] for n in needed):
                text = _cut(" ".join(describe(entry).split()), _KEY_CHARS)
                if text not in found:
                    found.append(text)
    return found


def _key_groups(meta: Mapping[str, Any]) -> list[list[str]]:
    """The keys of each key group: the file's ``key_groups``, or its top-level keys as one group."""
    groups = meta.get("key_groups")
    listed = [_describe(g) for g in groups if isinstance(g, dict)] if isinstance(groups, list) else []
    top = _describe(meta)
    return [g for g in [top, *listed] if g]


def _no_key_message(shown: str, path: Path, stderr: str) -> str:
    meta = _metadata(path) or {}
    groups = _key_groups(meta)
    keys = list(dict.fromkeys(key for group in groups for key in group))
    threshold = meta.get("shamir_threshold")
    if len(groups) > 1 and isinstance(threshold, int) and threshold > 1:
        parts = "; ".join(f"group {i}: {' or '.join(group)}" for i, group in enumerate(groups, 1))
        needs = f"it needs keys of {threshold} of its {len(groups)} key groups ({parts})"
        which = "cannot use enough of them"
    elif len(keys) == 1:
        needs, which = f"it needs {keys[0]}", "cannot use it"
    elif keys:
        needs, which = f"it needs one of {', '.join(keys)}", "can use none of them"
    else:
        needs, which = "its sops metadata names no key hubbot knows", "cannot decrypt it"
    reason = _reason(stderr)
    return f"Cannot decrypt {shown}: {needs} (hubbot's credentials {which})." + (f" sops: {reason}" if reason else "")


def _reason(stderr: str) -> str:
    """The first key's failure from sops' report, on one line: sops prints each as ``- | text``
    with ``| more`` continuation lines under the key it tried."""
    lines: list[str] = []
    for raw in stderr.splitlines():
        line = raw.strip()
        if line.startswith("- |"):
            if lines:
                break
            lines.append(line[3:].strip())
        elif lines and line.startswith("|"):
            lines.append(line[1:].strip())
        elif lines:
            break
    return _cut(" ".join(" ".join(lines).split()), _REASON_CHARS)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _private_file(dest: Path) -> None:
    """Create ``dest`` readable by this user only before sops writes it (sops keeps an existing
    file's mode, and would otherwise create it 0666 less the umask)."""
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def _remove(dest: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        dest.unlink()


async def _stop(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # sops holds no state worth a graceful stop; gpg goes with it
    await proc.wait()
