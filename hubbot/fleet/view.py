"""The validated fleet as the rest of hubbot reads it: :class:`Fleet` with its lookups by hub,
community, channel and provider, :class:`HubRef` for a hub on its cluster, and :func:`did_you_mean`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from hubbot.errors import NotFound, UserError
from hubbot.fleet.config import ChartConfig, CommunityConfig, FleetConfig, HubConfig


@dataclass(frozen=True, slots=True)
class HubRef:
    """A hub with the cluster and provider it runs on."""

    cluster: str
    provider: str
    hub: HubConfig

    chart: ChartConfig | None = None

    @property
    def qualified(self) -> str:
        return f"{self.cluster}/{self.hub.name}"

    @property
    def title(self) -> str:
        return self.hub.display_name or self.qualified


def did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" — did you mean '{close[0]}'?" if close else ""


class Fleet:
    """A validated fleet with lookups. Immutable after construction."""

    def __init__(self, config: FleetConfig, *, source: str = "<memory>", commit: str | None = None,
                 problems: tuple[str, ...] = ()) -> None:
        self.config = config
        self.source = source
        # with a fleet repository: the commit its clusters and hubs were read at, and what was wrong
        # in it (a broken cluster is left out and listed here; the rest works)
        self.commit = commit
        self.problems = problems
        self.communities = {c.name: c for c in config.communities}
        self.hubs = [
            HubRef(cluster=cl.name, provider=cl.provider, hub=h, chart=h.chart or cl.chart)
            for cl in config.clusters for h in cl.hubs
        ]
        self.clusters = {cl.name: cl for cl in config.clusters}
        self.base = Path(source).parent if source != "<memory>" else Path.cwd()
        self._by_channel = {c.channel: c for c in config.communities if c.channel}
        self._providers: dict[str, list[str]] = {}
        self._kinds: dict[str, frozenset[str]] = {}
        for ref in self.hubs:
            if ref.hub.community is None:
                continue
            names = self._providers.setdefault(ref.hub.community, [])
            if ref.provider not in names:
                names.append(ref.provider)
        # principal (user or user-group ID) -> (leads, belongs to): role lookups on every request
        self.engineers = frozenset(config.roles.engineers)
        self.leads: dict[str, frozenset[str]] = {}
        self.belongs: dict[str, frozenset[str]] = {}
        for c in config.communities:
            for p in c.leaders:
                self.leads[p] = self.leads.get(p, frozenset()) | {c.name}
            for p in (*c.leaders, *c.members):
                self.belongs[p] = self.belongs.get(p, frozenset()) | {c.name}

    def community(self, name: str) -> CommunityConfig:
        found = self.communities.get(name)
        if found is None:
            raise NotFound(f"unknown community '{name}'{did_you_mean(name, list(self.communities))}")
        return found

    def community_for_channel(self, channel_id: str) -> CommunityConfig | None:
        return self._by_channel.get(channel_id)

    def owner_of(self, provider: str) -> str | None:
        """The community that owns every hub on ``provider``, if exactly one does."""
        communities = {h.hub.community for h in self.hubs if h.provider == provider}
        return communities.pop() if len(communities) == 1 else None

    def provider_kinds(self, community: str) -> frozenset[str]:
        """The kinds (aws, gcp, openstack, csv) of the providers a community's hubs run on."""
        found = self._kinds.get(community)
        if found is None:
            providers = self.config.providers
            found = frozenset(providers[p].kind for p in self._providers.get(community, []) if p in providers)
            self._kinds[community] = found
        return found

    def providers_of(self, community: str) -> list[str]:
        """The providers a community's hubs run on, sorted."""
        return sorted(self._providers.get(community, []))

    def hub(self, ref: str) -> HubRef:
        """Find a hub by ``cluster/hub``, or by ``hub`` alone when that name is unique."""
        if "/" in ref:
            matches = [h for h in self.hubs if h.qualified == ref]
        else:
            matches = [h for h in self.hubs if h.hub.name == ref]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            options = ", ".join(h.qualified for h in matches)
            raise UserError(f"'{ref}' names several hubs ({options}); say which with cluster/hub")
        names = sorted({h.hub.name for h in self.hubs} | {h.qualified for h in self.hubs})
        raise NotFound(f"unknown hub '{ref}'{did_you_mean(ref, names)}")
