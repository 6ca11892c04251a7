"""Loading the fleet config from one YAML file, validated in two passes.

pydantic checks shapes and types, then :func:`cross_check` checks references between sections.
Both passes report problems with their path in the file (``clusters[0].hubs[1].community``) so
``hubbot config check`` can print every one of them at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from hubbot.errors import UserError
from hubbot.fleet.config import FleetConfig
from hubbot.fleet.view import Fleet, did_you_mean


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class FleetError(UserError):
    """The config file is unusable; ``problems`` lists every reason."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s) in the fleet config:\n{lines}")
        self.problems = problems


def _loc(parts: tuple[int | str, ...]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


_BACKUP_PROVIDER = {"ebs": "aws", "efs": "aws", "gcp-disk": "gcp", "cinder": "openstack"}
_CLOUD = {"aws": "an AWS", "gcp": "a GCP", "openstack": "an OpenStack"}


def cross_check(config: FleetConfig) -> list[Problem]:
    """Problems that involve more than one section: references, duplicates."""
    problems: list[Problem] = []
    providers = list(config.providers)
    communities = [c.name for c in config.communities]
    seen_communities: set[str] = set()
    for i, community in enumerate(config.communities):
        if community.name in seen_communities:
            problems.append(Problem(f"communities[{i}].name", f"duplicate community '{community.name}'"))
        seen_communities.add(community.name)
    seen_clusters: set[str] = set()
    for ci, cluster in enumerate(config.clusters):
        if cluster.name in seen_clusters:
            problems.append(Problem(f"clusters[{ci}].name", f"duplicate cluster '{cluster.name}'"))
        seen_clusters.add(cluster.name)
        if cluster.provider not in config.providers:
            problems.append(
                Problem(
                    f"clusters[{ci}].provider",
                    f"unknown provider '{cluster.provider}'{did_you_mean(cluster.provider, providers)}",
                )
            )
        seen_hubs: set[str] = set()
        for hi, hub in enumerate(cluster.hubs):
            if hub.name in seen_hubs:
                problems.append(
                    Problem(f"clusters[{ci}].hubs[{hi}].name", f"duplicate hub '{hub.name}' in this cluster")
                )
            seen_hubs.add(hub.name)
            if hub.community is not None and hub.community not in seen_communities:
                problems.append(
                    Problem(
                        f"clusters[{ci}].hubs[{hi}].community",
                        f"unknown community '{hub.community}'{did_you_mean(hub.community, communities)}",
                    )
                )
            provider, backup = config.providers.get(cluster.provider), hub.backup
            wanted = _BACKUP_PROVIDER[backup.kind] if backup else None
            if backup and wanted and provider is not None and provider.kind not in (wanted, "csv"):
                problems.append(Problem(
                    f"clusters[{ci}].hubs[{hi}].backup.kind",
                    f"a {backup.kind} backup needs {_CLOUD[wanted]} provider, but cluster {cluster.name}'s provider "
                    f"{cluster.provider} is {provider.kind}"))
    problems += _currency_mismatches(config)
    return problems


def _currency_mismatches(config: FleetConfig) -> list[Problem]:
    """A budget in another currency than every provider its hubs bill through counts nothing.
    The config knows a provider's currency only for JetStream2 (service units); cloud accounts
    and CSV rows say theirs in the data, which ``/hub budget set`` and the summaries check."""
    problems = []
    for i, community in enumerate(config.communities):
        if community.budget is None:
            continue
        kinds = {config.providers[cluster.provider].kind for cluster in config.clusters for hub in cluster.hubs
                 if hub.community == community.name and cluster.provider in config.providers}
        if kinds == {"openstack"} and community.budget.currency != "SU":
            problems.append(Problem(
                f"communities[{i}].budget.currency",
                f"the budget is in {community.budget.currency} but {community.name}'s providers bill in SU "
                "(JetStream2 service units): set the budget's currency to SU"))
        elif "openstack" not in kinds and kinds and community.budget.currency == "SU":
            problems.append(Problem(
                f"communities[{i}].budget.currency",
                f"the budget is in SU but none of {community.name}'s providers bills in service units: "
                "use the currency its cloud account bills in"))
    return problems


def parse_fleet(data: Any, *, source: str = "<memory>") -> Fleet:
    """Validate already-loaded YAML data; raises :class:`FleetError` listing every problem."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise FleetError(source, [Problem("", "the top level must be a mapping (providers:, clusters:, ...)")])
    try:
        config = FleetConfig.model_validate(data)
    except ValidationError as exc:
        problems = [Problem(_loc(e["loc"]), _message(e)) for e in exc.errors(include_url=False)]
        raise FleetError(source, problems) from None
    problems = cross_check(config)
    if problems:
        raise FleetError(source, problems)
    return Fleet(config, source=source)


def _message(error: Any) -> str:
    msg = str(error["msg"])
    if error["type"] == "extra_forbidden":
        return "unknown field (check its spelling against `hubbot config schema`)"
    return msg.removeprefix("Value error, ")


def load_fleet(path: Path) -> Fleet:
    """Read and validate a fleet YAML file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read config file {path}: {exc.__class__.__name__}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "unknown place"
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise FleetError(str(path), [Problem(where, f"invalid YAML: {problem}")]) from None
    return parse_fleet(data, source=str(path))


def json_schema() -> dict[str, Any]:
    return FleetConfig.model_json_schema()
