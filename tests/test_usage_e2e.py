"""``/hub usage`` and ``/hub quota show`` end to end: signed Slack requests into the real app,
answered from a real JupyterHub (users, groups, a running server) and a real Prometheus filled
with the series of those users' servers; the chart is uploaded through Slack's file API."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from hubbot.adapters.jupyterhub import JupyterHubApi
from hubbot.adapters.memory import FrozenClock, ServerRun
from hubbot.adapters.prometheus import PrometheusMetrics
from hubbot.domain import DailyActive, HomeUse, home_folder
from tests.support.fleet import CHANNEL_A, ENGINEER, LEADER_A, MEMBER_A
from tests.support.harness import Harness, harness
from tests.support.jupyterhub_server import JupyterHubServer
from tests.support.usage_series import openmetrics

HUB = "aws-cluster/prod"
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
GIB = 1024**3


@pytest.fixture
def people(jupyterhub_server: JupyterHubServer) -> Iterator[list[str]]:
    prefix = f"e{secrets.token_hex(3)}"
    ana, bo = f"{prefix}-ana", f"{prefix}.bo@uni.edu"
    jupyterhub_server.create_users(ana, bo)
    with httpx.Client(headers={"Authorization": f"token {jupyterhub_server.token}"}, timeout=10) as client:
        client.post(f"{jupyterhub_server.api}/groups/{prefix}-class").raise_for_status()
        client.post(f"{jupyterhub_server.api}/groups/{prefix}-class/users",
                    json={"users": [ana, bo]}).raise_for_status()
    jupyterhub_server.start_server(ana)
    try:
        yield [ana, bo]
    finally:
        jupyterhub_server.stop_server(ana)


@pytest.fixture
def bot(tmp_path: Path, fleet_file: Path, jupyterhub_server: JupyterHubServer, people: list[str],
        start_prometheus: Callable[..., object]) -> Iterator[Harness]:
    ana, bo = people
    runs = [ServerRun(user=ana, pod=f"jupyter-{home_folder(ana)}", start=NOW - timedelta(days=2, hours=8),
                      end=NOW - timedelta(days=2), cpu=1.5, memory=2 * GIB, cpu_request=1, memory_request=4 * GIB),
            ServerRun(user=bo, pod="jupyter-bo-uni-edu---7a3f", start=NOW - timedelta(days=9, hours=4),
                      end=NOW - timedelta(days=9), cpu=0.5, memory=GIB, cpu_request=1, memory_request=4 * GIB)]
    homes = [HomeUse(home_folder(ana), 3 * GIB, 10 * GIB), HomeUse(home_folder(bo), GIB // 2, 10 * GIB)]
    active = [DailyActive(date(2026, 11, d), d % 3) for d in range(1, 30)]
    server = start_prometheus(openmetrics("prod", runs, homes=homes, active=active, at=NOW))
    apis = {HUB: JupyterHubApi(jupyterhub_server.api, jupyterhub_server.token, hub=HUB)}
    usage = {"aws-cluster": PrometheusMetrics(server.url, cluster="aws-cluster")}  # type: ignore[attr-defined]
    with harness(tmp_path, fleet_file, hub_apis=apis, usage=usage, clock=FrozenClock(NOW)) as h:
        yield h


def ask(bot: Harness, text: str, *, user: str, hook: str) -> dict[str, object]:
    before = len(bot.standin.of("response_url"))
    ack = bot.slash(text, user=user, channel=CHANNEL_A, hook=hook).json()
    assert ack["text"].startswith(":hourglass"), ack
    bot.settle()
    return dict(bot.standin.wait_for("response_url", before + 1)[-1].args)


def test_a_leader_gets_each_users_figures_and_a_chart(bot: Harness, people: list[str]) -> None:
    ana, bo = people
    answer = ask(bot, f"usage {HUB}", user=LEADER_A, hook="u1")
    text = str(answer["text"])
    assert "with a server running now" in text
    lines = {line.split()[0]: line for line in text.splitlines() if line.startswith((ana, bo))}
    assert lines[ana].split()[1:3] == ["12.0", "16.0"]  # 8 h at 1.5 cores and 2 GiB
    assert lines[bo].split()[1:3] == ["2.0", "4.0"] and "512 MiB" in lines[bo]
    assert "&lt;" not in text and "<@" not in text
    uploads = bot.standin.of("upload")
    assert uploads and bytes(uploads[-1].args["body"]).startswith(b"\x89PNG")  # type: ignore[arg-type]


def test_a_member_gets_totals_only(bot: Harness, people: list[str]) -> None:
    answer = ask(bot, f"usage {HUB} --period 7d", user=MEMBER_A, hook="u2")
    text = str(answer["text"])
    assert "12.0 CPU-hours" in text  # bo's run is older than 7 days
    assert people[0] not in text and people[1] not in text


def test_quota_show_of_a_hub_without_limits_says_what_there_is(bot: Harness, people: list[str]) -> None:
    answer = ask(bot, f"quota show {HUB}", user=ENGINEER, hook="u3")
    text = str(answer["text"])
    assert "Home storage: no per-user quota (this hub's values do not enable jupyterhub-home-nfs)" in text
    assert "Compute: no usage quotas (jupyterhub-usage-quotas policies) on this hub" in text
    assert "Namespace: unknown (" in text  # the test fleet's EKS cluster cannot be reached from here
    assert "Traceback" not in text
