"""Composition root: settings -> fleet -> database -> adapters -> services -> dispatcher.

Each thing is built once, in order, and never patched afterwards. A process that talks to Slack
(``serve``, ``socket``, or ``alerts run`` with a bot token) builds its Slack Web API client
here, first, so the notifier, the user-group directory and the transport all share it.
:mod:`hubbot.lifecycle` runs what is built here.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import re
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from sqlalchemy import text

from hubbot import markup
from hubbot.adapters import providers
from hubbot.adapters.clock import SystemClock
from hubbot.adapters.fleet_repository import GitFleet
from hubbot.adapters.git import GitMirror
from hubbot.adapters.memory import StaticDirectory
from hubbot.console import PrintNotifier
from hubbot.costs.push import BudgetPushReceiver
from hubbot.errors import UserError
from hubbot.fleet import Fleet, load_fleet
from hubbot.logs import redactor_for
from hubbot.metrics import Metrics
from hubbot.pipeline.contract import Registry
from hubbot.pipeline.dispatch import Dispatcher
from hubbot.ports import (
    BackupSource,
    BillingCheck,
    BudgetMirror,
    Clock,
    CostSource,
    DeployPorts,
    Directory,
    FleetRepository,
    HubApi,
    Leadership,
    NamespaceQuotas,
    Notifier,
    PriceSource,
    PullRequests,
    Services,
    Ticketing,
    UsageMetrics,
)
from hubbot.redact import Redactor
from hubbot.settings import Settings
from hubbot.store import (
    Database,
    SqlAuditLog,
    SqlBudgets,
    SqlCostLedger,
    SqlEventLedger,
    SqlJobs,
    SqlOutbox,
    SqlOverlays,
    SqlPendingActions,
    SqlPriceCache,
    SqlProposals,
    SqlSavedAnswers,
    SqlServiceRequests,
    SqlSupportLog,
)
from hubbot.store.leadership import leadership_for

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

    from hubbot.slack.retry import Sleep

log = logging.getLogger(__name__)
DEMO_ENGINEER = "UDEMOENG01"
DEMO_CHANNEL = "CDEMOOPS01"
# How this process talks to Slack: serving requests over HTTP or Socket Mode, or only posting
# (alerts run). Each needs the bot token; serving needs the signing secret or the app token too.
SlackMode = Literal["http", "socket", "post"]
_NEEDED: dict[SlackMode, tuple[str, ...]] = {
    "http": ("HUBBOT_SLACK_BOT_TOKEN", "HUBBOT_SLACK_SIGNING_SECRET"),
    "socket": ("HUBBOT_SLACK_BOT_TOKEN", "HUBBOT_SLACK_APP_TOKEN"),
    "post": ("HUBBOT_SLACK_BOT_TOKEN",),
}


def demo_config() -> Path:
    return Path(str(resources.files("hubbot") / "demo" / "fleet.yaml"))


def fleet_path(settings: Settings, *, config: Path | None, demo: bool) -> Path:
    if demo and config is not None:
        raise UserError("give either --config or --demo, not both")
    if demo:
        return demo_config()
    path = config or settings.config
    if path is None:
        raise UserError("no fleet config: pass --config FILE, set HUBBOT_CONFIG, or try --demo")
    return path


def load(settings: Settings, *, config: Path | None, demo: bool) -> Fleet:
    return open_fleet(settings, config=config, demo=demo)[0]


def open_fleet(settings: Settings, *, config: Path | None, demo: bool) -> tuple[Fleet, FleetRepository | None]:
    """The fleet hubbot's file describes; with ``repository:`` in it, fetched and read from the
    repository's branch (and the repository, to fetch again and read other commits)."""
    path = fleet_path(settings, config=config, demo=demo)
    fleet = load_fleet(path)
    conf = fleet.config.repository
    if conf is None:
        return fleet, None
    mirror = repository_mirror(settings, fleet)
    repository = asyncio.run(GitFleet.open(fleet.config, mirror, source=str(path)))
    _report(repository.head)
    return repository.head, repository


def _report(fleet: Fleet) -> None:
    """What the repository got wrong at this commit (those clusters and hubs are left out)."""
    for problem in fleet.problems:
        log.warning("fleet repository at %s: %s", (fleet.commit or "")[:12], problem)


def repository_mirror(settings: Settings, fleet: Fleet) -> GitMirror:
    """The clone of the fleet's repository, in ``HUBBOT_REPOSITORY_CACHE`` or the user's cache
    folder (one per URL); a local path is relative to the fleet file."""
    conf = fleet.config.repository
    assert conf is not None
    url = conf.url
    if not re.match(r"^([a-z+]+://|[^/]+@[^/:]+:)", url):
        url = str((fleet.base / url).resolve())
    key = hashlib.sha256(url.encode()).hexdigest()[:16]
    cache = settings.repository_cache or Path.home() / ".cache" / "hubbot" / "repository"
    return GitMirror(url, cache=cache / key, branch=conf.branch)


@dataclass
class Runtime:
    """Everything built from settings, shared by the transports. With a fleet repository, a fetch
    that finds a new commit replaces ``fleet`` and the services built from it (:meth:`refresh_fleet`)."""

    settings: Settings
    fleet: Fleet
    database: Database
    services: Services
    dispatcher: Dispatcher
    redactor: Redactor
    slack: AsyncWebClient | None = None  # the one Slack Web API client, when this process talks to Slack
    budget_push: Callable[[str, str | None, bytes], Awaitable[tuple[int, str]]] | None = None
    rebuild: Callable[[Fleet], Services] | None = None  # the services of another fleet (same process)
    leadership: Leadership | None = None  # who runs the scheduled jobs (see hubbot.store.leadership)

    async def refresh_fleet(self) -> bool:
        """Fetch the fleet repository; when its branch moved, read the new commit and use it for
        every request from now on (requests already running finish on the fleet they started
        with). Whether the fleet changed."""
        repository = self.services.repository
        if repository is None:
            return False
        before = self.fleet
        self.adopt(await repository.refresh())
        return self.fleet is not before

    def adopt(self, fleet: Fleet) -> None:
        """Use ``fleet`` (the repository's newest commit, however it was fetched — the schedule, a
        deploy) for every request from now on."""
        if fleet is self.fleet or self.rebuild is None or fleet.commit is None:
            return
        _report(fleet)
        services = self.rebuild(fleet)
        self.fleet, self.services = fleet, services
        self.dispatcher.fleet, self.dispatcher.services = fleet, services

    async def ready(self) -> str | None:
        def ping() -> None:
            with self.database.engine.connect() as conn:
                conn.execute(text("SELECT 1"))

        try:
            await asyncio.to_thread(ping)
        except Exception as exc:
            return f"database unavailable: {exc.__class__.__name__}"
        return None

    async def aclose(self) -> None:
        await self.services.audit.flush()
        self.database.dispose()


def slack_client(settings: Settings, mode: SlackMode, *, sleep: Sleep | None = None,
                 metrics: Metrics | None = None) -> AsyncWebClient:
    """The Slack Web API client, with hubbot's retries and counted in ``metrics``; a clear error
    when a setting is missing."""
    from hubbot.slack.client import MeteredWebClient
    from hubbot.slack.retry import SlackRetry

    slack = settings.slack
    values = {"HUBBOT_SLACK_BOT_TOKEN": slack.bot_token, "HUBBOT_SLACK_SIGNING_SECRET": slack.signing_secret,
              "HUBBOT_SLACK_APP_TOKEN": slack.app_token}
    missing = [name for name in _NEEDED[mode] if values[name] is None]
    if missing:
        raise UserError(f"set {', '.join(missing)} to connect to Slack (see README, 'Connecting Slack')")
    assert slack.bot_token is not None
    metrics = metrics or Metrics(process=False)

    def rate_limited(method: str) -> None:
        metrics.slack_rate_limited.labels(method).inc()

    retry = SlackRetry(on_rate_limited=rate_limited, sleep=sleep or asyncio.sleep)
    return MeteredWebClient(metrics=metrics, token=slack.bot_token.get_secret_value(), base_url=slack.api_url,
                            retry_handlers=[retry])


def _slack_groups(fleet: Fleet) -> list[str]:
    ids = list(fleet.config.roles.engineers)
    for c in fleet.config.communities:
        ids += c.leaders + c.members
    return [i for i in ids if i.startswith("S")]


def build(
    settings: Settings,
    fleet: Fleet,
    *,
    slack: SlackMode | None = None,
    sleep: Sleep | None = None,
    clock: Clock | None = None,
    directory: Directory | None = None,
    registry: Registry | None = None,
    notifier: Notifier | None = None,
    sources: dict[str, CostSource] | None = None,
    mirrors: dict[str, BudgetMirror] | None = None,
    billing: dict[str, BillingCheck] | None = None,
    tickets: dict[str, Ticketing] | None = None,
    deploys: DeployPorts | None = None,
    pause: Callable[[float], Awaitable[None]] | None = None,
    pulls: PullRequests | None = None,
    prices: Mapping[str, PriceSource] | None = None,
    hub_apis: dict[str, HubApi] | None = None,
    usage: Mapping[str, UsageMetrics] | None = None,
    namespace_quotas: NamespaceQuotas | None = None,
    backups: Mapping[str, BackupSource] | None = None,
    repository: FleetRepository | None = None,
) -> Runtime:
    """Build everything once. ``slack`` says how this process talks to Slack (None: it does not;
    notices go to stdout). Keyword arguments given replace what the settings would build (tests
    and the demo); ``sleep`` is what Slack retries wait with, ``pause`` what rollout and backup polling
    wait with."""
    from commands import ALL

    redactor = redactor_for(settings)
    metrics = Metrics()
    if settings.metrics_token is not None:
        metrics.scrape_token = settings.metrics_token.get_secret_value()
    client = slack_client(settings, slack, sleep=sleep, metrics=metrics) if slack is not None else None
    if settings.slack.bot_token is not None:  # every replica seals mentions and links alike
        markup.use_key(settings.slack.bot_token.get_secret_value())
    database = Database(settings.database.url)
    database.upgrade()
    if directory is None:
        groups = _slack_groups(fleet)
        if client is not None and groups:
            from hubbot.slack.directory import SlackDirectory

            directory = SlackDirectory(client, groups)
        else:
            directory = StaticDirectory()
    if notifier is None:
        if client is not None:
            from hubbot.slack.notifier import SlackNotifier

            notifier = SlackNotifier(client)
        else:
            notifier = PrintNotifier(sys.stdout)
    if deploys is None:
        deploys = providers.deploy_ports(fleet, settings, jobs=SqlJobs(database), redactor=redactor)
    if pause is not None:
        deploys = dataclasses.replace(deploys, pause=pause)
    deploy_ports = deploys
    base = Services(
        audit=SqlAuditLog(database), clock=clock or SystemClock(), events=SqlEventLedger(database),
        directory=directory, pending=SqlPendingActions(database), ledger=SqlCostLedger(database),
        budgets=SqlBudgets(database), outbox=SqlOutbox(database), notifier=notifier,
        support=SqlSupportLog(database), saved_answers=SqlSavedAnswers(database),
        knowledge=providers.knowledge_for(fleet, cache=settings.docs_cache),
        tickets=tickets if tickets is not None else providers.tickets_for(fleet, settings),
        deploys=deploys, overlays=SqlOverlays(database), repository=repository, proposals=SqlProposals(database),
        pulls=pulls if pulls is not None else providers.pull_requests(fleet, settings),
        prices=prices if prices is not None else providers.price_sources(fleet),
        price_cache=SqlPriceCache(database), price_snapshots=providers.price_snapshots(fleet),
        requests=SqlServiceRequests(database), metrics=metrics,
        namespace_quotas=namespace_quotas if namespace_quotas is not None else providers.namespace_quotas(deploys),
    )
    if pause is not None:
        base = dataclasses.replace(base, pause=pause)
    metrics.watch_outbox(base.outbox.pending_summary, now=base.clock.now)

    def of_fleet(fleet: Fleet) -> Services:
        """What depends on the fleet's providers, clusters and hubs (what was given stays)."""
        built = providers.cost_providers(fleet, settings, clock=clock) if sources is None or mirrors is None else None
        providers.use_fleet(deploy_ports, fleet)
        return dataclasses.replace(
            base,
            sources=sources if sources is not None else built.sources if built else {},
            mirrors=mirrors if mirrors is not None else built.mirrors if built else {},
            billing=billing if billing is not None else built.billing if built else {},
            hub_apis=hub_apis if hub_apis is not None else providers.hub_apis(fleet, settings),
            usage=usage if usage is not None else providers.usage_metrics(fleet, settings),
            backups=backups if backups is not None else providers.backup_sources(fleet, settings),
        )

    services = of_fleet(fleet)
    dispatcher = Dispatcher(fleet=fleet, registry=registry or Registry(ALL), services=services, redact=redactor)
    push = providers.budget_push(settings)
    receiver = BudgetPushReceiver(push, services=services, fleet=fleet) if push is not None else None
    runtime = Runtime(settings=settings, fleet=fleet, database=database, services=services, dispatcher=dispatcher,
                      redactor=redactor, slack=client, budget_push=receiver, rebuild=of_fleet,
                      leadership=leadership_for(database) if settings.scheduler else None)
    if isinstance(repository, GitFleet):
        repository.on_new_head = runtime.adopt  # a deploy's fetch moves every later request on too
    return runtime
