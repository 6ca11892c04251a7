"""What a deploy would change: the rendered chart compared with the live release, object by object.

Objects are keyed ``Kind/name``. Two objects are the same when their parsed YAML is equal, so key
order, quoting, indentation and comments (helm's ``# Source:`` lines) never count as changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from hubbot.errors import UserError

# The C loader parses large releases several times faster; fall back where PyYAML lacks it.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True)
class ManifestDiff:
    """Object keys (``Kind/name``) a deploy would add, change and remove, each sorted."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    @property
    def unchanged(self) -> bool:
        """True when the deploy would change no object."""
        return not (self.added or self.changed or self.removed)

    def summary(self) -> str:
        """E.g. ``2 to add, 1 to change, 0 to remove``."""
        return f"{len(self.added)} to add, {len(self.changed)} to change, {len(self.removed)} to remove"


def parse_manifests(text: str) -> dict[str, dict[str, Any]]:
    """The objects of a multi-document manifest by ``Kind/name``.

    Empty documents are skipped and ``List`` objects contribute their items. Should two objects
    share a kind and name (in different namespaces), the later one is keyed
    ``namespace/Kind/name`` so neither is lost. Raises :class:`UserError` on invalid YAML or a
    document that is not a Kubernetes object; the message never quotes the manifest, which may
    hold secrets.
    """
    try:
        documents = list(yaml.load_all(text, Loader=_Loader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise UserError(f"The chart's manifests are not valid YAML{where}.") from None
    objects: dict[str, dict[str, Any]] = {}
    for document in documents:
        for obj in _flatten(document):
            kind, name, namespace = _identity(obj)
            key = f"{kind}/{name}"
            if key in objects:
                key = f"{namespace}/{key}"
            objects[key] = obj
    return objects


def diff_manifests(rendered: str, live: str | None) -> ManifestDiff:
    """Compare the chart as rendered now with the live release's manifests (None: no release)."""
    new = parse_manifests(rendered)
    old = parse_manifests(live) if live is not None else {}
    return ManifestDiff(
        added=tuple(sorted(new.keys() - old.keys())),
        changed=tuple(sorted(key for key in new.keys() & old.keys() if new[key] != old[key])),
        removed=tuple(sorted(old.keys() - new.keys())),
    )


def _flatten(document: object) -> list[dict[str, Any]]:
    if document is None:
        return []
    if not isinstance(document, dict):
        raise UserError("The chart's manifests contain a document that is not a Kubernetes object.")
    if str(document.get("kind", "")).endswith("List") and isinstance(document.get("items"), list):
        return [obj for item in document["items"] for obj in _flatten(item)]
    return [document]


def _identity(obj: dict[str, Any]) -> tuple[str, str, str]:
    metadata = obj.get("metadata")
    kind = obj.get("kind")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    if not isinstance(kind, str) or not kind or not isinstance(name, str) or not name:
        raise UserError("The chart's manifests contain an object without a kind or metadata.name.")
    namespace = metadata.get("namespace") if isinstance(metadata, dict) else None
    return kind, name, str(namespace or "")
