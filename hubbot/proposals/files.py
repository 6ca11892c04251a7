"""What a chat change writes into the fleet repository: hubbot's values file of a hub beside its
``cluster.yaml`` (``hubbot-<hub>.values.yaml``), listed last in the hub's
``helm_chart_values_files`` so helm applies it after the hub's own files.

``cluster.yaml`` is edited as text, one line inserted, so its comments, order and quoting stay as
the engineers wrote them; the edit is checked by reading the file back (only that list may change),
and refused with what to do by hand when the file's layout is one this edit cannot follow."""

from __future__ import annotations

import re
from typing import Any

from hubbot.errors import UserError

HEADER = ("# Kept by hubbot: limits set from Slack with /hub quota (each change is a pull request).\n"
          "# Edit it like any values file; hubbot reads it back before its next change.\n")


def overlay_name(hub: str) -> str:
    return f"hubbot-{hub}.values.yaml"


def overlay_text(values: str) -> str:
    return HEADER + values


def _load(text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        raise UserError("cluster.yaml is not valid YAML at the branch's head; fix it first") from None


def _hub_of(data: Any, hub: str) -> dict[str, Any]:
    hubs = data.get("hubs") if isinstance(data, dict) else None
    found = [h for h in hubs or [] if isinstance(h, dict) and h.get("name") == hub]
    if len(found) != 1:
        raise UserError(f"cluster.yaml lists no hub {hub} at the branch's head")
    return found[0]


def with_values_file(text: str, hub: str, name: str) -> str:
    """``text`` (a cluster.yaml) with ``name`` appended to hub ``hub``'s values files, or unchanged
    when it is listed already."""
    data = _load(text)
    entry = _hub_of(data, hub)
    files = entry.get("helm_chart_values_files")
    if not isinstance(files, list) or not files:
        raise UserError(f"hub {hub} in cluster.yaml has no helm_chart_values_files list to add {name} to")
    if name in files:
        return text
    lines = text.splitlines(keepends=True)
    at = _last_item_line(lines, hub, files)
    item = re.match(r"^(\s*-\s*)", lines[at])
    assert item is not None
    newline = "\n" if lines[at].endswith("\n") else ""
    lines[at] = lines[at] if newline else lines[at] + "\n"
    lines.insert(at + 1, f"{item.group(1)}{name}\n")
    edited = "".join(lines)
    expected = {**entry, "helm_chart_values_files": [*files, name]}
    if _hub_of(_load(edited), hub) != expected or _without(_load(edited), hub) != _without(data, hub):
        raise UserError(f"cannot add {name} to hub {hub} in cluster.yaml by hand-safe editing; add it as the last "
                        f"of the hub's helm_chart_values_files yourself")
    return edited


def _last_item_line(lines: list[str], hub: str, files: list[Any]) -> int:
    """The line of the last entry of ``hub``'s block list of values files."""
    start = next((i for i, line in enumerate(lines)
                  if re.match(rf"^\s*(-\s+)?name:\s*['\"]?{re.escape(hub)}['\"]?\s*(#.*)?$", line)), None)
    if start is None:
        raise UserError(f"cannot find hub {hub}'s entry in cluster.yaml; add the file to it yourself")
    key = next((i for i in range(start, len(lines)) if re.match(r"^\s*helm_chart_values_files:\s*(#.*)?$", lines[i])),
               None)
    if key is None:
        raise UserError(f"hub {hub}'s helm_chart_values_files in cluster.yaml is not a block list; add the file "
                        "yourself")
    last = None
    for i in range(key + 1, len(lines)):
        stripped = lines[i].strip()
        if not stripped or stripped.startswith("#"):
            continue
        if re.match(r"^\s*-\s+\S", lines[i]) and str(files[-1]) in lines[i]:
            last = i
            if stripped.lstrip("- ").strip("'\"") == str(files[-1]):
                break
        elif not re.match(r"^\s*-\s", lines[i]):
            break
    if last is None:
        raise UserError(f"cannot find the end of hub {hub}'s helm_chart_values_files in cluster.yaml; add the file "
                        "yourself")
    return last


def _without(data: Any, hub: str) -> Any:
    """Everything in the file except the hub's values list (what an edit must leave alone)."""
    copy = dict(data)
    copy["hubs"] = [({k: v for k, v in h.items() if k != "helm_chart_values_files"} if h.get("name") == hub else h)
                    for h in data.get("hubs", [])]
    return copy
