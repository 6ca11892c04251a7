"""Argument parsing: quoting, options, typed values, and random text never escaping as a crash."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubbot.errors import UsageError
from hubbot.pipeline.args import MAX_TEXT, Arg, Opt, Signature, normalize, parse, tokenize

SIG = Signature(
    args=(Arg("hub", "a hub"), Arg("ref", "a ref", required=False)),
    opts=(Opt("limit", "n", kind="int", default=20, minimum=1, maximum=200), Opt("dry-run", "x", kind="flag"),
          Opt("tier", "t", choices=("staging", "prod"))),
)
REST = Signature(args=(Arg("question", "q", rest=True),))


def p(text: str, sig: Signature = SIG) -> dict[str, object]:
    return dict(parse(sig, text, usage="/hub x <hub>"))


def test_positionals_options_flags_and_key_value() -> None:
    assert p('prod main --limit 5 --dry-run tier=prod') == {
        "hub": "prod", "ref": "main", "limit": 5, "dry-run": True, "tier": "prod"}


def test_defaults() -> None:
    assert p("prod") == {"hub": "prod", "ref": None, "limit": 20, "dry-run": False, "tier": None}


@pytest.mark.parametrize("text,expected", [
    ('"two words"', ["two words"]),
    ("'single quoted' x", ["single quoted", "x"]),
    ("a\u201cb c\u201d", ["ab c"]),  # typographic quotes from Slack clients
    ('""', [""]),
    ("  spaced   out  ", ["spaced", "out"]),
])
def test_tokenize(text: str, expected: list[str]) -> None:
    assert tokenize(normalize(text)) == expected


def test_em_dash_from_slack_is_an_option() -> None:
    assert p("prod \u2014limit 3")["limit"] == 3


def test_option_equals_form() -> None:
    assert p("prod --limit=7")["limit"] == 7


@pytest.mark.parametrize("text,message", [
    ("", "missing <hub>"),
    ("prod --limit", "--limit needs a value"),
    ("prod --limit ten", "--limit must be a whole number"),
    ("prod --limit 0", "at least 1"),
    ("prod --limit 999999999999999999999", "at most 200"),
    ("prod --tier dev", "--tier must be one of staging, prod"),
    ("prod --nope", "unknown option --nope"),
    ("prod --dry-run=yes", "takes no value"),
    ("prod main extra", "unexpected argument 'extra'"),
    ('prod "unclosed', "unclosed quote"),
])
def test_bad_input_is_a_usage_error(text: str, message: str) -> None:
    with pytest.raises(UsageError) as err:
        p(text)
    assert message in str(err.value)
    assert err.value.usage == "/hub x <hub>"


def test_rest_takes_everything() -> None:
    assert p("how do I   install a package?", REST) == {"question": "how do I install a package?"}


def test_over_long_text_is_refused() -> None:
    with pytest.raises(UsageError, match="too long"):
        p("x" * (MAX_TEXT + 1))


def test_control_characters_are_neutralised() -> None:
    assert p("pr\x00od\x1b[31m", REST)["question"] == "pr od [31m"


def test_hostile_values_are_clipped_in_messages() -> None:
    with pytest.raises(UsageError) as err:
        p("prod --tier " + "A" * 3000)
    assert len(str(err.value)) < 200


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_random_text_parses_or_raises_usage_error(text: str) -> None:
    for sig in (SIG, REST, Signature()):
        with contextlib.suppress(UsageError):
            parse(sig, text, usage="u")
