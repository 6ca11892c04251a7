"""Nothing a user types can ping a channel, disguise a link or reorder a line in what hubbot posts.

Every command gets every hostile value in every place it takes text (see tests/support/hostile.py),
as an engineer (who gets furthest) and as an outsider (who gets the denials); each reply is
rendered by the Slack transport's own ``message()`` and read the way Slack reads it. Buttons get
hostile values; what is stored and shown later (questions in ``faq stats``, anything in
``audit``) is checked too. The signed-HTTP, mention, DM and CLI paths are in the second half.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from commands import ALL
from hubbot.console import Console
from hubbot.domain import Post
from hubbot.pipeline.contract import Invocation, Reply
from hubbot.slack.app import message
from tests.support.fleet import CHANNEL_A, CHANNEL_OPS, ENGINEER, LEADER_A, OUTSIDER
from tests.support.harness import Harness, fleet_harness
from tests.support.hostile import BIDI, CORPUS, invocations, problems
from tests.support.memory import dispatcher, run

ROOT = Path(__file__).resolve().parents[1]


def _check(reply: Reply, what: str) -> None:
    found = problems(message(reply))
    assert not found, f"{what!r} -> {found[:3]}"


async def test_every_command_escapes_every_hostile_argument(fleet_file: Path) -> None:
    d, _ = dispatcher(fleet_file)
    checked = 0
    for text in invocations():
        for user in (ENGINEER, OUTSIDER):
            _check(await run(d, text, user=user), text)
            checked += 1
    assert checked > 1000  # the corpus really went through every command


@pytest.mark.parametrize("text, shown", [
    ("cost <!channel>", "'&lt;!channel&gt;' is neither a community nor a hub"),
    ("cost <https://evil.example/login|https://hub.example.org/login>",
     "'&lt;https://evil.example/login|https://hub.example.org/login&gt;' is neither"),
    ("alerts --limit <!here>", "--limit must be a whole number (got '&lt;!here&gt;')"),
    ("hubs --<@U0123456>", "unknown option --&lt;@U0123456&gt;"),
    ("link aws-cluster/staging https://github.com/org/repo --ref <!channel>", "&lt;!channel&gt;"),
    ("<!channel>", "unknown command `&lt;!channel&gt;`"),
    ("hubz<!channel>", "unknown command `hubz&lt;!channel&gt;`"),
    ("budget set alpha <!channel>", "&lt;!channel&gt;"),
    ("budget set alpha 100 --thresholds <!here>", "&lt;!here&gt;"),
    ("budget set alpha 100 --currency <!everyone>", "'&lt;!EVERYONE' is not a currency code"),
    ("deploy --all --cluster <!channel>", "&lt;!channel&gt;"),
    ("deploy aws-cluster/staging --chart-version <!channel>", "&lt;!channel&gt;"),
    ("cancel <!channel>", "&lt;!channel&gt;"),
    ("status", "missing &lt;hub&gt;"),
])
async def test_the_reported_examples_are_escaped(fleet_file: Path, text: str, shown: str) -> None:
    d, _ = dispatcher(fleet_file)
    sent = message(await run(d, text, user=ENGINEER))
    assert shown in sent["text"], sent["text"]
    assert not problems(sent)


async def test_help_text_shows_hubbots_own_angle_brackets_escaped(fleet_file: Path) -> None:
    d, _ = dispatcher(fleet_file)
    sent = message(await run(d, "help ask", user=ENGINEER))
    assert "`/hub ask &lt;question...&gt;`" in sent["text"]
    overview = message(await run(d, "help", user=ENGINEER))
    assert "&lt;hub&gt;" in overview["text"] and not problems(overview)


async def test_deliberate_mentions_stay_live(fleet_file: Path) -> None:
    d, _ = dispatcher(fleet_file)
    sent = message(await run(d, "whoami", user=LEADER_A))
    assert f"<@{LEADER_A}>" in sent["text"]
    denied = message(await run(d, "audit beta", user=LEADER_A))
    assert "<!subteam^SLEADSB01>" in denied["text"] and f"<@{ENGINEER}>" in denied["text"]
    hubs = message(await run(d, "hubs alpha", user=ENGINEER))
    assert "<https://staging.alpha.test/|aws-cluster/staging>" in json.dumps(hubs["blocks"])


async def test_buttons_with_hostile_values(fleet_file: Path) -> None:
    d, _ = dispatcher(fleet_file)
    for spec in ALL:
        for action in spec.actions:
            for value in CORPUS:
                reply = await d.run_action(Invocation(user_id=ENGINEER, channel_id=CHANNEL_OPS, text=""),
                                           action_id=f"hubbot:{spec.name}:{action.name}", value=value)
                _check(reply, f"{spec.name}:{action.name} {value!r}")
    for value in CORPUS:
        for verb in ("confirm", "approve", "reject", "cancel", value):
            reply = await d.run_action(Invocation(user_id=ENGINEER, channel_id=CHANNEL_OPS, text=""),
                                       action_id=f"hubbot:_pending:{verb}", value=value)
            _check(reply, f"pending {verb!r} {value!r}")
        _check(await d.run_action(Invocation(user_id=ENGINEER, channel_id=CHANNEL_OPS, text=""),
                                  action_id=value, value=value), f"action id {value!r}")


async def test_what_is_stored_is_escaped_when_shown_later(fleet_file: Path) -> None:
    d, audit = dispatcher(fleet_file)
    for h in CORPUS:
        await run(d, f"ask why does {h} break my notebook kernel?", user=LEADER_A, channel=CHANNEL_A)
        await run(d, f"cost {h}", user=LEADER_A, channel=CHANNEL_A)
    stats = await run(d, "faq stats alpha", user=ENGINEER)
    assert "Most escalated" in stats.text
    _check(stats, "faq stats")
    shown = await run(d, "audit alpha --limit 200", user=ENGINEER)
    _check(shown, "audit")
    sent = message(shown)
    assert "&lt;!subteam^S0HOSTILE&gt;" in sent["text"] and "&lt;!channel&gt;" in sent["text"]
    await run(d, "audit beta", user=LEADER_A)  # a denial that names who can: mentions in the reply
    await audit.flush()
    stored = await audit.query(communities=None, hub=None, limit=500)
    assert stored and not any(BIDI.search(e.args) or "\ufdd0" in e.args + e.detail for e in stored)
    assert any("ask one of @SLEADSB01" in e.detail for e in stored)  # stored as a person reads it


async def test_escalated_question_reaches_the_support_channel_escaped(fleet_file: Path) -> None:
    d, _ = dispatcher(fleet_file)
    await run(d, "ask <!everyone> <https://evil.example|docs> why is my quux frobnicated?", user=LEADER_A,
              channel=CHANNEL_A)
    rows = [a for a in await d.services.outbox.recent(communities=None, limit=10) if a.kind == "escalation"]
    assert rows, "the unsure answer was escalated"
    from hubbot.render.blocks import for_slack, text_for_slack

    post = rows[0].payload
    assert isinstance(post, Post)
    sent = {"text": text_for_slack(post.text), "blocks": for_slack(post.blocks)}
    assert "&lt;!everyone&gt;" in sent["text"] and f"<@{LEADER_A}>" in sent["text"]
    assert not problems(sent)


async def test_docs_text_reaches_slack_escaped(tmp_path: Path) -> None:
    """A docs page is outside text too: a section that says ``<!here>`` (as a code span: bare, Markdown reads
    it as HTML no reader sees) or holds a raw link with a misleading label is answered with both shown as text."""
    from tests.support.fleet import DOCS, FLEET_YAML

    docs = tmp_path / "docs"
    (docs / "guide").mkdir(parents=True)
    (docs / "guide" / "quota.md").write_text(
        "# Storage quota <!channel>\n\n## Raise the storage quota\n\nTo raise the storage quota, write to "
        "<https://evil.example/login|https://docs.test.org/quota> & `<!here>` ask the admins: the storage quota "
        "grows on request.\n")
    fleet_file = tmp_path / "fleet.yaml"
    fleet_file.write_text(FLEET_YAML.replace(str(DOCS), str(docs)))
    d, _ = dispatcher(fleet_file)
    reply = await run(d, "ask how do I raise my storage quota?", user=LEADER_A, channel=CHANNEL_A)
    sent = message(reply)
    assert reply.ok and "storage quota" in json.dumps(sent), reply.text
    assert not problems(sent), problems(sent)  # no live <!channel>, <!here> or disguised link
    assert "&lt;!here&gt;" in json.dumps(sent) and "&amp;" in json.dumps(sent)


async def test_console_shows_no_bidi_or_control_characters(fleet_file: Path) -> None:
    d, _ = dispatcher(fleet_file)
    out = io.StringIO()
    console = Console(dispatcher=d, user=ENGINEER, channel=CHANNEL_OPS, files_dir=fleet_file.parent / "f", out=out)
    for h in CORPUS:
        for text in (f"cost {h}", f"hubs --{h}", "audit --limit 5"):
            reply, files = await console.run(text)
            console.show(reply, files)
    shown = out.getvalue()
    assert "<!channel>" in shown  # a terminal shows what was typed, as typed
    assert not BIDI.search(shown) and "\x1b" not in shown and "\ufdd0" not in shown


def test_hubbot_run_json_prints_what_slack_would_get(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "hubbot", "run", "--demo", "--json", "cost <!channel>"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=120)
    reply = json.loads(out.stdout.strip().splitlines()[-1])
    assert out.returncode == 2 and "&lt;!channel&gt;" in reply["text"] and not problems(reply)


# -- through Slack: signed slash commands, mentions, DMs and buttons ---------------------------


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    with fleet_harness(tmp_path_factory.mktemp("hostile")) as h:
        yield h


def _as_slack_sends(typed: str) -> list[str]:
    """What Slack puts in a payload for text a user typed: escaped, and, for the special
    mentions, also the real reference the client makes when the user picks one."""
    escaped = typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return [escaped, typed] if typed.startswith("<") else [escaped]


def _outgoing(bot: Harness) -> list[dict[str, object]]:
    bot.settle()
    sent = []
    for method in ("chat.postMessage", "chat.update", "response_url"):
        sent += [call.args for call in bot.standin.of(method)]
    return sent


def test_signed_slash_commands_mentions_and_dms(bot: Harness) -> None:
    bot.standin.clear()
    acks = []
    for typed in CORPUS:
        for raw in _as_slack_sends(typed):
            for text in (f"cost {raw}", f"alerts --limit {raw}", f"hubs --{raw}", raw, f"help {raw}"):
                response = bot.slash(text, user=OUTSIDER, channel=CHANNEL_OPS)
                assert response.status_code == 200
                acks.append(response.json())
            n = len(acks)
            bot.event({"type": "app_mention", "user": OUTSIDER, "channel": CHANNEL_A, "ts": f"1700000100.{n:06d}",
                       "text": f"<@UBOT> cost {raw}"}, event_id=f"Ev{n}m")
            bot.event({"type": "message", "channel_type": "im", "user": OUTSIDER, "channel": "D0DM00001",
                       "ts": f"1700000200.{n:06d}", "text": f"budget set alpha {raw}"}, event_id=f"Ev{n}d")
    sent = _outgoing(bot) + acks
    assert len(sent) > 100
    for payload in sent:
        assert not problems(payload), payload


def test_signed_button_clicks_with_hostile_values(bot: Harness) -> None:
    bot.standin.clear()
    for value in CORPUS:
        for action_id in ("hubbot:alerts:ack", "hubbot:deploy:rollback", "hubbot:_pending:approve"):
            assert bot.click(user=ENGINEER, channel=CHANNEL_OPS, action_id=action_id, value=value).status_code == 200
        # an action hubbot never made is not routed to it at all (Bolt answers 404)
        assert bot.click(user=ENGINEER, channel=CHANNEL_OPS, action_id=value, value=value).status_code == 404
    sent = _outgoing(bot)
    assert len(sent) >= 3 * len(CORPUS)
    for payload in sent:
        assert not problems(payload), payload


def test_a_response_url_off_slacks_hooks_host_is_never_used(bot: Harness) -> None:
    from tests.support import signing

    bot.standin.clear()
    for url in ("https://evil.example/respond", f"{bot.standin.base_url}.evil.example/respond/r1",
                f"{bot.standin.base_url}/api/chat.postMessage", "javascript:alert(1)"):
        body = signing.slash_body("cost alpha", user=ENGINEER, channel=CHANNEL_OPS, response_url=url)
        assert bot.post(body, content_type="application/x-www-form-urlencoded").status_code == 200
    bot.settle()
    assert bot.standin.methods() == []  # the answers were dropped, not sent elsewhere
    body = signing.slash_body("cost alpha", user=ENGINEER, channel=CHANNEL_OPS,
                              response_url=bot.standin.response_url("ok"))
    bot.post(body, content_type="application/x-www-form-urlencoded")
    assert "Costs of" in str(bot.standin.wait_for("response_url")[-1].args["text"])
