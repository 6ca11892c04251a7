"""A fleet repository in the field's layout: one folder per cluster under ``config/clusters``,
each with a ``cluster.yaml`` (its provider and how to reach it, its support chart's values, and
its hubs: name, display name, domain, chart, values files in order), sops-encrypted files beside
them, and the schema that validates ``cluster.yaml`` in the repository itself.

:func:`read` reads every cluster folder (``templates/`` holds templates, not a cluster: it is
skipped, as the field's deployer does), checks each ``cluster.yaml`` against the repository's own
schema when there is one, and checks that every file it names exists and that every file that
looks like a secret (``enc-`` or ``secret`` in its name) carries sops metadata. A broken cluster is
reported with its file and the path in it; the others are still read."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hubbot.fleet.load import Problem

CLUSTERS_DIR = "config/clusters"
CHARTS_DIR = "helm-charts"
# where the field's deployer keeps the schema of cluster.yaml
SCHEMA_FILES = ("src/deployer/commands/validate/cluster.schema.yaml", "deployer/cluster.schema.yaml")
SKIPPED = frozenset({"templates"})


@dataclass(frozen=True, slots=True)
class RepoHub:
    name: str
    domain: str
    chart: str  # the chart named by helm_chart (basehub, daskhub, ...)
    values: tuple[str, ...]  # paths relative to the repository, in the order applied
    display_name: str = ""
    chart_path: str = ""  # the chart folder relative to the repository (chart_override, else charts_dir/chart)
    domain_override: str | None = None  # a file (relative to the repository) whose domain: replaces domain
    expected_status: int | None = None  # uptime_check.expected_status: what its health check answers


@dataclass(frozen=True, slots=True)
class RepoCluster:
    name: str
    folder: str  # relative to the repository
    provider: str  # aws, gcp, azure, kubeconfig
    access: Mapping[str, Any] = field(default_factory=dict)  # the provider's own section, as written
    hubs: tuple[RepoHub, ...] = ()


@dataclass(frozen=True, slots=True)
class Repository:
    root: Path
    clusters: tuple[RepoCluster, ...]
    problems: tuple[Problem, ...]
    schema: str | None  # the schema file the clusters were checked against

    @property
    def hubs(self) -> list[str]:
        return [f"{c.name}/{h.name}" for c in self.clusters for h in c.hubs]


def is_secret_name(name: str) -> bool:
    return name.startswith("enc-") or "secret" in name


def load_file(path: Path) -> Any:
    """A YAML or JSON file's data (None when it cannot be read or parsed). Parsed once per version
    of the file (a commit's tree never changes) with libyaml when present: reading a fleet opens
    the same values files for many hubs. The data is shared: callers must not change it."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return _parsed(str(path), stat.st_mtime_ns, stat.st_size)


def safe_yaml(text: str) -> Any:
    """``yaml.safe_load`` with libyaml's safe loader when PyYAML was built with it (several times faster)."""
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 (safe loaders only)


@functools.lru_cache(maxsize=8192)
def _parsed(path: str, _mtime: int, _size: int) -> Any:
    import yaml

    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
        return json.loads(text) if path.endswith(".json") else safe_yaml(text)
    except (OSError, ValueError, yaml.YAMLError):
        return None


def has_sops_metadata(path: Path) -> bool:
    """Whether a YAML or JSON file carries sops' ``sops`` section (an encrypted file does)."""
    data = load_file(path)
    return isinstance(data, dict) and isinstance(data.get("sops"), dict)


def _schema(root: Path, schema_file: str | None) -> tuple[Any, str | None, list[Problem]]:
    import yaml

    names = (schema_file,) if schema_file else SCHEMA_FILES
    for name in names:
        path = root / name
        if path.is_file():
            try:
                return yaml.safe_load(path.read_text(encoding="utf-8")), name, []
            except yaml.YAMLError as exc:
                return None, name, [Problem(name, f"the repository's cluster schema is not valid YAML ({exc})")]
    if schema_file:
        return None, None, [Problem(schema_file, "no such schema file in the repository")]
    return None, None, []


def _where(error: Any) -> str:
    return ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in error.absolute_path).replace(".[", "[")


def read(root: Path, *, clusters_dir: str = CLUSTERS_DIR, schema_file: str | None = None,
         charts_dir: str = CHARTS_DIR) -> Repository:
    """Every cluster of the repository at ``root``, and every problem found, by file and path."""
    import jsonschema
    import yaml

    problems: list[Problem] = []
    base = root / clusters_dir
    if not base.is_dir():
        return Repository(root, (), (Problem(clusters_dir, "no such folder in the repository"),), None)
    schema, schema_name, found = _schema(root, schema_file)
    problems += found
    validator = jsonschema.validators.validator_for(schema)(schema) if schema is not None else None
    clusters: list[RepoCluster] = []
    for folder in sorted(p for p in base.iterdir() if p.is_dir() and p.name not in SKIPPED):
        rel = folder.relative_to(root).as_posix()
        file = f"{rel}/cluster.yaml"
        try:
            data = safe_yaml((folder / "cluster.yaml").read_text(encoding="utf-8"))
        except FileNotFoundError:
            problems.append(Problem(rel, "a cluster folder without cluster.yaml"))
            continue
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f" (line {mark.line + 1})" if mark is not None else ""
            problems.append(Problem(file, f"not valid YAML{line}"))
            continue
        if not isinstance(data, dict):
            problems.append(Problem(file, "not a map"))
            continue
        errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)) if validator else []
        if errors:
            problems += [Problem(f"{file}: {_where(e)}".rstrip(": "), e.message[:200]) for e in errors[:10]]
            continue
        mine = _cluster(data, rel, folder, file, charts_dir=charts_dir)
        problems += mine[1]
        if mine[0] is not None:
            clusters.append(mine[0])
    return Repository(root, tuple(clusters), tuple(problems), schema_name)


_HUB_NEEDS = ("name", "domain", "helm_chart", "helm_chart_values_files")


def _cluster(data: dict[str, Any], rel: str, folder: Path, file: str, *,
             charts_dir: str) -> tuple[RepoCluster | None, list[Problem]]:
    problems: list[Problem] = []
    name, provider = data.get("name"), data.get("provider")
    if not isinstance(name, str) or not isinstance(provider, str):
        return None, [Problem(file, "a cluster needs a name and a provider")]
    if name != folder.name:
        problems.append(Problem(f"{file}: name", f"'{name}' is not the folder's name ({folder.name})"))

    def named(kind: str, where: str, entry: Any) -> bool:
        """Whether the file ``entry`` can be used (a problem is recorded when not)."""
        if not isinstance(entry, str):
            return True
        path = folder / entry
        if not path.is_file():
            problems.append(Problem(f"{file}: {where}", f"{kind} {entry} does not exist in {rel}"))
            return False
        if is_secret_name(entry) and not has_sops_metadata(path):
            problems.append(Problem(f"{file}: {where}", f"{entry} looks like a secret but carries no sops metadata; "
                                    "encrypt it with sops before it is used (it may be a leaked plain secret)"))
            return False
        return True

    for i, entry in enumerate((data.get("support") or {}).get("helm_chart_values_files") or []):
        named("values file", f"support.helm_chart_values_files[{i}]", entry)
    section = data.get(provider)
    access: dict[str, Any] = section if isinstance(section, dict) else {}
    for key in ("key", "file"):
        named("credentials file", f"{provider}.{key}", access.get(key))
    hubs: list[RepoHub] = []
    seen: set[str] = set()
    for hi, hub in enumerate(data.get("hubs") or []):
        # The schema's `items: [...]` (a list) checks only the first hub; every hub is checked here.
        lacking = [k for k in _HUB_NEEDS if not isinstance(hub, dict) or not hub.get(k)]
        if lacking:
            problems.append(Problem(f"{file}: hubs[{hi}]", f"a hub needs {', '.join(lacking)}"))
            continue
        hub_name = str(hub["name"])
        if hub_name in seen:
            problems.append(Problem(f"{file}: hubs[{hi}].name", f"a second hub named {hub_name} in this cluster"))
            continue
        seen.add(hub_name)
        values = []
        usable = True
        for vi, entry in enumerate(hub.get("helm_chart_values_files") or []):
            usable &= named("values file", f"hubs[{hi}].helm_chart_values_files[{vi}]", entry)
            values.append(f"{rel}/{entry}")
        override = hub.get("domain_override_file")
        usable &= named("domain override file", f"hubs[{hi}].domain_override_file", override)
        if not usable:  # a missing file or a plain secret: the hub is left out (reported above), never deployed
            continue
        chart = str(hub["helm_chart"])
        chart_path = _chart_path(hub.get("chart_override"), rel, chart, charts_dir)
        expected = str((hub.get("uptime_check") or {}).get("expected_status") or "")
        if expected and not (expected.isdigit() and 100 <= int(expected) <= 599):
            problems.append(Problem(f"{file}: hubs[{hi}].uptime_check.expected_status",
                                    f"'{expected[:20]}' is not an HTTP status"))
            continue
        hubs.append(RepoHub(name=hub_name, domain=str(hub["domain"]), chart=chart, values=tuple(values),
                            display_name=str(hub.get("display_name", "")), chart_path=chart_path,
                            domain_override=f"{rel}/{override}" if isinstance(override, str) else None,
                            expected_status=int(expected) if expected else None))
    return RepoCluster(name=name, folder=rel, provider=provider, access=access, hubs=tuple(hubs)), problems


def _chart_path(override: Any, folder: str, chart: str, charts_dir: str) -> str:
    """The hub's chart folder relative to the repository: ``chart_override`` is a path from the
    repository's root when it has a slash, else a folder beside cluster.yaml (as the deployer reads
    it); without it, the named chart under the charts folder."""
    if isinstance(override, str) and override:
        return override.strip("/") if "/" in override else f"{folder}/{override}"
    return f"{charts_dir}/{chart}"
