"""A hub's Helm values as Helm sees them: its values files merged in order, then hubbot's overlay.
Maps merge key by key, anything else (lists included) is replaced, and a ``null`` deletes the key
beneath it — Helm's own rules, so what hubbot reads is what the next deploy applies.

Where things live depends on the hub's chart: a basehub keeps the z2jh chart under ``jupyterhub``
and the home server under ``jupyterhub-home-nfs``; a daskhub nests both under ``basehub``
(:func:`root`)."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from hubbot.errors import UserError

Values = dict[str, Any]


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> Values:
    """``over`` applied on ``base`` as Helm applies a later values file."""
    out: Values = copy.deepcopy(dict(base))
    for key, value in over.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load(files: Iterable[Path], *, overlay: str | None = None) -> Values:
    """The values of ``files`` merged in order, then ``overlay`` (YAML text)."""
    import yaml

    merged: Values = {}
    for path in files:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UserError(f"the values file {path.name} is missing; fix the hub's values: list in the fleet "
                            "config") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            raise UserError(f"the values file {path.name} is not valid YAML{where}") from None
        if data is not None and not isinstance(data, Mapping):
            raise UserError(f"the values file {path.name} is not a map of values")
        if isinstance(data, Mapping) and isinstance(data.get("sops"), Mapping):
            continue  # a sops-encrypted file holds secrets, not limits; its values are ciphertext here
        merged = merge(merged, data or {})
    if overlay:
        merged = merge(merged, parse(overlay))
    return merged


def parse(text: str) -> Values:
    import yaml

    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise UserError("hubbot's values overlay is not a map; fix it with /hub quota reset")
    return data


def dump(values: Mapping[str, Any]) -> str:
    import yaml

    if not values:
        return ""
    header = "# Written by hubbot (/hub quota set); applied after the hub's own values files.\n"
    return header + yaml.safe_dump(dict(values), sort_keys=True, default_flow_style=False)


def root(values: Mapping[str, Any]) -> tuple[str, ...]:
    """Where the basehub chart's values start: ``("basehub",)`` for a daskhub, else ``()``."""
    return ("basehub",) if isinstance(values.get("basehub"), Mapping) else ()


def get(values: Mapping[str, Any], path: Iterable[str]) -> Any:
    node: Any = values
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def put(values: Values, path: tuple[str, ...], value: Any) -> Values:
    """A copy of ``values`` with ``value`` at ``path`` (maps made as needed)."""
    out = copy.deepcopy(values)
    node = out
    for key in path[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    node[path[-1]] = value
    return out


def drop(values: Values, path: tuple[str, ...]) -> Values:
    """A copy of ``values`` without ``path``, and without the maps that leaves empty."""
    out = copy.deepcopy(values)
    trail: list[tuple[dict[str, Any], str]] = []
    node: Any = out
    for key in path[:-1]:
        if not isinstance(node, dict) or not isinstance(node.get(key), dict):
            return out
        trail.append((node, key))
        node = node[key]
    if isinstance(node, dict):
        node.pop(path[-1], None)
    for parent, key in reversed(trail):
        if parent[key] == {}:
            del parent[key]
    return out
