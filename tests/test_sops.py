"""Decrypting sops files with the real sops (files encrypted here for age keys made here; the real
KMS-wrapped files of the fleet repository sample against a GCP KMS stand-in that refuses every key),
and helm runs whose values files include sops files."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from hubbot.adapters.helm import HelmCli
from hubbot.adapters.memory import MemoryJobs
from hubbot.adapters.providers import deploy_ports, sops_cli
from hubbot.adapters.sops import SopsCli, required_keys
from hubbot.deploys.manifests import parse_manifests
from hubbot.domain import KubeTarget, ReleasePlan
from hubbot.errors import ToolFailed, UpstreamError, UserError
from hubbot.fleet import load_fleet
from hubbot.redact import MASK, Redactor
from hubbot.settings import Settings
from tests.support.deploy_env import real_helm
from tests.support.fake_helm import install_fake_helm, read_state
from tests.support.fleet import REPOSITORY_SAMPLE
from tests.support.sops import AgeKey, SopsTools, gcp_kms_refusing

CHART = Path(__file__).resolve().parent / "data" / "charts" / "testhub"
SECRET = "b-api-token-0f9e8d7c6b5a"
SECRET_B64 = base64.b64encode(SECRET.encode()).decode()
PLAIN = {"hub": {"apiToken": SECRET, "config": {"users": ["alice", "bob-the-admin"]}}, "replicas": 3}
KMS_KEY = "projects/two-eye-two-see/locations/global/keyRings/sops-keys/cryptoKeys/similar-hubs"
SAMPLE_FILES = sorted(p.relative_to(REPOSITORY_SAMPLE).as_posix()
                      for p in REPOSITORY_SAMPLE.glob("config/clusters/*/enc-*")) or ["(the sample is missing)"]
TARGET = KubeTarget(cluster="test", server="https://127.0.0.1:6443", token="kube-bearer-token-0123456789")


def _write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data) if path.suffix == ".json" else yaml.safe_dump(data))
    return path


def _encrypted(tools: SopsTools, folder: Path, name: str, data: Any, recipient: str) -> Path:
    plain = _write(folder / f"plain-{name}", data)
    out = tools.encrypt(plain, folder / name, recipient=recipient)
    plain.unlink()
    return out


def _sops_metadata(**keys: Any) -> dict[str, Any]:
    """A file's ``sops`` section as sops writes it, with the given keys (for reading, not decrypting)."""
    return {"lastmodified": "2026-01-01T00:00:00Z", "mac": "ENC[AES256_GCM,data:AAAA,iv:AAAA,tag:AAAA,type:str]",
            "unencrypted_suffix": "_unencrypted", "version": "3.13.3", **keys}


# -- decrypting -------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
async def test_a_file_for_hubbots_age_key_decrypts_into_a_file_only_its_user_can_read(
    sops_tools: SopsTools, age_key: AgeKey, tmp_path: Path, suffix: str
) -> None:
    encrypted = _encrypted(sops_tools, tmp_path, f"enc-hub.secret{suffix}", PLAIN, age_key.recipient)
    load = json.loads if suffix == ".json" else yaml.safe_load  # sops indents JSON with tabs: not YAML
    assert SECRET not in encrypted.read_text() and "sops" in load(encrypted.read_text())
    dest = tmp_path / "out" / f"hub{suffix}"
    dest.parent.mkdir()
    dest.write_text("an older file, readable by all")
    dest.chmod(0o644)

    await sops_tools.cli(age_key).decrypt(encrypted, dest)

    assert load(dest.read_text()) == PLAIN
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600


async def test_a_file_for_another_age_key_names_that_key_and_quotes_nothing_of_it(
    sops_tools: SopsTools, age_key: AgeKey, tmp_path: Path
) -> None:
    other = sops_tools.new_key(tmp_path / "other")
    encrypted = _encrypted(sops_tools, tmp_path, "enc-hub.secret.values.yaml", PLAIN, other.recipient)
    dest = tmp_path / "hub.yaml"

    with pytest.raises(UserError) as error:
        await sops_tools.cli(age_key).decrypt(encrypted, dest, name="config/clusters/x/enc-hub.secret.values.yaml")

    message = str(error.value)
    assert message.startswith(f"Cannot decrypt config/clusters/x/enc-hub.secret.values.yaml: it needs age key "
                              f"{other.recipient} (hubbot's credentials cannot use it). sops: ")
    assert "identity did not match any of the recipients" in message and "\n" not in message
    assert SECRET not in message and "bob-the-admin" not in message and age_key.recipient not in message
    assert not dest.exists()


@pytest.mark.parametrize("name", SAMPLE_FILES)
async def test_each_kms_wrapped_file_of_the_sample_names_the_gcp_kms_key_it_needs(
    sops_tools: SopsTools, tmp_path: Path, name: str
) -> None:
    path = REPOSITORY_SAMPLE / name
    assert path.is_file(), f"the fleet repository sample is missing from the tests' data ({REPOSITORY_SAMPLE})"
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    dest = tmp_path / "out"

    with gcp_kms_refusing() as kms, pytest.raises(UserError) as error:
        await sops_tools.cli(**kms.env).decrypt(path, dest, name=name)

    message = str(error.value)
    assert message.startswith(f"Cannot decrypt {name}: it needs GCP KMS key {KMS_KEY} "
                              "(hubbot's credentials cannot use it). sops: ")
    assert "Error 403: Permission 'cloudkms.cryptoKeyVersions.useToDecrypt' denied" in message
    assert "\n" not in message and len(message) < 600
    assert kms.decrypt_calls == [KMS_KEY]  # sops really asked KMS to unwrap the file's data key
    assert not dest.exists() and hashlib.sha256(path.read_bytes()).hexdigest() == before


async def test_a_file_without_sops_metadata_is_refused_as_a_possible_leaked_secret(tmp_path: Path) -> None:
    plain = _write(tmp_path / "enc-prod.secret.values.yaml", PLAIN)
    dest = tmp_path / "out.yaml"

    with pytest.raises(UserError) as error:  # refused before any sops runs: there is none here
        await SopsCli(str(tmp_path / "no-sops")).decrypt(plain, dest, name="enc-prod.secret.values.yaml")

    assert str(error.value) == ("Refusing enc-prod.secret.values.yaml: it carries no sops metadata, so it is not "
                                "sops-encrypted (it may be a leaked plaintext secret: encrypt it with sops).")
    assert not dest.exists()


async def test_without_the_sops_executable_the_error_says_how_to_get_one(tmp_path: Path) -> None:
    encrypted = _write(tmp_path / "enc.yaml", {"a": "ENC[...]", "sops": _sops_metadata(age=[{"recipient": "age1x"}])})
    dest = tmp_path / "out.yaml"

    with pytest.raises(UserError) as error:
        await SopsCli(str(tmp_path / "no-sops")).decrypt(encrypted, dest)

    assert str(error.value) == (f"sops is not installed (could not run {tmp_path / 'no-sops'}): run `make sops` in a "
                                "hubbot checkout, or set HUBBOT_SOPS to a sops binary.")
    assert not dest.exists()


async def test_a_sops_that_does_not_finish_in_time_is_stopped(tmp_path: Path) -> None:
    encrypted = _write(tmp_path / "enc.yaml", {"a": "ENC[...]", "sops": _sops_metadata(age=[{"recipient": "age1x"}])})
    pid_file = tmp_path / "pid"
    stuck = tmp_path / "sops"
    stuck.write_text(f"#!/bin/sh\necho $$ > {pid_file}\nexec sleep 600\n")  # a sops that never answers
    stuck.chmod(0o755)
    dest = tmp_path / "out.yaml"

    with pytest.raises(UpstreamError) as error:
        await SopsCli(str(stuck), env={}, time_limit=0.5).decrypt(encrypted, dest, name="enc.yaml")

    assert type(error.value) is UpstreamError
    assert str(error.value) == "sops did not finish decrypting enc.yaml within 0.5 s."
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)
    assert not dest.exists()


async def test_a_tampered_file_fails_with_sops_first_line_and_no_plaintext(
    sops_tools: SopsTools, age_key: AgeKey, tmp_path: Path
) -> None:
    encrypted = _encrypted(sops_tools, tmp_path, "enc.yaml", PLAIN, age_key.recipient)
    data = yaml.safe_load(encrypted.read_text())
    data["sops"]["lastmodified"] = "2020-01-01T00:00:00Z"  # part of what the MAC's encryption authenticates
    encrypted.write_text(yaml.safe_dump(data))

    with pytest.raises(ToolFailed) as error:
        await sops_tools.cli(age_key).decrypt(encrypted, tmp_path / "out.yaml", name="enc.yaml")

    assert str(error.value).startswith("sops could not decrypt enc.yaml (exit 51): Cannot decrypt MAC")
    assert SECRET not in str(error.value) + error.value.output
    assert not (tmp_path / "out.yaml").exists()


async def test_a_shamir_split_file_says_how_many_key_groups_it_needs(
    sops_tools: SopsTools, tmp_path: Path
) -> None:
    first, second = sops_tools.new_key(tmp_path / "1"), sops_tools.new_key(tmp_path / "2")
    groups = [{"age": [{"recipient": first.recipient, "enc": "x"}]}, {"age": [{"recipient": second.recipient,
                                                                              "enc": "x"}]}]
    path = _write(tmp_path / "enc.yaml", {"a": "ENC[...]", "sops": _sops_metadata(shamir_threshold=2,
                                                                                 key_groups=groups)})

    with pytest.raises(UserError) as error:
        await sops_tools.cli(HOME=str(tmp_path)).decrypt(path, tmp_path / "out", name="enc.yaml")

    assert str(error.value).startswith(
        f"Cannot decrypt enc.yaml: it needs keys of 2 of its 2 key groups (group 1: age key {first.recipient}; "
        f"group 2: age key {second.recipient}) (hubbot's credentials cannot use enough of them). sops: ")


# -- which keys a file needs --------------------------------------------------------------------


def test_required_keys_of_the_samples_yaml_and_json_files() -> None:
    clusters = REPOSITORY_SAMPLE / "config" / "clusters"
    assert required_keys(clusters / "leap" / "enc-prod.secret.values.yaml") == [f"GCP KMS key {KMS_KEY}"]
    # the JSON files write the absent key types as null
    assert required_keys(clusters / "leap" / "enc-deployer-credentials.secret.json") == [f"GCP KMS key {KMS_KEY}"]


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_required_keys_names_every_key_type_in_words(tmp_path: Path, suffix: str) -> None:
    meta = _sops_metadata(
        kms=[{"arn": "arn:aws:kms:us-west-2:111122223333:key/1234abcd", "role": "arn:aws:iam::111122223333:role/sops",
              "created_at": "2026-01-01T00:00:00Z", "enc": "AQIC", "aws_profile": ""},
             {"arn": "arn:aws:kms:eu-west-1:111122223333:key/5678", "enc": "AQIC"}],
        gcp_kms=[{"resource_id": KMS_KEY, "enc": "CiQA"}],
        hckms=[{"key_id": "tr-west-1:0f1e2d3c", "enc": "x"}],
        azure_kv=[{"vault_url": "https://sops.vault.azure.net/", "name": "sops-key", "version": "0123abcd",
                   "enc": "x"}],
        hc_vault=[{"vault_address": "https://vault.example.org:8200", "engine_path": "sops", "key_name": "hubs",
                   "enc": "vault:v1:x"}],
        age=[{"recipient": "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p", "enc": "x"}],
        pgp=[{"fp": "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4", "enc": "x"}],
    )
    path = _write(tmp_path / f"enc{suffix}", {"a": "ENC[...]", "sops": meta})

    assert required_keys(path) == [
        "AWS KMS key arn:aws:kms:us-west-2:111122223333:key/1234abcd"
        " (assuming role arn:aws:iam::111122223333:role/sops)",
        "AWS KMS key arn:aws:kms:eu-west-1:111122223333:key/5678",
        f"GCP KMS key {KMS_KEY}",
        "HuaweiCloud KMS key tr-west-1:0f1e2d3c",
        "Azure Key Vault key https://sops.vault.azure.net/keys/sops-key/0123abcd",
        "HashiCorp Vault key https://vault.example.org:8200/v1/sops/keys/hubs",
        "age key age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p",
        "PGP key FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4",
    ]


def test_required_keys_reads_key_groups_once_each_and_skips_what_is_not_a_key(tmp_path: Path) -> None:
    meta = _sops_metadata(
        shamir_threshold=2,
        key_groups=[{"gcp_kms": [{"resource_id": KMS_KEY}], "age": [{"recipient": "age1first"}], "hc_vault": None},
                    {"age": [{"recipient": "age1second"}, {"recipient": "age1first"}, {"enc": "no recipient"}],
                     "pgp": "not a list"},
                    "not a group"],
    )
    path = _write(tmp_path / "enc.json", {"data": "ENC[...]", "sops": meta})

    assert required_keys(path) == [f"GCP KMS key {KMS_KEY}", "age key age1first", "age key age1second"]
    assert required_keys(_write(tmp_path / "plain.yaml", PLAIN)) == []
    assert required_keys(tmp_path / "absent.yaml") == []


# -- helm with sops files -------------------------------------------------------------------------


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    folder = tmp_path / "scratch"  # where HelmCli makes each run's private folder
    folder.mkdir()
    return folder


@pytest.fixture
def fleet_repo(sops_tools: SopsTools, age_key: AgeKey, tmp_path: Path) -> Path:
    """Values files as a fleet repository holds them: two plain ones around a sops one, and a sops secret one."""
    repo = tmp_path / "repo"
    repo.mkdir()
    _write(repo / "a.yaml", {"announcement": "from a", "singleuser": {"memoryLimit": "1G", "defaultUrl": "/tree"}})
    _encrypted(sops_tools, repo, "enc-b.secret.values.yaml",
               {"announcement": "from b", "singleuser": {"memoryLimit": "5G"}, "hub": {"apiToken": SECRET}},
               age_key.recipient)
    _write(repo / "c.yaml", {"announcement": "from c"})
    _encrypted(sops_tools, repo, "enc-d.secret.values.yaml", {"hub": {"image": {"tag": "9.9.9-secret"}}},
               age_key.recipient)
    return repo


PLAN = ReleasePlan(name="staging", namespace="staging-hub", chart=str(CHART),
                   values=("a.yaml", "enc-b.secret.values.yaml", "c.yaml"), secret_values=("enc-d.secret.values.yaml",))


async def test_real_helm_renders_sops_values_in_their_place_in_the_order(
    sops_tools: SopsTools, age_key: AgeKey, fleet_repo: Path, scratch: Path, tmp_path: Path
) -> None:
    helm = HelmCli(real_helm(), base=fleet_repo, home=tmp_path / "helm-home", sops=sops_tools.cli(age_key),
                   scratch=scratch)

    objects = parse_manifests(await helm.template(PLAN, time_limit=60))

    config = objects["ConfigMap/hub-config"]["data"]
    assert config["ANNOUNCEMENT"] == "from c"  # c overrides b
    assert config["MEMORY_LIMIT"] == "5G"  # b overrides a
    assert config["DEFAULT_URL"] == "/tree"  # a, untouched by the others
    assert objects["Secret/hub-secret"]["data"]["apiToken"] == SECRET_B64  # decrypted from b
    image = objects["Deployment/hub"]["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image.endswith(":9.9.9-secret")  # the secret sops file, applied last
    assert list(scratch.iterdir()) == []  # the decrypted files lived for the helm run only


def _fake_helm(tmp_path: Path, mode: str, *, base: Path, sops: SopsCli | None, scratch: Path) -> tuple[HelmCli, Path]:
    state = tmp_path / "state.json"
    executable = install_fake_helm(tmp_path, mode=mode, state=state)
    return HelmCli(str(executable), base=base, home=tmp_path / "helm-home", sops=sops, scratch=scratch), state


def _values_args(argv: list[str]) -> list[str]:
    return [argv[i + 1] for i, arg in enumerate(argv) if arg == "--values"]


async def test_the_decrypted_files_go_when_helm_fails_and_their_secrets_are_masked(
    sops_tools: SopsTools, age_key: AgeKey, fleet_repo: Path, scratch: Path, tmp_path: Path
) -> None:
    helm, state = _fake_helm(tmp_path, "echo-secret", base=fleet_repo, sops=sops_tools.cli(age_key), scratch=scratch)
    lines: list[str] = []

    with pytest.raises(ToolFailed) as failed:
        await helm.upgrade(PLAN, target=TARGET, time_limit=30, on_line=lines.append)

    shown = "\n".join([*lines, str(failed.value), failed.value.output])
    assert SECRET not in shown and SECRET_B64 not in shown and "9.9.9-secret" not in shown
    assert f"values:     apiToken: {MASK}" in lines  # helm printed the decrypted file; hubbot masked it
    (argv,) = read_state(state)["calls"]
    files = _values_args(argv)
    assert files[0] == str(fleet_repo / "a.yaml") and files[2] == str(fleet_repo / "c.yaml")
    decrypted = [Path(files[1]), Path(files[3])]
    assert [p.name for p in decrypted] == ["01-enc-b.secret.values.yaml", "02-enc-d.secret.values.yaml"]
    assert decrypted[0].parent.parent == scratch and not decrypted[0].parent.exists()


async def test_the_decrypted_files_go_when_the_deploy_is_cancelled(
    sops_tools: SopsTools, age_key: AgeKey, fleet_repo: Path, scratch: Path, tmp_path: Path
) -> None:
    helm, _ = _fake_helm(tmp_path, "hang", base=fleet_repo, sops=sops_tools.cli(age_key), scratch=scratch)
    started = asyncio.Event()

    def on_line(line: str) -> None:
        if line.startswith("fake helm pid"):
            started.set()

    call = asyncio.create_task(helm.upgrade(PLAN, target=TARGET, time_limit=60, on_line=on_line))
    await started.wait()
    assert len(list(scratch.iterdir())) == 1  # helm is running with the decrypted files

    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call

    assert list(scratch.iterdir()) == []


async def test_a_file_that_cannot_be_decrypted_stops_the_run_before_helm(
    sops_tools: SopsTools, age_key: AgeKey, fleet_repo: Path, scratch: Path, tmp_path: Path
) -> None:
    other = sops_tools.new_key(tmp_path / "other")
    _encrypted(sops_tools, fleet_repo, "enc-e.secret.values.yaml", {"x": "y"}, other.recipient)
    helm, state = _fake_helm(tmp_path, "ok", base=fleet_repo, sops=sops_tools.cli(age_key), scratch=scratch)
    plan = ReleasePlan(name="staging", namespace="staging-hub", chart=str(CHART),
                       values=("a.yaml", "enc-b.secret.values.yaml"), secret_values=("enc-e.secret.values.yaml",))

    with pytest.raises(UserError, match=f"Cannot decrypt enc-e.secret.values.yaml: it needs age key {other.recipient}"):
        await helm.upgrade(plan, target=TARGET, time_limit=30, on_line=lambda _: None)

    assert read_state(state)["calls"] == []
    assert list(scratch.iterdir()) == []  # b, decrypted before e failed, is gone too


async def test_a_sops_file_without_sops_configured_is_refused(scratch: Path, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _write(repo / "enc-prod.secret.values.yaml", {"a": "ENC[...]", "sops": _sops_metadata(gcp_kms=[
        {"resource_id": KMS_KEY}])})
    helm, state = _fake_helm(tmp_path, "ok", base=repo, sops=None, scratch=scratch)
    plan = ReleasePlan(name="prod", namespace="prod", chart=str(CHART), secret_values=("enc-prod.secret.values.yaml",))

    with pytest.raises(UserError) as error:
        await helm.template(plan, time_limit=30)

    assert str(error.value) == ("The secret values file enc-prod.secret.values.yaml is sops-encrypted, and hubbot has "
                                "no sops configured: run `make sops` in a hubbot checkout, or set HUBBOT_SOPS to a "
                                "sops binary.")
    assert read_state(state)["calls"] == [] and list(scratch.iterdir()) == []


# -- wiring -----------------------------------------------------------------------------------------


def test_hubbot_runs_the_sops_of_its_setting_or_the_one_on_path(
    fleet_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert sops_cli(Settings()) is None  # helm then refuses sops files, saying how to get sops
    on_path = tmp_path / "sops"
    on_path.write_text("#!/bin/sh\n")
    on_path.chmod(0o755)
    found = sops_cli(Settings())
    assert found is not None and found.executable == str(on_path)

    monkeypatch.setenv("HUBBOT_SOPS", "/opt/sops/bin/sops")
    ports = deploy_ports(load_fleet(fleet_file), Settings(), jobs=MemoryJobs(), redactor=Redactor())
    assert isinstance(ports.helm, HelmCli) and ports.helm.sops is not None
    assert ports.helm.sops.executable == "/opt/sops/bin/sops"
