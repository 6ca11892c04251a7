"""Which adapter serves each thing the fleet config names: a cost source per provider that can
report costs, GCP budget mirrors and billing checks, docs collections, ticket desks, and the
helm/cluster/health ports for deploys. The SDK behind each adapter loads only when it is used."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import shutil
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from socket import gethostname
from typing import TYPE_CHECKING

from hubbot.fleet import AwsProvider, CsvProvider, DocsConfig, Fleet, GcpProvider, OpenStackProvider
from hubbot.ports import (
    BackupSource,
    BillingCheck,
    BudgetMirror,
    BudgetPush,
    Clock,
    CostSource,
    DeployPorts,
    HubApi,
    JobStore,
    Knowledge,
    NamespaceQuotas,
    PriceSource,
    PullRequests,
    Ticketing,
    UsageMetrics,
)
from hubbot.redact import Redactor
from hubbot.settings import Settings

if TYPE_CHECKING:
    from hubbot.adapters.docs import DocsSource
    from hubbot.adapters.sops import SopsCli

log = logging.getLogger("hubbot")


@dataclass(frozen=True)
class Providers:
    sources: dict[str, CostSource]
    mirrors: dict[str, BudgetMirror]
    billing: dict[str, BillingCheck]


def cost_providers(fleet: Fleet, settings: Settings, *, clock: Clock | None = None) -> Providers:
    """One cost source per provider that can report costs; GCP budget mirrors and billing checks.
    ``clock`` dates what sources read themselves (JetStream2 readings' ``as_of``)."""
    sources: dict[str, CostSource] = {}
    mirrors: dict[str, BudgetMirror] = {}
    billing: dict[str, BillingCheck] = {}
    base = fleet.base
    for name, provider in fleet.config.providers.items():
        if isinstance(provider, CsvProvider):
            from hubbot.adapters.csv_costs import CsvCostSource

            sources[name] = CsvCostSource(base / provider.path, currency=provider.currency)
        elif isinstance(provider, AwsProvider):
            from hubbot.adapters.aws import AwsCostSource

            sources[name] = AwsCostSource(provider=provider)
        elif isinstance(provider, GcpProvider) and (provider.billing_export_table or provider.billing_account):
            from hubbot.adapters.gcp.billing import GcpBilling
            from hubbot.adapters.gcp.budgets import GcpBudgets
            from hubbot.adapters.gcp.costs import BigQueryCostSource

            if provider.billing_export_table:
                sources[name] = BigQueryCostSource(provider)
            if provider.billing_account:
                mirrors[name] = GcpBudgets(provider, name=name, fleet=fleet)
                billing[name] = GcpBilling(provider)
        elif isinstance(provider, OpenStackProvider) and provider.accounting_url:
            from hubbot.adapters.jetstream2 import Jetstream2CostSource

            credential = settings.openstack.get(name)
            if credential is None:
                log.warning("provider %s: set HUBBOT_OPENSTACK with its application credential to read usage", name)
                continue
            sources[name] = Jetstream2CostSource(provider, application_credential_id=credential.id,
                                                 application_credential_secret=credential.secret, clock=clock)
    return Providers(sources, mirrors, billing)


def budget_push(settings: Settings) -> BudgetPush | None:
    """GCP budget notifications pushed by Pub/Sub, when HUBBOT_GCP_PUSH_AUDIENCE is set."""
    if not settings.gcp_push_audience:
        return None
    from hubbot.adapters.gcp.push import GcpBudgetPush

    return GcpBudgetPush(settings.gcp_push_audience, certs_url=settings.gcp_certs_url,
                         issuer_emails=tuple(settings.gcp_push_service_accounts))


DOCS_CACHE = Path.home() / ".cache" / "hubbot" / "docs"


def docs_source(base: Path, conf: DocsConfig, *, cache: Path | None = None) -> Path | DocsSource:
    """A docs tree's folder (``path``, relative to the fleet file), or its git repository read through a
    clone in ``cache`` (``HUBBOT_DOCS_CACHE``; one clone per URL, shared by every branch asked for)."""
    from hubbot.adapters.docs_sources import RepoDocs
    from hubbot.adapters.git import GitMirror

    if conf.path is not None:
        return base / conf.path
    assert conf.repo is not None
    url = conf.repo
    if not re.match(r"^([a-z+]+://|[^/]+@[^/:]+:)", url):
        url = str((base / url).resolve())
    key = hashlib.sha256(url.encode()).hexdigest()[:16]
    mirror = GitMirror(url, cache=(cache or DOCS_CACHE) / key, branch=conf.branch, what="the docs repository",
                       setting="the docs' repo")
    return RepoDocs(mirror, subdir=conf.subdir, every=conf.fetch_minutes * 60)


def knowledge_for(fleet: Fleet, *, cache: Path | None = None) -> dict[str, Knowledge]:
    """Docs collections for support answers: the fleet-wide one ("") and each community's own.
    ``cache`` holds the clones of docs kept in git repositories."""
    from hubbot.adapters.docs import LazyKnowledge

    base = fleet.base
    out: dict[str, Knowledge] = {}
    fleetwide = fleet.config.support
    if fleetwide.docs or fleetwide.faq:
        out[""] = LazyKnowledge([(docs_source(base, d, cache=cache), d) for d in fleetwide.docs],
                                [base / f for f in fleetwide.faq])
    for c in fleet.config.communities:
        if c.support and (c.support.docs or c.support.faq):
            out[c.name] = LazyKnowledge([(docs_source(base, d, cache=cache), d) for d in c.support.docs],
                                        [base / f for f in c.support.faq])
    return out


def tickets_for(fleet: Fleet, settings: Settings) -> dict[str, Ticketing]:
    """Freshdesk desks for escalated questions, fleet-wide ("") and per community."""
    from hubbot.adapters.freshdesk import FreshdeskTickets

    confs = {"": fleet.config.support.freshdesk}
    confs.update({c.name: c.support.freshdesk for c in fleet.config.communities if c.support})
    wanted = {name: conf for name, conf in confs.items() if conf is not None}
    key = settings.freshdesk_api_key
    if not wanted:
        return {}
    if key is None:
        log.warning("Freshdesk is configured but HUBBOT_FRESHDESK_API_KEY is not set: no tickets will be opened")
        return {}
    return {name: FreshdeskTickets(conf, api_key=key) for name, conf in wanted.items()}


def hub_apis(fleet: Fleet, settings: Settings) -> dict[str, HubApi]:
    """Each hub whose ``api_token`` names a token in ``HUBBOT_HUB_TOKENS``: its JupyterHub API."""
    from hubbot.adapters.jupyterhub import JupyterHubApi

    out: dict[str, HubApi] = {}
    for ref in fleet.hubs:
        token = settings.hub_tokens.get(ref.hub.api_token) if ref.hub.api_token else None
        if token is not None:
            out[ref.qualified] = JupyterHubApi(ref.hub.api, token.get_secret_value(), hub=ref.qualified)
    return out


@dataclass(frozen=True)
class DemoHubs:
    apis: dict[str, HubApi]
    usage: dict[str, UsageMetrics]
    quotas: NamespaceQuotas
    backups: dict[str, BackupSource]


def demo_backups(fleet: Fleet, clock: Clock) -> dict[str, BackupSource]:
    """Made-up backups of the demo hubs that have a ``backup:`` section, by provider."""
    from hubbot.adapters.memory.backups import demo_backups as made_up
    from hubbot.backups.targets import target_of

    return dict(made_up([target_of(fleet, r) for r in fleet.hubs if r.hub.backup is not None], clock=clock))


def demo_hubs(path: Path, *, now: datetime, fleet: Fleet) -> DemoHubs:
    """The demo hubs' APIs, their clusters' Prometheus and namespace quotas, in memory: users and
    groups from a YAML file of ``cluster/hub: {users, groups, quota}``, and 90 days of made-up but
    steady use before ``now`` (the same every time for the same ``now``)."""
    import yaml

    from hubbot.adapters.memory import MemoryHubApi, MemoryNamespaceQuotas, MemoryUsageMetrics
    from hubbot.adapters.memory.usage import demo_use
    from hubbot.domain import NamespaceQuota

    data = yaml.safe_load(path.read_text()) or {}
    apis: dict[str, HubApi] = {}
    metrics: dict[str, MemoryUsageMetrics] = {}
    quotas = MemoryNamespaceQuotas()
    for hub, spec in data.items():
        cluster, _, name = hub.partition("/")
        use = demo_use(name, spec.get("users", []), now=now)
        apis[hub] = MemoryHubApi(hub, users=spec.get("users", []), groups=spec.get("groups", {}),
                                 activity=use.activity, running=use.running)
        found = metrics.setdefault(cluster, MemoryUsageMetrics())
        found.runs[name], found.home_use[name], found.active[name] = use.runs, use.homes, use.daily
        quotas.add_namespace(cluster, name)
        if spec.get("quota"):
            hard = {str(k): str(v) for k, v in spec["quota"].items()}
            used = {k: "0" for k in hard}
            if "pods" in hard:
                used["pods"] = str(len(use.running) + 3)  # the hub, proxy and scheduler, and running servers
            quotas.add_quota(cluster, name, NamespaceQuota("hubbot", hard=hard, used=used, managed=True))
    from hubbot.adapters.clock import SystemClock

    return DemoHubs(apis=apis, usage=dict(metrics), quotas=quotas, backups=demo_backups(fleet, SystemClock()))


def usage_metrics(fleet: Fleet, settings: Settings) -> dict[str, UsageMetrics]:
    """Each cluster with a ``prometheus:`` section: its Prometheus. A credential named but not set
    is logged (the cluster's usage figures then say Prometheus refused)."""
    from hubbot.adapters.prometheus import PrometheusMetrics

    out: dict[str, UsageMetrics] = {}
    for name, cluster in fleet.clusters.items():
        conf = cluster.prometheus
        if conf is None:
            continue
        auth: tuple[str, str] | str | None = None
        if conf.credential is not None:
            secret = settings.prometheus_credentials.get(conf.credential)
            if secret is None:
                log.warning("cluster %s names Prometheus credential %r, which HUBBOT_PROMETHEUS_CREDENTIALS lacks",
                            name, conf.credential)
            elif conf.auth == "basic":
                user, _, password = secret.get_secret_value().partition(":")
                auth = (user, password)
            else:
                auth = secret.get_secret_value()
        out[name] = PrometheusMetrics(conf.url, cluster=name, auth=auth, timeout=conf.timeout,
                                      scrape=conf.scrape_interval)
    return out


def namespace_quotas(deploys: DeployPorts) -> NamespaceQuotas | None:
    """The clusters' ResourceQuotas, through the same Kubernetes clients deploys use."""
    clusters = deploys.clusters
    return clusters if isinstance(clusters, NamespaceQuotas) else None


def backup_sources(fleet: Fleet, settings: Settings) -> dict[str, BackupSource]:
    """Each provider some hub backs up on: its backups adapter. A provider without the
    credentials it needs is logged and left out (its hubs' backup commands say so)."""
    out: dict[str, BackupSource] = {}
    for name in sorted({ref.provider for ref in fleet.hubs if ref.hub.backup is not None}):
        provider = fleet.config.providers.get(name)
        if isinstance(provider, OpenStackProvider):
            from hubbot.adapters.cinder import CinderBackups

            credential = settings.openstack.get(name)
            if credential is None:
                log.warning("provider %s: set HUBBOT_OPENSTACK with its application credential for backups", name)
                continue
            out[name] = CinderBackups(provider, application_credential_id=credential.id,
                                      application_credential_secret=credential.secret)
        elif isinstance(provider, GcpProvider):
            from hubbot.adapters.gcp.backups import GcpBackups

            out[name] = GcpBackups(provider)
        elif isinstance(provider, AwsProvider):
            from hubbot.adapters.aws_backups import AwsBackups

            out[name] = AwsBackups(provider)
    return out


INSTANCE = secrets.token_hex(4)  # this process, as told apart from an earlier one with the same pid


def worker_name() -> str:
    """``host:pid:instance``: several replicas may share a host, and a restarted container may get
    the pid its predecessor had."""
    return f"{gethostname()}:{os.getpid()}:{INSTANCE}"


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` of this host runs (signal 0 checks without sending anything)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True


def helm_executable(settings: Settings) -> str:
    """HUBBOT_HELM; when that is the default `helm` and none is on PATH, the one `make helm` put
    beside the Python running hubbot (in .venv/bin)."""
    if settings.helm == "helm" and shutil.which("helm") is None:
        beside = Path(sys.executable).parent / "helm"
        if beside.is_file():
            return str(beside)
    return settings.helm


def pull_requests(fleet: Fleet, settings: Settings) -> PullRequests | None:
    """The fleet repository's pull requests on GitHub, when chat changes become pull requests."""
    conf = fleet.config.repository
    if conf is None or conf.changes != "pull-request" or conf.github is None:
        return None
    if settings.github_token is None:
        log.warning("repository.changes is pull-request: set HUBBOT_GITHUB_TOKEN so hubbot can open pull requests")
        return None
    from hubbot.adapters.github import GitHubPulls

    return GitHubPulls(conf.github, token=settings.github_token.get_secret_value(), api_url=conf.github_api_url)


def price_sources(fleet: Fleet) -> dict[str, PriceSource]:
    """Where /hub estimate reads prices: JetStream2's flavour table always; AWS's Price List API and
    GCP's Cloud Billing Catalog with hubbot's credentials, when the fleet has a menu."""
    from hubbot.adapters.plan_prices import Jetstream2Prices

    found: dict[str, PriceSource] = {"jetstream2": Jetstream2Prices()}
    if fleet.config.plans is not None and fleet.config.plans.estimates.live_prices:
        found.update(_cloud_prices())
    return found


def _cloud_prices() -> dict[str, PriceSource]:
    from hubbot.adapters.aws_prices import AwsPrices
    from hubbot.adapters.gcp_prices import GcpPrices

    return {"aws": AwsPrices(), "gcp": GcpPrices()}


def price_snapshots(fleet: Fleet) -> dict[str, PriceSource]:
    """A dated price snapshot file (``plans.estimates.prices``), per provider, to fall back on."""
    from hubbot.adapters.plan_prices import SnapshotPrices

    plans = fleet.config.plans
    if plans is None or plans.estimates.prices is None:
        return {}
    path = fleet.base / plans.estimates.prices
    return {p: SnapshotPrices(path, p) for p in ("aws", "gcp", "jetstream2")}


def use_fleet(deploys: DeployPorts | None, fleet: Fleet) -> None:
    """Point the cluster access of ``deploys`` at ``fleet`` (a fleet repository's newer commit)."""
    from hubbot.adapters.kube import KubeClusters

    if deploys is not None and isinstance(deploys.clusters, KubeClusters):
        deploys.clusters.fleet = fleet


def sops_cli(settings: Settings) -> SopsCli | None:
    """sops for decrypting values files: HUBBOT_SOPS, else `sops` on PATH, else None (helm then
    refuses a sops-encrypted values file, saying how to get sops)."""
    from hubbot.adapters.sops import SopsCli

    executable = settings.sops or shutil.which("sops")
    return SopsCli(executable) if executable else None


def deploy_ports(fleet: Fleet, settings: Settings, *, jobs: JobStore, redactor: Redactor) -> DeployPorts:
    """Helm, the clusters, health checks and the job store, for deploys from this process."""
    from hubbot.adapters.health import HttpHealth
    from hubbot.adapters.helm import HelmCli
    from hubbot.adapters.kube import KubeClusters
    from hubbot.adapters.tasks import AsyncioBackground

    sops = sops_cli(settings)
    helm = HelmCli(helm_executable(settings), base=fleet.base, redact=redactor, sops=sops)
    return DeployPorts(jobs=jobs, helm=helm, clusters=KubeClusters(fleet, sops=sops), health=HttpHealth(),
                       background=AsyncioBackground(), worker=worker_name(), alive=pid_alive)
