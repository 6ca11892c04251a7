"""The one rule for text that reaches a chat: everything is plain text until a transport
renders it, and only hubbot's own mentions and links become control sequences.

Commands, alerts and stored messages write *plain* text: whatever a user typed, a docs extract,
helm's ``<nil>``, hubbot's own ``<hub>`` in a usage line. A deliberate mention or link is made
with :func:`mention`, :func:`channel` or :func:`link`, which wrap it in two Unicode
noncharacters (U+FDD0 and U+FDD1, reserved by Unicode for a program's internal use and never
exchanged). Each transport renders once, at its edge:

- :func:`to_mrkdwn` (Slack) escapes ``&``, ``<`` and ``>`` in all the text and turns only the
  wrapped tokens into ``<@U…>``, ``<!subteam^S…>``, ``<#C…>`` and ``<https://…|label>``;
- :func:`to_plain` (terminals, plain_text fields) shows them as ``@U…``, ``#C…`` and
  ``label (https://…)``.

Both drop control characters and the bidirectional overrides that make a line read
backwards, and any stray noncharacter. A token is *sealed*: it carries a keyed hash of what it
says, so text from outside (a docs page, helm's output, a health check, a value typed before
this rule existed) that happens to hold the same characters is rendered as plain text — only
tokens this installation made go live. The key is derived from the bot token in the composition
root (:func:`use_key`), so every replica, and a CronJob filling the outbox, seal alike. A token
is also checked when rendered: a Slack ID must look like one and a link must be ``http(s)`` or
``mailto`` with nothing that could end the sequence.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets

OPEN = "\ufdd0"
CLOSE = "\ufdd1"
_SEP = "\ufdd2"  # between a link's target and its label
_SEAL = "\ufdd3"  # between what a token says and its seal
_key = secrets.token_bytes(32)  # per process until use_key(); tokens then live only in this process


def use_key(material: str) -> None:
    """Seal tokens with a key derived from ``material`` (a secret every replica shares)."""
    global _key
    _key = hashlib.blake2s(material.encode(), person=b"hbmarkup").digest()
    _token_mrkdwn.cache_clear()
    _token_plain.cache_clear()


def _mac(body: str) -> str:
    return hmac.digest(_key, body.encode(), "sha256")[:8].hex()


def _sealed(body: str) -> str:
    return f"{OPEN}{body}{_SEAL}{_mac(body)}{CLOSE}"


def _unseal(token: str) -> str | None:
    body, sep, mac = token.rpartition(_SEAL)
    return body if sep and hmac.compare_digest(mac, _mac(body)) else None


_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")
_GROUP_ID = re.compile(r"S[A-Z0-9]{2,20}")
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,20}")
_URL = re.compile(r"(?:https?://[^\s<>|\"'`]+|mailto:[^\s<>|\"'`]+)")
_TOKEN = re.compile(OPEN + "([^" + OPEN + CLOSE + "]{1,3000})" + CLOSE)

# Characters nobody needs in a chat line and that can disguise one: C0/C1 controls (but tab and
# newline), the bidirectional marks, embeddings, overrides and isolates, the zero-width space
# and invisible operators that split a word without showing it, the byte-order mark, and every
# Unicode noncharacter. (Zero-width joiners stay: scripts and emoji need them.)
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
    "\ufdd0-\ufdef\ufffe\uffff]"
)


def clean(text: str) -> str:
    """``text`` without control characters, bidirectional overrides or noncharacters.
    Safe to store, log or show; used on everything a user typed before anything reads it."""
    return _UNSAFE.sub("", text)


def escape(text: str) -> str:
    """``&``, ``<`` and ``>`` as Slack's entities: all that makes mrkdwn read text as a control sequence."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# -- hubbot's own control sequences -------------------------------------------------------


def mention(slack_id: str) -> str:
    """A ping of a user (``U…``/``W…``) or a user group (``S…``); anything else stays plain text."""
    if _USER_ID.fullmatch(slack_id):
        return _sealed(f"@{slack_id}")
    if _GROUP_ID.fullmatch(slack_id):
        return _sealed(f"!subteam^{slack_id}")
    return slack_id


def channel(channel_id: str) -> str:
    """A link to a channel by ID; anything else stays plain text."""
    return _sealed(f"#{channel_id}") if _CHANNEL_ID.fullmatch(channel_id) else channel_id


def link(url: str, label: str = "") -> str:
    """A link whose text is ``label`` (the URL itself when empty). A URL that is not http(s) or
    mailto, or that holds a character that could end the sequence, is shown as plain text."""
    label = clean(label).replace("\n", " ")
    if not _URL.fullmatch(url):
        return f"{label} ({url})" if label else url
    return _sealed(f"{url}{_SEP}{label}")


# -- rendering, once per transport ----------------------------------------------------------


def _parts(token: str) -> tuple[str, str, str] | None:
    """``(kind, target, label)`` of a token sealed here (kind: user, group, channel or link),
    or None for one that was not made here or says something no token may."""
    body = _unseal(token)
    if body is None:
        return None
    sigil, rest = body[:1], body[1:]
    if sigil == "@" and _USER_ID.fullmatch(rest):
        return "user", rest, ""
    if sigil == "!" and rest.startswith("subteam^") and _GROUP_ID.fullmatch(rest[8:]):
        return "group", rest[8:], ""
    if sigil == "#" and _CHANNEL_ID.fullmatch(rest):
        return "channel", rest, ""
    url, sep, label = body.partition(_SEP)
    if sep and _URL.fullmatch(url):
        return "link", url, clean(label).replace("\n", " ")
    return None


def _as_text(token: str) -> str:
    """What a token that will not go live says, as text."""
    return clean(token.partition(_SEAL)[0].replace(_SEP, " "))


# The same few mentions and links recur in every listing; a token renders the same until the key changes.
@functools.lru_cache(maxsize=4096)
def _token_mrkdwn(token: str) -> str:
    parts = _parts(token)
    if parts is None:
        return escape(_as_text(token))
    kind, target, label = parts
    if kind == "link":
        return f"<{escape(target)}|{escape(label)}>" if label else f"<{escape(target)}>"
    return {"user": f"<@{target}>", "group": f"<!subteam^{target}>", "channel": f"<#{target}>"}[kind]


@functools.lru_cache(maxsize=4096)
def _token_plain(token: str) -> str:
    parts = _parts(token)
    if parts is None:
        return _as_text(token)
    kind, target, label = parts
    if kind == "link":
        return f"{label} ({target})" if label and label != target else target
    return ("#" if kind == "channel" else "@") + target


def to_mrkdwn(text: str) -> str:
    """Slack mrkdwn for hubbot text: every character escaped, hubbot's tokens made live."""
    if OPEN not in text:
        return escape(clean(text))
    pieces = _TOKEN.split(text)  # text, token, text, token, ..., text
    pieces[0::2] = [escape(clean(p)) for p in pieces[0::2]]
    pieces[1::2] = [_token_mrkdwn(p) for p in pieces[1::2]]
    return "".join(pieces)


def to_plain(text: str) -> str:
    """Plain text for hubbot text (a terminal, a Slack ``plain_text`` field): tokens shown as
    ``@U…``, ``#C…`` or ``label (url)``, unsafe characters dropped, nothing escaped."""
    if OPEN not in text:
        return clean(text)
    return clean(_TOKEN.sub(lambda m: _token_plain(m.group(1)), text))
