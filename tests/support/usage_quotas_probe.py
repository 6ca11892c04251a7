"""Reads quota policies with jupyterhub-usage-quotas itself, the way a z2jh hub does.

Runs in the library's own virtualenv (Python 3.12+, `make usage-quotas`), started by
tests/support/usage_quotas.py; it imports only the library, traitlets and the standard library.
Each line on stdin is one request, answered by one line on stdout:

    {"values": <the z2jh chart's values>, "users": [[name, [group, ...]], ...],
     "usage": {name: {resource: used}}}      used in byte-hours (memory) or CPU-hours (cpu)

    {"ok": true, "policy": [...], "fallback": {...}, "resolved": {name: [policy, ...]},
     "decisions": {name: [{"resource", "window", "allow", "message"}, ...]}, "warnings": [...]}
    {"ok": false, "stage": "config" | "resolve", "error": "<the library's message>"}
"""

from __future__ import annotations

import copy
import json
import logging
import sys
from typing import Any, TextIO

from jupyterhub_usage_quotas.manager import UsageQuotaManager
from traitlets import TraitError
from traitlets.config import Config

# Any instant will do: get_output only dates the retry time from the samples' times.
SAMPLE_TIME = 1_700_000_000


def get_config(values: dict[str, Any], key: str, default: Any) -> Any:
    """z2jh's ``z2jh.get_config``: the value at a dotted path of the chart's values, or ``default``."""
    value: Any = values
    for level in key.split("."):
        if not isinstance(value, dict) or level not in value:
            return default
        value = value[level]
    return value


def hub_config(values: dict[str, Any]) -> Config:
    """The traitlets config z2jh's jupyterhub_config.py makes of ``hub.config``."""
    c = Config()
    for app, cfg in get_config(values, "hub.config", {}).items():
        # z2jh sets these from its own secret instead.
        if app == "JupyterHub":
            cfg.pop("proxy_auth_token", None)
            cfg.pop("cookie_secret", None)
            cfg.pop("services", None)
        elif app == "ConfigurableHTTPProxy":
            cfg.pop("auth_token", None)
        elif app == "CryptKeeper":
            cfg.pop("keys", None)
        c[app].update(cfg)
    return c


class Warnings(logging.Handler):
    """Collects what traitlets and the library log at warning level, e.g. an option nobody reads."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def answer(request: dict[str, Any], warnings: Warnings) -> dict[str, Any]:
    warnings.messages.clear()
    try:
        manager = UsageQuotaManager(config=hub_config(request["values"]))
    except TraitError as e:
        return {"ok": False, "stage": "config", "error": str(e)}
    # resolve_policy writes into the policies it matches (the manager's own dicts): copy them first.
    policy = copy.deepcopy(manager.policy)
    fallback = copy.deepcopy(manager.scope_fallback_strategy)
    resolved: dict[str, list[dict[str, Any]]] = {}
    decisions: dict[str, list[dict[str, Any]]] = {}
    for name, groups in request["users"]:
        try:
            resolved[name] = copy.deepcopy(manager.resolve_policy(name, list(groups)))
        except Exception as e:  # at spawn time this fails the launch (or lets it through, failover_open)
            return {"ok": False, "stage": "resolve", "error": f"{type(e).__name__}: {e}"}
        used = request.get("usage", {}).get(name, {})
        decisions[name] = []
        for quota in resolved[name]:
            if quota["resource"] not in used:
                continue
            # get_output rewrites the policy it is given.
            output = manager.get_output([[SAMPLE_TIME, used[quota["resource"]]]], copy.deepcopy(quota))
            decisions[name].append({
                "resource": quota["resource"],
                "window": quota["window"],
                "allow": output["allow_server_launch"],
                "message": output.get("error", {}).get("message"),
            })
    return {"ok": True, "policy": policy, "fallback": fallback, "resolved": resolved, "decisions": decisions,
            "warnings": list(warnings.messages)}


def main(requests: TextIO, answers: TextIO) -> None:
    warnings = Warnings()
    logging.getLogger().addHandler(warnings)
    for line in requests:
        answers.write(json.dumps(answer(json.loads(line), warnings)) + "\n")
        answers.flush()


if __name__ == "__main__":
    answers, sys.stdout = sys.stdout, sys.stderr  # stdout carries answers only, whatever else prints
    main(sys.stdin, answers)
