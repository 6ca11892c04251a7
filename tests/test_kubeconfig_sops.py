"""A cluster reached by the fleet repository's sops-encrypted kubeconfig: decrypted with the real
sops into the process's private folder (once per version of the file), removed on close; without
sops, or without the key, a clear message."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from hubbot.adapters.kube import KubeClusters
from hubbot.errors import UserError
from hubbot.fleet import parse_fleet
from tests.support.sops import AgeKey, SopsTools

KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: js2, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: deployer, user: {token: js2-deployer-token-0123456789}}]
contexts: [{name: js2, context: {cluster: js2, user: deployer}}]
current-context: js2
"""


def fleet_with(path: Path) -> object:
    return parse_fleet({"providers": {"js2": {"kind": "none"}}, "clusters": [
        {"name": "js2", "provider": "js2", "kubernetes": {"kind": "kubeconfig", "path": str(path)}}]})


@pytest.fixture
def encrypted(tmp_path: Path, sops_tools: SopsTools, age_key: AgeKey) -> Path:
    """The kubeconfig as a fleet repository keeps it: sops-encrypted for the test's age key."""
    plain = tmp_path / "kubeconfig.yaml"
    plain.write_text(KUBECONFIG)
    return sops_tools.encrypt(plain, tmp_path / "enc-deployer-credentials.secret.yaml", recipient=age_key.recipient)


async def test_an_encrypted_kubeconfig_is_decrypted_privately_once(encrypted: Path, sops_tools: SopsTools,
                                                                   age_key: AgeKey) -> None:
    assert "js2-deployer-token" not in encrypted.read_text()
    clusters = KubeClusters(fleet_with(encrypted), sops=sops_tools.cli(age_key))  # type: ignore[arg-type]
    target = await clusters.target("js2")
    assert target.kubeconfig is not None and target.kubeconfig != str(encrypted)
    decrypted = Path(target.kubeconfig)
    assert "js2-deployer-token-0123456789" in decrypted.read_text()
    assert stat.S_IMODE(decrypted.stat().st_mode) == 0o600 and stat.S_IMODE(decrypted.parent.stat().st_mode) == 0o700
    assert (await clusters.target("js2")).kubeconfig == target.kubeconfig  # decrypted once
    clusters.close()
    assert not decrypted.parent.exists()


async def test_without_sops_or_the_key_the_message_says_what_is_missing(
        tmp_path: Path, encrypted: Path, sops_tools: SopsTools, age_key: AgeKey) -> None:
    with pytest.raises(UserError, match="the kubeconfig of cluster 'js2' is sops-encrypted and hubbot has no sops"):
        await KubeClusters(fleet_with(encrypted)).target("js2")  # type: ignore[arg-type]
    other = sops_tools.new_key(tmp_path / "other")
    with pytest.raises(UserError, match=f"age key {age_key.recipient}") as caught:
        await KubeClusters(fleet_with(encrypted), sops=sops_tools.cli(other)).target("js2")  # type: ignore[arg-type]
    assert "js2-deployer-token" not in str(caught.value)
