"""The fleet of a repository read at one commit, joined with hubbot's own file.

The repository says which clusters and hubs exist, how to reach each cluster, which chart and
values files each hub deploys, and where a cluster's costs are kept (its AWS account, or its GCP
project's BigQuery billing export). hubbot's file says the rest: communities and the hubs each
owns (``hubs: [cluster/hub]``), roles, budgets, support, and per cluster or hub what
``cluster.yaml`` cannot say (``repository.clusters`` / ``repository.hubs``). A cluster the
repository or hubbot's file gets wrong is left out and reported; the rest of the fleet works."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hubbot.fleet.config import (
    AwsProvider,
    ChartConfig,
    ClusterConfig,
    EksAccess,
    FleetConfig,
    GcpProvider,
    GkeAccess,
    HubConfig,
    KubeAccess,
    KubeconfigAccess,
    Provider,
    RepoClusterSettings,
    RepoHubSettings,
    RepositoryConfig,
    UnbilledProvider,
)
from hubbot.fleet.load import FleetError, Problem, cross_check
from hubbot.fleet.repository import RepoCluster, RepoHub, Repository, has_sops_metadata, load_file, read
from hubbot.fleet.view import Fleet, did_you_mean

STAGING_PREFIXES = ("staging", "dev", "test")


def fleet_at(config: FleetConfig, root: Path, *, commit: str, source: str) -> Fleet:
    """The fleet of hubbot's file ``config`` with the repository checked out at ``root`` (the tree
    of ``commit``). Problems in the repository leave the broken cluster out; problems in hubbot's
    own file (which the whole fleet depends on) raise :class:`FleetError` as for a plain file."""
    settings = config.repository or RepositoryConfig(url=str(root))
    repo = read(root, clusters_dir=settings.clusters_dir, schema_file=settings.schema_file,
                charts_dir=settings.charts_dir)
    composed, problems = compose(config, repo)
    own = cross_check(composed)
    if own:
        raise FleetError(source, own)
    return Fleet(composed, source=source, commit=commit, problems=tuple(str(p) for p in problems))


def compose(config: FleetConfig, repo: Repository) -> tuple[FleetConfig, list[Problem]]:
    """``config`` with the repository's providers and clusters added; every problem found (the
    repository's own, and hubbot's file's references into it), each with its file and path."""
    settings = config.repository or RepositoryConfig(url=str(repo.root))
    problems = list(repo.problems)
    qualified = [f"{c.name}/{h.name}" for c in repo.clusters for h in c.hubs]
    owners = _owners(config, qualified, problems)
    problems += _unknown_keys(settings, repo, qualified)
    providers: dict[str, Provider] = dict(config.providers)
    clusters = list(config.clusters)
    for cluster in repo.clusters:
        mine = settings.clusters.get(cluster.name, RepoClusterSettings())
        where = f"{cluster.folder}/cluster.yaml"
        provider = mine.provider or cluster.name
        if mine.provider is not None and mine.provider not in config.providers:
            hint = did_you_mean(mine.provider, list(providers))
            problems.append(Problem(f"repository.clusters.{cluster.name}.provider",
                                    f"unknown provider '{mine.provider}'{hint}"))
            continue
        if provider not in config.providers:
            providers[provider] = _provider(cluster, mine)
        hubs = []
        for hi, hub in enumerate(cluster.hubs):
            name = f"{cluster.name}/{hub.name}"
            try:
                hubs.append(_hub(repo.root, hub, settings.hubs.get(name, RepoHubSettings()), owners.get(name)))
            except ValidationError as exc:
                first = exc.errors(include_url=False)[0]
                field = ".".join(str(p) for p in first["loc"])
                problems.append(Problem(f"{where}: hubs[{hi}]", f"{field}: {first['msg']}"))
        try:
            clusters.append(ClusterConfig(name=cluster.name, provider=provider, hubs=hubs,
                                          kubernetes=mine.kubernetes or _access(repo.root, cluster),
                                          prometheus=mine.prometheus))
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            problems.append(Problem(f"{where}: name", str(first["msg"])))
    return config.model_copy(update={"providers": providers, "clusters": clusters}), problems


def _owners(config: FleetConfig, known: list[str], problems: list[Problem]) -> dict[str, str]:
    owners: dict[str, str] = {}
    for ci, community in enumerate(config.communities):
        for hi, name in enumerate(community.hubs):
            if name not in known:
                problems.append(Problem(f"communities[{ci}].hubs[{hi}]",
                                        f"no hub {name} in the repository{did_you_mean(name, known)}"))
            elif name in owners and owners[name] != community.name:
                problems.append(Problem(f"communities[{ci}].hubs[{hi}]",
                                        f"{name} already belongs to community {owners[name]}"))
            else:
                owners[name] = community.name
    return owners


def _unknown_keys(settings: RepositoryConfig, repo: Repository, hubs: list[str]) -> list[Problem]:
    clusters = [c.name for c in repo.clusters]
    found = [Problem(f"repository.clusters.{name}",
                     f"no cluster {name} in the repository{did_you_mean(name, clusters)}")
             for name in settings.clusters if name not in clusters]
    found += [Problem(f"repository.hubs.{name}", f"no hub {name} in the repository{did_you_mean(name, hubs)}")
              for name in settings.hubs if name not in hubs]
    return found


def _provider(cluster: RepoCluster, mine: RepoClusterSettings) -> Provider:
    """Where the cluster's costs are, as its cluster.yaml says: the AWS account (Cost Explorer), the
    GCP project with its BigQuery billing export; else nowhere hubbot can read."""
    access = cluster.access
    if cluster.provider == "aws":
        return AwsProvider(kind="aws", account_id=f"{int(access['account']):012d}", region=str(access["region"]))
    if cluster.provider == "gcp":
        bigquery = (access.get("billing") or {}).get("bigquery") or {}
        account = str(bigquery["billing_id"]) if bigquery else None
        table = mine.billing_export_table
        if table is None and account is not None:
            # the standard usage cost export's table, named after the billing account (dashes -> underscores)
            table = f"{bigquery['project']}.{bigquery['dataset']}.gcp_billing_export_v1_{account.replace('-', '_')}"
        return GcpProvider(kind="gcp", project=str(access["project"]), billing_account=account,
                           billing_export_table=table)
    note = ("an Azure subscription" if cluster.provider == "azure"
            else "a cluster reached by kubeconfig: name its provider in repository.clusters")
    return UnbilledProvider(kind="none", note=note)


def _access(root: Path, cluster: RepoCluster) -> KubeAccess | None:
    """How to reach the cluster as cluster.yaml says (hubbot's own cloud credentials for EKS and
    GKE; the repository's kubeconfig file, decrypted when sops-encrypted). None for Azure (AKS
    access is not built in: give repository.clusters.<name>.kubernetes)."""
    access = cluster.access
    if cluster.provider == "aws":
        return EksAccess(kind="eks", cluster_name=str(access["clusterName"]), region=str(access["region"]))
    if cluster.provider == "gcp":
        return GkeAccess(kind="gke", project=str(access["project"]), location=str(access["zone"]),
                         cluster_name=str(access["cluster"]))
    if cluster.provider == "kubeconfig" and isinstance(access.get("file"), str):
        return KubeconfigAccess(kind="kubeconfig", path=str(root / cluster.folder / access["file"]))
    return None


def _hub(root: Path, hub: RepoHub, mine: RepoHubSettings, community: str | None) -> HubConfig:
    values = [str(root / v) for v in hub.values]
    tier = mine.tier or ("staging" if hub.name.startswith(STAGING_PREFIXES) else "prod")
    binder = mine.binder if mine.binder is not None else _enables_binder(values)
    domain = _domain(root, hub)
    # BinderHub runs as a JupyterHub service here (binderhub-service): the hub's own health endpoint
    health = mine.health_url or (f"https://{domain}/hub/health" if binder else None)
    return HubConfig(
        name=hub.name, display_name=hub.display_name, community=community, domain=domain, tier=tier,
        binder=binder, chart=ChartConfig(path=str(root / hub.chart_path)), values=values, health_url=health,
        health_status=hub.expected_status,
        api_url=mine.api_url, api_token=mine.api_token, backup=mine.backup)


def _domain(root: Path, hub: RepoHub) -> str:
    """The hub's domain; a plain domain override file replaces it (an encrypted one is read only
    when deploying, so hubbot links to the listed domain)."""
    if hub.domain_override is None:
        return hub.domain
    path = root / hub.domain_override
    data = load_file(path) if not has_sops_metadata(path) else None
    found = data.get("domain") if isinstance(data, Mapping) else None
    return found if isinstance(found, str) and found else hub.domain


def _enables_binder(values: list[str]) -> bool:
    """Whether the hub's plain values files turn on BinderHub's UI (basehub's
    ``jupyterhub.custom.binderhubUI.enabled``, under ``basehub:`` in daskhub); the last file that
    says wins, as in helm."""
    enabled = False
    for name in values:
        path = Path(name)
        if has_sops_metadata(path):
            continue
        data = load_file(path)
        for top in (data, data.get("basehub") if isinstance(data, Mapping) else None):
            found = _dig(top, "jupyterhub", "custom", "binderhubUI", "enabled")
            if isinstance(found, bool):
                enabled = found
    return enabled


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data
