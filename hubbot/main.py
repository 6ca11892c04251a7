"""Composition root: settings -> fleet -> database -> ports -> dispatcher -> transports."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import json
import logging
import os
import shutil
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from socket import gethostname
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from hubbot import markup
from hubbot.adapters.clock import SystemClock
from hubbot.adapters.memory import StaticDirectory
from hubbot.console import PrintNotifier
from hubbot.errors import UpstreamError, UserError
from hubbot.fleet import AwsProvider, CsvProvider, Fleet, GcpProvider, OpenStackProvider, load_fleet
from hubbot.pipeline.contract import Registry
from hubbot.pipeline.dispatch import Dispatcher
from hubbot.ports import (
    BillingCheck,
    BudgetMirror,
    Clock,
    CostSource,
    DeployPorts,
    Directory,
    Knowledge,
    Notifier,
    Services,
    Ticketing,
)
from hubbot.redact import RedactingFilter, Redactor
from hubbot.settings import Settings
from hubbot.store import (
    Database,
    SqlAlertOutbox,
    SqlAuditLog,
    SqlBudgets,
    SqlCostLedger,
    SqlEventLedger,
    SqlJobs,
    SqlPendingActions,
    SqlSupportLog,
)

if TYPE_CHECKING:
    from hubbot.scheduling import CycleScheduler
    from hubbot.slack import SlackTransport
    from hubbot.slack.retry import Sleep
    from hubbot.web import SlackEndpoint

DEMO_ENGINEER = "UDEMOENG01"
DEMO_CHANNEL = "CDEMOOPS01"
log = logging.getLogger("hubbot")


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


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {"level": record.levelname.lower(), "logger": record.name,
                               "message": record.getMessage()}
        if record.exc_text:
            out["exc"] = record.exc_text
        return json.dumps(out, ensure_ascii=False)


def configure_logging(settings: Settings, redactor: Redactor, *, json_lines: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter(redactor))
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper() if json_lines else logging.WARNING)


def redactor_for(settings: Settings) -> Redactor:
    secrets = [s.get_secret_value() for s in (settings.slack.bot_token, settings.slack.signing_secret,
                                               settings.slack.app_token) if s is not None]
    url = settings.database.url
    if "@" in url and ":" in url.split("@", 1)[0]:
        secrets.append(url.split("@", 1)[0].rsplit(":", 1)[1])  # the database password
    return Redactor(secrets)


@dataclass
class Runtime:
    """Everything built from settings, shared by the transports."""

    settings: Settings
    fleet: Fleet
    database: Database
    services: Services
    dispatcher: Dispatcher
    redactor: Redactor

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


@dataclass
class Providers:
    sources: dict[str, CostSource]
    mirrors: dict[str, BudgetMirror]
    billing: dict[str, BillingCheck]


def cost_sources(fleet: Fleet, settings: Settings) -> Providers:
    """One cost source per provider that can report costs; GCP budget mirrors and billing checks."""
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
            from hubbot.adapters.gcp.costs import BigQueryCostSource, GcpBilling, GcpBudgets

            if provider.billing_export_table:
                sources[name] = BigQueryCostSource(provider)
            if provider.billing_account:
                mirrors[name] = GcpBudgets(provider)
                billing[name] = GcpBilling(provider)
        elif isinstance(provider, OpenStackProvider) and provider.accounting_url:
            from hubbot.adapters.jetstream2 import Jetstream2CostSource

            credential = settings.openstack.get(name)
            if credential is None:
                log.warning("provider %s: set HUBBOT_OPENSTACK with its application credential to read usage", name)
                continue
            sources[name] = Jetstream2CostSource(provider, application_credential_id=credential.id,
                                                 application_credential_secret=credential.secret)
    return Providers(sources, mirrors, billing)


def knowledge_for(fleet: Fleet) -> dict[str, Knowledge]:
    """Docs collections for support answers: the fleet-wide one ("") and each community's own."""
    from hubbot.adapters.docs import LazyKnowledge

    base = fleet.base
    out: dict[str, Knowledge] = {}
    fleetwide = fleet.config.support
    if fleetwide.docs or fleetwide.faq:
        out[""] = LazyKnowledge([(base / d.path, d) for d in fleetwide.docs], [base / f for f in fleetwide.faq])
    for c in fleet.config.communities:
        if c.support and (c.support.docs or c.support.faq):
            out[c.name] = LazyKnowledge([(base / d.path, d) for d in c.support.docs],
                                        [base / f for f in c.support.faq])
    return out


def tickets_for(fleet: Fleet, settings: Settings) -> dict[str, Ticketing]:
    """Freshdesk desks for escalated questions, fleet-wide ("") and per community."""
    from hubbot.adapters.freshdesk import FreshdeskTickets

    key = settings.freshdesk_api_key
    confs = {"": fleet.config.support.freshdesk}
    confs.update({c.name: c.support.freshdesk for c in fleet.config.communities if c.support})
    wanted = {name: conf for name, conf in confs.items() if conf is not None}
    if wanted and key is None:
        log.warning("Freshdesk is configured but HUBBOT_FRESHDESK_API_KEY is not set: no tickets will be opened")
        return {}
    assert key is not None or not wanted
    return {name: FreshdeskTickets(conf, api_key=key) for name, conf in wanted.items() if key is not None}


def worker_name() -> str:
    return f"{gethostname()}:{os.getpid()}"


def helm_executable(settings: Settings) -> str:
    """HUBBOT_HELM; when that is the default `helm` and none is on PATH, the one `make helm` put
    beside the Python running hubbot (in .venv/bin)."""
    if settings.helm == "helm" and shutil.which("helm") is None:
        beside = Path(sys.executable).parent / "helm"
        if beside.is_file():
            return str(beside)
    return settings.helm


def deploy_ports(fleet: Fleet, settings: Settings, database: Database, redactor: Redactor) -> DeployPorts:
    """Helm, the clusters, health checks and the job store, for deploys from this process."""
    from hubbot.adapters.health import HttpHealth
    from hubbot.adapters.helm import HelmCli
    from hubbot.adapters.kube import KubeClusters
    from hubbot.adapters.tasks import AsyncioBackground

    return DeployPorts(jobs=SqlJobs(database), helm=HelmCli(helm_executable(settings), base=fleet.base,
                                                           redact=redactor),
                       clusters=KubeClusters(fleet), health=HttpHealth(), background=AsyncioBackground(),
                       worker=worker_name())


def build(
    settings: Settings,
    fleet: Fleet,
    *,
    clock: Clock | None = None,
    directory: Directory | None = None,
    registry: Registry | None = None,
    notifier: Notifier | None = None,
    sources: dict[str, CostSource] | None = None,
    mirrors: dict[str, BudgetMirror] | None = None,
    deploys: DeployPorts | None = None,
) -> Runtime:
    from commands import ALL

    redactor = redactor_for(settings)
    if settings.slack.bot_token is not None:  # every replica seals mentions and links alike
        markup.use_key(settings.slack.bot_token.get_secret_value())
    database = Database(settings.database.url)
    database.upgrade()
    built = cost_sources(fleet, settings) if sources is None or mirrors is None else None
    billing = built.billing if built else {}
    if built is not None:
        sources = built.sources if sources is None else sources
        mirrors = built.mirrors if mirrors is None else mirrors
    services = Services(
        audit=SqlAuditLog(database),
        clock=clock or SystemClock(),
        events=SqlEventLedger(database),
        directory=directory or StaticDirectory(),
        pending=SqlPendingActions(database),
        ledger=SqlCostLedger(database),
        budgets=SqlBudgets(database),
        outbox=SqlAlertOutbox(database),
        notifier=notifier or PrintNotifier(sys.stdout),
        sources=sources or {},
        mirrors=mirrors or {},
        billing=billing,
        support=SqlSupportLog(database),
        knowledge=knowledge_for(fleet),
        tickets=tickets_for(fleet, settings),
        deploys=deploys or deploy_ports(fleet, settings, database, redactor),
    )
    dispatcher = Dispatcher(fleet=fleet, registry=registry or Registry(ALL), services=services, redact=redactor)
    return Runtime(settings=settings, fleet=fleet, database=database, services=services, dispatcher=dispatcher,
                   redactor=redactor)


def load(settings: Settings, *, config: Path | None, demo: bool) -> Fleet:
    return load_fleet(fleet_path(settings, config=config, demo=demo))


def _slack_groups(fleet: Fleet) -> list[str]:
    ids = list(fleet.config.roles.engineers)
    for c in fleet.config.communities:
        ids += c.leaders + c.members
    return [i for i in ids if i.startswith("S")]


def slack_transport(
    runtime: Runtime, *, sleep: Sleep | None = None, socket_mode: bool = False, ack_budget: float | None = None
) -> SlackTransport:
    from hubbot.slack import SlackTransport
    from hubbot.slack.directory import SlackDirectory

    slack = runtime.settings.slack
    # HTTP mode verifies requests with the signing secret; Socket Mode authenticates with the app token.
    needed = [("HUBBOT_SLACK_BOT_TOKEN", slack.bot_token)]
    needed.append(("HUBBOT_SLACK_APP_TOKEN", slack.app_token) if socket_mode
                  else ("HUBBOT_SLACK_SIGNING_SECRET", slack.signing_secret))
    missing = [name for name, value in needed if value is None]
    if missing:
        raise UserError(f"set {', '.join(missing)} to connect to Slack (see README, 'Connecting Slack')")
    assert slack.bot_token is not None
    kwargs: dict[str, Any] = {} if sleep is None else {"sleep": sleep}
    if ack_budget is not None:
        kwargs["ack_budget"] = ack_budget
    transport = SlackTransport(
        dispatcher=runtime.dispatcher, events=runtime.services.events, clock=runtime.services.clock,
        bot_token=slack.bot_token.get_secret_value(),
        signing_secret=slack.signing_secret.get_secret_value() if slack.signing_secret else None,
        api_url=slack.api_url, redact=runtime.redactor, response_url_prefix=slack.response_url_prefix, **kwargs,
    )
    from hubbot.slack.notifier import SlackNotifier

    runtime.services = dataclasses.replace(runtime.services, notifier=SlackNotifier(transport.client))
    runtime.dispatcher.services = runtime.services
    groups = _slack_groups(runtime.fleet)
    if groups and isinstance(runtime.services.directory, StaticDirectory):
        directory = SlackDirectory(transport.client, groups)
        services = dataclasses.replace(runtime.services, directory=directory)
        runtime.services = services
        runtime.dispatcher.services = services
    return transport


def use_slack_notifier(runtime: Runtime) -> None:
    """Post alerts to Slack when a bot token is configured (``alerts run`` outside ``serve``)."""
    token = runtime.settings.slack.bot_token
    if token is None:
        return
    from slack_sdk.web.async_client import AsyncWebClient

    from hubbot.slack.notifier import SlackNotifier
    from hubbot.slack.retry import SlackRetry

    client = AsyncWebClient(token=token.get_secret_value(), base_url=runtime.settings.slack.api_url,
                            retry_handlers=[SlackRetry()])
    runtime.services = dataclasses.replace(runtime.services, notifier=SlackNotifier(client))
    runtime.dispatcher.services = runtime.services


def web_app(
    runtime: Runtime, *, sleep: Sleep | None = None, ack_budget: float | None = None, schedule: bool = True
) -> SlackEndpoint:
    from hubbot.slack.verify import RequestCheck
    from hubbot.web import create_app

    slack = slack_transport(runtime, sleep=sleep, ack_budget=ack_budget)
    secret = runtime.settings.slack.signing_secret
    assert secret is not None  # slack_transport() insists on it
    check = RequestCheck(secret.get_secret_value(), max_age=runtime.settings.slack.max_request_age)
    scheduler = scheduler_for(runtime) if schedule else None

    async def startup() -> None:
        await sweep_jobs(runtime)
        if scheduler is not None:
            scheduler.start()

    async def shutdown() -> None:
        if scheduler is not None:
            scheduler.stop()
        await stop_jobs(runtime)
        await runtime.aclose()

    return create_app(slack=slack, check=check, ready=runtime.ready, on_shutdown=shutdown, on_startup=startup,
                      budget_push=budget_push(runtime), read_deadline=runtime.settings.slack.read_deadline)


async def sweep_jobs(runtime: Runtime) -> None:
    """At start: jobs a previous process of this host left running are marked interrupted, in their
    threads too (jobs of other hosts are, once their heartbeat is stale; the scheduler re-checks)."""
    if runtime.services.deploys is None:
        return
    from hubbot.deploys.engine import Engine

    try:
        ended = await Engine(runtime.services, runtime.fleet).sweep()
    except Exception:  # a sweep failure must not stop hubbot from starting
        log.exception("could not check for interrupted deploy jobs")
        return
    for job in ended:
        log.warning("deploy job #%s of %s was interrupted by a restart", job.id, job.hub)


async def stop_jobs(runtime: Runtime) -> None:
    """At shutdown: stop running jobs so each records that it was interrupted, and says so."""
    deploys = runtime.services.deploys
    if deploys is None:
        return
    for name in deploys.background.running():
        deploys.background.cancel(name)
    await deploys.background.drain()


def budget_push(runtime: Runtime) -> Callable[[str, str | None, bytes], Awaitable[tuple[int, str]]] | None:
    """The handler for GCP budget notifications, when HUBBOT_GCP_PUSH_AUDIENCE is set."""
    audience = runtime.settings.gcp_push_audience
    if not audience:
        return None
    from alerts.refresh import owner
    from hubbot.adapters.gcp.push import PushVerifier, parse_budget_notification
    from hubbot.errors import NotAllowed

    verifier = PushVerifier(audience, certs_url=runtime.settings.gcp_certs_url,
                            issuer_emails=tuple(runtime.settings.gcp_push_service_accounts))

    async def handle(provider: str, authorization: str | None, body: bytes) -> tuple[int, str]:
        conf = runtime.fleet.config.providers.get(provider)
        if not isinstance(conf, GcpProvider):
            return 404, f"no GCP provider named {provider[:64]!r}"
        try:
            await asyncio.to_thread(verifier.verify, authorization)
            reading = parse_budget_notification(body, now=runtime.services.clock.now())
        except NotAllowed as exc:
            return 403, str(exc)
        except UpstreamError as exc:
            return 503, str(exc)  # Pub/Sub retries
        except UserError as exc:
            return 400, str(exc)  # a retry would not help; acknowledge with an error
        if reading is None:
            return 204, "not a budget notification"
        name = reading.source.removeprefix("hubbot-")
        community = name if name in runtime.fleet.communities else owner(runtime.fleet, provider)
        await runtime.services.ledger.put_readings(provider=provider, community=community, readings=[reading])
        return 204, "recorded"

    return handle


def scheduler_for(runtime: Runtime) -> CycleScheduler | None:
    if not runtime.settings.scheduler:
        return None
    from hubbot.scheduling import CycleScheduler

    return CycleScheduler(services=lambda: runtime.services, fleet=runtime.fleet,
                          database_url=runtime.database.url.render_as_string(hide_password=False),
                          hours=runtime.fleet.config.alerts.refresh_hours)


def serve(runtime: Runtime, *, host: str, port: int) -> None:
    import uvicorn

    app = web_app(runtime)
    # Everything built so far lives as long as the process: keep it out of the cyclic
    # collector's way so full collections stay short (they show up as p99 ack spikes).
    gc.collect()
    gc.freeze()
    log.info("hubbot serving %s fleet on http://%s:%d/slack/events", runtime.fleet.source, host, port)
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)


def socket(runtime: Runtime) -> None:
    from hubbot.slack.socket import CheckedSocketModeHandler

    slack = slack_transport(runtime, socket_mode=True)
    app_token = runtime.settings.slack.app_token
    assert app_token is not None

    async def main() -> None:
        handler = CheckedSocketModeHandler(slack.app, app_token.get_secret_value())
        scheduler = scheduler_for(runtime)
        await sweep_jobs(runtime)
        if scheduler is not None:
            scheduler.start()
        try:
            await handler.start_async()  # type: ignore[no-untyped-call]
        finally:
            if scheduler is not None:
                scheduler.stop()
            await slack.drain()
            await stop_jobs(runtime)
            await runtime.aclose()

    asyncio.run(main())
