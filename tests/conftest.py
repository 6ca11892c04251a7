from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Bolt and the cloud SDKs silently read some of these; no test may see the developer's.
_PREFIXES = ("HUBBOT_", "SLACK_", "AWS_", "GOOGLE_", "GCLOUD_", "OS_", "KUBECONFIG")


def _clean_environ() -> None:
    for key in list(os.environ):
        if key.startswith(_PREFIXES):
            del os.environ[key]


_clean_environ()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in list(os.environ):
        if key.startswith(_PREFIXES):
            monkeypatch.delenv(key)
    yield


@pytest.fixture
def fleet_file(tmp_path: Path) -> Path:
    from tests.support.fleet import FLEET_YAML

    path = tmp_path / "fleet.yaml"
    path.write_text(FLEET_YAML)
    return path
