"""Hostile input, and the check that none of it comes back to Slack as a control sequence.

The corpus is what a community member with no role can type: Slack's special mentions, user,
group and channel references, a link whose text shows another target, bidirectional overrides,
hubbot's own token characters (to forge a mention), a terminal escape, and text that looks
already escaped. :func:`problems` reads a rendered Slack message the way Slack does and lists
anything in it that could ping, disguise a link or reorder a line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from commands import ALL
from hubbot.pipeline.contract import CommandSpec
from tests.support.fleet import CHANNEL_A, CHANNEL_B, CHANNEL_OPS, ENGINEER, ENGINEER_2, LEADER_A, LEADERS_B_GROUP

HOSTILE_IDS = ("U0HOSTILE", "S0HOSTILE", "C0HOSTILE", "W0HOSTILE")
CORPUS: tuple[str, ...] = (
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!subteam^S0HOSTILE>",
    "<@U0HOSTILE>",
    "<@W0HOSTILE|boss>",
    "<#C0HOSTILE>",
    "<https://evil.example/login|https://hub.example.org/login>",
    "<mailto:a@evil.example|support>",
    "<https://evil.example>",
    "\u202egnp.exe",  # right-to-left override
    "a\u2067b\u2069c\u200f",  # isolates and a mark
    "\ufdd0@U0HOSTILE\ufdd1",  # hubbot's own token characters, typed
    "\ufdd0https://evil.example\ufdd2docs\ufdd1",
    "&lt;!channel&gt;",
    "fish & chips <b>",
    "\x1b[31mred\x07",
)

# Where hubbot itself may link: the test fleet's hubs and docs, and Slack's own archive links.
ALLOWED_HOSTS = frozenset({"staging.alpha.test", "alpha.test", "class.alpha.test", "staging.beta.test",
                           "binder.beta.test", "docs.test.org", "slack.com", "mybinder.org"})
ALLOWED_IDS = frozenset({ENGINEER, ENGINEER_2, LEADER_A, LEADERS_B_GROUP, CHANNEL_A, CHANNEL_B, CHANNEL_OPS,
                         "CSUPPORT1", "CHELP0001", "ULEADB001", "UMEMA0001", "UOUT00001"})
BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SEQUENCE = re.compile(r"<([^<>]*)>")
_ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\ufdd0-\ufdef]")

# Arguments that make each command get past its first check, so the hostile value reaches the later ones.
_VALID: dict[str, str] = {"budget set": "alpha 100", "link": "aws-cluster/staging https://github.com/org/repo",
                          "status": "aws-cluster/staging", "binder deploy": "gcp-cluster/beta-binder",
                          "binder status": "gcp-cluster/beta-binder", "deploy": "aws-cluster/staging --dry-run"}


def invocations(specs: Iterable[CommandSpec] = ALL, corpus: Iterable[str] = CORPUS) -> Iterator[str]:
    """Every command with each hostile value in each place it takes text: each positional, each
    option's value, an unknown option, and as an unknown command or a near-miss of one."""
    for h in corpus:
        quoted = f'"{h}"'
        yield h
        yield f"hubz{h}"
        yield f"help {h}"
        for spec in specs:
            valid = _VALID.get(spec.name, "")
            yield f"{spec.name} {quoted}"
            yield f"{spec.name} --{h}"
            if spec.signature.args:
                yield f"{spec.name} {' '.join([quoted] * len(spec.signature.args))}"
            for opt in spec.signature.opts:
                yield f"{spec.name} {valid} --{opt.name} {quoted}".replace("  ", " ")


def texts_of(message: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(kind, text) of every text a Slack message carries: its fallback, and each text object."""
    if isinstance(message.get("text"), str):
        yield "mrkdwn", message["text"]

    def walk(obj: Any) -> Iterator[tuple[str, str]]:
        if isinstance(obj, dict):
            if obj.get("type") in ("mrkdwn", "plain_text") and isinstance(obj.get("text"), str):
                yield obj["type"], obj["text"]
            for key, value in obj.items():
                if key == "alt_text" and isinstance(value, str):
                    yield "plain_text", value
                elif isinstance(value, (dict, list)):
                    yield from walk(value)
        elif isinstance(obj, list):
            for item in obj:
                yield from walk(item)

    blocks = message.get("blocks")
    if isinstance(blocks, str):
        import json

        blocks = json.loads(blocks)
    yield from walk(blocks or [])


def _allowed(sequence: str) -> bool:
    target, _, label = sequence.partition("|")
    if target[:1] in "@#" and target[1:] in ALLOWED_IDS:
        return True
    if target.startswith("!subteam^") and target[9:] in ALLOWED_IDS:
        return True
    if target.startswith(("https://", "http://")):
        host = urlsplit(target.replace("&amp;", "&")).hostname
        shown = urlsplit(label).hostname if label.startswith(("http://", "https://")) else None
        return host in ALLOWED_HOSTS and (shown is None or shown == host)
    return False


def problems(message: dict[str, Any]) -> list[str]:
    """What in a rendered Slack message could ping, disguise a link or mislead: any control
    sequence hubbot did not make, a bare ``&`` (an entity left unescaped), a bidirectional
    override, a control character or a hostile ID in a live sequence."""
    found: list[str] = []
    for kind, text in texts_of(message):
        if BIDI.search(text):
            found.append(f"bidi control in {text!r}")
        if _CONTROL.search(text):
            found.append(f"control character in {text!r}")
        if kind != "mrkdwn":
            continue  # Slack shows plain_text as typed: no mentions, no links
        for match in _SEQUENCE.finditer(text):
            if not _allowed(match.group(1)):
                found.append(f"live sequence {match.group(0)!r} in {text!r}")
        if "<" in _SEQUENCE.sub("", text) or ">" in _SEQUENCE.sub("", text):
            found.append(f"unescaped angle bracket in {text!r}")
        if _ENTITY.search(text):
            found.append(f"unescaped & in {text!r}")
    return found
