"""The values files of one helm run, as helm is given them.

For each run :func:`prepared` makes one private folder (mode 0700), only when the run needs one,
and removes it when the run ends, however it ends (failure, time out, cancellation). It holds
hubbot's values overlay and the decrypted form of every values file that carries sops metadata;
each file keeps its place in the ``--values`` order: the hub's values files, hubbot's overlay,
then the secret ones. Every string of 4+ characters in a secret values file or a decrypted one,
and its base64 form, is returned for masking in helm's output.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hubbot.adapters.sops import INSTALL_HINT, SopsCli
from hubbot.domain import ReleasePlan
from hubbot.errors import UserError
from hubbot.fleet.repository import has_sops_metadata


@dataclass(frozen=True, slots=True)
class ValuesFiles:
    args: tuple[str, ...]  # helm's ``--values FILE`` arguments, in order
    secrets: tuple[str, ...]  # every string helm's output must not show


def existing(base: Path, name: str, what: str = "values file", *, directory_ok: bool = False) -> Path:
    """``name`` resolved against ``base``; a :class:`UserError` when there is no such file."""
    path = (base / name).absolute()
    if not (path.is_file() or (directory_ok and path.is_dir())):
        raise UserError(f"The {what} {name} does not exist; check the path in the fleet config.")
    return path


@asynccontextmanager
async def prepared(
    plan: ReleasePlan, *, base: Path, sops: SopsCli | None, scratch: Path | None = None
) -> AsyncIterator[ValuesFiles]:
    """The plan's values files ready for one helm run; ``scratch`` is where the run's private
    folder is made (by default the system's temp dir)."""
    run = _Run(base, sops, scratch)
    try:
        args: list[str] = []
        for name in plan.values:
            args += ["--values", await run.file(name, secret=False)]
        if plan.overlay:
            args += ["--values", run.write("overlay.yaml", plan.overlay)]
        for name in plan.secret_values:
            args += ["--values", await run.file(name, secret=True)]
        yield ValuesFiles(tuple(args), tuple(run.secrets + [_b64(s) for s in run.secrets]))
    finally:
        run.remove()


class _Run:
    def __init__(self, base: Path, sops: SopsCli | None, scratch: Path | None) -> None:
        self.base = base
        self.sops = sops
        self.scratch = scratch
        self.secrets: list[str] = []
        self._folder: Path | None = None
        self._count = 0

    def folder(self) -> Path:
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="hubbot-values-", dir=self.scratch))  # mode 0700
        return self._folder

    def _next(self, name: str) -> Path:
        self._count += 1
        return self.folder() / f"{self._count:02d}-{name}"

    def write(self, name: str, text: str) -> str:
        path = self._next(name)
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as file:
            file.write(text)
        return str(path)

    async def file(self, name: str, *, secret: bool) -> str:
        what = "secret values file" if secret else "values file"
        path = existing(self.base, name, what)
        if not has_sops_metadata(path):
            if secret:
                self.secrets += _strings(path, name, what)
            return str(path)
        if self.sops is None:
            raise UserError(f"The {what} {name} is sops-encrypted, and hubbot has no sops configured: "
                            f"{INSTALL_HINT}.")
        dest = self._next(path.name)
        await self.sops.decrypt(path, dest, name=name)
        self.secrets += _strings(dest, name, f"decrypted {what}")
        return str(dest)

    def remove(self) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)


def _strings(path: Path, name: str, what: str) -> list[str]:
    """Every string of 4+ characters in the YAML (or, by its suffix, JSON) file at ``path``."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
        # sops writes JSON indented with tabs, which PyYAML does not take
        return _leaves(json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text))
    except (OSError, UnicodeDecodeError):
        raise UserError(f"The {what} {name} could not be read.") from None
    # The messages name the line only: the parsers' own may quote the secret text.
    except json.JSONDecodeError as exc:
        raise UserError(f"The {what} {name} is not valid JSON (line {exc.lineno}).") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise UserError(f"The {what} {name} is not valid YAML{where}.") from None


def _leaves(data: Any) -> list[str]:
    if isinstance(data, dict):
        return [leaf for value in data.values() for leaf in _leaves(value)]
    if isinstance(data, list):
        return [leaf for value in data for leaf in _leaves(value)]
    return [data] if isinstance(data, str) and len(data) >= 4 else []


def _b64(text: str) -> str:
    """As the string appears in a rendered Secret's ``data``."""
    return base64.b64encode(text.encode()).decode()
