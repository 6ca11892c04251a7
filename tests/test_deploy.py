"""The deployment files agree with what hubbot serves and needs."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_slack_manifest_points_everything_at_the_one_endpoint() -> None:
    manifest = yaml.safe_load((ROOT / "deploy" / "slack-app-manifest.yaml").read_text())
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == "/hub" and command["url"].endswith("/slack/events")
    settings = manifest["settings"]
    assert settings["event_subscriptions"]["request_url"].endswith("/slack/events")
    interactivity = settings["interactivity"]
    assert interactivity["is_enabled"] and interactivity["request_url"].endswith("/slack/events")
    assert {"app_mention", "message.im", "message.channels"} <= set(settings["event_subscriptions"]["bot_events"])
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "app_mentions:read", "im:history", "files:write", "usergroups:read"} <= scopes


def test_helm_chart_files_parse_and_probe_the_health_routes() -> None:
    chart = ROOT / "deploy" / "helm" / "hubbot"
    assert yaml.safe_load((chart / "Chart.yaml").read_text())["name"] == "hubbot"
    values = yaml.safe_load((chart / "values.yaml").read_text())
    assert values["mode"] in ("http", "socket") and values["slack"]["existingSecret"]
    deployment = (chart / "templates" / "deployment.yaml").read_text()
    assert "/readyz" in deployment and "/healthz" in deployment and "HUBBOT_CONFIG" in deployment
