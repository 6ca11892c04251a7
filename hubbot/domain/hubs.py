"""What a hub's own API says about its users and groups."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class HubGroup:
    """A JupyterHub group and its members (sorted)."""

    name: str
    users: tuple[str, ...] = ()
