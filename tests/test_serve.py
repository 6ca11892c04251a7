"""`hubbot serve` as a user starts it: a subprocess, configured only by flags and HUBBOT_*
variables, answering signed requests; its logs never show a token or the signing secret."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import signing
from tests.support.fleet import CHANNEL_OPS, ENGINEER
from tests.support.harness import BOT_TOKEN
from tests.support.server import serve
from tests.support.services import free_port
from tests.support.slack_standin import SlackStandIn


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    s = SlackStandIn()
    with serve(s.app) as served:
        s.base_url = served.url
        yield s


def _start(tmp_path: Path, fleet_file: Path, standin: SlackStandIn, database_url: str
           ) -> tuple[subprocess.Popen[str], str, list[str]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBBOT_", "SLACK_"))}
    env.update({
        "HUBBOT_SLACK_BOT_TOKEN": BOT_TOKEN,
        "HUBBOT_SLACK_SIGNING_SECRET": signing.SECRET,
        "HUBBOT_SLACK_API_URL": f"{standin.base_url}/api/",
        "HUBBOT_SLACK_RESPONSE_URL_PREFIX": f"{standin.base_url}/respond/",
        "HUBBOT_SCHEDULER": "false", "HUBBOT_DATABASE_URL": database_url,
        "HUBBOT_LOG_LEVEL": "DEBUG",
    })
    proc = subprocess.Popen([sys.executable, "-m", "hubbot", "serve", "--config", str(fleet_file), "--port",
                             str(port)], cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    ready: queue.Queue[bool] = queue.Queue()

    def pump() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if "Uvicorn running on" in line or "Application startup complete" in line:
                ready.put(True)
        ready.put(False)

    threading.Thread(target=pump, daemon=True).start()
    if not ready.get(timeout=60):
        raise AssertionError("hubbot serve did not start:\n" + "".join(lines))
    return proc, f"http://127.0.0.1:{port}", lines


def test_serve_end_to_end_with_secrets_kept_out_of_logs(
    tmp_path: Path, fleet_file: Path, standin: SlackStandIn, database_url: str
) -> None:
    proc, url, lines = _start(tmp_path, fleet_file, standin, database_url)
    try:
        with httpx.Client(timeout=30) as http:
            assert http.get(f"{url}/readyz").json() == {"ok": True}
            text = f"hubs alpha {BOT_TOKEN} {signing.SECRET}"
            body = signing.slash_body(text, user=ENGINEER, channel=CHANNEL_OPS,
                                      response_url=standin.response_url())
            resp = http.post(f"{url}/slack/events", content=body,
                             headers=signing.headers(body, content_type="application/x-www-form-urlencoded"))
            assert resp.status_code == 200
            reply = resp.json()
            assert BOT_TOKEN not in json.dumps(reply) and signing.SECRET not in json.dumps(reply)
            body = signing.slash_body("audit --limit 1", user=ENGINEER, channel=CHANNEL_OPS,
                                      response_url=standin.response_url())
            audit = http.post(f"{url}/slack/events", content=body,
                              headers=signing.headers(body, content_type="application/x-www-form-urlencoded")).json()
            assert "hubs alpha" in audit["text"] and "[redacted]" in audit["text"]
            assert BOT_TOKEN not in audit["text"] and signing.SECRET not in audit["text"]
            unsigned = http.post(f"{url}/slack/events", content=body,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert unsigned.status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    logs = "".join(lines)
    assert BOT_TOKEN not in logs and signing.SECRET not in logs
    assert all(json.loads(line) for line in lines if line.startswith("{"))
