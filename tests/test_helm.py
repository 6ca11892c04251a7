"""The helm adapter: rendering with the real helm, everything else against a stand-in executable."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import os
import select
import socket
import subprocess
import tracemalloc
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from hubbot.adapters.helm import LINE_CHARS, TAIL_LINES, HelmCli
from hubbot.deploys.manifests import ManifestDiff, diff_manifests, parse_manifests
from hubbot.domain import KubeTarget, ReleasePlan
from hubbot.errors import ToolFailed, UserError
from hubbot.redact import MASK
from tests.support.deploy_env import real_helm as real_helm_path
from tests.support.fake_helm import MANIFEST, install_fake_helm, read_state

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
SECRET = "s3cr3t-api-token-value"
SECRET_B64 = base64.b64encode(SECRET.encode()).decode()
TOKEN = "kube-bearer-token-0123456789"
PLAN = ReleasePlan(
    name="staging", namespace="staging-hub", chart="charts/testhub",
    values=("deploy/common.values.yaml", "deploy/staging.values.yaml"), secret_values=("deploy/secret.values.yaml",),
)
TARGET = KubeTarget(cluster="test", server="https://127.0.0.1:6443", token=TOKEN, ca_data="Q0EgZGF0YQ==")
FakeFactory = Callable[..., tuple[HelmCli, Path]]


@pytest.fixture
def fake(tmp_path: Path) -> FakeFactory:
    """Make a HelmCli running the stand-in in a mode; returns it with the stand-in's state file."""

    def make(mode: str, **settings: object) -> tuple[HelmCli, Path]:
        state = tmp_path / "state.json"
        executable = install_fake_helm(tmp_path, mode=mode, state=state, **settings)
        return HelmCli(str(executable), base=DATA, home=tmp_path / "helm-home"), state

    return make


@pytest.fixture
def real_helm(tmp_path: Path) -> HelmCli:
    (tmp_path / "scratch").mkdir()
    return HelmCli(real_helm_path(), base=DATA, home=tmp_path / "helm-home", scratch=tmp_path / "scratch")


def _values_args(argv: list[str]) -> list[str]:
    return [argv[i + 1] for i, arg in enumerate(argv) if arg == "--values"]


class _Pids:
    """An on_line sink that notes the stand-in's PIDs (from its first line) as pidfds, so the
    test can later wait for those exact processes to exit."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.fds: list[int] = []
        self.started = asyncio.Event()

    def __call__(self, line: str) -> None:
        self.lines.append(line)
        if line.startswith("fake helm pid"):
            _, _, _, leader, _, child = line.split()
            self.fds = [os.pidfd_open(int(leader)), os.pidfd_open(int(child))]
            self.started.set()

    def assert_all_exited(self) -> None:
        assert self.fds, "the stand-in never reported its PIDs"
        for fd in self.fds:
            readable, _, _ = select.select([fd], [], [], 10)
            os.close(fd)
            assert readable, "a process of helm's group outlived the call"


# -- the real helm -------------------------------------------------------------------------


async def test_real_helm_renders_the_chart_with_values_in_order(real_helm: HelmCli) -> None:
    objects = parse_manifests(await real_helm.template(PLAN, time_limit=60))

    assert set(objects) == {"Deployment/hub", "Service/hub", "ConfigMap/hub-config", "Secret/hub-secret"}
    container = objects["Deployment/hub"]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "quay.io/jupyterhub/k8s-hub:4.2.0-beta.1"  # staging overrides common
    config = objects["ConfigMap/hub-config"]["data"]
    assert config["MEMORY_LIMIT"] == "2G"  # from common, untouched by staging
    assert config["ANNOUNCEMENT"] == "This is the staging hub"
    assert config["RELEASE_NAMESPACE"] == "staging-hub"
    assert objects["Secret/hub-secret"]["data"]["apiToken"] == SECRET_B64


async def test_real_helm_applies_hubbots_overlay_after_the_values_and_before_the_secrets(real_helm: HelmCli) -> None:
    overlay = 'announcement: "Quotas changed"\nsingleuser: {memoryLimit: 6G}\n'
    plan = dataclasses.replace(PLAN, overlay=overlay)
    config = parse_manifests(await real_helm.template(plan, time_limit=60))["ConfigMap/hub-config"]["data"]
    assert config["ANNOUNCEMENT"] == "Quotas changed" and config["MEMORY_LIMIT"] == "6G"  # the overlay wins
    assert real_helm.scratch is not None and list(real_helm.scratch.iterdir()) == []  # its file lived for the run only


async def test_real_helm_template_failure_shows_helms_error(real_helm: HelmCli) -> None:
    without_secret = ReleasePlan(name="staging", namespace="staging", chart="charts/testhub", values=PLAN.values)

    with pytest.raises(ToolFailed) as failed:
        await real_helm.template(without_secret, time_limit=60)

    assert str(failed.value) == "helm template failed (exit 1)"
    assert "hub.apiToken must be set in a secret values file" in failed.value.output


async def test_real_helm_reads_the_temporary_kubeconfig(real_helm: HelmCli) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    target = KubeTarget(cluster="test", server=f"https://127.0.0.1:{port}", token=TOKEN)

    with pytest.raises(ToolFailed) as failed:
        await real_helm.status("staging", "staging", target=target, time_limit=60)

    assert f"127.0.0.1:{port}" in failed.value.output  # helm took the server from the file hubbot wrote
    assert TOKEN not in str(failed.value) + failed.value.output


# -- manifests ------------------------------------------------------------------------------

LIVE = """
---
# Source: testhub/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {A: "1"}
---
apiVersion: v1
kind: Service
metadata: {name: old}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hub
  labels: {app: hub, tier: core}
spec:
  replicas: 1
"""
RENDERED = """
---
# Source: testhub/templates/deployment.yaml
kind: Deployment
spec:   {replicas: 1}
metadata:
    labels:
        tier: core
        app: "hub"
    name: hub
---
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {A: "2"}
---
apiVersion: v1
kind: Secret
metadata: {name: new}
"""


def test_diff_sorts_objects_into_added_changed_and_removed() -> None:
    # The Deployment differs only in key order, quoting and indentation: not a change.
    reordered = RENDERED.replace("kind: Deployment\n", "kind: Deployment\napiVersion: apps/v1\n")
    diff = diff_manifests(reordered, LIVE)

    assert diff == ManifestDiff(added=("Secret/new",), changed=("ConfigMap/settings",), removed=("Service/old",))
    assert diff.summary() == "1 to add, 1 to change, 1 to remove"
    assert not diff.unchanged


def test_identical_objects_in_another_order_are_no_change() -> None:
    documents = LIVE.split("---")
    diff = diff_manifests("---".join(reversed(documents)), LIVE)

    assert diff.unchanged and diff.summary() == "0 to add, 0 to change, 0 to remove"


def test_without_a_live_release_everything_is_added() -> None:
    diff = diff_manifests(LIVE, None)

    assert diff.added == ("ConfigMap/settings", "Deployment/hub", "Service/old") and not diff.changed + diff.removed


def test_parse_keeps_same_named_objects_of_two_namespaces() -> None:
    text = "kind: Role\nmetadata: {name: r, namespace: a}\n---\nkind: Role\nmetadata: {name: r, namespace: b}\n"

    assert set(parse_manifests(text)) == {"Role/r", "b/Role/r"}


@pytest.mark.parametrize(
    "text", ["kind: ConfigMap\nmetadata: {name: x}\ndata: {password: hunter22: x}\n", "- just\n- a list\n", "kind: X\n"]
)
def test_parse_rejects_what_is_not_kubernetes_yaml_without_quoting_it(text: str) -> None:
    with pytest.raises(UserError) as error:
        parse_manifests(text)

    assert "hunter22" not in str(error.value)


# -- the stand-in ---------------------------------------------------------------------------


async def test_upgrade_returns_the_release_and_passes_helm_the_plan(fake: FakeFactory) -> None:
    helm, state = fake("ok")
    lines: list[str] = []

    first = await helm.upgrade(PLAN, target=TARGET, time_limit=30, on_line=lines.append)
    second = await helm.upgrade(PLAN, target=TARGET, time_limit=30.7, on_line=lines.append)

    assert (first.name, first.namespace, first.revision, first.status) == ("staging", "staging-hub", 1, "deployed")
    assert (first.chart, first.app_version, first.updated) == ("testhub-0.1.0", "5.2.1", "2025-01-02T03:04:05.678Z")
    assert second.revision == 2
    argv = read_state(state)["calls"][0]
    assert argv[:4] == ["upgrade", "--install", "staging", str(DATA / "charts" / "testhub")]
    assert argv[argv.index("--namespace") + 1] == "staging-hub" and "--create-namespace" in argv
    assert argv[argv.index("--timeout") + 1] == "30s"
    assert argv[argv.index("--output") + 1] == "json"
    assert _values_args(argv) == [
        str(DATA / "deploy" / name) for name in ("common.values.yaml", "staging.values.yaml", "secret.values.yaml")
    ]
    # stderr reaches on_line; the release JSON on stdout is data, not progress.
    assert lines == ["a warning helm prints on stderr"] * 2


async def test_every_command_line_hubbot_builds_is_one_real_helm_accepts(fake: FakeFactory) -> None:
    helm, state = fake("ok")
    plan = ReleasePlan(name="hub", namespace="prod", chart="jupyterhub", repo="https://hub.jupyter.org/helm-chart/",
                       version="4.1.0")
    await helm.upgrade(plan, target=TARGET, time_limit=30, on_line=lambda _: None)
    await helm.template(plan, time_limit=30)
    await helm.status("hub", "prod", target=TARGET, time_limit=30)
    await helm.manifest("hub", "prod", target=TARGET, time_limit=30)
    await helm.rollback("hub", "prod", revision=1, target=TARGET, time_limit=30, on_line=lambda _: None)
    await helm.rollback("hub", "prod", revision=None, target=TARGET, time_limit=30, on_line=lambda _: None)
    recorded = read_state(state)
    assert len(recorded["calls"]) == 6 and recorded.get("refused", []) == []


async def test_the_stand_in_refuses_a_flag_real_helm_does_not_have(fake: FakeFactory) -> None:
    _, state = fake("ok")
    wrapper = state.parent / "helm"
    bad = subprocess.run([str(wrapper), "upgrade", "--install", "hub", "chart", "--wait-for-godot"],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 1 and "unknown flag: --wait-for-godot" in bad.stderr
    assert read_state(state)["refused"] == [["upgrade", "--install", "hub", "chart", "--wait-for-godot"]]


async def test_repo_and_version_go_on_the_command_line(fake: FakeFactory) -> None:
    helm, state = fake("ok")
    plan = ReleasePlan(name="hub", namespace="prod", chart="jupyterhub", repo="https://hub.jupyter.org/helm-chart/",
                       version="4.1.0")

    info = await helm.upgrade(plan, target=TARGET, time_limit=30, on_line=lambda _: None)
    await helm.template(plan, time_limit=30)

    assert info.chart == "testhub-4.1.0"
    upgrade, template = read_state(state)["calls"]
    assert upgrade[2:4] == ["hub", "jupyterhub"] and template[:3] == ["template", "hub", "jupyterhub"]
    for argv in (upgrade, template):
        assert argv[argv.index("--repo") + 1] == "https://hub.jupyter.org/helm-chart/"
        assert argv[argv.index("--version") + 1] == "4.1.0"


async def test_helm_gets_a_minimal_environment_and_private_homes(
    fake: FakeFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HUBBOT_SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "AWS_SECRET_ACCESS_KEY", "KUBECONFIG"):
        monkeypatch.setenv(name, "do-not-pass")
    helm, state = fake("ok")

    await helm.template(PLAN, time_limit=30)

    (names,) = read_state(state)["envs"]
    assert not [name for name in names if name.startswith(("HUBBOT_", "SLACK_", "AWS_", "KUBECONFIG"))]
    assert {"PATH", "HOME", "HELM_CONFIG_HOME", "HELM_CACHE_HOME", "HELM_DATA_HOME"} <= set(names)
    assert (tmp_path / "helm-home" / "cache").is_dir()


async def test_token_travels_only_in_a_private_kubeconfig_that_is_removed(fake: FakeFactory) -> None:
    helm, state = fake("ok")

    await helm.status("staging", "staging-hub", target=TARGET, time_limit=30)
    helm, _ = fake("fail")
    with pytest.raises(ToolFailed):
        await helm.upgrade(PLAN, target=TARGET, time_limit=30, on_line=lambda _: None)

    recorded = read_state(state)
    assert not [arg for argv in recorded["calls"] for arg in argv if TOKEN in arg]
    assert len(recorded["kubeconfigs"]) == 2
    for kubeconfig in recorded["kubeconfigs"]:
        assert kubeconfig["mode"] == "0o600" and kubeconfig["token"] == TOKEN
        assert (kubeconfig["server"], kubeconfig["ca_data"]) == (TARGET.server, TARGET.ca_data)
        assert not Path(kubeconfig["path"]).exists() and not Path(kubeconfig["path"]).parent.exists()


async def test_kubeconfig_targets_pass_their_file_and_context(fake: FakeFactory) -> None:
    helm, state = fake("ok")
    target = KubeTarget(cluster="kind", kubeconfig="/etc/hubbot/kind.yaml", context="kind-hubs")

    assert await helm.manifest("staging", "staging-hub", target=target, time_limit=30) is None

    (argv,) = read_state(state)["calls"]
    assert argv[-4:] == ["--kubeconfig", "/etc/hubbot/kind.yaml", "--kube-context", "kind-hubs"]


async def test_a_target_without_credentials_is_refused(fake: FakeFactory) -> None:
    helm, state = fake("ok")

    with pytest.raises(UserError, match="no credentials for cluster bare"):
        await helm.status("staging", "staging-hub", target=KubeTarget(cluster="bare"), time_limit=30)
    assert read_state(state)["calls"] == []


async def test_status_and_manifest_are_none_until_a_release_exists(fake: FakeFactory) -> None:
    helm, _ = fake("ok")

    assert await helm.status("staging", "staging-hub", target=TARGET, time_limit=30) is None
    assert await helm.manifest("staging", "staging-hub", target=TARGET, time_limit=30) is None
    await helm.upgrade(PLAN, target=TARGET, time_limit=30, on_line=lambda _: None)
    lines: list[str] = []
    await helm.rollback("staging", "staging-hub", revision=None, target=TARGET, time_limit=30, on_line=lines.append)

    status = await helm.status("staging", "staging-hub", target=TARGET, time_limit=30)
    assert status is not None and (status.revision, status.chart) == (2, "testhub-0.1.0")
    live = await helm.manifest("staging", "staging-hub", target=TARGET, time_limit=30)
    assert live == MANIFEST and diff_manifests(MANIFEST, live).unchanged
    assert lines == ["Rollback was a success! Happy Helming!"]


async def test_rollback_of_a_missing_release_fails(fake: FakeFactory) -> None:
    helm, state = fake("ok")

    with pytest.raises(ToolFailed, match=r"helm rollback failed \(exit 1\)") as failed:
        await helm.rollback("ghost", "staging-hub", revision=3, target=TARGET, time_limit=9.5, on_line=lambda _: None)

    assert failed.value.output == "Error: release: not found"
    (argv,) = read_state(state)["calls"]
    assert argv[:3] == ["rollback", "ghost", "3"] and argv[argv.index("--timeout") + 1] == "9s"


async def test_failure_raises_tool_failed_with_the_last_lines(fake: FakeFactory) -> None:
    helm, _ = fake("fail")
    lines: list[str] = []

    with pytest.raises(ToolFailed) as failed:
        await helm.upgrade(PLAN, target=TARGET, time_limit=30, on_line=lines.append)

    assert str(failed.value) == "helm upgrade failed (exit 1)"
    assert "Error: UPGRADE FAILED: cannot patch" in failed.value.output
    assert any("UPGRADE FAILED" in line for line in lines)


async def test_a_hanging_helm_is_killed_with_its_process_group(fake: FakeFactory) -> None:
    helm, _ = fake("hang")
    pids = _Pids()

    with pytest.raises(ToolFailed, match=r"helm rollback did not finish within 0\.5 s") as failed:
        await helm.rollback("staging", "staging-hub", revision=None, target=TARGET, time_limit=0.5, on_line=pids)

    assert "fake helm pid" in failed.value.output
    pids.assert_all_exited()


async def test_a_helm_ignoring_sigterm_gets_sigkill(fake: FakeFactory) -> None:
    helm, _ = fake("hang", ignore_term=True)
    helm.kill_grace = 0.2
    pids = _Pids()

    with pytest.raises(ToolFailed, match="did not finish"):
        await helm.rollback("staging", "staging-hub", revision=None, target=TARGET, time_limit=0.5, on_line=pids)

    pids.assert_all_exited()


async def test_cancelling_the_call_kills_helm_and_removes_the_kubeconfig(fake: FakeFactory) -> None:
    helm, state = fake("hang")
    pids = _Pids()
    call = asyncio.create_task(
        helm.rollback("staging", "staging-hub", revision=None, target=TARGET, time_limit=60, on_line=pids)
    )
    await pids.started.wait()

    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call

    pids.assert_all_exited()
    (kubeconfig,) = read_state(state)["kubeconfigs"]
    assert not Path(kubeconfig["path"]).exists()


async def test_a_flood_of_output_keeps_a_bounded_tail(fake: FakeFactory) -> None:
    helm, _ = fake("flood")
    count = 0
    longest = 0

    def on_line(line: str) -> None:
        nonlocal count, longest
        count += 1
        longest = max(longest, len(line))

    tracemalloc.start()
    try:
        with pytest.raises(ToolFailed, match=r"helm rollback failed \(exit 1\)") as failed:
            await helm.rollback("staging", "staging-hub", revision=None, target=TARGET, time_limit=60, on_line=on_line)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    tail = failed.value.output.splitlines()
    assert count == 50_002 and longest == LINE_CHARS
    assert 0 < len(tail) <= TAIL_LINES and max(len(line) for line in tail) <= LINE_CHARS
    assert peak < 2 * 1024 * 1024  # the stand-in printed about 5 MB


async def test_parsed_stdout_is_capped(fake: FakeFactory) -> None:
    helm, _ = fake("flood")
    helm.max_stdout = 1024 * 1024

    with pytest.raises(ToolFailed, match="helm template printed more than 1 MiB") as failed:
        await helm.template(PLAN, time_limit=60)

    assert 0 < len(failed.value.output.splitlines()) <= TAIL_LINES  # stderr's lines


async def test_a_missing_or_unrunnable_executable_says_how_to_install_helm(tmp_path: Path) -> None:
    not_executable = tmp_path / "helm"
    not_executable.write_text("#!/bin/sh\n")
    for executable in (tmp_path / "missing" / "helm", not_executable):
        helm = HelmCli(str(executable), base=DATA, home=tmp_path / "home")

        with pytest.raises(UserError) as error:
            await helm.template(PLAN, time_limit=30)

        assert "make helm" in str(error.value) and "HUBBOT_HELM" in str(error.value)


async def test_secret_values_never_reach_lines_or_errors(fake: FakeFactory, tmp_path: Path) -> None:
    helm, _ = fake("echo-secret")
    helm = HelmCli(helm.executable, base=DATA, home=helm.home, redact=lambda text: text.replace("staging", "[env]"))
    lines: list[str] = []

    with pytest.raises(ToolFailed) as failed:
        await helm.upgrade(PLAN, target=TARGET, time_limit=30, on_line=lines.append)

    shown = "\n".join([*lines, str(failed.value), failed.value.output])
    assert SECRET not in shown and SECRET_B64 not in shown
    assert f"values:   apiToken: {MASK}" in lines and f"apiToken: {MASK}" in lines
    assert "values: announcement: \"This is the [env] hub\"" in lines  # the caller's redaction applies too


async def test_an_unreadable_secret_values_file_is_not_quoted(fake: FakeFactory, tmp_path: Path) -> None:
    helm, state = fake("ok")
    broken = tmp_path / "broken.yaml"
    broken.write_text("hub:\n  apiToken: s3cr3t-api-token-value\n bad: [\n")
    plan = ReleasePlan(name="staging", namespace="staging-hub", chart="charts/testhub", secret_values=(str(broken),))

    with pytest.raises(UserError, match="not valid YAML") as error:
        await helm.upgrade(plan, target=TARGET, time_limit=30, on_line=lambda _: None)

    assert SECRET not in str(error.value) and read_state(state)["calls"] == []


@pytest.mark.parametrize(
    "changes",
    [
        {"name": "Staging"}, {"name": "-staging"}, {"name": "x" * 54}, {"namespace": "staging hub"},
        {"namespace": "--all"}, {"version": "-1.0"}, {"version": "1.0 --set=x"}, {"repo": "--dry-run"},
        {"chart": "charts/missing"}, {"values": ("deploy/missing.values.yaml",)},
    ],
)
async def test_invalid_plans_are_refused_before_helm_runs(fake: FakeFactory, changes: dict[str, Any]) -> None:
    helm, state = fake("ok")
    plan = replace(ReleasePlan(name="staging", namespace="staging-hub", chart="charts/testhub"), **changes)

    with pytest.raises(UserError) as error:
        await helm.upgrade(plan, target=TARGET, time_limit=30, on_line=lambda _: None)

    assert read_state(state)["calls"] == []
    if "values" in changes:
        assert "deploy/missing.values.yaml" in str(error.value) and str(DATA) not in str(error.value)


async def test_calls_run_concurrently(fake: FakeFactory) -> None:
    # each run waits until all four are running at once: calls made one at a time would fail
    helm, state = fake("barrier", parties=4, barrier_timeout=20)

    infos = await asyncio.gather(*(helm.upgrade(PLAN, target=TARGET, time_limit=60, on_line=lambda _: None)
                                   for _ in range(4)))

    assert sorted(info.revision for info in infos) == [1, 2, 3, 4]
    assert read_state(state)["most_at_once"] == 4 and len(read_state(state)["calls"]) == 4
