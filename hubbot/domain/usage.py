"""What a hub's API and its cluster's Prometheus say about who uses the hub, and how much; and
the limits in force on it."""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class HubUser:
    """A JupyterHub user as the REST API lists them: groups sorted; ``last_activity`` is None for
    a user who never used the hub; ``server`` says whether a server is running (or starting)."""

    name: str
    groups: tuple[str, ...] = ()
    last_activity: datetime | None = None
    server: bool = False


@dataclass(frozen=True, slots=True)
class ComputeUse:
    """One user's compute over a window: CPU core-seconds and memory byte-seconds, as used
    (cAdvisor) or as requested (what jupyterhub-usage-quotas counts)."""

    cpu_seconds: float = 0.0
    memory_byte_seconds: float = 0.0

    @property
    def cpu_hours(self) -> float:
        return self.cpu_seconds / 3600

    @property
    def memory_gib_hours(self) -> float:
        return self.memory_byte_seconds / 3600 / 1024**3


@dataclass(frozen=True, slots=True)
class HomeUse:
    """One home directory on the hub's home server: bytes used, and its hard limit where the quota
    enforcer publishes one. ``directory`` is the folder name (the escaped user name)."""

    directory: str
    used: int
    limit: int | None = None


@dataclass(frozen=True, slots=True)
class DailyActive:
    """Users active on a day, as JupyterHub's ``jupyterhub_active_users{period="24h"}`` said at its end."""

    day: date
    users: int


@dataclass(frozen=True, slots=True)
class NamespaceQuota:
    """A Kubernetes ResourceQuota: its hard limits and what the namespace uses of them, as the API
    writes quantities (``64``, ``500m``, ``256Gi``)."""

    name: str
    hard: Mapping[str, str] = field(default_factory=dict)
    used: Mapping[str, str] = field(default_factory=dict)
    managed: bool = False  # labelled as hubbot's own


@dataclass(frozen=True, slots=True)
class Overlay:
    """hubbot's own values file for a hub (YAML), applied after the hub's values files by the next
    deploy. ``revision`` counts its changes, so two concurrent edits cannot lose one another."""

    hub: str
    values: str
    revision: int
    updated_by: str
    updated_at: datetime


_SAFE = frozenset(string.ascii_lowercase + string.digits)


def home_folder(name: str) -> str:
    """The home directory of JupyterHub user ``name`` on a z2jh hub: KubeSpawner's legacy escaping
    (``{escaped_username}``, the home ``subPath`` whatever ``slug_scheme`` is), which keeps
    lower-case letters and digits, writes every other byte of the UTF-8 name as ``-`` and two hex
    digits, and lower-cases the whole: ``user@x.com`` → ``user-40x-2ecom``."""
    out = []
    for char in name:
        if char in _SAFE:
            out.append(char)
        else:
            out.extend(f"-{byte:02X}" for byte in char.encode("utf-8"))
    return "".join(out).lower()
