"""The real CLI in a subprocess: config check/schema, `hubbot run` exit codes and JSON, help."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.fleet import ENGINEER, LEADER_A, OUTSIDER


def hubbot(*args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None
           ) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HUBBOT_", "SLACK_"))}
    base.update(env or {})
    return subprocess.run([sys.executable, "-m", "hubbot", *args], cwd=cwd, env=base, capture_output=True,
                          text=True, timeout=60, input=stdin, check=False)


def test_help_lists_the_commands(tmp_path: Path) -> None:
    out = hubbot("--help", cwd=tmp_path)
    assert out.returncode == 0
    for name in ("run", "console", "serve", "socket", "config", "db"):
        assert name in out.stdout


def test_config_check_ok(tmp_path: Path, fleet_file: Path) -> None:
    out = hubbot("config", "check", str(fleet_file), cwd=tmp_path)
    assert out.returncode == 0 and "2 communities, 3 clusters, 5 hubs" in out.stdout


def test_config_check_lists_every_problem_with_its_path(tmp_path: Path, fleet_file: Path) -> None:
    text = fleet_file.read_text()
    text = text.replace("community: alpha, domain: alpha.test", "community: alpah, domain: alpha.test")
    text = text.replace("provider: gcp-test", "provider: gcp-tset")
    text = text.replace("tier: prod, binder: true", "tier: production, binder: true")
    text = text.replace("channel: CBETA0001", "channel: general")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    out = hubbot("config", "check", str(bad), cwd=tmp_path)
    assert out.returncode == 1
    lines = out.stdout.splitlines()
    assert "clusters[1].hubs[1].tier: Input should be 'staging' or 'prod'" in lines
    assert any(line.startswith("communities[1].channel: 'general' is not a Slack channel ID") for line in lines)
    # cross-reference problems are reported once the shapes are right
    bad.write_text(fleet_file.read_text().replace("community: alpha, domain: alpha.test",
                                                  "community: alpah, domain: alpha.test")
                   .replace("provider: gcp-test", "provider: gcp-tset"))
    lines = hubbot("config", "check", str(bad), cwd=tmp_path).stdout.splitlines()
    assert "clusters[0].hubs[1].community: unknown community 'alpah' — did you mean 'alpha'?" in lines
    assert "clusters[1].provider: unknown provider 'gcp-tset' — did you mean 'gcp-test'?" in lines


def test_config_check_says_a_backup_needs_its_providers_cloud(tmp_path: Path, fleet_file: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(fleet_file.read_text().replace(
        "{name: prod, community: alpha, domain: alpha.test, tier: prod}",
        "{name: prod, community: alpha, domain: alpha.test, tier: prod, backup: {kind: gcp-disk}}"))
    lines = hubbot("config", "check", str(bad), cwd=tmp_path).stdout.splitlines()
    assert ("clusters[0].hubs[1].backup.kind: a gcp-disk backup needs a GCP provider, but cluster aws-cluster's "
            "provider aws-test is aws") in lines
    bad.write_text(fleet_file.read_text().replace(
        "{name: class, community: alpha, domain: class.alpha.test}",
        "{name: class, community: alpha, domain: class.alpha.test, backup: {kind: efs}}"))
    lines = hubbot("config", "check", str(bad), cwd=tmp_path).stdout.splitlines()
    assert any("clusters[2].hubs[0].backup: " in line and "an efs backup needs vault and role_arn" in line
               for line in lines), lines


@pytest.mark.parametrize("content,expected", [
    ("providers: [\n", "invalid YAML"),
    ("- just\n- a list\n", "top level must be a mapping"),
    ("providers: {}\nsurprise: 1\n", "surprise: unknown field"),
    ("providers:\n  x: {kind: azure}\n", "providers.x: Input tag 'azure'"),
])
def test_config_check_malformed(tmp_path: Path, content: str, expected: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(content)
    out = hubbot("config", "check", str(bad), cwd=tmp_path)
    assert out.returncode == 1 and expected in out.stdout and "Traceback" not in out.stdout + out.stderr


def test_config_check_missing_file(tmp_path: Path) -> None:
    out = hubbot("config", "check", "nope.yaml", cwd=tmp_path)
    assert out.returncode == 1 and "config file not found: nope.yaml" in out.stderr


def test_config_schema_is_json_schema(tmp_path: Path) -> None:
    schema = json.loads(hubbot("config", "schema", cwd=tmp_path).stdout)
    assert {"providers", "clusters", "communities", "roles"} <= set(schema["properties"])


def test_example_and_demo_configs_are_valid(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    for path in (root / "examples" / "fleet.yaml", root / "hubbot" / "demo" / "fleet.yaml"):
        assert hubbot("config", "check", str(path), cwd=tmp_path).returncode == 0


@pytest.mark.parametrize("command,user,code,kind", [
    ("/hub hubs", ENGINEER, 0, "ok"),
    ("/hub hubs alpha --bogus", ENGINEER, 2, "usage"),
    ("/hub nosuch", ENGINEER, 2, "not_found"),
    ("/hub audit beta", LEADER_A, 3, "denied"),
    ("/hub audit", OUTSIDER, 3, "denied"),
])
def test_run_exit_codes_and_json(tmp_path: Path, fleet_file: Path, command: str, user: str, code: int,
                                 kind: str) -> None:
    out = hubbot("run", "--config", str(fleet_file), "--as", user, "--json", command, cwd=tmp_path)
    assert out.returncode == code, out.stderr
    payload = json.loads(out.stdout)
    assert set(payload) == {"ok", "kind", "text", "blocks", "files"}
    assert payload["kind"] == kind and payload["ok"] is (code == 0)


def test_run_demo_defaults_to_a_demo_engineer(tmp_path: Path) -> None:
    out = hubbot("run", "--demo", "/hub whoami", cwd=tmp_path)
    assert out.returncode == 0 and "engineer" in out.stdout
    assert (tmp_path / "hubbot.sqlite3").exists()  # default database in the working directory


def test_run_same_commands_as_slack(tmp_path: Path) -> None:
    for command in ("/hub help", "/hub help hubs", "/hub hubs", "/hub hubs openscapes", "/hub whoami",
                    "/hub audit --limit 5"):
        out = hubbot("run", "--demo", command, cwd=tmp_path)
        assert out.returncode == 0, (command, out.stdout, out.stderr)


def test_the_demo_hubs_have_groups_in_memory(tmp_path: Path) -> None:
    out = hubbot("run", "--demo", "/hub group show demo-js2/class students", cwd=tmp_path)
    assert out.returncode == 0 and "students: 5 member(s) — max, ned, oda, pia, quin" in out.stdout, out.stdout
    refused = hubbot("run", "--demo", "/hub group add demo-aws/prod champions zed", cwd=tmp_path)
    assert refused.returncode != 0 and "demo-aws/prod has no user 'zed': nothing was changed" in refused.stdout


def test_run_needs_config_or_demo(tmp_path: Path) -> None:
    out = hubbot("run", "--as", ENGINEER, "/hub help", cwd=tmp_path)
    assert out.returncode == 2 and "--config FILE" in out.stderr and "--demo" in out.stderr


def test_run_config_and_demo_conflict(tmp_path: Path, fleet_file: Path) -> None:
    out = hubbot("run", "--demo", "--config", str(fleet_file), "/hub help", cwd=tmp_path)
    assert out.returncode == 2 and "not both" in out.stderr


def test_run_needs_a_user_outside_demo(tmp_path: Path, fleet_file: Path) -> None:
    out = hubbot("run", "--config", str(fleet_file), "/hub help", cwd=tmp_path)
    assert out.returncode == 2 and "--as USER_ID" in out.stderr


def test_config_from_environment(tmp_path: Path, fleet_file: Path) -> None:
    out = hubbot("run", "--as", ENGINEER, "/hub hubs", cwd=tmp_path, env={"HUBBOT_CONFIG": str(fleet_file)})
    assert out.returncode == 0 and "aws-cluster/prod" in out.stdout


def test_broken_config_at_start_is_reported_not_raised(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("clusters:\n  - name: x\n    provider: nowhere\n")
    out = hubbot("run", "--config", str(bad), "--as", ENGINEER, "/hub help", cwd=tmp_path)
    assert out.returncode == 2 and "unknown provider 'nowhere'" in out.stderr and "Traceback" not in out.stderr


def test_console_repl(tmp_path: Path) -> None:
    out = hubbot("console", "--demo", cwd=tmp_path, stdin="help\nhubs climate-lab\nhbus\n:click 3\n",
                 env={"HOME": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    assert "hubbot commands" in out.stdout
    assert "demo-gcp/climate-binder" in out.stdout
    assert "did you mean `/hub hubs`" in out.stdout
    assert "there is no button 3" in out.stdout


def test_serve_without_slack_tokens_says_what_to_set(tmp_path: Path) -> None:
    out = hubbot("serve", "--demo", "--port", "0", cwd=tmp_path)
    assert out.returncode == 2
    assert "HUBBOT_SLACK_BOT_TOKEN" in out.stderr and "HUBBOT_SLACK_SIGNING_SECRET" in out.stderr


def test_db_upgrade(tmp_path: Path) -> None:
    out = hubbot("db", "upgrade", cwd=tmp_path, env={"HUBBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert out.returncode == 0 and "up to date" in out.stdout


def test_demo_has_costs_and_alerts(tmp_path: Path) -> None:
    out = hubbot("run", "--demo", "/hub cost openscapes", cwd=tmp_path)
    assert out.returncode == 0 and "Spend: $" in out.stdout and "Budget: $1,800.00" in out.stdout
    (png,) = (tmp_path / "hubbot-files").iterdir()
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert "Thresholds: 50%, 75%, 90%, 100%, 120%" in hubbot("run", "--demo", "/hub budget show openscapes",
                                                            cwd=tmp_path).stdout
    alerts = hubbot("alerts", "run", "--demo", "--json", "--at", "2026-11-26T12:00:00+00:00", cwd=tmp_path)
    assert alerts.returncode == 0, alerts.stderr
    sent = [json.loads(line) for line in alerts.stdout.splitlines()]
    fields = {"community", "channel", "basis", "threshold", "period", "spend", "budget", "forecast"}
    assert sent and fields <= set(sent[0])
    again = hubbot("alerts", "run", "--demo", "--json", "--at", "2026-11-26T18:00:00+00:00", cwd=tmp_path)
    assert again.stdout.strip() == ""  # nothing new six hours later


@pytest.mark.parametrize("at", ["yesterday", "2026-13-01", "2026-11-26T25:00"])
def test_alerts_run_bad_instant(tmp_path: Path, at: str) -> None:
    out = hubbot("alerts", "run", "--demo", "--at", at, cwd=tmp_path)
    assert out.returncode == 2 and "is not an ISO 8601 instant" in out.stderr
