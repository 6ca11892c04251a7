"""Deploys end to end: signed Slack requests into the real app, the helm stand-in executable on
HUBBOT_HELM, the Kubernetes API stand-in behind a kubeconfig, and the hubs' health endpoints.
Rollout polling waits through an injected pause that moves a frozen clock — never a sleep."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from hubbot.adapters.memory import FrozenClock
from hubbot.domain import Job, JobState, Outcome
from tests.support.deploy_env import (
    BINDER,
    KUBE_TOKEN,
    OFFLINE,
    PROD,
    STAGING,
    Clockwork,
    DeployEnv,
    ask,
    deploy_env,
    everything_sent,
    finish,
    job,
    reply,
    texts,
)
from tests.support.fleet import CHANNEL_A, ENGINEER, ENGINEER_2, LEADER_A, MEMBER_A
from tests.support.harness import Harness, harness
from tests.support.hostile import problems

SECRET_VALUE = "s3cr3t-api-token-value"


@pytest.fixture
def env(tmp_path: Path) -> Iterator[DeployEnv]:
    with deploy_env(tmp_path) as e:
        for ns in ("staging", "prod", "binder", "extra0", "extra1", "extra2"):
            e.kube.add_deployment(ns, "hub")
            e.kube.add_deployment(ns, "proxy")
        yield e


@pytest.fixture
def clockwork() -> Clockwork:
    return Clockwork(FrozenClock())


def start(env: DeployEnv, clockwork: Clockwork, *, helm: str | None = None) -> Any:
    return harness(env.tmp, env.fleet_file, helm=helm or env.helm("ok"), clock=clockwork.clock,
                   pause=clockwork.pause)


def ready_after_first_poll(env: DeployEnv) -> Callable[[int], None]:
    return lambda _: [env.kube.make_ready(ns) for ns in ("staging", "prod", "binder", "extra0", "extra1", "extra2")]


# -- the happy path ---------------------------------------------------------------------------------


def test_staging_deploy_shows_each_stage_in_its_thread_and_ends_with_the_revision(
        env: DeployEnv, clockwork: Clockwork) -> None:
    clockwork.hook = ready_after_first_poll(env)
    with start(env, clockwork) as bot:
        ack = bot.slash(f"deploy {STAGING}", user=ENGINEER, channel=CHANNEL_A)
        assert ack.status_code == 200 and "Working on" in ack.json()["text"]
        assert finish(bot) == [JobState.SUCCEEDED]
        assert "job #1" in reply(bot) and "progress in its thread" in reply(bot)
        header, live = bot.standin.of("chat.postMessage")[:2]
        assert "Deploy of aws-cluster/staging" in header.args["text"] and header.args["channel"] == CHANNEL_A
        assert live.args["thread_ts"]  # the live message sits in the header's thread
        updates = bot.standin.of("chat.update")
        assert len({c.args["ts"] for c in updates}) == 1  # one message, updated in place
        final = updates[-1].args["text"]
        assert "succeeded" in final and "revision 1" in final and "chart testhub-0.1.0" in final
        assert "2/2 workloads ready" in final and "healthy (200" in final
        assert any("credentials" in t and "upgrade" in t for t in texts(updates[:-1]))
        assert clockwork.count == 1  # polled, paused once, then ready
        calls = env.helm_calls()
        verbs = [c[0] for c in calls]
        assert verbs.count("template") == 1 and verbs.count("upgrade") == 1
        assert [c[:2] for c in calls if c[0] == "get"] == [["get", "metadata"]]  # the live revision, before
        upgrade = next(c for c in calls if c[0] == "upgrade")
        assert upgrade[:3] == ["upgrade", "--install", "staging"]
        values = [upgrade[i + 1] for i, a in enumerate(upgrade) if a == "--values"]
        assert [Path(v).name for v in values] == ["common.values.yaml", "staging.values.yaml", "secret.values.yaml"]
        assert "--create-namespace" in upgrade and "--namespace" in upgrade and KUBE_TOKEN not in " ".join(upgrade)
        finished = job(bot, 1)
        assert finished.state is JobState.SUCCEEDED and finished.revision == 1 and finished.previous_revision is None
        assert bot.served.call(bot.runtime.services.deploys.jobs.lock(STAGING)) is None  # type: ignore[union-attr]
        audit = bot.audit()
        assert any(e.command == "deploy" and e.outcome is Outcome.CHANGED and "started job #1" in e.detail
                   for e in audit)
        assert any(e.transport == "job" and e.outcome is Outcome.CHANGED and e.hub == STAGING for e in audit)
        assert KUBE_TOKEN not in everything_sent(bot)


def test_live_updates_are_throttled_to_one_a_second(env: DeployEnv, clockwork: Clockwork) -> None:
    clockwork.hook = lambda n: env.kube.make_ready("staging") if n >= 6 else None
    with start(env, clockwork) as bot:
        bot.slash(f"deploy {STAGING}", user=ENGINEER, channel=CHANNEL_A)
        assert finish(bot) == [JobState.SUCCEEDED]
        # the frozen clock only moves at polls (5 s each): stage changes between them are coalesced
        updates = bot.standin.of("chat.update")
        assert 6 <= len(updates) <= 9 and "succeeded" in updates[-1].args["text"]


# -- approval, locks, cancel --------------------------------------------------------------------------


def test_prod_deploy_needs_a_second_engineer(env: DeployEnv, clockwork: Clockwork) -> None:
    clockwork.hook = ready_after_first_poll(env)
    with start(env, clockwork) as bot:
        bot.slash(f"deploy {PROD}", user=ENGINEER, channel=CHANNEL_A)
        bot.settle()
        asked = bot.standin.wait_for("response_url")[0].args
        assert "Approval needed: deploy aws-cluster/prod" in asked["text"]
        pending = json.loads(asked["blocks"]) if isinstance(asked["blocks"], str) else asked["blocks"]
        approve = next(e for blk in pending if blk["type"] == "actions" for e in blk["elements"]
                       if e["action_id"].endswith(":approve"))
        assert env.helm_calls() == []  # nothing ran before approval
        bot.click(user=ENGINEER, channel=CHANNEL_A, action_id=approve["action_id"], value=approve["value"])
        bot.settle()
        assert "cannot approve your own" in texts(bot.standin.of("response_url"))[-1]
        bot.click(user=LEADER_A, channel=CHANNEL_A, action_id=approve["action_id"], value=approve["value"])
        bot.settle()
        assert "only hub engineers can approve" in texts(bot.standin.of("response_url"))[-1]
        bot.click(user=ENGINEER_2, channel=CHANNEL_A, action_id=approve["action_id"], value=approve["value"])
        assert finish(bot) == [JobState.SUCCEEDED]
        done = job(bot, 1)
        assert done.requested_by == ENGINEER and done.approved_by == ENGINEER_2
        assert f"approved by <@{ENGINEER_2}>" in json.dumps(bot.standin.of("chat.update")[-1].args)
        assert any(e.outcome is Outcome.CONFIRMED for e in bot.audit())


def test_one_deploy_per_hub_and_cancel_frees_the_hub(env: DeployEnv, clockwork: Clockwork) -> None:
    clockwork.hold.clear()  # the first job stays in its rollout
    with start(env, clockwork) as bot:
        bot.slash(f"deploy {STAGING}", user=ENGINEER, channel=CHANNEL_A, hook="first")
        bot.standin.wait_for("chat.update", 2)
        bot.slash(f"deploy {STAGING}", user=ENGINEER_2, channel=CHANNEL_A, hook="second")
        bot.settle()
        busy = texts(bot.standin.of("response_url"))
        assert any(f"busy: job #1 by <@{ENGINEER}>" in t and "/hub cancel 1" in t for t in busy)
        assert "#1 deploy aws-cluster/staging · running at rollout" in ask(bot, "jobs --running", user=MEMBER_A)
        assert "engineer" in ask(bot, "cancel 1", user=LEADER_A)
        assert job(bot, 1).state is JobState.RUNNING
        assert "Cancelling job #1" in ask(bot, "cancel 1", user=ENGINEER_2)
        assert finish(bot) == [JobState.CANCELLED]
        clockwork.hold.set()
        cancelled = job(bot, 1)
        assert cancelled.state is JobState.CANCELLED and cancelled.stage == "rollout"
        assert "cancelled at *rollout*" in bot.standin.of("chat.update")[-1].args["text"]
        assert "already cancelled" in ask(bot, "cancel 1", user=ENGINEER_2)
        audit = bot.audit()
        assert any(e.command == "cancel" and e.outcome is Outcome.CHANGED for e in audit)
        assert any(e.command == "cancel" and e.outcome is Outcome.DENIED for e in audit)
        clockwork.hook = ready_after_first_poll(env)
        bot.slash(f"deploy {STAGING}", user=ENGINEER_2, channel=CHANNEL_A, hook="third")
        assert finish(bot) == [JobState.SUCCEEDED]


# -- failures and rollback ------------------------------------------------------------------------------


def _failed(bot: Harness, job_id: int = 1) -> tuple[Job, str]:
    failed = job(bot, job_id)
    assert failed.state is JobState.FAILED, failed
    assert bot.served.call(bot.runtime.services.deploys.jobs.lock(failed.hub)) is None  # type: ignore[union-attr]
    return failed, json.dumps(bot.standin.of("chat.update")[-1].args)


def test_failed_upgrade_offers_roll_back_to_the_previous_revision(env: DeployEnv, clockwork: Clockwork) -> None:
    clockwork.hook = ready_after_first_poll(env)
    with start(env, clockwork) as bot:
        bot.slash(f"deploy {STAGING}", user=ENGINEER, channel=CHANNEL_A)
        assert finish(bot) == [JobState.SUCCEEDED]
    env.helm("fail", only=["upgrade"])
    with start(env, clockwork, helm=str(env.tmp / "bin" / "helm")) as bot:
        bot.slash(f"deploy {STAGING}", user=ENGINEER, channel=CHANNEL_A)
        assert finish(bot) == [JobState.FAILED]
        failed, final = _failed(bot, 2)
        assert failed.stage == "upgrade" and failed.previous_revision == 1
        assert "failed at *upgrade*" in final and "field is immutable" in final
        assert "Roll back to revision 1" in final
        # helm's own angle brackets and ampersands reach Slack escaped, never as control sequences
        update = bot.standin.of("chat.update")[-1].args
        assert "&amp; &lt;no value&gt;" in final and "(&lt;nil&gt;)" in final and not problems(update)
        button = next(e for blk in bot.standin.of("chat.update")[-1].args["blocks"] if blk["type"] == "actions"
                      for e in blk["elements"])
        env.helm("ok")
        env.kube.roll("staging")
        bot.click(user=ENGINEER_2, channel=CHANNEL_A, action_id=button["action_id"], value=button["value"])
        assert finish(bot) == [JobState.SUCCEEDED]
        rolled = job(bot, 3)
        assert rolled.kind == "rollback" and rolled.requested_by == ENGINEER_2
        rollback = next(c for c in env.helm_calls() if c[0] == "rollback")
        assert rollback[1:3] == ["staging", "1"]
        assert any(e.command == "rollback" and e.outcome is Outcome.CHANGED for e in bot.audit())


@pytest.mark.parametrize(("case", "stage", "says"), [
    ("helm-missing", "render", "HUBBOT_HELM"),
    ("chart-missing", "render", "does not exist"),
    ("helm-hangs", "upgrade", "did not finish within 2 s"),
    ("helm-floods", "upgrade", "flood of output"),
    ("credentials-refused", "rollout", "refused"),
    ("kubeconfig-missing", "credentials", "kubeconfig"),
    ("never-ready", "rollout", "not ready after 30 s"),
    ("deadline-exceeded", "rollout", "ProgressDeadlineExceeded"),
    ("health-500", "health", "HTTP 500"),
    ("health-hangs", "health", "no answer"),
])
def test_each_failure_ends_the_job_at_its_stage_and_frees_the_hub(
        env: DeployEnv, clockwork: Clockwork, case: str, stage: str, says: str) -> None:
    helm = env.helm("ok")
    clockwork.hook = ready_after_first_poll(env)
    if case == "helm-missing":
        helm = str(env.tmp / "no-such-helm")
    elif case == "chart-missing":
        env.fleet_file.write_text(env.fleet_file.read_text().replace("charts/testhub", "charts/no-such-chart"))
    elif case == "helm-hangs":
        helm = env.helm("hang", only=["upgrade"])
    elif case == "helm-floods":
        helm = env.helm("flood", only=["upgrade"])
    elif case == "credentials-refused":
        env.kube.token = "another-token"
    elif case == "kubeconfig-missing":
        (env.tmp / "kubeconfig.yaml").unlink()
    elif case == "never-ready":
        clockwork.hook = None
    elif case == "deadline-exceeded":
        clockwork.hook = lambda _: env.kube.fail_deadline("staging", "hub")
    elif case == "health-500":
        env.hubs.status["/staging/"] = 500
    elif case == "health-hangs":
        env.hubs.silent.add("/staging/hub/api/")
    with start(env, clockwork, helm=helm) as bot:
        bot.slash(f"deploy {STAGING}", user=ENGINEER, channel=CHANNEL_A)
        assert finish(bot) == [JobState.FAILED]
        failed, final = _failed(bot)
        if env.hubs.release is not None:
            env.hubs.release.set()
        assert failed.stage == stage and says in failed.result + failed.log, (failed.result, failed.log)
        assert f"failed at *{stage}*" in final
        assert len(final) < 6000  # an excerpt, never megabytes
        assert "Traceback" not in everything_sent(bot) and KUBE_TOKEN not in everything_sent(bot)


def test_secret_values_never_reach_slack_or_the_logs(
        env: DeployEnv, clockwork: Clockwork, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with start(env, clockwork, helm=env.helm("echo-secret", only=["upgrade"])) as bot:
        bot.slash(f"deploy {STAGING}", user=ENGINEER, channel=CHANNEL_A)
        assert finish(bot) == [JobState.FAILED]
        failed, _final = _failed(bot)
        assert failed.stage == "upgrade" and "values:" in failed.log
        for where in (everything_sent(bot), failed.log, failed.result, caplog.text,
                      json.dumps([a.detail for a in bot.audit()])):
            assert SECRET_VALUE not in where


# -- dry run ---------------------------------------------------------------------------------------------------


def test_dry_run_compares_with_the_live_release_and_changes_nothing(env: DeployEnv, clockwork: Clockwork) -> None:
    clockwork.hook = ready_after_first_poll(env)
    with start(env, clockwork) as bot:
        bot.slash(f"deploy {STAGING}", user=ENGINEER, channel=CHANNEL_A)
        assert finish(bot) == [JobState.SUCCEEDED]
        state = json.loads(env.state.read_text())
        state["release"]["manifest"] = (
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hub-config\ndata:\n  ANNOUNCEMENT: old\n"
            "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: retired\n")
        env.state.write_text(json.dumps(state))
        before = len(env.helm_calls())
        bot.slash(f"deploy {STAGING} --dry-run", user=ENGINEER, channel=CHANNEL_A, hook="dry")
        bot.settle()
        text = texts(bot.standin.wait_for("response_url", 2))[-1]
        assert "1 to add, 1 to change, 1 to remove" in text and "nothing was changed" in text
        assert "Deployment/hub" in text and "ConfigMap/hub-config" in text and "Service/retired" in text
        assert "secret values file(s), not shown" in text
        verbs = [c[0] for c in env.helm_calls()[before:]]
        assert sorted(verbs) == ["get", "template"]
        assert len(bot.served.call(bot.runtime.services.deploys.jobs.recent(  # type: ignore[union-attr]
            communities=None, active_only=False, limit=10))) == 1


def test_dry_run_without_cluster_access_says_everything_is_new(env: DeployEnv, clockwork: Clockwork) -> None:
    with start(env, clockwork) as bot:
        bot.slash(f"deploy {OFFLINE} --dry-run", user=ENGINEER, channel=CHANNEL_A)
        bot.settle()
        text = texts(bot.standin.wait_for("response_url", 2))[-1]
        assert "2 to add, 0 to change, 0 to remove" in text and "no `kubernetes:` access" in text


# -- fan-out ---------------------------------------------------------------------------------------------------


def test_deploy_all_fills_in_one_summary_and_skips_busy_hubs(env: DeployEnv, clockwork: Clockwork) -> None:
    env.write_fleet(extra_staging=3)
    clockwork.hook = ready_after_first_poll(env)
    with start(env, clockwork) as bot:
        deploys = bot.runtime.services.deploys
        assert deploys is not None
        held = bot.served.call(deploys.jobs.create(Job(
            kind="deploy", hub="aws-cluster/extra2", community="alpha", state=JobState.RUNNING,
            requested_by=ENGINEER_2, channel=CHANNEL_A, created_at=clockwork.clock.now(), worker="elsewhere:1",
            heartbeat_at=clockwork.clock.now())))
        assert isinstance(held, Job)
        bot.slash("deploy --all --tier staging --cluster aws-cluster", user=ENGINEER, channel=CHANNEL_A)
        states = finish(bot)
        assert sorted(states) == [JobState.SUCCEEDED] * 3  # alpha's staging hubs on aws-cluster, one busy
        summary = bot.standin.of("chat.update")[-1].args["text"]
        assert "Deploy of 4 hubs: 4/4 finished, 3 succeeded" in summary
        assert "aws-cluster/extra2 · skipped" in summary and f"job #{held.id} by <@{ENGINEER_2}>" in summary
        assert len(bot.standin.of("chat.postMessage")) == 1  # one summary, no per-hub threads
        assert "2 at a time" in reply(bot)


def test_a_fan_out_runs_as_many_helms_at_once_as_its_concurrency(env: DeployEnv, clockwork: Clockwork) -> None:
    env.write_fleet(extra_staging=3)  # 4 staging hubs on aws-cluster, 2 at a time
    clockwork.hook = ready_after_first_poll(env)
    # each upgrade waits until two are running at once: a fan-out that ran them one by one would fail
    with start(env, clockwork, helm=env.helm("barrier", parties=2, only=["upgrade"], barrier_timeout=30)) as bot:
        bot.slash("deploy --all --tier staging --cluster aws-cluster", user=ENGINEER, channel=CHANNEL_A)
        assert sorted(finish(bot)) == [JobState.SUCCEEDED] * 4
    upgrades = [c for c in env.helm_calls() if c[0] == "upgrade"]
    assert len(upgrades) == 4


def test_deploy_all_with_prod_hubs_asks_for_approval_first(env: DeployEnv, clockwork: Clockwork) -> None:
    with start(env, clockwork) as bot:
        # typed in alpha's channel: alpha's hubs on that cluster
        assert "Approval needed: deploy 2 hubs (1 prod)" in ask(bot, "deploy --all --cluster aws-cluster",
                                                                  user=ENGINEER)
        assert env.helm_calls() == []


# -- status, jobs, binder, links ------------------------------------------------------------------------------------


def test_status_shows_release_pods_health_and_last_deploy(env: DeployEnv, clockwork: Clockwork) -> None:
    clockwork.hook = ready_after_first_poll(env)
    with start(env, clockwork) as bot:
        bot.slash(f"deploy {STAGING}", user=ENGINEER, channel=CHANNEL_A)
        finish(bot)
        text = ask(bot, f"status {STAGING}", user=LEADER_A, hook="status")
        assert "revision 1 · deployed" in text and "testhub-0.1.0" in text and "Pods: 2/2 ready" in text
        assert "200 in" in text and f"deploy job #1 by <@{ENGINEER}>" in text and "succeeded" in text


def test_binder_status_and_deploy(env: DeployEnv, clockwork: Clockwork) -> None:
    clockwork.hook = ready_after_first_poll(env)
    env.hubs.binder_checks[1]["ok"] = False
    with start(env, clockwork) as bot:
        text = ask(bot, f"binder status {BINDER}", user=ENGINEER, hook="b1")
        assert "unhealthy" in text and ":x: Docker registry" in text
        assert "not a BinderHub" in ask(bot, f"binder deploy {STAGING}", user=ENGINEER, hook="b2")
        env.hubs.binder_checks[1]["ok"] = True
        bot.slash(f"binder deploy {BINDER}", user=ENGINEER, channel=CHANNEL_A, hook="b3")
        assert finish(bot) == [JobState.SUCCEEDED]


def test_link_builds_nbgitpuller_and_binder_links(env: DeployEnv, clockwork: Clockwork) -> None:
    with start(env, clockwork) as bot:
        text = ask(bot, f"link {STAGING} https://github.com/org/lessons --path week1/a.ipynb", user=MEMBER_A)
        assert "https://staging.alpha.test/hub/user-redirect/git-pull?repo=https%3A%2F%2Fgithub.com%2Forg%2Flessons" \
               in text
        text = ask(bot, f"link {BINDER} https://github.com/org/lessons --binder --ref main", user=ENGINEER)
        assert "https://binder.beta.test/v2/gh/org/lessons/main" in text
        # a query string's & reaches Slack as &amp; (Slack shows it as &, in code blocks too)
        text = ask(bot, f"link {STAGING} https://github.com/org/lessons --path 'a b.ipynb' --ref v1", user=MEMBER_A)
        assert "&amp;urlpath=" in text and not problems({"text": text})


def test_health_check_names_and_details_from_a_hub_are_escaped(env: DeployEnv, clockwork: Clockwork) -> None:
    env.hubs.binder_checks[1].update(ok=False, service="<!channel> registry", message="<https://evil.example|ok>")
    with start(env, clockwork) as bot:
        text = ask(bot, f"binder status {BINDER}", user=ENGINEER, hook="b1")
        assert "&lt;!channel&gt; registry" in text and not problems({"text": text})


# -- bad input ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("user", "text", "says"), [
    (ENGINEER, "deploy", "which hub?"),
    (ENGINEER, "deploy nowhere", "neither a community nor a hub"),
    (ENGINEER, "deploy alpha", "is a community"),
    (ENGINEER, f"deploy {STAGING} --chart-version '1.0; rm -rf /'", "is not a chart version"),
    (ENGINEER, f"deploy {STAGING} --all", "either a hub or --all"),
    (ENGINEER, f"deploy {STAGING} --tier prod", "choose hubs for --all"),
    (ENGINEER, "deploy --all --cluster mars", "unknown cluster 'mars'"),
    (ENGINEER, "deploy --all", "in the fleet config: js2-cluster. Choose others with --cluster"),
    (ENGINEER, f"deploy {OFFLINE}", "has no `kubernetes:` access"),
    (ENGINEER, f"deploy {STAGING} --colour red", "--colour"),
    (LEADER_A, f"deploy {STAGING}", "engineer"),
    (MEMBER_A, "cancel 1", "engineer"),
    (ENGINEER, "cancel one", "not a job number"),
    (ENGINEER, "cancel 99999999999999999999", "not a job number"),
    (ENGINEER, "cancel 42", "no job #42"),
    (ENGINEER, "status", "missing &lt;hub&gt;"),  # as Slack gets it
    (ENGINEER, f"link {STAGING} javascript:alert(1)", "not an https://"),
    (ENGINEER, f"link {STAGING} https://github.com/org/repo --binder", "not a BinderHub"),
    (ENGINEER, f"link {STAGING} https://github.com/org/repo --path ../../etc/passwd", "not a path"),
])
def test_bad_input_gets_a_clear_answer_and_changes_nothing(
        env: DeployEnv, clockwork: Clockwork, user: str, text: str, says: str) -> None:
    with start(env, clockwork) as bot:
        answer = ask(bot, text, user=user)
        assert says in answer, answer
        assert "Traceback" not in answer and "reference" not in answer.lower()
        assert env.helm_calls() == []
        assert bot.standin.of("chat.postMessage") == []


def test_the_minutely_sweep_leaves_jobs_of_this_process_alone(env: DeployEnv, clockwork: Clockwork) -> None:
    """A long fan-out keeps hubs queued for many minutes; the sweep that looks for jobs of dead
    processes must not take them (or the running one) for orphans."""
    env.write_fleet(extra_staging=2)
    env.fleet_file.write_text(env.fleet_file.read_text().replace("concurrency: 2", "concurrency: 1"))
    clockwork.hold.clear()  # the first hub stays in its rollout
    with start(env, clockwork) as bot:
        bot.slash("deploy --all --tier staging --cluster aws-cluster", user=ENGINEER, channel=CHANNEL_A)
        bot.settle()
        deploys = bot.runtime.services.deploys
        assert deploys is not None
        bot.standin.wait_for("response_url")
        clockwork.clock.advance(timedelta(minutes=30))
        from hubbot.deploys.engine import Engine

        swept = bot.served.call(Engine(bot.runtime.services, bot.runtime.fleet).sweep())
        assert swept == []
        states = [j.state for j in bot.served.call(deploys.jobs.recent(communities=None, active_only=False,
                                                                           limit=10))]
        assert sorted(states) == [JobState.QUEUED, JobState.QUEUED, JobState.RUNNING]
        clockwork.hook = ready_after_first_poll(env)
        clockwork.hold.set()
        assert sorted(finish(bot)) == [JobState.SUCCEEDED] * 3
