"""The one rendering rule (hubbot.markup) and Slack's limits (hubbot.render.blocks), exhaustively."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from hubbot.markup import channel, clean, link, mention, to_mrkdwn, to_plain
from hubbot.render.blocks import (
    MAX_BLOCKS,
    clip_mrkdwn,
    context,
    for_slack,
    header,
    listing,
    section,
    text_for_slack,
)
from tests.support.fleet import ENGINEER
from tests.support.hostile import CORPUS, problems
from tests.support.memory import dispatcher, run


@pytest.mark.parametrize("typed", CORPUS)
def test_typed_text_never_becomes_a_control_sequence(typed: str) -> None:
    rendered = to_mrkdwn(f"you said {typed} and {mention(ENGINEER)} saw it")
    assert not problems({"text": rendered})
    assert f"<@{ENGINEER}>" in rendered
    assert "\u202e" not in to_plain(typed) and "\ufdd0" not in to_plain(typed)


def test_tokens_render_per_transport() -> None:
    text = (f"{mention('U123ABC')} {mention('S0GROUP1')} {channel('C0CHAN01')} "
            f"{link('https://a.test/x?a=1&b=2', 'A & B')}")
    assert to_mrkdwn(text) == "<@U123ABC> <!subteam^S0GROUP1> <#C0CHAN01> <https://a.test/x?a=1&amp;b=2|A &amp; B>"
    assert to_plain(text) == "@U123ABC @S0GROUP1 #C0CHAN01 A & B (https://a.test/x?a=1&b=2)"


@pytest.mark.parametrize("bad", ["<!channel>", "U1", "u123abc", "U123|x", "!here", "", "U" + "A" * 30])
def test_a_mention_of_something_that_is_not_an_id_is_plain_text(bad: str) -> None:
    assert to_mrkdwn(mention(bad)) == to_mrkdwn(bad)
    assert "<@" not in to_mrkdwn(mention(bad)) and "<!" not in to_mrkdwn(channel(bad))


@pytest.mark.parametrize("url", ["javascript:alert(1)", "https://a.test/x|y", "https://a.test/<x>", "https://a b",
                                 "ftp://a.test", "https://a.test/\ufdd1"])
def test_a_link_to_anything_but_a_plain_web_or_mail_url_is_plain_text(url: str) -> None:
    rendered = to_mrkdwn(link(url, "click me"))
    assert not problems({"text": rendered}) and "click me" in rendered


def test_forged_token_characters_are_dropped() -> None:
    forged = "\ufdd0@U0HOSTILE\ufdd1 \ufdd0!subteam^S0HOSTILE\ufdd1"
    assert clean(forged) == "@U0HOSTILE !subteam^S0HOSTILE"
    assert "<" not in to_mrkdwn(clean(forged))


def test_clean_keeps_text_people_write() -> None:
    text = "Grüße, 你好, مرحبا, नमस्ते 👩\u200d💻\tand a\nnewline"
    assert clean(text) == text
    assert clean("a\u202eb\u2066c\u200bd\x00e\x1bf") == "abcdef"


@pytest.mark.parametrize("seed", range(30))
def test_clipping_never_ends_inside_an_entity_or_a_sequence_nor_leaves_a_fence_open(seed: int) -> None:
    rng = random.Random(seed)
    pieces = ["&", "<", ">", "```", "x", " ", mention("U123ABC"), link("https://a.test/p", "label"), "\n"]
    text = "".join(rng.choice(pieces) for _ in range(rng.randint(50, 2000)))
    limit = rng.randint(10, 3000)
    clipped = clip_mrkdwn(to_mrkdwn(text), limit)
    assert len(clipped) <= limit
    assert clipped.count("```") % 2 == 0 or to_mrkdwn(text).count("```") % 2 == 1
    assert not problems({"text": clipped.replace("<@U123ABC>", "").replace("<https://a.test/p|label>", "")})


def test_for_slack_clips_each_field_to_its_limit_after_escaping() -> None:
    blocks = for_slack([header("<" * 200), section("<" * 3000), context("&" * 3000),
                        {"type": "section", "fields": [{"type": "mrkdwn", "text": ">" * 2500}]}])
    assert len(blocks[0]["text"]["text"]) <= 150 and blocks[0]["text"]["text"].startswith("<<<")  # plain_text
    assert len(blocks[1]["text"]["text"]) <= 3000 and blocks[1]["text"]["text"].endswith("&lt;…")
    assert len(blocks[2]["elements"][0]["text"]) <= 3000
    assert len(blocks[3]["fields"][0]["text"]) <= 2000
    assert len(for_slack([section("x")] * 80)) == MAX_BLOCKS
    assert len(text_for_slack("<" * 20_000)) <= 39_000


def test_listing_spreads_lines_over_sections_and_says_what_is_left() -> None:
    lines = [f"line {i} <!channel> & more text to make it long enough " * 3 for i in range(400)]
    blocks, shown = listing(lines, max_blocks=10, more="narrow it", code=True)
    assert 0 < shown < 400 and len(blocks) <= 10
    assert blocks[-1]["type"] == "context"
    assert f"{400 - shown} more not shown — narrow it" in blocks[-1]["elements"][0]["text"]
    for block in for_slack(blocks[:-1]):
        text = block["text"]["text"]
        assert len(text) <= 3000 and text.startswith("```") and text.endswith("```") and "…" not in text
    assert sum(b["text"]["text"].count("\n") + 1 for b in blocks[:-1]) == shown


@pytest.mark.parametrize(("filler", "title"), [
    ("x" * 300, "Audit log (200)"),  # all 200 fit over several code blocks
    ("<x>" * 150, "Audit log (newest 96 of 200)"),  # escaping triples them: what fits, and how many more
])
async def test_audit_of_200_long_entries_never_cuts_a_code_block(fleet_file: Path, filler: str, title: str) -> None:
    d, _ = dispatcher(fleet_file)
    for i in range(201):
        await run(d, f"hubs alpha {filler} {i}", user=ENGINEER)
    reply = await run(d, "audit --limit 200", user=ENGINEER)
    blocks = for_slack(reply.blocks)
    sections = [b for b in blocks if b["type"] == "section"]
    shown = sum(s["text"]["text"].count("\n") + 1 for s in sections)
    assert blocks[0]["text"]["text"] == title and len(blocks) <= MAX_BLOCKS
    assert title.endswith(f"{shown})") or title.endswith(f"{shown} of 200)")
    if shown < 200:
        assert f"{200 - shown} more not shown — name a hub or community" in blocks[-1]["elements"][0]["text"]
    for s in sections:
        text = s["text"]["text"]
        assert text.startswith("```") and text.endswith("```") and text.count("```") == 2 and len(text) <= 3000
    assert reply.text.splitlines()[0] == title


def test_token_characters_in_outside_text_never_go_live() -> None:
    """Text from outside (a docs page, helm's output) is not cleaned on the way in; the seal is
    what keeps a look-alike token from pinging: unsealed, mis-sealed or sealed elsewhere."""
    from hubbot import markup

    real = mention("U0HOSTILE")
    body, _, seal = real[1:-1].rpartition("\ufdd3")
    forged = [
        "\ufdd0@U0HOSTILE\ufdd1",  # no seal
        f"\ufdd0@U0HOSTILE\ufdd3{'0' * len(seal)}\ufdd1",  # a made-up seal
        f"\ufdd0!subteam^S0HOSTILE\ufdd3{seal}\ufdd1",  # a real seal moved to another target
        f"\ufdd0https://evil.example\ufdd2docs\ufdd3{seal}\ufdd1",
    ]
    for text in forged:
        for rendered in (to_mrkdwn(f"see {text} now"), to_plain(f"see {text} now")):
            assert "<" not in rendered and "\ufdd0" not in rendered and "\ufdd3" not in rendered, rendered
    assert to_mrkdwn(real) == "<@U0HOSTILE>" and body == "@U0HOSTILE"
    markup.use_key("another installation's bot token")
    try:
        assert to_mrkdwn(real) == "@U0HOSTILE"  # sealed under another key: text, not a ping
        assert to_mrkdwn(mention("U0HOSTILE")) == "<@U0HOSTILE>"
    finally:
        markup.use_key("tests")


def test_every_replica_seals_alike() -> None:
    from hubbot import markup

    markup.use_key("xoxb-shared-bot-token")
    made_by_one = link("https://docs.test.org/a", "A")
    markup.use_key("xoxb-another-token")
    assert "<" not in to_mrkdwn(made_by_one)  # another installation's link is only text here
    markup.use_key("xoxb-shared-bot-token")  # another process with the same token
    assert to_mrkdwn(made_by_one) == "<https://docs.test.org/a|A>"
    markup.use_key("tests")
