"""`hubbot socket`: connects out with the app token, runs slash commands and mentions that
arrive over the websocket through the same pipeline, and acks each envelope."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fleet import CHANNEL_A, ENGINEER, LEADER_A
from tests.support.harness import BOT_TOKEN
from tests.support.hostile import problems
from tests.support.server import serve
from tests.support.slack_standin import SlackStandIn
from tests.support.socket_standin import SocketStandIn

APP_TOKEN = "xapp-1-A0TEST-1234-SECRETappTOKEN"


@pytest.fixture
def slack() -> Iterator[tuple[SlackStandIn, SocketStandIn]]:
    api, sock = SlackStandIn(), SocketStandIn()
    with serve(api.app) as served, sock.serve() as ws_url:
        api.base_url = served.url
        api.socket_url = ws_url
        yield api, sock


def test_socket_mode_runs_commands_and_mentions(
    tmp_path: Path, fleet_file: Path, slack: tuple[SlackStandIn, SocketStandIn]
) -> None:
    api, sock = slack
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBBOT_", "SLACK_"))}
    env.update({"HUBBOT_SLACK_BOT_TOKEN": BOT_TOKEN,
                "HUBBOT_SLACK_APP_TOKEN": APP_TOKEN, "HUBBOT_SLACK_API_URL": f"{api.base_url}/api/",
                "HUBBOT_SLACK_RESPONSE_URL_PREFIX": f"{api.base_url}/respond/",
                "HUBBOT_SCHEDULER": "false", "HUBBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"})
    proc = subprocess.Popen([sys.executable, "-m", "hubbot", "socket", "--config", str(fleet_file)], cwd=tmp_path,
                            env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert sock.connected.wait(30), "hubbot never opened the socket"
        opened = api.wait_for("apps.connections.open")[0]
        assert opened.headers["authorization"] == f"Bearer {APP_TOKEN}"
        sock.send({"envelope_id": "env-1", "type": "slash_commands", "accepts_response_payload": True,
                   "payload": {"command": "/hub", "text": "hubs alpha", "user_id": LEADER_A, "channel_id": CHANNEL_A,
                               "team_id": "T0TEST", "response_url": api.response_url(), "trigger_id": "1.2"}})
        ack = sock.wait_for_ack("env-1")
        assert "aws-cluster/prod" in ack["payload"]["text"]
        sock.send({"envelope_id": "env-2", "type": "events_api", "accepts_response_payload": False,
                   "payload": {"type": "event_callback", "event_id": "EvSock1", "team_id": "T0TEST",
                               "event": {"type": "app_mention", "user": ENGINEER, "text": "<@UBOT> whoami",
                                         "ts": "1700000900.000100", "channel": CHANNEL_A}}})
        sock.wait_for_ack("env-2")
        reply = api.wait_for("chat.postMessage")[0]
        assert "engineer" in reply.args["text"] and reply.args["thread_ts"] == "1700000900.000100"
        # hostile text over the socket renders like everywhere else; an ill-typed envelope breaks nothing
        sock.send({"envelope_id": "env-3", "type": "slash_commands", "accepts_response_payload": True,
                   "payload": {"command": "/hub", "text": "hubs --&lt;!channel&gt; <!here>", "user_id": LEADER_A,
                               "channel_id": CHANNEL_A, "team_id": "T0TEST", "response_url": api.response_url(),
                               "trigger_id": "1.3"}})
        hostile = sock.wait_for_ack("env-3")["payload"]
        assert "&lt;!channel&gt;" in hostile["text"] and not problems(hostile)
        sock.send({"envelope_id": "env-4", "type": "events_api", "accepts_response_payload": False,
                   "payload": {"type": "event_callback", "event_id": "EvSock2", "team_id": "T0TEST",
                               "event": {"type": "app_mention", "user": 12345, "text": ["a", "list"],
                                         "ts": "1700000901.000100", "channel": CHANNEL_A}}})
        sock.wait_for_ack("env-4")
        sock.send({"envelope_id": "env-5", "type": "slash_commands", "accepts_response_payload": True,
                   "payload": {"command": "/hub", "text": "whoami", "user_id": LEADER_A, "channel_id": CHANNEL_A,
                               "team_id": "T0TEST", "response_url": api.response_url(), "trigger_id": "1.4"}})
        assert "Leader of: alpha" in sock.wait_for_ack("env-5")["payload"]["text"]  # still serving
        assert proc.poll() is None
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert APP_TOKEN not in err and BOT_TOKEN not in err


def test_socket_mode_without_app_token_says_what_to_set(tmp_path: Path, fleet_file: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBBOT_", "SLACK_"))}
    env.update({"HUBBOT_SLACK_BOT_TOKEN": BOT_TOKEN, "HUBBOT_SLACK_SIGNING_SECRET": "x"})
    out = subprocess.run([sys.executable, "-m", "hubbot", "socket", "--config", str(fleet_file)], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 2 and "HUBBOT_SLACK_APP_TOKEN" in out.stderr
