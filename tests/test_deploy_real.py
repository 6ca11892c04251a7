"""Deploys against a real Kubernetes API server: the real helm installs, upgrades and rolls back
the test chart into the control plane from `make kube`; the real Deployment and ReplicaSet
controllers make the pods; a test node plays the kubelet's part (pods Running and Ready, stuck
pulling an image, crash-looping). Signed Slack requests go into the real app, as in
``test_deploys.py``; the rollout's polls wait through the injected pause, whose hook acts as the
node and waits for the controllers to have seen it."""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from hubbot.domain import JobState
from tests.support.deploy_env import VALUES, Clockwork, ask, finish, job, real_helm
from tests.support.fleet import CHANNEL_A, CHANNEL_B, ENGINEER, ENGINEER_2, LEADER_A, MEMBER_A
from tests.support.fleet_repo import FleetRepo
from tests.support.harness import Harness, harness
from tests.support.hub_standin import HubStandIn
from tests.support.kube_control_plane import ControlPlane, wait_until
from tests.support.kube_node import TestNode
from tests.support.server import serve
from tests.support.sops import AgeKey, SopsTools

pytestmark = pytest.mark.kube

CHART = Path(__file__).resolve().parent / "data" / "charts" / "testhub"
BINDER_CHART = CHART.parent / "testbinder"


@dataclass
class RealEnv:
    tmp: Path
    hub: str  # also the namespace and the release
    plane: ControlPlane
    node: TestNode
    hubs: HubStandIn
    hubs_url: str
    fleet_file: Path
    image_values: Path
    apps: Any
    core: Any

    @property
    def ref(self) -> str:
        return f"real/{self.hub}"

    def image(self, tag: str, **hub: Any) -> None:
        """The next deploy's hub image tag, and other ``hub`` values (a values file of the hub's)."""
        self.image_values.write_text(yaml.safe_dump({"hub": {"image": {"tag": tag}, **hub}}))

    def settled(self) -> bool:
        """Every controller has seen its workload's latest spec and finished rolling it out: each
        Deployment replica updated and available, each DaemonSet pod updated and available, each
        StatefulSet replica ready and those at or above its partition updated."""
        for d in self.apps.list_namespaced_deployment(self.hub).items:
            s = d.status
            if (s is None or (s.observed_generation or 0) < d.metadata.generation
                    or (s.updated_replicas or 0) != d.spec.replicas or (s.available_replicas or 0) != d.spec.replicas
                    or (s.replicas or 0) != d.spec.replicas):
                return False
        for ds in self.apps.list_namespaced_daemon_set(self.hub).items:
            s = ds.status
            if (s is None or (s.observed_generation or 0) < ds.metadata.generation or s.desired_number_scheduled < 1
                    or (s.updated_number_scheduled or 0) != s.desired_number_scheduled
                    or (s.number_available or 0) != s.desired_number_scheduled):
                return False
        for sts in self.apps.list_namespaced_stateful_set(self.hub).items:
            s, partition = sts.status, sts.spec.update_strategy.rolling_update.partition or 0
            if (s is None or (s.observed_generation or 0) < sts.metadata.generation
                    or (s.ready_replicas or 0) != sts.spec.replicas
                    or (s.updated_replicas or 0) < sts.spec.replicas - partition):
                return False
        return True

    def run_pods(self) -> Callable[[int], None]:
        """A pause hook: the node runs every pod, then the controllers catch up (old pods reaped)."""
        def hook(_: int) -> None:
            def done() -> bool:
                self.node.run(self.hub)
                self.node.reap(self.hub)
                return self.settled()
            wait_until(done, 60, f"the rollout in {self.hub} to settle")
        return hook

    def releases(self) -> list[tuple[str, str]]:
        """helm's release records in the namespace, as (secret name, status label)."""
        found = self.core.list_namespaced_secret(self.hub, label_selector="owner=helm").items
        return sorted((s.metadata.name, s.metadata.labels.get("status", "")) for s in found)


def fleet_yaml(hub: str, *, hubs_url: str, image_values: Path, binder: bool = False, helm_timeout: int = 60) -> str:
    kind = (f'binder: true, chart: {{path: "{BINDER_CHART}"}}, values: ["{image_values}"], '
            f'health_url: "{hubs_url}/{hub}/health"') if binder else (
        f'values: ["{VALUES}/common.values.yaml", "{image_values}"], '
        f'secret_values: ["{VALUES}/secret.values.yaml"], health_url: "{hubs_url}/{hub}/hub/api/"')
    return f"""
providers:
  aws-test: {{kind: aws, account_id: "111122223333", region: us-west-2}}
clusters:
  - name: real
    provider: aws-test
    kubernetes: {{kind: kubeconfig, path: kubeconfig.yaml, context: admin}}
    chart: {{path: "{CHART}"}}
    hubs:
      - {{name: {hub}, community: alpha, domain: {hub}.alpha.test, tier: staging, {kind}}}
communities:
  - {{name: alpha, channel: {CHANNEL_A}, leaders: [{LEADER_A}], members: [{MEMBER_A}]}}
  - {{name: beta, channel: {CHANNEL_B}}}
roles:
  engineers: [{ENGINEER}, {ENGINEER_2}]
deploys: {{concurrency: 2, helm_timeout: {helm_timeout}, rollout_timeout: 30, health_timeout: 2, poll_seconds: 5}}
"""


@pytest.fixture
def real(tmp_path: Path, kube_control_plane: ControlPlane, kube_node: TestNode,
         kube_namespace: str) -> Iterator[RealEnv]:
    hubs = HubStandIn()
    with serve(hubs.app) as served:
        token_config = kube_control_plane.kubeconfig_with_token(kube_control_plane.token, name="hubbot")
        (tmp_path / "kubeconfig.yaml").write_text(token_config.read_text())
        image_values = tmp_path / "image.values.yaml"
        fleet_file = tmp_path / "fleet.yaml"
        fleet_file.write_text(fleet_yaml(kube_namespace, hubs_url=served.url, image_values=image_values))
        api = kube_control_plane.api_client()
        env = RealEnv(tmp=tmp_path, hub=kube_namespace, plane=kube_control_plane, node=kube_node, hubs=hubs,
                      hubs_url=served.url, fleet_file=fleet_file, image_values=image_values, apps=client.AppsV1Api(api),
                      core=client.CoreV1Api(api))
        env.image("4.0.0")
        yield env


@pytest.fixture
def clockwork() -> Clockwork:
    from hubbot.adapters.memory import FrozenClock

    return Clockwork(FrozenClock())


def start(env: RealEnv, clockwork: Clockwork) -> Any:
    return harness(env.tmp, env.fleet_file, helm=real_helm(), clock=clockwork.clock, pause=clockwork.pause)


def deploy(bot: Harness, env: RealEnv) -> str:
    ack = bot.slash(f"deploy {env.ref}", user=ENGINEER, channel=CHANNEL_A)
    assert ack.status_code == 200, ack.text
    finish(bot)
    return str(bot.standin.of("chat.update")[-1].args["text"])


def test_a_deploy_installs_the_release_and_waits_for_the_real_rollout(real: RealEnv, clockwork: Clockwork) -> None:
    clockwork.hook = real.run_pods()
    with start(real, clockwork) as bot:
        final = deploy(bot, real)
        assert job(bot, 1).state is JobState.SUCCEEDED, job(bot, 1).result
        assert "succeeded" in final and "revision 1" in final and "chart testhub-0.1.0" in final
        assert "1/1 workloads ready" in final and "healthy (200" in final
        assert clockwork.count >= 1  # the first poll found the pods not yet running
        # helm's own record of the release is a real Secret in the hub's namespace
        assert real.releases() == [(f"sh.helm.release.v1.{real.hub}.v1", "deployed")]
        [hub] = real.apps.list_namespaced_deployment(real.hub).items
        assert hub.spec.template.spec.containers[0].image == "quay.io/jupyterhub/k8s-hub:4.0.0"
        # /hub status reads the release, the pods and the health from the real cluster
        status = ask(bot, f"status {real.ref}", user=ENGINEER)
        assert "Release: revision 1 · deployed" in status and "Chart: testhub-0.1.0 (app 5.2.1)" in status
        assert "Pods: 1/1 ready" in status, status


def test_a_bad_image_fails_the_rollout_and_rollback_restores_the_previous_revision(
        real: RealEnv, clockwork: Clockwork) -> None:
    clockwork.hook = real.run_pods()
    with start(real, clockwork) as bot:
        deploy(bot, real)
        assert job(bot, 1).state is JobState.SUCCEEDED
        # the next image cannot be pulled: the new ReplicaSet's pod never becomes ready
        real.image("no-such-tag")
        clockwork.hook = lambda _: [real.node.fail_image_pull(real.hub, "app.kubernetes.io/name=hub")]
        final = deploy(bot, real)
        failed = job(bot, 2)
        assert failed.state is JobState.FAILED and failed.stage == "rollout", failed
        stuck = "not ready after 30 s: Deployment hub (pod hub-"
        assert stuck in final and ": ImagePullBackOff)" in final, final
        assert "Roll back to revision 1" in json.dumps(bot.standin.of("chat.update")[-1].args["blocks"])
        images = {rs.spec.template.spec.containers[0].image
                  for rs in real.apps.list_namespaced_replica_set(real.hub).items}
        assert images == {"quay.io/jupyterhub/k8s-hub:4.0.0", "quay.io/jupyterhub/k8s-hub:no-such-tag"}
        # the release itself says deployed: helm does not wait for pods; the rollout is hubbot's judgement
        assert real.releases()[-1] == (f"sh.helm.release.v1.{real.hub}.v2", "deployed")
        clockwork.hook = real.run_pods()
        button = next(e for blk in bot.standin.of("chat.update")[-1].args["blocks"] if blk["type"] == "actions"
                      for e in blk["elements"] if e["text"]["text"].startswith("Roll back"))
        bot.click(user=ENGINEER, channel=CHANNEL_A, action_id=button["action_id"], value=button["value"])
        finish(bot)
        rolled = job(bot, 3)
        assert rolled.state is JobState.SUCCEEDED, rolled.result
        assert real.releases()[-1] == (f"sh.helm.release.v1.{real.hub}.v3", "deployed")
        [hub] = real.apps.list_namespaced_deployment(real.hub).items
        assert hub.spec.template.spec.containers[0].image == "quay.io/jupyterhub/k8s-hub:4.0.0"
        assert rolled.revision == 3
        assert "revision 3 (revision 1 again) · chart testhub-0.1.0 · 1/1 workloads ready" in str(
            bot.standin.of("chat.update")[-1].args["text"])


def test_a_crash_loop_is_named_in_the_thread_while_the_rollout_waits(real: RealEnv, clockwork: Clockwork) -> None:
    clockwork.hook = lambda _: [real.node.crash_loop(real.hub, "app.kubernetes.io/name=hub")]
    with start(real, clockwork) as bot:
        final = deploy(bot, real)
        assert job(bot, 1).state is JobState.FAILED
        notes = [str(c.args["text"]) for c in bot.standin.of("chat.update")]
        assert any("0/1 workloads ready (hub: 0/1, pod hub-" in n and ": CrashLoopBackOff)" in n for n in notes), notes
        assert ": CrashLoopBackOff)" in final and "failed at *rollout*" in final


def test_a_progress_deadline_the_controller_declares_fails_the_rollout_at_once(
        real: RealEnv, clockwork: Clockwork) -> None:
    """The Deployment controller itself gives up (ProgressDeadlineExceeded): hubbot stops at the
    next poll, not at its own time limit, and says what the controller said."""
    real.image("no-such-tag", progressDeadlineSeconds=1)

    def deadline(_: int) -> None:
        real.node.fail_image_pull(real.hub, "app.kubernetes.io/name=hub")

        def exceeded() -> bool:
            [hub] = real.apps.list_namespaced_deployment(real.hub).items
            return any(c.type == "Progressing" and c.reason == "ProgressDeadlineExceeded"
                       for c in (hub.status.conditions or []))
        wait_until(exceeded, 60, "the Deployment controller to declare the progress deadline exceeded")

    clockwork.hook = deadline
    with start(real, clockwork) as bot:
        final = deploy(bot, real)
        failed = job(bot, 1)
        assert failed.state is JobState.FAILED and failed.stage == "rollout"
        assert ("Deployment hub will not become ready: exceeded its progress deadline (ProgressDeadlineExceeded): "
                'ReplicaSet "hub-') in final and '" has timed out progressing.' in final, final
        assert clockwork.count == 1  # failed at the poll after the controller's verdict, not after 30 s


def test_a_dry_run_diffs_against_the_live_release_and_changes_nothing(real: RealEnv, clockwork: Clockwork) -> None:
    clockwork.hook = real.run_pods()
    with start(real, clockwork) as bot:
        deploy(bot, real)
        real.image("4.1.0")
        answer = ask(bot, f"deploy {real.ref} --dry-run", user=ENGINEER)
        assert f"Dry run of {real.ref}: 0 to add, 1 to change, 0 to remove — nothing was changed" in answer
        assert "To change: `Deployment/hub`" in answer, answer
        assert real.releases() == [(f"sh.helm.release.v1.{real.hub}.v1", "deployed")]  # no new revision
        [hub] = real.apps.list_namespaced_deployment(real.hub).items
        assert hub.spec.template.spec.containers[0].image.endswith(":4.0.0")


def test_a_refused_token_is_said_plainly(real: RealEnv, clockwork: Clockwork) -> None:
    """The API server answers 401 to a token it does not know: /hub status says the credentials
    were refused, naming the cluster, never the token."""
    wrong = real.plane.wrong_token_kubeconfig()
    (real.tmp / "kubeconfig.yaml").write_text(wrong.read_text())
    with start(real, clockwork) as bot:
        status = ask(bot, f"status {real.ref}", user=ENGINEER)
        assert "Pods: unknown: cluster real refused hubbot's credentials (401)" in status, status
        assert "Release: unknown: helm get metadata failed: cluster real refused hubbot's credentials (401)" in status
        assert real.plane.token not in status and "not-" not in status


def test_a_binderhub_rolls_out_its_daemonset_and_a_partitioned_statefulset(
        real: RealEnv, clockwork: Clockwork) -> None:
    """A BinderHub-shaped chart: the binder Deployment, an image cleaner on every node (a
    DaemonSet) and a StatefulSet. Its pods start one by one (the StatefulSet controller waits for
    each); an upgrade held back by a partition is done once the pods at or above it are updated."""
    real.fleet_file.write_text(fleet_yaml(real.hub, hubs_url=real.hubs_url, image_values=real.image_values,
                                          binder=True))
    real.image_values.write_text("{}\n")
    clockwork.hook = real.run_pods()
    with start(real, clockwork) as bot:
        final = deploy(bot, real)
        assert job(bot, 1).state is JobState.SUCCEEDED, job(bot, 1).result
        assert "chart testbinder-0.1.0 · 3/3 workloads ready · healthy (200" in final, final
        # new images everywhere, the StatefulSet's pod 0 held back by the partition
        real.image_values.write_text(yaml.safe_dump({
            "binder": {"image": {"tag": "1.1.0"}}, "imageCleaner": {"image": {"tag": "1.1.0"}},
            "cache": {"partition": 1, "image": {"tag": "2.8.4"}}}))
        final = deploy(bot, real)
        assert job(bot, 2).state is JobState.SUCCEEDED, job(bot, 2).result
        assert "revision 2 · chart testbinder-0.1.0 · 3/3 workloads ready" in final, final
        images = {p.metadata.name: p.spec.containers[0].image for p in real.node.pods(real.hub)}
        assert images["cache-0"] == "registry:2.8.3" and images["cache-1"] == "registry:2.8.4", images
        assert {i for n, i in images.items() if n.startswith("image-cleaner")} == {
            "quay.io/jupyterhub/k8s-image-cleaner:1.1.0"}
        status = ask(bot, f"status {real.ref}", user=ENGINEER)
        assert "Release: revision 2 · deployed" in status and "Pods: 4/4 ready" in status, status


def test_an_upgrade_out_of_time_leaves_a_release_status_reports_as_helm_recorded_it(
        real: RealEnv, clockwork: Clockwork) -> None:
    """helm waits for a pre-upgrade hook Job no kubelet will ever run, until hubbot's time for it
    is up and it is stopped: the job fails at *upgrade*, helm records the revision as failed, and
    /hub status says exactly that."""
    clockwork.hook = real.run_pods()
    with start(real, clockwork) as bot:
        deploy(bot, real)
        assert job(bot, 1).state is JobState.SUCCEEDED
    real.fleet_file.write_text(fleet_yaml(real.hub, hubs_url=real.hubs_url, image_values=real.image_values,
                                          helm_timeout=3))
    real.image_values.write_text(yaml.safe_dump({"hub": {"image": {"tag": "4.1.0"}}, "hooks": {"preUpgrade": True}}))
    with start(real, clockwork) as bot:
        final = deploy(bot, real)
        failed = job(bot, 2)
        assert failed.state is JobState.FAILED and failed.stage == "upgrade", failed
        assert "failed at *upgrade*" in final and "helm upgrade did not finish within 3 s" in final, final
        assert "Roll back to revision 1" in json.dumps(bot.standin.of("chat.update")[-1].args["blocks"])
        # helm, stopped, marked its revision 2 failed; revision 1 stays what was last deployed
        assert real.releases() == [(f"sh.helm.release.v1.{real.hub}.v1", "deployed"),
                                   (f"sh.helm.release.v1.{real.hub}.v2", "failed")]
        status = ask(bot, f"status {real.ref}", user=ENGINEER)
        assert "Release: revision 2 · failed" in status, status
        # the pods still run revision 1's spec: nothing was applied after the hook
        [hub] = real.apps.list_namespaced_deployment(real.hub).items
        assert hub.spec.template.spec.containers[0].image.endswith(":4.0.0")


def test_a_deploy_cancelled_in_its_rollout_leaves_what_status_then_reports(
        real: RealEnv, clockwork: Clockwork) -> None:
    """Cancelled while it waits for the new pods: helm has already recorded revision 2, the old
    pod still serves, the new one never started. /hub status says exactly that, and the next
    deploy takes over from there."""
    clockwork.hook = real.run_pods()
    with start(real, clockwork) as bot:
        deploy(bot, real)
        assert job(bot, 1).state is JobState.SUCCEEDED
        real.image("4.1.0")
        clockwork.hook = None
        clockwork.hold.clear()  # the job stays in its rollout
        bot.slash(f"deploy {real.ref}", user=ENGINEER, channel=CHANNEL_A, hook="second")
        deploys = bot.runtime.services.deploys
        assert deploys is not None

        def in_rollout() -> bool:  # the job row appears once the slash command has been taken
            found = bot.served.call(deploys.jobs.get(2))
            return found is not None and found.stage == "rollout"
        wait_until(in_rollout, 30, "job #2 to reach its rollout")
        assert "Cancelling job #2" in ask(bot, "cancel 2", user=ENGINEER_2)
        clockwork.hold.set()
        assert finish(bot) == [JobState.CANCELLED]
        assert "cancelled at *rollout*" in bot.standin.of("chat.update")[-1].args["text"]
        assert real.releases()[-1] == (f"sh.helm.release.v1.{real.hub}.v2", "deployed")
        status = ask(bot, f"status {real.ref}", user=ENGINEER)
        # two pods: the old one Running and Ready, the new one Pending (no node ran it)
        assert "Release: revision 2 · deployed" in status and "Pods: 1/2 ready" in status, status
        assert "cancelled at rollout" in status, status
        clockwork.hook = real.run_pods()
        deploy(bot, real)
        assert job(bot, 3).state is JobState.SUCCEEDED and job(bot, 3).revision == 3


# -- from a fleet repository -------------------------------------------------------------------

def repository_env(real: RealEnv, sops: SopsTools, key: AgeKey) -> FleetRepo:
    """The real cluster as a folder of a fleet repository, as the field keeps one: its kubeconfig
    and the hub's secret values sops-encrypted (for the test's age key) beside cluster.yaml and the
    plain values files; the test chart as the repository's basehub; hubbot's file naming it."""
    from tests.support.fleet_repo import git

    work, remote = real.tmp / "infrastructure", real.tmp / "remote.git"
    folder = work / "config/clusters/real"
    folder.mkdir(parents=True)
    shutil.copytree(CHART, work / "helm-charts/basehub")
    sops.encrypt(real.tmp / "kubeconfig.yaml", folder / "enc-deployer-credentials.secret.yaml",
                 recipient=key.recipient)
    shutil.copy(VALUES / "common.values.yaml", folder / "common.values.yaml")
    (folder / "hub.values.yaml").write_text(yaml.safe_dump({"hub": {"image": {"tag": "4.0.0"}}}))
    sops.encrypt(VALUES / "secret.values.yaml", folder / "enc-hub.secret.values.yaml", recipient=key.recipient)
    (folder / "cluster.yaml").write_text(yaml.safe_dump({
        "name": "real", "provider": "kubeconfig", "metadata": {"2i2c": {"hubspot_deal_id": 1}},
        "kubeconfig": {"file": "enc-deployer-credentials.secret.yaml"},
        "hubs": [{"name": real.hub, "display_name": "The real hub", "domain": f"{real.hub}.alpha.test",
                  "helm_chart": "basehub",
                  "helm_chart_values_files": ["common.values.yaml", "hub.values.yaml",
                                              "enc-hub.secret.values.yaml"]}]}))
    git("init", "-q", "-b", "main", cwd=work)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "The real cluster", cwd=work)
    git("init", "-q", "--bare", "-b", "main", str(remote), cwd=real.tmp)
    git("remote", "add", "origin", str(remote), cwd=work)
    git("push", "-q", "origin", "main", cwd=work)
    real.fleet_file.write_text(f"""
repository:
  url: remote.git
  hubs:
    real/{real.hub}: {{tier: staging, health_url: "{real.hubs_url}/{real.hub}/hub/api/"}}
communities:
  - {{name: alpha, channel: {CHANNEL_A}, leaders: [{LEADER_A}], members: [{MEMBER_A}], hubs: [real/{real.hub}]}}
  - {{name: beta, channel: {CHANNEL_B}}}
roles:
  engineers: [{ENGINEER}, {ENGINEER_2}]
deploys: {{concurrency: 2, helm_timeout: 60, rollout_timeout: 30, health_timeout: 2, poll_seconds: 5}}
""")
    return FleetRepo(work, remote)


def image_of(real: RealEnv) -> str:
    [hub] = real.apps.list_namespaced_deployment(real.hub).items
    return str(hub.spec.template.spec.containers[0].image)


def test_a_deploy_from_the_repository_deploys_one_commit_and_records_it(
        real: RealEnv, clockwork: Clockwork, sops_tools: SopsTools, age_key: AgeKey,
        monkeypatch: pytest.MonkeyPatch) -> None:
    repo = repository_env(real, sops_tools, age_key)
    # hubbot runs with sops and the age key, as it would with its KMS credentials
    monkeypatch.setenv("HUBBOT_SOPS", str(sops_tools.sops))
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(age_key.identity_file))
    clockwork.hook = real.run_pods()
    with start(real, clockwork) as bot:
        main = repo.head()
        final = deploy(bot, real)
        first = job(bot, 1)
        assert first.state is JobState.SUCCEEDED, first.result
        assert (first.commit, first.ref) == (main, "main")
        assert f"commit `{main[:12]}` (main)" in json.dumps(bot.standin.of("chat.update")[-1].args["blocks"]), final
        assert image_of(real) == "quay.io/jupyterhub/k8s-hub:4.0.0"
        # the secret values file was decrypted for the run: the chart got its token, nothing shows it
        assert "s3cr3t-api-token-value" not in json.dumps([c.args for c in bot.standin.calls])
        token = real.core.read_namespaced_secret("hub-secret", real.hub).data["apiToken"]
        assert base64.b64decode(token) == b"s3cr3t-api-token-value"  # the decrypted value reached the chart
        audit = ask(bot, "audit", user=ENGINEER, hook="audit")
        assert f'"commit": "{main}", "ref": "main"' in audit, audit
        # a branch with a new image: deployed to this staging hub by --ref, main stays as it was
        branch = repo.commit("Try hub 4.1.0", {"config/clusters/real/hub.values.yaml":
                                               yaml.safe_dump({"hub": {"image": {"tag": "4.1.0"}}})},
                             branch="try-4.1")
        ack = bot.slash(f"deploy {real.ref} --ref try-4.1", user=ENGINEER, channel=CHANNEL_A, hook="ref")
        assert ack.status_code == 200, ack.text
        finish(bot)
        second = job(bot, 2)
        assert second.state is JobState.SUCCEEDED, second.result
        assert (second.commit, second.ref) == (branch, "try-4.1")
        assert image_of(real) == "quay.io/jupyterhub/k8s-hub:4.1.0"
        # a plain deploy fetches the branch again: main's image comes back
        deploy(bot, real)
        assert job(bot, 3).commit == main and image_of(real) == "quay.io/jupyterhub/k8s-hub:4.0.0"
        listed = ask(bot, "jobs", user=ENGINEER, hook="jobs")
        assert f"#2 deploy real/{real.hub} @ `{branch[:12]}`" in listed, listed
        status = ask(bot, f"status {real.ref}", user=ENGINEER, hook="status")
        assert f"Fleet: read at commit `{main[:12]}`" in status, status
        # a ref that is not there: nothing starts, and the reply names the closest branch
        missing = ask(bot, f"deploy {real.ref} --ref try-4.2", user=ENGINEER, hook="missing")
        assert "no branch, tag or commit 'try-4.2' in the fleet repository — did you mean 'try-4.1'?" in missing
        deploys = bot.runtime.services.deploys
        assert deploys is not None and bot.served.call(deploys.jobs.get(4)) is None
        dry = ask(bot, f"deploy {real.ref} --dry-run --ref {branch[:10]}", user=ENGINEER, hook="dry")
        assert f"Dry run of real/{real.hub} at commit {branch[:12]}:" in dry, dry

