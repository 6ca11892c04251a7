"""What every real service the tests start needs: a free loopback port, and the one rule for a
service that is missing — skip on a developer's machine, fail in CI (``CI=true``), and say how to
get it either way."""

from __future__ import annotations

import os
import socket
from typing import NoReturn

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def missing(message: str) -> NoReturn:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)
