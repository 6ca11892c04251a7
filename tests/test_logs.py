"""Process logging: every secret the settings hold is masked in what reaches stderr."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from hubbot.logs import configure_logging, redactor_for
from hubbot.redact import Redactor
from hubbot.settings import DatabaseSettings, OpenStackCredential, Settings, SlackSettings

SECRETS = {
    "bot": "xoxb-111-222-bot-secret",
    "signing": "8f1e0c-signing-secret",
    "app": "xapp-1-A1-app-secret",
    "freshdesk": "FD-api-key-0042",
    "openstack": "os-app-cred-secret-77",
    "database": "pg-pass-9913",
}


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def settings() -> Settings:
    return Settings(
        slack=SlackSettings(bot_token=SecretStr(SECRETS["bot"]), signing_secret=SecretStr(SECRETS["signing"]),
                            app_token=SecretStr(SECRETS["app"])),
        freshdesk_api_key=SecretStr(SECRETS["freshdesk"]),
        openstack={"js2": OpenStackCredential(id="cred-id", secret=SecretStr(SECRETS["openstack"]))},
        database=DatabaseSettings(url=f"postgresql+psycopg://hubbot:{SECRETS['database']}@127.0.0.1:5432/hubbot"),
    )


@pytest.mark.usefixtures("restore_logging")
def test_every_configured_secret_is_masked_in_json_logs(capsys: pytest.CaptureFixture[str]) -> None:
    s = settings()
    configure_logging(s, redactor_for(s), json_lines=True)
    log = logging.getLogger("hubbot.test")
    for name, secret in SECRETS.items():
        log.warning("the %s secret is %s", name, secret)
    try:
        raise RuntimeError(f"connect failed for {SECRETS['database']}")
    except RuntimeError:
        log.exception("while connecting")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert len(lines) == len(SECRETS) + 1
    text = json.dumps(lines)
    for secret in SECRETS.values():
        assert secret not in text
    assert lines[0]["message"] == "the bot secret is [redacted]" and lines[0]["level"] == "warning"
    assert "[redacted]" in lines[-1]["exc"]


@pytest.mark.usefixtures("restore_logging")
def test_plain_logs_show_warnings_and_hide_info(capsys: pytest.CaptureFixture[str]) -> None:
    s = settings()
    configure_logging(s, redactor_for(s), json_lines=False)
    logging.getLogger("hubbot.test").info("chatty")
    logging.getLogger("hubbot.test").warning("token %s", SECRETS["freshdesk"])
    assert capsys.readouterr().err == "WARNING hubbot.test: token [redacted]\n"


def test_a_github_token_in_a_log_line_is_redacted_even_if_no_setting_names_it() -> None:
    fine_grained = "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRS"
    line = f"pushing with ghp_St4ndInT0kenF0rHubbotTests0123456789 then {fine_grained} (ghp_short stays)"
    assert Redactor()(line) == "pushing with [redacted] then [redacted] (ghp_short stays)"

