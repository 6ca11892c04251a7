"""The fleet config: providers, clusters, hubs, communities and roles, loaded from one YAML file.

Public surface (import these from ``hubbot.fleet``):

- loading: :func:`load_fleet` (a YAML file), :func:`parse_fleet` (already-loaded data),
  :func:`cross_check`, :func:`json_schema`, and :class:`FleetError` listing every
  :class:`Problem` with its path in the file (:mod:`hubbot.fleet.load`);
- the validated fleet: :class:`Fleet` with its lookups, :class:`HubRef` and :func:`did_you_mean`
  (:mod:`hubbot.fleet.view`);
- the schema: :class:`FleetConfig` and the models it is made of, such as :class:`HubConfig`,
  :class:`ClusterConfig`, :class:`CommunityConfig`, the providers (:class:`AwsProvider`,
  :class:`GcpProvider`, :class:`OpenStackProvider`, :class:`CsvProvider`) and the cluster
  access kinds (:class:`EksAccess`, :class:`GkeAccess`, :class:`KubeconfigAccess`)
  (:mod:`hubbot.fleet.config`).
"""

from __future__ import annotations

from hubbot.fleet.base import Name
from hubbot.fleet.config import (
    AlertsConfig,
    AwsProvider,
    BackupConfig,
    BudgetConfig,
    ChartConfig,
    ClusterConfig,
    CommunityConfig,
    CostMetric,
    CsvProvider,
    DeploysConfig,
    DigestConfig,
    DocsConfig,
    EksAccess,
    FleetConfig,
    FreshdeskConfig,
    GcpProvider,
    GkeAccess,
    HubConfig,
    KubeAccess,
    KubeconfigAccess,
    OpenStackProvider,
    PrometheusConfig,
    Provider,
    QuotaCeilings,
    RepoClusterSettings,
    RepoHubSettings,
    RepositoryConfig,
    RolesConfig,
    SupportConfig,
    UnbilledProvider,
    Weekday,
)
from hubbot.fleet.load import FleetError, Problem, cross_check, json_schema, load_fleet, parse_fleet
from hubbot.fleet.menu import EstimateConfig, PlansConfig, ServerSize, TierConfig, TierIncludes, UserBand
from hubbot.fleet.view import Fleet, HubRef, did_you_mean

__all__ = [
    "AlertsConfig",
    "AwsProvider",
    "BackupConfig",
    "BudgetConfig",
    "ChartConfig",
    "ClusterConfig",
    "CommunityConfig",
    "CostMetric",
    "CsvProvider",
    "DeploysConfig",
    "DigestConfig",
    "DocsConfig",
    "EksAccess",
    "EstimateConfig",
    "Fleet",
    "FleetConfig",
    "FleetError",
    "FreshdeskConfig",
    "GcpProvider",
    "GkeAccess",
    "HubConfig",
    "HubRef",
    "KubeAccess",
    "KubeconfigAccess",
    "Name",
    "OpenStackProvider",
    "PlansConfig",
    "Problem",
    "PrometheusConfig",
    "Provider",
    "QuotaCeilings",
    "RepoClusterSettings",
    "RepoHubSettings",
    "RepositoryConfig",
    "RolesConfig",
    "ServerSize",
    "SupportConfig",
    "TierConfig",
    "TierIncludes",
    "UnbilledProvider",
    "UserBand",
    "Weekday",
    "cross_check",
    "did_you_mean",
    "json_schema",
    "load_fleet",
    "parse_fleet",
]
