"""Running what :mod:`hubbot.main` built: the HTTP server or the Socket Mode connection, with the
alert scheduler, and what happens at start (interrupted jobs are swept) and at shutdown (running
jobs stop and say so, replies in flight are sent, the audit log is flushed)."""

from __future__ import annotations

import asyncio
import gc
import logging

from hubbot.deploys.engine import Engine
from hubbot.fleet import Fleet
from hubbot.main import Runtime
from hubbot.plans.menu import note_menu
from hubbot.ports import Services
from hubbot.scheduling import CycleScheduler, Election
from hubbot.slack import SlackTransport
from hubbot.slack.verify import RequestCheck
from hubbot.store.leadership import SoleLeadership
from hubbot.web import SlackEndpoint, create_app

log = logging.getLogger("hubbot")


def slack_transport(runtime: Runtime, *, ack_budget: float | None = None) -> SlackTransport:
    """The Bolt transport over the runtime's dispatcher and Slack client."""
    if runtime.slack is None:
        raise RuntimeError("build the runtime with slack='http' or slack='socket' to serve Slack")
    slack = runtime.settings.slack
    return SlackTransport(
        dispatcher=runtime.dispatcher, events=runtime.services.events, clock=runtime.services.clock,
        client=runtime.slack,
        signing_secret=slack.signing_secret.get_secret_value() if slack.signing_secret else None,
        redact=runtime.redactor, response_url_prefix=slack.response_url_prefix,
        **({} if ack_budget is None else {"ack_budget": ack_budget}),
    )


def scheduler_for(runtime: Runtime) -> CycleScheduler | None:
    if not runtime.settings.scheduler:
        return None
    repository = runtime.fleet.config.repository

    async def refresh() -> tuple[Services, Fleet]:
        await runtime.refresh_fleet()
        return runtime.services, runtime.fleet

    return CycleScheduler(services=runtime.services, fleet=runtime.fleet,
                          database_url=runtime.database.url.render_as_string(hide_password=False),
                          hours=runtime.fleet.config.alerts.refresh_hours,
                          refresh=refresh if runtime.services.repository is not None else None,
                          fetch_minutes=repository.fetch_minutes if repository else 10,
                          lease_seconds=runtime.settings.outbox_lease_seconds,
                          delivery_seconds=runtime.settings.delivery_seconds)


async def at_start(runtime: Runtime) -> None:
    """What a starting process does first: audit the service menu the first time any replica runs
    with its version, and mark the deploy jobs a previous process left running."""
    try:
        await note_menu(runtime.services, runtime.fleet.config.plans, source=runtime.fleet.source)
    except Exception:  # the audit log failing must not stop hubbot from starting
        log.exception("could not note the service menu")
    await sweep_jobs(runtime)


async def sweep_jobs(runtime: Runtime) -> None:
    """At start: jobs a previous process of this host left running are marked interrupted, in their
    threads too (jobs of other hosts are, once their heartbeat is stale; the scheduler re-checks)."""
    if runtime.services.deploys is None:
        return
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


def election_for(runtime: Runtime, scheduler: CycleScheduler) -> Election:
    """The scheduled jobs run only while this replica is the scheduler leader."""
    metrics = runtime.services.metrics

    def gained() -> None:
        scheduler.start()
        metrics.scheduler_leader.set(1)
        metrics.scheduler_leadership_changes.inc()

    def lost() -> None:
        scheduler.stop()
        metrics.scheduler_leader.set(0)
        metrics.scheduler_leadership_changes.inc()

    return Election(runtime.leadership or SoleLeadership(), on_gain=gained, on_lose=lost,
                    every=runtime.settings.election_seconds)


def web_app(runtime: Runtime, *, ack_budget: float | None = None, schedule: bool = True) -> SlackEndpoint:
    """The ASGI app: Slack events, health and readiness, and budget pushes when configured."""
    slack = slack_transport(runtime, ack_budget=ack_budget)
    secret = runtime.settings.slack.signing_secret
    if secret is None:
        raise RuntimeError("build the runtime with slack='http' to serve Slack over HTTP")
    check = RequestCheck(secret.get_secret_value(), max_age=runtime.settings.slack.max_request_age)
    scheduler = scheduler_for(runtime) if schedule else None
    election = election_for(runtime, scheduler) if scheduler is not None else None
    electing: list[asyncio.Task[None]] = []

    async def startup() -> None:
        io_threads()
        await at_start(runtime)
        if election is not None:
            await election.step()  # a lone replica leads from its first moment
            electing.append(asyncio.get_running_loop().create_task(election.run(), name="hubbot-election"))

    async def shutdown() -> None:
        for task in electing:
            task.cancel()
        if election is not None:
            await election.resign()
        await stop_jobs(runtime)
        await runtime.aclose()

    return create_app(slack=slack, check=check, ready=runtime.ready, on_shutdown=shutdown, on_startup=startup,
                      budget_push=runtime.budget_push, read_deadline=runtime.settings.slack.read_deadline)


IO_THREADS = 32


def io_threads() -> None:
    """Give the running loop a pool of threads sized for waiting: cloud and cluster SDK calls
    (boto3, the GCP clients, kubernetes) run in threads and spend nearly all their time on the
    network, and asyncio's default pool (the cores + 4: six on two cores) queued one account's
    calls behind another's — a fleet-wide backup status waited on itself."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(IO_THREADS, thread_name_prefix="hubbot-io"))


def settle() -> None:
    """Everything built so far (the fleet, settings, clients, modules) lives as long as the
    process: keep it out of the cyclic collector's way, so full collections stay short (they
    show up as p99 ack spikes, and as a third of an alert cycle over thousands of communities)."""
    gc.collect()
    gc.freeze()


def serve(runtime: Runtime, *, host: str, port: int) -> None:
    import uvicorn

    app = web_app(runtime)
    settle()
    log.info("hubbot serving %s fleet on http://%s:%d/slack/events", runtime.fleet.source, host, port)
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)


def socket(runtime: Runtime) -> None:
    from hubbot.slack.socket import CheckedSocketModeHandler

    slack = slack_transport(runtime)
    app_token = runtime.settings.slack.app_token
    if app_token is None:
        raise RuntimeError("build the runtime with slack='socket' to use Socket Mode")
    settle()

    async def main() -> None:
        io_threads()
        handler = CheckedSocketModeHandler(slack.app, app_token.get_secret_value())
        scheduler = scheduler_for(runtime)
        election = election_for(runtime, scheduler) if scheduler is not None else None
        await at_start(runtime)
        electing = None
        if election is not None:
            await election.step()
            electing = asyncio.get_running_loop().create_task(election.run(), name="hubbot-election")
        try:
            await handler.start_async()  # type: ignore[no-untyped-call]
        finally:
            if electing is not None:
                electing.cancel()
            if election is not None:
                await election.resign()
            await slack.drain()
            await stop_jobs(runtime)
            await runtime.aclose()

    asyncio.run(main())
