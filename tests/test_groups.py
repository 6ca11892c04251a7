"""``/hub group ...`` end to end: signed Slack requests into the real app, against a real
JupyterHub (with configurable-http-proxy) through its REST API and hubbot's service token."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubbot.adapters.jupyterhub import JupyterHubApi
from hubbot.adapters.providers import hub_apis
from hubbot.domain import Outcome
from hubbot.fleet import load_fleet
from hubbot.logs import redactor_for
from hubbot.settings import Settings
from tests.support.fleet import CHANNEL_A, ENGINEER, LEADER_A, MEMBER_A
from tests.support.harness import Harness, harness
from tests.support.jupyterhub_server import JupyterHubServer

HUB = "aws-cluster/prod"
_HOOKS = itertools.count(1)  # a response_url of its own for every command, as Slack gives


@pytest.fixture
def prefix() -> str:
    return f"g{secrets.token_hex(3)}"


@pytest.fixture
def bot(tmp_path: Path, fleet_file: Path, jupyterhub_server: JupyterHubServer, prefix: str) -> Iterator[Harness]:
    jupyterhub_server.create_users(f"{prefix}-ana", f"{prefix}-bo", f"{prefix}-cy")
    apis = {HUB: JupyterHubApi(jupyterhub_server.api, jupyterhub_server.token, hub=HUB)}
    with harness(tmp_path, fleet_file, hub_apis=apis) as h:
        yield h


def ask(bot: Harness, text: str, *, user: str = ENGINEER) -> str:
    before = len(bot.standin.of("response_url"))
    ack = bot.slash(text, user=user, channel=CHANNEL_A, hook=f"g{next(_HOOKS)}").json()
    if not ack["text"].startswith(":hourglass"):
        return str(ack["text"])
    bot.settle()
    return str(bot.standin.wait_for("response_url", before + 1)[-1].args["text"])


def confirm(bot: Harness, text: str, *, user: str = ENGINEER) -> str:
    """Ask, check the question, press Confirm, and return the answer."""
    before = len(bot.standin.of("response_url"))
    bot.slash(text, user=user, channel=CHANNEL_A, hook=f"g{next(_HOOKS)}")
    bot.settle()
    question = bot.standin.wait_for("response_url", before + 1)[-1].args
    assert "Please confirm" in str(question["text"]), question["text"]
    button = next(e for blk in question["blocks"] if blk["type"] == "actions" for e in blk["elements"]
                  if e["text"]["text"] == "Confirm")
    bot.click(user=user, channel=CHANNEL_A, action_id=button["action_id"], value=button["value"])
    bot.settle()
    return str(bot.standin.wait_for("response_url", before + 2)[-1].args["text"])


def test_a_leader_makes_fills_empties_and_deletes_a_group(bot: Harness, prefix: str,
                                                          jupyterhub_server: JupyterHubServer) -> None:
    group, ana, bo, cy = f"{prefix}-tutors", f"{prefix}-ana", f"{prefix}-bo", f"{prefix}-cy"
    assert f"Created group {group} on {HUB}" in ask(bot, f"group create {HUB} {group}", user=LEADER_A)
    added = ask(bot, f"group add {HUB} {group} {cy}, {ana} {bo}", user=LEADER_A)
    assert f"Added {cy}, {ana}, {bo} on {HUB}. {group}: 3 member(s) — {ana}, {bo}, {cy}" in added, added
    listed = ask(bot, f"group list {HUB}", user=MEMBER_A)  # members may look
    assert f"{group} — 3 member(s)" in listed
    removed = confirm(bot, f"group remove {HUB} {group} {bo}", user=LEADER_A)
    assert f"Removed {bo} on {HUB}. {group}: 2 member(s) — {ana}, {cy}" in removed, removed
    assert f"{group}: 2 member(s) — {ana}, {cy}" in ask(bot, f"group show {HUB} {group}", user=MEMBER_A)
    assert f"Deleted group {group} on {HUB}" in confirm(bot, f"group delete {HUB} {group}", user=LEADER_A)
    assert group not in ask(bot, f"group list {HUB}")
    changes = [e.command for e in bot.audit() if e.outcome is Outcome.CHANGED]
    assert {"group create", "group add", "group remove", "group delete"} <= set(changes)
    assert jupyterhub_server.token not in str([c.args for c in bot.standin.calls])


@pytest.mark.parametrize("text,says", [
    ("group add {hub} {p}-class {p}-ghost", "has no user '{p}-ghost': nothing was changed"),
    ("group show {hub} {p}-nope", "has no group '{p}-nope'"),
    ("group add {hub} {p}-nope {p}-ana", "has no group '{p}-nope'"),
    ("group create {hub} {p}-class", "already has a group '{p}-class'"),
    ("group remove {hub} {p}-class {p}-bo", "{p}-bo is not in {p}-class on {hub}; nothing was changed"),
    ("group create {hub} 'bad name'", "is not a group name hubbot uses"),
    ("group add {hub} {p}-class", "missing &lt;users&gt;"),
    ("group list aws-cluster/staging", "aws-cluster/staging has no API access set up"),
])
def test_bad_input_is_answered_plainly_and_changes_nothing(bot: Harness, prefix: str, text: str, says: str) -> None:
    ask(bot, f"group create {HUB} {prefix}-class")
    ask(bot, f"group add {HUB} {prefix}-class {prefix}-ana")
    answer = ask(bot, text.format(hub=HUB, p=prefix))
    assert says.format(hub=HUB, p=prefix) in answer, answer
    assert f"{prefix}-class: 1 member(s) — {prefix}-ana" in ask(bot, f"group show {HUB} {prefix}-class")


def test_a_hub_that_refuses_the_token_says_what_to_fix(tmp_path: Path, fleet_file: Path,
                                                        jupyterhub_server: JupyterHubServer) -> None:
    apis = {HUB: JupyterHubApi(jupyterhub_server.api, "expired-" + secrets.token_hex(8), hub=HUB)}
    with harness(tmp_path, fleet_file, hub_apis=apis) as bot:
        answer = ask(bot, f"group list {HUB}")
        assert f"{HUB} refused hubbot's service token (403" in answer and "admin:groups" in answer, answer
        assert "expired-" not in answer


def test_the_fleet_names_each_hubs_token_and_the_settings_hold_it(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text("""
providers:
  aws-test: {kind: aws, account_id: "111122223333"}
clusters:
  - name: c1
    provider: aws-test
    hubs:
      - {name: lab, community: a, domain: lab.example.org, api_token: lab-hubbot}
      - {name: class, community: a, domain: class.example.org, api_token: class-hubbot,
         api_url: "https://class.example.org/jupyter/hub/api/"}
      - {name: quiet, community: a, domain: quiet.example.org}
communities:
  - {name: a}
""")
    settings = Settings(hub_tokens={"lab-hubbot": "tok-lab-0123456789", "class-hubbot": "tok-class-0123456789"})
    apis = hub_apis(load_fleet(fleet), settings)
    assert sorted(apis) == ["c1/class", "c1/lab"]  # no token named: no API
    assert {name: api.url for name, api in apis.items() if isinstance(api, JupyterHubApi)} == {
        "c1/lab": "https://lab.example.org/hub/api", "c1/class": "https://class.example.org/jupyter/hub/api"}
    assert redactor_for(settings)("token tok-lab-0123456789 leaked") == "token [redacted] leaked"
