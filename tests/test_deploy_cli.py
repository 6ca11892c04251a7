"""Deploys through the real CLI in subprocesses: the demo's dry run with the real helm, `hubbot run`
exit codes for deploy jobs, and a process killed mid-deploy whose job the next start marks
interrupted — in its thread, through the real Slack app."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubbot.domain import JobState
from tests.support.deploy_env import STAGING, DeployEnv, deploy_env, real_helm
from tests.support.fake_helm import read_state
from tests.support.fleet import CHANNEL_A, ENGINEER
from tests.support.harness import harness


def hubbot(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
           ) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HUBBOT_", "SLACK_"))}
    base.update(env or {})
    return subprocess.run([sys.executable, "-m", "hubbot", *args], cwd=cwd, env=base, capture_output=True,
                          text=True, timeout=timeout, check=False)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[DeployEnv]:
    with deploy_env(tmp_path) as e:
        e.kube.add_deployment("staging", "hub")
        e.kube.make_ready("staging")
        yield e


def test_demo_dry_run_renders_with_the_real_helm(tmp_path: Path) -> None:
    out = hubbot("run", "--demo", "/hub deploy demo-aws/prod --dry-run", cwd=tmp_path,
                 env={"HUBBOT_HELM": real_helm()})
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Dry run of demo-aws/prod: 4 to add, 0 to change, 0 to remove" in out.stdout
    assert "Deployment/proxy" in out.stdout and "no `kubernetes:` access" in out.stdout


def test_demo_without_helm_says_how_to_get_it(tmp_path: Path) -> None:
    out = hubbot("run", "--demo", "/hub deploy demo-aws/staging --dry-run", cwd=tmp_path,
                 env={"HUBBOT_HELM": str(tmp_path / "missing-helm")})
    assert out.returncode == 2
    assert "make helm" in out.stdout and "HUBBOT_HELM" in out.stdout and "Traceback" not in out.stderr


def test_demo_deploy_without_cluster_access_changes_nothing(tmp_path: Path) -> None:
    out = hubbot("run", "--demo", "/hub deploy demo-aws/staging", cwd=tmp_path, env={"HUBBOT_HELM": real_helm()})
    assert out.returncode == 2 and "has no `kubernetes:` access" in out.stdout and "--dry-run" in out.stdout


def _run_env(env: DeployEnv, helm: str) -> dict[str, str]:
    return {"HUBBOT_HELM": helm, "HUBBOT_DATABASE_URL": f"sqlite:///{env.tmp / 'hubbot.sqlite3'}"}


def test_hubbot_run_waits_for_the_job_and_its_exit_code_says_how_it_ended(env: DeployEnv) -> None:
    ok = hubbot("run", "--config", str(env.fleet_file), "--as", ENGINEER, "--channel", CHANNEL_A,
                f"/hub deploy {STAGING}", cwd=env.tmp, env=_run_env(env, env.helm("ok")))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "Deploy of aws-cluster/staging succeeded" in ok.stdout and "revision 1" in ok.stdout
    failed = hubbot("run", "--config", str(env.fleet_file), "--as", ENGINEER, "--channel", CHANNEL_A,
                    f"/hub deploy {STAGING}", cwd=env.tmp, env=_run_env(env, env.helm("fail", only=["upgrade"])))
    assert failed.returncode == 1
    assert "failed at upgrade" in failed.stdout and "field is immutable" in failed.stdout
    listed = hubbot("run", "--config", str(env.fleet_file), "--as", ENGINEER, "--json", "/hub jobs", cwd=env.tmp,
                    env=_run_env(env, env.helm("ok")))
    assert listed.returncode == 0
    text = json.loads(listed.stdout)["text"]
    assert "#2 deploy aws-cluster/staging · failed at upgrade" in text and "#1 deploy aws-cluster/staging · " \
                                                                         "succeeded" in text


def _kill_fake_helms(state: Path) -> None:
    """The stand-in's processes (in their own session) outlive the killed hubbot: end them too."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            environ = (proc / "environ").read_bytes()
        except OSError:
            continue
        if f"FAKE_HELM_STATE={state}".encode() in environ:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(proc.name), signal.SIGKILL)


def test_a_process_killed_mid_deploy_leaves_an_interrupted_job_that_the_next_start_reports(env: DeployEnv) -> None:
    env.fleet_file.write_text(env.fleet_file.read_text().replace("helm_timeout: 2", "helm_timeout: 300"))
    helm = env.helm("hang", only=["upgrade"])
    proc = subprocess.Popen(
        [sys.executable, "-m", "hubbot", "run", "--config", str(env.fleet_file), "--as", ENGINEER, "--channel",
         CHANNEL_A, f"/hub deploy {STAGING}"], cwd=env.tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, env={**{k: v for k, v in os.environ.items() if not k.startswith("HUBBOT_")},
                        **_run_env(env, helm)})
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # the live message's updates, as the console prints them
            if "upgrade ·" in line:
                break
        else:
            pytest.fail("the deploy never reached its upgrade stage")
        assert any(call[0] == "upgrade" for call in read_state(env.state)["calls"])
        proc.kill()  # no shutdown handler runs: the job is left "running"
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        _kill_fake_helms(env.state)
    with sqlite3.connect(env.tmp / "hubbot.sqlite3") as db:
        assert db.execute("SELECT state, stage FROM jobs WHERE id = 1").fetchone() == ("running", "upgrade")
        assert db.execute("SELECT count(*) FROM hub_locks").fetchone() == (1,)
    with harness(env.tmp, env.fleet_file, helm=env.helm("ok"),
                 database_url=f"sqlite:///{env.tmp / 'hubbot.sqlite3'}") as bot:
        deploys = bot.runtime.services.deploys
        assert deploys is not None
        job = bot.served.call(deploys.jobs.get(1))
        assert job.state is JobState.INTERRUPTED and job.stage == "upgrade"
        assert "hubbot restarted while this job ran" in job.result
        assert bot.served.call(deploys.jobs.lock(STAGING)) is None
        said = bot.standin.wait_for("chat.postMessage")[0].args
        assert said["channel"] == CHANNEL_A and "interrupted at *upgrade*" in said["text"]
        assert any(e.transport == "job" and "interrupted" in e.detail for e in bot.audit())
        # the hub is free again
        bot.slash(f"deploy {STAGING}", user=ENGINEER, channel=CHANNEL_A)
        bot.settle()
        assert "as job #2" in bot.standin.wait_for("response_url")[0].args["text"]
        assert bot.served.call(deploys.background.drain(), timeout=60) == [JobState.SUCCEEDED]
