"""Declaring and parsing command arguments.

Text such as ``nasa --limit 5 tier=prod "two words"`` is split into tokens (double, single
and typographic quotes group words; an unmatched quote is an error), then matched against
the command's declared positionals and options. Options are written ``--name value``,
``--name=value`` or ``name=value``; flags are ``--name``. Values are converted to the
declared type. Any mismatch raises :class:`UsageError` carrying the command's usage line.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

from hubbot.errors import UsageError

MAX_TEXT = 4000
Kind = Literal["str", "int", "flag"]
Value = str | int | bool | None

# Slack clients turn quotes into typographic ones and "--" into a dash; accept those as typed.
_QUOTES = {"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'", "\u00ab": '"', "\u00bb": '"'}
_DASHES = ("\u2014", "\u2013")


@dataclass(frozen=True, slots=True)
class Arg:
    """A positional argument. ``rest`` takes all the remaining words as one string."""

    name: str
    help: str
    kind: Kind = "str"
    required: bool = True
    rest: bool = False
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Opt:
    """An option (``--name value``) or, with kind ``flag``, a switch (``--name``)."""

    name: str
    help: str
    kind: Kind = "str"
    default: Value = None
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None


@dataclass(frozen=True, slots=True)
class Signature:
    args: tuple[Arg, ...] = ()
    opts: tuple[Opt, ...] = ()

    def usage(self, prefix: str) -> str:
        parts = [prefix]
        for a in self.args:
            label = f"<{a.name}...>" if a.rest else f"<{a.name}>"
            parts.append(label if a.required else f"[{label}]")
        for o in self.opts:
            parts.append(f"[--{o.name}]" if o.kind == "flag" else f"[--{o.name} {o.name.upper()}]")
        return " ".join(parts)


@dataclass(frozen=True)
class ParsedArgs(Mapping[str, Value]):
    """Parsed values by name, with typed accessors for handlers."""

    data: dict[str, Value] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Value:
        return self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def text(self, key: str) -> str | None:
        value = self.data.get(key)
        return value if isinstance(value, str) else None

    def number(self, key: str) -> int | None:
        value = self.data.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def flag(self, key: str) -> bool:
        return self.data.get(key) is True


def normalize(text: str) -> str:
    """Make chat text parseable: NFC, typographic quotes and dashes, no control characters."""
    if text.isascii() and text.isprintable():  # most commands: nothing to change
        return text.strip()
    text = unicodedata.normalize("NFC", text)
    text = "".join(_QUOTES.get(ch, ch) for ch in text)
    for dash in _DASHES:
        text = text.replace(dash, "--")
    return "".join(ch if ch.isprintable() or ch in " \t\n" else " " for ch in text).strip()


def tokenize(text: str) -> list[str]:
    """Split on whitespace; quotes group words and are removed. Raises on an unclosed quote."""
    tokens: list[str] = []
    buf: list[str] = []
    quote: str | None = None
    started = False
    for ch in text:
        if quote is not None:
            if ch == quote:
                quote = None
            else:
                buf.append(ch)
        elif ch in "\"'":
            quote = ch
            started = True
        elif ch.isspace():
            if started:
                tokens.append("".join(buf))
                buf, started = [], False
        else:
            buf.append(ch)
            started = True
    if quote is not None:
        raise UsageError(f"unclosed quote ({quote}) — close it or remove it")
    if started:
        tokens.append("".join(buf))
    return tokens


def _convert(name: str, kind: Kind, raw: str, choices: tuple[str, ...], lo: int | None, hi: int | None) -> Value:
    if choices and raw not in choices:
        raise UsageError(f"{name} must be one of {', '.join(choices)} (got '{_clip(raw)}')")
    if kind == "int":
        try:
            number = int(raw, 10)
        except ValueError:
            raise UsageError(f"{name} must be a whole number (got '{_clip(raw)}')") from None
        if lo is not None and number < lo:
            raise UsageError(f"{name} must be at least {lo}")
        if hi is not None and number > hi:
            raise UsageError(f"{name} must be at most {hi}")
        return number
    return raw


def _clip(raw: str, limit: int = 40) -> str:
    return raw if len(raw) <= limit else raw[: limit - 1] + "…"


def parse(sig: Signature, text: str, *, usage: str) -> ParsedArgs:
    """Parse ``text`` (the words after the command name) against ``sig``."""
    if len(text) > MAX_TEXT:
        raise UsageError(f"that is too long ({len(text)} characters; the limit is {MAX_TEXT})", usage=usage)
    try:
        return _parse(sig, tokenize(normalize(text)))
    except UsageError as exc:
        raise UsageError(str(exc), usage=usage) from None


def _parse(sig: Signature, tokens: list[str]) -> ParsedArgs:
    opts = {o.name: o for o in sig.opts}
    values: dict[str, Value] = {o.name: (False if o.kind == "flag" else o.default) for o in sig.opts}
    positionals: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        i += 1
        name: str | None = None
        inline: str | None = None
        if tok.startswith("--") and len(tok) > 2:
            name, eq, rest = tok[2:].partition("=")
            inline = rest if eq else None
        elif "=" in tok and tok.split("=", 1)[0] in opts:
            name, _, inline = tok.partition("=")
        if name is None:
            positionals.append(tok)
            continue
        opt = opts.get(name)
        if opt is None:
            known = ", ".join(f"--{o}" for o in opts) or "none"
            raise UsageError(f"unknown option --{_clip(name)} (options: {known})")
        if opt.kind == "flag":
            if inline is not None:
                raise UsageError(f"--{name} is a switch and takes no value")
            values[name] = True
            continue
        if inline is None:
            if i >= len(tokens):
                raise UsageError(f"--{name} needs a value")
            inline = tokens[i]
            i += 1
        values[name] = _convert(f"--{name}", opt.kind, inline, opt.choices, opt.minimum, opt.maximum)
    _bind_positionals(sig, positionals, values)
    return ParsedArgs(values)


def _bind_positionals(sig: Signature, positionals: list[str], values: dict[str, Value]) -> None:
    for index, arg in enumerate(sig.args):
        if arg.rest:
            words = positionals[index:]
            positionals = positionals[:index]
            if not words and arg.required:
                raise UsageError(f"missing <{arg.name}>")
            values[arg.name] = " ".join(words) if words else None
            return
        if index < len(positionals):
            values[arg.name] = _convert(f"<{arg.name}>", arg.kind, positionals[index], arg.choices, None, None)
        elif arg.required:
            raise UsageError(f"missing <{arg.name}>")
        else:
            values[arg.name] = None
    extra = positionals[len(sig.args) :]
    if extra:
        raise UsageError(f"unexpected argument '{_clip(extra[0])}'")
