"""A fleet repository for the tests: the real sample's cluster folders and schema, two small local
charts in its charts folder, committed with the real ``git`` and pushed to a bare remote on disk."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.fleet import REPOSITORY_SAMPLE as SAMPLE

SCHEMA = "src/deployer/commands/validate/cluster.schema.yaml"
AUTHOR = {"GIT_AUTHOR_NAME": "Test Engineer", "GIT_AUTHOR_EMAIL": "eng@example.org",
          "GIT_COMMITTER_NAME": "Test Engineer", "GIT_COMMITTER_EMAIL": "eng@example.org"}

CHART = """apiVersion: v2
name: {name}
version: 0.1.0
"""
TEMPLATE = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-settings
data:
  greeting: {{ .Values.greeting | default "none" | quote }}
  secret: {{ .Values.secret | default "none" | quote }}
"""


def sample() -> Path:
    if not SAMPLE.is_dir():
        pytest.fail(f"the fleet repository sample is missing from the tests' data ({SAMPLE.name})")
    return SAMPLE


def git(*args: str, cwd: Path) -> str:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("GIT_")}, **AUTHOR}
    out = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {out.stderr}")
    return out.stdout.strip()


@dataclass
class FleetRepo:
    work: Path  # a checkout engineers commit in
    remote: Path  # the bare repository hubbot clones

    def commit(self, message: str, files: dict[str, str | None], *, branch: str = "main") -> str:
        """Write (or delete, for None) files on ``branch`` (created from main if new), commit and push."""
        current = git("branch", "--show-current", cwd=self.work)
        if branch != current:
            exists = git("branch", "--list", branch, cwd=self.work)
            git("checkout", "-q", *([] if exists else ["-b"]), branch, cwd=self.work)
        for name, text in files.items():
            path = self.work / name
            if text is None:
                path.unlink()
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
        git("add", "-A", cwd=self.work)
        git("commit", "-q", "-m", message, cwd=self.work)
        git("push", "-q", "origin", branch, cwd=self.work)
        sha = git("rev-parse", "HEAD", cwd=self.work)
        if branch != "main":
            git("checkout", "-q", "main", cwd=self.work)
        return sha

    def head(self, branch: str = "main") -> str:
        return git("rev-parse", f"refs/heads/{branch}", cwd=self.remote)


def make_repository(base: Path) -> FleetRepo:
    """The sample in its layout (config/clusters, the schema), with charts, as a repository."""
    work, remote = base / "infrastructure", base / "remote.git"
    shutil.copytree(sample() / "config", work / "config")
    (work / SCHEMA).parent.mkdir(parents=True)
    shutil.copy(sample() / SCHEMA, work / SCHEMA)
    for name in ("basehub", "daskhub"):
        chart = work / "helm-charts" / name
        (chart / "templates").mkdir(parents=True)
        (chart / "Chart.yaml").write_text(CHART.format(name=name))
        (chart / "templates" / "settings.yaml").write_text(TEMPLATE)
    git("init", "-q", "-b", "main", cwd=work)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "The fleet", cwd=work)
    git("init", "-q", "--bare", "-b", "main", str(remote), cwd=base)
    git("remote", "add", "origin", str(remote), cwd=work)
    git("push", "-q", "origin", "main", cwd=work)
    return FleetRepo(work, remote)
