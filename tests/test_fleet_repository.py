"""Reading a fleet repository in the field's layout (the real sample in the tests' data, and
copies of it broken on purpose) with `hubbot config repository`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hubbot.fleet.repository import read
from tests.support.fleet import REPOSITORY_SAMPLE as SAMPLE


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    if not SAMPLE.is_dir():
        pytest.fail(f"the fleet repository sample is missing from the tests' data ({SAMPLE.name})")
    copy = tmp_path / "infrastructure"
    shutil.copytree(SAMPLE, copy)
    return copy


def check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hubbot", "config", "repository", str(path)],
                          capture_output=True, text=True, check=False)


def test_the_whole_sample_reads_and_checks_clean(sample: Path) -> None:
    found = read(sample)
    assert found.problems == () and found.schema == "src/deployer/commands/validate/cluster.schema.yaml"
    assert [c.name for c in found.clusters] == ["leap", "openscapeshub", "projectpythia-binder"]
    assert [c.provider for c in found.clusters] == ["gcp", "aws", "kubeconfig"]
    prod = next(h for h in found.clusters[1].hubs if h.name == "prod")
    assert prod.chart == "daskhub" and prod.domain == "openscapes.2i2c.cloud"
    assert prod.values == tuple(f"config/clusters/openscapeshub/{v}" for v in (
        "common.values.yaml", "enc-common.secret.values.yaml", "prod.values.yaml", "enc-prod.secret.values.yaml"))
    out = check(sample)
    assert out.returncode == 0 and "3 clusters, 7 hubs" in out.stdout, out.stdout + out.stderr


def test_a_broken_cluster_is_reported_with_its_file_and_path_and_the_rest_still_read(sample: Path) -> None:
    leap = sample / "config/clusters/leap/cluster.yaml"
    leap.write_text(leap.read_text().replace("provider: gcp", "provider: gpc"))
    (sample / "config/clusters/templates").mkdir()
    (sample / "config/clusters/templates/cluster.yaml").write_text("name: {{ cluster_name }}\n")
    found = read(sample)
    assert [c.name for c in found.clusters] == ["openscapeshub", "projectpythia-binder"]  # templates/ skipped
    first = str(found.problems[0])
    assert first.startswith("config/clusters/leap/cluster.yaml: provider: 'gpc' is not one of"), first
    out = check(sample)
    assert out.returncode == 1 and "config/clusters/leap/cluster.yaml: provider" in out.stdout
    assert "Traceback" not in out.stdout + out.stderr


def test_missing_files_and_plain_secrets_are_problems(sample: Path) -> None:
    folder = sample / "config/clusters/openscapeshub"
    (folder / "workshop.values.yaml").unlink()
    (folder / "enc-workshop.secret.values.yaml").write_text("jupyterhub:\n  hub:\n    config: {client_secret: oops}\n")
    problems = [str(p) for p in read(sample).problems]
    assert ("config/clusters/openscapeshub/cluster.yaml: hubs[2].helm_chart_values_files[1]: values file "
            "workshop.values.yaml does not exist in config/clusters/openscapeshub") in problems
    assert any("hubs[2].helm_chart_values_files[2]: enc-workshop.secret.values.yaml looks like a secret but carries "
               "no sops metadata" in p for p in problems), problems


def test_a_repository_without_cluster_folders_says_so(tmp_path: Path) -> None:
    found = read(tmp_path)
    assert [str(p) for p in found.problems] == ["config/clusters: no such folder in the repository"]
