"""The fleet config's schema: pydantic models for providers, clusters, hubs, communities, roles,
alerts, support and deploys. Each model forbids unknown fields and is frozen once validated.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from hubbot.fleet.base import ALLOWANCE as _ALLOWANCE
from hubbot.fleet.base import SIZE as _SIZE
from hubbot.fleet.base import Model as _Model
from hubbot.fleet.base import Name
from hubbot.fleet.menu import PlansConfig

_CHANNEL = re.compile(r"^[CGD][A-Z0-9]{2,}$")
_PRINCIPAL = re.compile(r"^[UWS][A-Z0-9]{2,}$")

CostMetric = Literal["UnblendedCost", "BlendedCost", "AmortizedCost", "NetUnblendedCost", "NetAmortizedCost"]


class AwsProvider(_Model):
    kind: Literal["aws"]
    account_id: Annotated[str, Field(pattern=r"^\d{12}$")]
    region: str = "us-east-1"
    cost_tag_key: str = Field("2i2c:hub-name", description="cost-allocation tag whose value names the hub")
    # Amortized: Savings Plan and reserved-instance fees spread over the usage they cover (with
    # UnblendedCost, covered usage nets to about $0 on the tagged lines and the fee is untagged)
    cost_metric: CostMetric = "AmortizedCost"
    endpoint_url: str | None = Field(None, description="Cost Explorer endpoint override (testing, proxies)")


class GcpProvider(_Model):
    kind: Literal["gcp"]
    project: str
    billing_account: str | None = Field(None, description="expected billing account, e.g. 0123AB-4567CD-89EF01")
    billing_export_table: str | None = Field(
        None, pattern=r"^[a-z0-9-]+\.[A-Za-z0-9_]+\.[A-Za-z0-9_]+$",
        description="BigQuery billing export table, project.dataset.table")
    hub_label: str = Field("2i2c-hub-name", description="resource label whose value names the hub")
    endpoint: str | None = Field(None, description="API endpoint override (testing, private endpoints)")


class OpenStackProvider(_Model):
    kind: Literal["openstack"]
    auth_url: str
    project: str
    region: str | None = None
    accounting_url: str | None = Field(None, description="allocation accounting API (JetStream2)")
    su_rate: Decimal | None = Field(None, gt=0, description="money per service unit, to show SUs as money")
    su_rate_currency: str = "USD"


class UnbilledProvider(_Model):
    """A cloud hubbot reads no costs from (an Azure subscription, a cluster reached by kubeconfig
    whose bills live elsewhere): its hubs are deployed and watched, with no spend figures."""

    kind: Literal["none"]
    note: str = Field("", description="where this cluster's costs are kept instead, shown with cost replies")


class CsvProvider(_Model):
    kind: Literal["csv"]
    path: str = Field(description="file of date,hub,amount,currency[,service] rows, relative to this config")
    currency: str = "USD"


Provider = Annotated[
    AwsProvider | GcpProvider | OpenStackProvider | CsvProvider | UnbilledProvider, Field(discriminator="kind")
]


class ChartConfig(_Model):
    """A Helm chart: a local ``path`` (relative to this config), or ``name`` in ``repo``."""

    path: str | None = Field(None, description="chart folder or .tgz, relative to this config")
    repo: str | None = Field(None, pattern=r"^(https?|oci)://", description="chart repository URL")
    name: str | None = Field(None, description="chart name in the repository")
    version: str | None = Field(None, description="chart version (default: the path's own, or the repo's latest)")

    @model_validator(mode="after")
    def _one_source(self) -> ChartConfig:
        if (self.path is None) == (self.name is None):
            raise ValueError("give the chart either as path, or as repo and name")
        if self.name is not None and self.repo is None:
            raise ValueError("a chart given by name needs its repo")
        return self


class BackupConfig(_Model):
    """Where a hub's home directories live, and how hubbot backs them up and judges their backups.
    Volumes are given by ID, or found by ``tags`` (default, for EBS: ``2i2c:hub-name=<hub>`` and
    ``2i2c:volume-purpose=home-nfs``; GCP labels likewise; Cinder metadata ``2i2c:hub-name=<hub>``
    alone, as 2i2c's terraform sets it on JetStream2)."""

    kind: Literal["ebs", "efs", "gcp-disk", "cinder"]
    volumes: list[str] = Field(default_factory=list, description=(
        "volume IDs (vol-…, fs-…, a GCP disk name, a Cinder volume ID); default: found by tags"))
    tags: dict[str, str] | None = Field(None, description="tags that mark the hub's home volumes")
    region: str | None = Field(None, description="AWS or OpenStack region (default: the provider's)")
    zone: str | None = Field(None, description="GCP zone of the disks")
    vault: str | None = Field(None, description="AWS Backup vault (efs)")
    role_arn: str | None = Field(None, pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$",
                                 description="IAM role AWS Backup runs the job as (efs)")
    max_age_hours: int = Field(26, ge=1, le=24 * 60, description="newest completed backup must be younger")
    manual_every_minutes: int = Field(60, ge=1, le=24 * 60, description="at most one manual backup this often")
    alert_community: bool = Field(False, description="also alert the community's channel")

    @model_validator(mode="after")
    def _efs_needs_vault(self) -> BackupConfig:
        if self.kind == "efs" and (self.vault is None or self.role_arn is None):
            raise ValueError("an efs backup needs vault and role_arn (AWS Backup runs the job in that vault as "
                             "that role)")
        return self


class HubConfig(_Model):
    name: Name
    display_name: str = ""
    community: str | None = Field(None, description="the community that owns it (none: the engineers' alone)")
    domain: str
    tier: Literal["staging", "prod"] = "staging"
    binder: bool = False
    chart: ChartConfig | None = Field(None, description="the hub's chart (default: its cluster's)")
    values: list[str] = Field(default_factory=list, description="values files in the order applied")
    secret_values: list[str] = Field(
        default_factory=list, description="values files with secrets, applied last; never shown or logged")
    health_url: str | None = Field(
        None, pattern=r"^https?://",
        description="checked after each deploy; default https://<domain>/hub/api/ (a BinderHub's: /health)")
    health_status: int | None = Field(None, ge=100, le=599, description=(
        "the HTTP status the health check expects (default: any 2xx; e.g. 401 for a hub behind basic auth)"))
    api_token: str | None = Field(
        None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        description="name of this hub's JupyterHub service token in HUBBOT_HUB_TOKENS (groups, users)")
    api_url: str | None = Field(
        None, pattern=r"^https?://", description="the hub's REST API; default https://<domain>/hub/api")
    backup: BackupConfig | None = Field(None, description="home-directory backups of this hub")

    @property
    def api(self) -> str:
        return (self.api_url or f"https://{self.domain}/hub/api").rstrip("/")

    @property
    def url(self) -> str:
        return f"https://{self.domain}/"

    @property
    def health(self) -> str:
        if self.health_url:
            return self.health_url
        return f"https://{self.domain}/health" if self.binder else f"https://{self.domain}/hub/api/"


class EksAccess(_Model):
    """An EKS cluster: endpoint and CA from the EKS API, a token signed like ``aws eks get-token``."""

    kind: Literal["eks"]
    cluster_name: str
    region: str
    endpoint_url: str | None = Field(None, description="EKS API endpoint override (testing, proxies)")
    sts_endpoint_url: str | None = Field(None, description="STS endpoint override (testing, proxies)")


class GkeAccess(_Model):
    """A GKE cluster: endpoint and CA from the GKE API, a token from Google application credentials."""

    kind: Literal["gke"]
    project: str
    location: str
    cluster_name: str
    endpoint: str | None = Field(None, description="GKE API endpoint override (testing, private endpoints)")


class KubeconfigAccess(_Model):
    """A kubeconfig file (e.g. a mounted secret), such as one for a JetStream2 Magnum cluster."""

    kind: Literal["kubeconfig"]
    path: str = Field(description="kubeconfig file, relative to this config")
    context: str | None = Field(None, description="context to use (default: the file's current-context)")


KubeAccess = Annotated[EksAccess | GkeAccess | KubeconfigAccess, Field(discriminator="kind")]


class PrometheusConfig(_Model):
    """The cluster's Prometheus, for ``/hub usage`` and ``/hub quota show`` (on 2i2c clusters, the
    support chart's ``https://prometheus.<cluster domain>``, behind basic auth)."""

    url: str = Field(pattern=r"^https?://", description="the Prometheus server's base URL")
    credential: str | None = Field(
        None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        description="name of its credential in HUBBOT_PROMETHEUS_CREDENTIALS ('user:password', or a bearer token)")
    auth: Literal["basic", "bearer"] = "basic"
    timeout: float = Field(30, gt=0, le=300, description="seconds a query may take")
    scrape_interval: int = Field(60, ge=1, le=3600, description=(
        "seconds between its scrapes of cAdvisor and kube-state-metrics (memory-hours weigh each sample by it)"))


class ClusterConfig(_Model):
    name: Name
    provider: str
    kubernetes: KubeAccess | None = Field(None, description="how hubbot reaches the cluster to deploy")
    chart: ChartConfig | None = Field(None, description="default chart of this cluster's hubs")
    prometheus: PrometheusConfig | None = Field(None, description="where usage figures come from")
    hubs: list[HubConfig] = Field(default_factory=list)


class RepoClusterSettings(_Model):
    """What hubbot needs about a repository's cluster that its ``cluster.yaml`` does not say."""

    provider: str | None = Field(None, description=(
        "a provider from `providers:` whose costs this cluster's hubs bill through (default: one built from "
        "cluster.yaml — the AWS account, or the GCP project and its BigQuery billing export)"))
    billing_export_table: str | None = Field(
        None, pattern=r"^[a-z0-9-]+\.[A-Za-z0-9_]+\.[A-Za-z0-9_]+$",
        description="the GCP billing export table, when it is not gcp_billing_export_v1_<billing_id>")
    kubernetes: KubeAccess | None = Field(None, description="how hubbot reaches the cluster, instead of cluster.yaml's")
    prometheus: PrometheusConfig | None = Field(None, description="where usage figures come from")


class RepoHubSettings(_Model):
    """What hubbot needs about a repository's hub that its cluster's ``cluster.yaml`` does not say."""

    tier: Literal["staging", "prod"] | None = Field(None, description=(
        "default: staging for a hub whose name starts with staging, dev or test; prod otherwise"))
    binder: bool | None = Field(None, description="default: whether its values enable binderhub")
    health_url: str | None = Field(None, pattern=r"^https?://")
    api_url: str | None = Field(None, pattern=r"^https?://")
    api_token: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    backup: BackupConfig | None = None


class RepositoryConfig(_Model):
    """The fleet repository engineers keep (one folder per cluster with its ``cluster.yaml``, values
    files, sops-encrypted secrets and the charts): hubbot reads providers, clusters and hubs from it."""

    url: str = Field(description="a git URL (https://, ssh://, git@host:path) or a local path relative to this file")
    branch: str = Field("main", pattern=r"^[A-Za-z0-9._/-]{1,200}$", description="the branch deploys come from")
    clusters_dir: str = Field("config/clusters", description="folder of cluster folders in the repository")
    charts_dir: str = Field("helm-charts", description="folder of the hub charts (basehub, daskhub) in the repository")
    schema_file: str | None = Field(None, description=(
        "the schema cluster.yaml files are checked against (default: the deployer's, where the layout keeps it)"))
    fetch_minutes: int = Field(10, ge=1, le=24 * 60, description="how often hubbot fetches the branch")
    changes: Literal["direct", "pull-request"] = Field("direct", description=(
        "direct: chat changes are kept by hubbot and deployed from it; pull-request: they become pull requests"))
    github: str | None = Field(None, pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$",
                               description="owner/name of the repository on GitHub (pull requests)")
    github_api_url: str = Field("https://api.github.com", pattern=r"^https?://")
    clusters: dict[str, RepoClusterSettings] = Field(default_factory=dict, description="by cluster name")
    hubs: dict[str, RepoHubSettings] = Field(default_factory=dict, description="by cluster/hub")

    @model_validator(mode="after")
    def _pull_requests_need_github(self) -> RepositoryConfig:
        if self.changes == "pull-request" and self.github is None:
            raise ValueError("changes: pull-request needs github: owner/name (where pull requests are opened)")
        return self


Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class BudgetConfig(_Model):
    """A community's budget. ``thresholds`` are percentages of the budget that alert once each
    per period; with ``forecast`` on, a forecast of 100 % or more alerts too (after day 7)."""

    amount: Decimal = Field(gt=0)
    currency: str = Field("USD", pattern=r"^([A-Z]{3}|SU)$", description="ISO 4217 code, or SU (service units)")
    period: Literal["monthly", "quarterly", "allocation"] = "monthly"
    thresholds: list[int] = Field(default_factory=lambda: [50, 75, 90, 100, 120])
    forecast: bool = True
    timezone: str = "UTC"

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, value: list[int]) -> list[int]:
        if not value:
            raise ValueError("give at least one threshold")
        if any(t < 1 or t > 1000 for t in value):
            raise ValueError("thresholds are percentages between 1 and 1000")
        if value != sorted(set(value)):
            raise ValueError("thresholds must be increasing, without repeats (like [50, 75, 90, 100])")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name like Europe/Berlin)") from None
        return value


class DigestConfig(_Model):
    day: Weekday = "monday"
    hour: int = Field(9, ge=0, le=23)


class DocsConfig(_Model):
    """A documentation tree hubbot answers from, and where it is published: a local ``path``, or the
    ``subdir`` of a git ``repo`` at ``branch`` (fetched every ``fetch_minutes``, when questions come).

    ``pages`` and ``anchors`` say how the site builder names a page's URL and its headings' ids:
    Sphinx with MyST-Parser (``paths``: the file's path with ``page_suffix``; GitHub-style heading
    slugs), or the MyST engine of Jupyter Book 2 (``mystmd``: clean URLs from file names, its own
    heading ids)."""

    path: str | None = Field(None, description=(
        "folder of Markdown/MyST and reStructuredText pages, relative to this config"))
    repo: str | None = Field(None, pattern=r"^([a-z+]+://|[^/@\s]+@[^/:\s]+:|[^-\s])", description=(
        "a git repository holding the pages (https://, ssh://, git@host:path, or a local path relative to this "
        "config), instead of path"))
    branch: str = Field("main", pattern=r"^[A-Za-z0-9_.][A-Za-z0-9_./-]{0,199}$", description="the repo's branch")
    subdir: str = Field("", max_length=300, description="the pages' folder inside the repo (default: all of it)")
    fetch_minutes: int = Field(10, ge=1, le=24 * 60, description="fetch the repo at most this often")
    base_url: str = Field(pattern=r"^https?://", description="where the tree is published, e.g. https://docs.example.org")
    page_suffix: str = Field(".html", description="what a page's .md/.rst becomes in its URL ('.html', '/' or '')")
    pages: Literal["paths", "mystmd"] = Field("paths", description=(
        "page URLs: paths (the file's path + page_suffix, as Sphinx) or mystmd (Jupyter Book 2 / MyST sites: "
        "the file name made a slug, no suffix)"))
    folders: bool = Field(False, description="mystmd pages keep their folders in URLs (the site's options.folders)")
    anchors: Literal["myst-parser", "mystmd"] = Field("myst-parser", description=(
        "heading ids in citation links: myst-parser (GitHub's slug rule, as MyST-Parser/Sphinx) or mystmd "
        "(Jupyter Book 2 / MyST sites)"))

    @field_validator("subdir")
    @classmethod
    def _subdir(cls, value: str) -> str:
        clean = value.strip().strip("/")
        if clean.startswith("~") or ".." in clean.split("/") or "\\" in clean or clean.startswith("-"):
            raise ValueError(f"subdir {value!r} must be a folder inside the repository (like docs)")
        return clean

    @model_validator(mode="after")
    def _one_source(self) -> DocsConfig:
        if (self.path is None) == (self.repo is None):
            raise ValueError("give the docs either as path (a folder) or as repo (a git repository), not both")
        if self.path is not None:
            given = self.model_fields_set & {"branch", "subdir", "fetch_minutes"}
            if given:
                raise ValueError(f"{', '.join(sorted(given))} only apply to docs from a repo (these come from path)")
        if self.pages == "mystmd" and "page_suffix" in self.model_fields_set:
            raise ValueError("page_suffix does not apply with pages: mystmd (a MyST site's pages have clean URLs)")
        if self.folders and self.pages != "mystmd":
            raise ValueError("folders applies to pages: mystmd only")
        return self


class FreshdeskConfig(_Model):
    """Open a Freshdesk ticket for each escalated question (API key in HUBBOT_FRESHDESK_API_KEY)."""

    domain: str = Field(pattern=r"^[a-z0-9-]+\.freshdesk\.com$", description="e.g. example.freshdesk.com")
    email: str = Field("support@example.org", description="requester address for tickets hubbot opens")
    api_url: str | None = Field(None, description="API base URL override (testing, proxies)")


class SupportConfig(_Model):
    """Support answers: the docs to answer from, and where questions go when hubbot is unsure."""

    docs: list[DocsConfig] = Field(default_factory=list)
    faq: list[str] = Field(default_factory=list, description=(
        "curated FAQ files (YAML list of questions, answer, links), relative to this config; an entry at least "
        "as sure as the docs answers instead of them"))
    channel: str | None = Field(None, description="support team channel: unsure questions are escalated here")
    answer_unprompted: list[str] = Field(
        default_factory=list, description="channels where questions are answered without a mention (high confidence)")
    freshdesk: FreshdeskConfig | None = None

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        return CommunityConfig._channel_id(value)




class QuotaCeilings(_Model):
    """How far a community's leaders may raise their hubs' limits themselves (engineers may go
    anywhere). A limit without a ceiling here is the engineers' to set."""

    storage: str | None = Field(None, pattern=_SIZE, description="largest home-directory quota, e.g. 50GiB")
    cpu_hours: str | None = Field(None, pattern=_ALLOWANCE,
                                  description="most CPU-hours a group may get per window, e.g. 1000/30d")
    memory_hours: str | None = Field(None, pattern=_ALLOWANCE,
                                     description="most memory GiB-hours a group may get per window, e.g. 4000/30d")
    namespace: dict[str, str | int] = Field(default_factory=dict, description=(
        "largest namespace ResourceQuota values, by the word /hub quota set takes: {cpu: 64, memory: 256GiB}"))


class CommunityConfig(_Model):
    name: Name
    display_name: str = ""
    channel: str | None = None
    leaders: list[str] = Field(default_factory=list)
    members: list[str] = Field(default_factory=list)
    budget: BudgetConfig | None = None
    digest: DigestConfig | None = Field(None, description="weekly cost digest in the channel (off if absent)")
    support: SupportConfig | None = Field(None, description="this community's own docs and support channel")
    quota_ceilings: QuotaCeilings | None = Field(None, description="how far leaders may set their hubs' limits")
    hubs: list[str] = Field(default_factory=list, description=(
        "the community's hubs as cluster/hub (with a fleet repository; a hub's own community: field also works)"))

    @field_validator("channel")
    @classmethod
    def _channel_id(cls, value: str | None) -> str | None:
        if value is not None and not _CHANNEL.match(value):
            raise ValueError(f"{value!r} is not a Slack channel ID (like C0123456789)")
        return value

    @field_validator("leaders", "members")
    @classmethod
    def _principals(cls, value: list[str]) -> list[str]:
        for item in value:
            if not _PRINCIPAL.match(item):
                raise ValueError(f"{item!r} is not a Slack user or user-group ID (like U0123456789)")
        return value

    @property
    def title(self) -> str:
        return self.display_name or self.name


class RolesConfig(_Model):
    engineers: list[str] = Field(default_factory=list)

    @field_validator("engineers")
    @classmethod
    def _principals(cls, value: list[str]) -> list[str]:
        return CommunityConfig._principals(value)


class AlertsConfig(_Model):
    engineers_channel: str | None = Field(None, description="copy of every alert, and delivery failures")
    refresh_hours: int = Field(6, ge=1, le=24, description="how often costs are fetched and evaluated")
    spike_factor: Decimal = Field(Decimal(3), gt=1, description="a day above factor × recent median is a spike")
    spike_minimum: Decimal = Field(Decimal(10), ge=0, description="ignore spikes smaller than this amount")

    @field_validator("engineers_channel")
    @classmethod
    def _channel_id(cls, value: str | None) -> str | None:
        return CommunityConfig._channel_id(value)


class DeploysConfig(_Model):
    """How deploys run. Times are seconds."""

    concurrency: int = Field(4, ge=1, le=50, description="hubs deployed at once by deploy --all")
    helm_timeout: int = Field(600, ge=1, le=7200, description="helm is killed after this long")
    rollout_timeout: int = Field(600, ge=1, le=7200, description="how long workloads may take to become ready")
    health_timeout: int = Field(10, ge=1, le=120, description="how long the health check may take")
    poll_seconds: float = Field(5, gt=0, le=60, description="how often the rollout is checked")


class FleetConfig(_Model):
    """The whole fleet. See ``examples/fleet.yaml`` for an annotated example."""

    providers: dict[str, Provider] = Field(default_factory=dict)
    clusters: list[ClusterConfig] = Field(default_factory=list)
    communities: list[CommunityConfig] = Field(default_factory=list)
    roles: RolesConfig = Field(default_factory=RolesConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    support: SupportConfig = Field(default_factory=SupportConfig)
    deploys: DeploysConfig = Field(default_factory=DeploysConfig)
    plans: PlansConfig | None = Field(None, description="the service menu, for /hub plans, estimate and request")
    repository: RepositoryConfig | None = Field(None, description=(
        "read providers, clusters and hubs from a fleet repository (then leave clusters: out)"))
