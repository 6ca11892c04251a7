"""Everything a deploy test talks to: the Kubernetes API stand-in, the hubs' health endpoints,
a kubeconfig pointing at the stand-in, a fleet using the test chart, and a helm stand-in."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from hubbot.adapters.memory import FrozenClock
from hubbot.domain import Job, JobState
from tests.support.fake_helm import install_fake_helm, read_state
from tests.support.fleet import CHANNEL_A, CHANNEL_B, ENGINEER, ENGINEER_2, LEADER_A, MEMBER_A
from tests.support.harness import Harness
from tests.support.hub_standin import HubStandIn
from tests.support.kube_standin import KubeStandIn
from tests.support.server import serve
from tests.support.slack_standin import Call

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
CHART = DATA / "charts" / "testhub"
VALUES = DATA / "deploy"
KUBE_TOKEN = "kube-token-SECRET-0123456789"
STAGING, PROD, BINDER, OFFLINE = "aws-cluster/staging", "aws-cluster/prod", "aws-cluster/binder", "js2-cluster/class"


def real_helm() -> str:
    """The real helm v3 binary (HUBBOT_TEST_HELM, else the one `make helm` put in .venv/bin); a test
    without it skips on a laptop and fails in CI."""
    executable = os.environ.get("HUBBOT_TEST_HELM") or str(ROOT / ".venv" / "bin" / "helm")
    if not os.access(executable, os.X_OK):
        message = f"no helm at {executable}: run `make helm` (or set HUBBOT_TEST_HELM to a helm v3 executable)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return executable


def fleet_yaml(*, hubs_url: str, concurrency: int = 2, extra_staging: int = 0) -> str:
    more = "".join(
        f"      - {{name: extra{i}, community: alpha, domain: extra{i}.alpha.test,"
        f" values: [{VALUES}/common.values.yaml], health_url: '{hubs_url}/extra{i}/hub/api/'}}\n"
        for i in range(extra_staging))
    return f"""
providers:
  aws-test: {{kind: aws, account_id: "111122223333", region: us-west-2}}
  js2-test: {{kind: openstack, auth_url: "https://keystone.test:5000/v3", project: TRA000001}}
clusters:
  - name: aws-cluster
    provider: aws-test
    kubernetes: {{kind: kubeconfig, path: kubeconfig.yaml, context: standin}}
    chart: {{path: "{CHART}"}}
    hubs:
      - {{name: staging, community: alpha, domain: staging.alpha.test, tier: staging,
         values: ["{VALUES}/common.values.yaml", "{VALUES}/staging.values.yaml"],
         secret_values: ["{VALUES}/secret.values.yaml"], health_url: "{hubs_url}/staging/hub/api/"}}
      - {{name: prod, community: alpha, domain: alpha.test, tier: prod, values: ["{VALUES}/common.values.yaml"],
         health_url: "{hubs_url}/prod/hub/api/"}}
      - {{name: binder, community: beta, domain: binder.beta.test, tier: staging, binder: true,
         health_url: "{hubs_url}/binder/health"}}
{more}  - name: js2-cluster
    provider: js2-test
    chart: {{path: "{CHART}"}}
    hubs:
      - {{name: class, community: alpha, domain: class.alpha.test}}
communities:
  - {{name: alpha, channel: {CHANNEL_A}, leaders: [{LEADER_A}], members: [{MEMBER_A}]}}
  - {{name: beta, channel: {CHANNEL_B}}}
roles:
  engineers: [{ENGINEER}, {ENGINEER_2}]
deploys: {{concurrency: {concurrency}, helm_timeout: 2, rollout_timeout: 30, health_timeout: 1, poll_seconds: 5}}
"""


def kubeconfig(server: str, token: str = KUBE_TOKEN) -> str:
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "standin",
        "clusters": [{"name": "standin", "cluster": {"server": server}}],
        "users": [{"name": "hubbot", "user": {"token": token}}],
        "contexts": [{"name": "standin", "context": {"cluster": "standin", "user": "hubbot"}}],
    })


@dataclass
class DeployEnv:
    tmp: Path
    kube: KubeStandIn
    hubs: HubStandIn
    kube_url: str
    hubs_url: str
    fleet_file: Path
    state: Path

    def helm(self, mode: str = "ok", **settings: object) -> str:
        folder = self.tmp / "bin"
        folder.mkdir(exist_ok=True)
        return str(install_fake_helm(folder, mode=mode, state=self.state, **settings))

    def helm_calls(self) -> list[list[str]]:
        return [list(c) for c in read_state(self.state)["calls"]]

    def write_fleet(self, **kw: int) -> Path:
        self.fleet_file.write_text(fleet_yaml(hubs_url=self.hubs_url, **kw))
        return self.fleet_file


@contextmanager
def deploy_env(tmp: Path) -> Iterator[DeployEnv]:
    kube, hubs = KubeStandIn(token=KUBE_TOKEN), HubStandIn()
    with ExitStack() as stack:
        kube_served = stack.enter_context(serve(kube.app))
        hubs_served = stack.enter_context(serve(hubs.app))
        (tmp / "kubeconfig.yaml").write_text(kubeconfig(kube_served.url))
        env = DeployEnv(tmp=tmp, kube=kube, hubs=hubs, kube_url=kube_served.url, hubs_url=hubs_served.url,
                        fleet_file=tmp / "fleet.yaml", state=tmp / "helm-state.json")
        env.write_fleet()
        yield env


class Clockwork:
    """The deploy's pause: moves the frozen clock and runs the test's hook (e.g. make pods ready);
    with ``hold`` set it blocks until the test releases it (a job that stays running)."""

    def __init__(self, clock: FrozenClock) -> None:
        self.clock = clock
        self.count = 0
        self.hook: Callable[[int], None] | None = None
        self.hold = threading.Event()
        self.hold.set()

    async def pause(self, seconds: float) -> None:
        self.count += 1
        self.clock.advance(timedelta(seconds=seconds))
        if self.hook is not None:
            self.hook(self.count)
        if not self.hold.is_set():
            await asyncio.to_thread(self.hold.wait)


def finish(bot: Harness) -> list[JobState]:
    """Wait for replies and for every job started so far (an event-driven drain, not a sleep)."""
    bot.settle()
    deploys = bot.runtime.services.deploys
    assert deploys is not None
    states: list[JobState] = bot.served.call(deploys.background.drain(), timeout=60)
    bot.settle()
    return states


def job(bot: Harness, job_id: int) -> Job:
    deploys = bot.runtime.services.deploys
    assert deploys is not None
    found = bot.served.call(deploys.jobs.get(job_id))
    assert isinstance(found, Job)
    return found


def texts(calls: list[Call]) -> list[str]:
    return [str(c.args.get("text", "")) for c in calls]


def everything_sent(bot: Harness) -> str:
    return json.dumps([c.args for c in bot.standin.calls if c.method != "upload"], default=str)


def reply(bot: Harness, index: int = -1) -> str:
    return str(bot.standin.wait_for("response_url")[index].args["text"])


def ask(bot: Harness, text: str, *, user: str, hook: str = "r1") -> str:
    """A slash command's answer: in the ack when quick, else posted to its response_url."""
    before = len(bot.standin.of("response_url"))
    ack = bot.slash(text, user=user, channel=CHANNEL_A, hook=hook).json()
    if not ack["text"].startswith(":hourglass"):
        return str(ack["text"])
    bot.settle()
    return str(bot.standin.wait_for("response_url", before + 1)[-1].args["text"])
