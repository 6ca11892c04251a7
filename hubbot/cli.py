"""The ``hubbot`` command line. Heavy modules load inside each command so ``--help`` stays fast."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from hubbot.fleet import Fleet
    from hubbot.main import Runtime, SlackMode

app = typer.Typer(help="hubbot: Slack ChatOps for JupyterHub and BinderHub fleets.", no_args_is_help=True,
                  pretty_exceptions_enable=False, rich_markup_mode=None, add_completion=False)
config_app = typer.Typer(help="Check the fleet config or print its JSON Schema.", no_args_is_help=True)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
alerts_app = typer.Typer(help="Cost refresh and alert cycles.", no_args_is_help=True)
faq_app = typer.Typer(help="Support answers from documentation trees.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")
app.add_typer(alerts_app, name="alerts")
app.add_typer(faq_app, name="faq")
DocsOpt = Annotated[list[Path] | None, typer.Option("--docs", help="A docs folder (repeat for several).")]

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="Fleet YAML file (or HUBBOT_CONFIG).")]
DemoOpt = Annotated[bool, typer.Option("--demo", help="Use the bundled demo fleet.")]
AsOpt = Annotated[str | None, typer.Option("--as", help="Slack user ID to act as (demo default: an engineer).")]
ChannelOpt = Annotated[str | None, typer.Option("--channel", help="Slack channel ID to act in.")]


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _runtime(config: Path | None, demo: bool, *, json_logs: bool = False, slack: SlackMode | None = None,
             quiet: bool = False) -> Runtime:
    """Settings, logging and everything built once. ``slack="post"`` falls back to printing when
    no bot token is set; ``quiet`` drops notices (``--json`` prints what was sent instead)."""
    from datetime import UTC, datetime

    from hubbot.adapters.providers import demo_hubs
    from hubbot.errors import HubbotError
    from hubbot.logs import configure_logging, redactor_for
    from hubbot.main import build, open_fleet
    from hubbot.settings import Settings

    try:
        settings = Settings()
        configure_logging(settings, redactor_for(settings), json_lines=json_logs)
        if slack == "post" and settings.slack.bot_token is None:
            slack = None
        fleet, repository = open_fleet(settings, config=config, demo=demo)
        hubs = demo_hubs(fleet.base / "hubs.yaml", now=datetime.now(UTC), fleet=fleet) if demo else None
        return build(settings, fleet, slack=slack, notifier=_Quiet() if quiet and slack is None else None,
                     hub_apis=hubs.apis if hubs else None, usage=hubs.usage if hubs else None,
                     namespace_quotas=hubs.quotas if hubs else None, backups=hubs.backups if hubs else None,
                     repository=repository)
    except HubbotError as exc:
        _fail(str(exc), exc.exit_code)
        raise  # unreachable; _fail exits


def _demo_costs(runtime: Runtime) -> None:
    """The demo's costs come from CSV files: load them so `/hub cost` has figures at once
    (a real deployment refreshes on its schedule or from `hubbot alerts run`)."""
    from datetime import UTC, datetime, timedelta

    from alerts.refresh import refresh

    async def go() -> None:
        now = datetime.now(UTC)
        status = await runtime.services.ledger.status()
        fresh = [s for s in status.values() if s.ok_at and now - s.ok_at < timedelta(hours=1) and not s.stale]
        if len(fresh) < len(runtime.services.sources):  # loaded within the hour: start at once
            await refresh(runtime.services, runtime.fleet, at=now)

    asyncio.run(go())


def _who(runtime: Runtime, user: str | None, channel: str | None, demo: bool) -> tuple[str, str]:
    from hubbot.main import DEMO_CHANNEL, DEMO_ENGINEER

    if user is None:
        if not demo:
            _fail("say who you are with --as USER_ID (a Slack user ID such as U0123456789)")
        user = DEMO_ENGINEER
    return user, channel or (DEMO_CHANNEL if demo else "CCONSOLE")


@app.command()
def run(
    command: Annotated[str, typer.Argument(help='The command, e.g. "/hub hubs".')],
    config: ConfigOpt = None,
    demo: DemoOpt = False,
    as_user: AsOpt = None,
    channel: ChannelOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the reply as JSON.")] = False,
    files_dir: Annotated[Path, typer.Option("--files", help="Where to save files a reply carries.")] = Path(
        "hubbot-files"),
) -> None:
    """Run one command and exit: 0 ok, 2 usage or not found, 3 not allowed, 4 outside system failed, 1 other."""
    from hubbot.console import Console

    runtime = _runtime(config, demo)
    user, where = _who(runtime, as_user, channel, demo)
    if demo:
        _demo_costs(runtime)

    async def go() -> int:
        from hubbot.lifecycle import io_threads

        io_threads()
        try:
            return await Console(runtime.dispatcher, user=user, channel=where, files_dir=files_dir,
                                 out=sys.stdout).once(command, as_json=as_json)
        finally:
            await runtime.aclose()

    raise typer.Exit(asyncio.run(go()))


@app.command()
def console(
    config: ConfigOpt = None,
    demo: DemoOpt = False,
    as_user: AsOpt = None,
    channel: ChannelOpt = None,
    files_dir: Annotated[Path, typer.Option("--files", help="Where to save files replies carry.")] = Path(
        "hubbot-files"),
) -> None:
    """An interactive console over the same pipeline as Slack, with history."""
    from hubbot.console import Console

    runtime = _runtime(config, demo)
    user, where = _who(runtime, as_user, channel, demo)
    if demo:
        _demo_costs(runtime)
    history = Path.home() / ".hubbot_history"
    try:
        import readline

        readline.set_history_length(1000)
        if history.exists():
            readline.read_history_file(history)
    except (ImportError, OSError):
        readline = None  # type: ignore[assignment]

    async def go() -> None:
        from hubbot.lifecycle import io_threads

        io_threads()
        try:
            await Console(runtime.dispatcher, user=user, channel=where, files_dir=files_dir,
                          out=sys.stdout).repl(input)
        finally:
            await runtime.aclose()
            if readline is not None:
                with contextlib.suppress(OSError):
                    readline.write_history_file(history)

    asyncio.run(go())


@app.command()
def serve(
    config: ConfigOpt = None,
    demo: DemoOpt = False,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 3000,
) -> None:
    """Serve Slack over HTTP: POST /slack/events, GET /healthz, GET /readyz."""
    from hubbot.errors import HubbotError
    from hubbot.lifecycle import serve as serve_http

    runtime = _runtime(config, demo, json_logs=True, slack="http")
    try:
        serve_http(runtime, host=host, port=port)
    except HubbotError as exc:
        _fail(str(exc), exc.exit_code)


@app.command()
def socket(config: ConfigOpt = None, demo: DemoOpt = False) -> None:
    """Connect to Slack over Socket Mode (no public URL needed; needs HUBBOT_SLACK_APP_TOKEN)."""
    from hubbot.errors import HubbotError
    from hubbot.lifecycle import socket as run_socket

    runtime = _runtime(config, demo, json_logs=True, slack="socket")
    try:
        run_socket(runtime)
    except HubbotError as exc:
        _fail(str(exc), exc.exit_code)


@alerts_app.command("run")
def alerts_run(
    config: ConfigOpt = None,
    demo: DemoOpt = False,
    at: Annotated[str | None, typer.Option("--at", help="Run as of this instant (ISO 8601); default now.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the alerts sent as JSON lines.")] = False,
    no_fetch: Annotated[bool, typer.Option("--no-fetch", help="Evaluate the stored ledger without fetching.")] = False,
) -> None:
    """One refresh + evaluation + delivery cycle (what a CronJob runs). Alerts go to Slack when
    HUBBOT_SLACK_BOT_TOKEN is set, else they are printed. Exit 4 if a provider could not be read."""
    import json
    import socket as sockets
    from datetime import UTC, datetime

    from alerts import run_cycle
    from hubbot.lifecycle import settle
    from hubbot.outbox.delivery import as_json as sent_json

    when = datetime.now(UTC)
    if at is not None:
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            _fail(f"--at '{at[:40]}' is not an ISO 8601 instant, like 2026-03-15T09:00:00+00:00")
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
    runtime = _runtime(config, demo, slack="post", quiet=as_json)
    settle()

    async def go() -> int:
        from hubbot.lifecycle import io_threads

        io_threads()
        try:
            report = await run_cycle(runtime.services, runtime.fleet, at=when, worker=sockets.gethostname(),
                                     fetch=not no_fetch)
        finally:
            await runtime.aclose()
        for provider, error in report.refresh.errors.items():
            typer.echo(f"warning: {provider}: {error}", err=True)
        if as_json:
            for message in report.sent:
                typer.echo(json.dumps(sent_json(message)))
        else:
            typer.echo(f"{len(report.sent)} alert(s) sent, {len(report.recorded)} recorded; "
                       f"provider requests: {report.refresh.requests}")
        return 4 if report.refresh.errors else 0

    raise typer.Exit(asyncio.run(go()))


class _Quiet:
    """With --json the alerts are the output; when not sending to Slack, print nothing else."""

    async def post(self, *, channel: str, text: str, blocks: object, thread_ts: str | None = None,
                   key: str | None = None) -> str | None:
        return None

    async def find(self, *, channel: str, key: str, since: object) -> str | None:
        return None

    async def update(self, *, channel: str, ts: str, text: str, blocks: object) -> None:
        return None


@faq_app.command("index")
def faq_index(config: ConfigOpt = None, demo: DemoOpt = False, docs: DocsOpt = None) -> None:
    """Index the docs trees (given with --docs, or configured in the fleet) and report what was found."""
    import time

    from hubbot.support.faq import Index

    if docs:
        trees = [("--docs", list(docs))]
    else:
        from hubbot.adapters.providers import docs_source
        from hubbot.errors import HubbotError
        from hubbot.fleet import DocsConfig
        from hubbot.main import fleet_path
        from hubbot.settings import Settings

        fleet = _fleet_only(config, demo)
        settings = Settings()
        base = fleet_path(settings, config=config, demo=demo).parent

        def roots(confs: list[DocsConfig]) -> list[Path]:
            found = [docs_source(base, d, cache=settings.docs_cache) for d in confs]
            try:  # a docs repository is fetched (or read from the cache) here
                return [f if isinstance(f, Path) else f.root() for f in found]
            except HubbotError as exc:
                _fail(str(exc), 2)
                return []

        trees = [("fleet", roots(fleet.config.support.docs))]
        trees += [(c.name, roots(c.support.docs)) for c in fleet.config.communities if c.support and c.support.docs]
    if not any(paths for _, paths in trees):
        _fail("no docs configured: give --docs DIR, or add support.docs to the fleet config", 2)
    for name, paths in trees:
        missing = [str(p) for p in paths if not p.is_dir()]
        if missing:
            _fail(f"{name}: docs folder not found: {', '.join(missing)}", 2)
        start = time.perf_counter()
        index = Index.build(paths)
        took = time.perf_counter() - start
        typer.echo(f"{name}: {index.pages} pages, {len(index.sections)} sections in {took:.2f} s")


@faq_app.command("answer")
def faq_answer(
    docs: DocsOpt = None,
    jsonl: Annotated[bool, typer.Option("--jsonl", help='{"id","question"} lines on stdin; answers out.')] = True,
) -> None:
    """Answer questions from docs trees: JSON lines in on stdin, answers out (id, answered, confidence, citations,
    text, suggested)."""
    from hubbot.support.faq import answer_jsonl

    if not docs:
        _fail("give at least one --docs DIR", 2)
    assert docs is not None
    missing = [str(p) for p in docs if not p.is_dir()]
    if missing:
        _fail(f"docs folder not found: {', '.join(missing)}", 2)
    for line in answer_jsonl(list(docs), sys.stdin):
        typer.echo(line)


@faq_app.command("eval")
def faq_eval(
    answers: Annotated[Path, typer.Option("--answers", help="Output of `hubbot faq answer`.")],
    questions: Annotated[Path, typer.Option("--questions", help="Questions with expected citations and kind.")],
) -> None:
    """Score answers: strict@1, page@1, page@3, abstention on out-of-scope, wrong abstention on answerable, and the
    middle band: share given suggestions (all, answerable, out-of-scope) and their page@3."""
    import json

    from hubbot.support.faq import eval_files

    for path in (answers, questions):
        if not path.is_file():
            _fail(f"file not found: {path}", 2)
    try:
        scores = eval_files(answers, questions)
    except (ValueError, KeyError, TypeError) as exc:
        _fail(f"cannot score: a line is not a JSON object of the expected shape ({exc.__class__.__name__}: "
              f"{str(exc)[:120]})", 2)
    typer.echo(json.dumps(scores, indent=2))


@faq_app.command("export")
def faq_export(
    config: ConfigOpt = None,
    demo: DemoOpt = False,
    community: Annotated[str | None, typer.Option("--community", help="Only this community's saved answers.")] = None,
    retired: Annotated[bool, typer.Option("--retired", help="Include retired answers.")] = False,
) -> None:
    """Print the answers the support team saved from Slack as a curated FAQ file (YAML: questions, answer,
    links), ready to keep in a repository and list under support.faq."""
    from hubbot.support.saved import export_yaml

    runtime = _runtime(config, demo)
    if community is not None and community not in runtime.fleet.communities:
        _fail(f"no community '{community}' in the fleet config", 2)

    async def go() -> str:
        try:
            store = runtime.services.saved_answers
            if store is None:
                return "[]\n"
            return export_yaml(await store.list(communities=None if community is None else [community],
                                                retired=retired))
        finally:
            await runtime.aclose()

    typer.echo(asyncio.run(go()), nl=False)


def _fleet_only(config: Path | None, demo: bool) -> Fleet:
    from hubbot.errors import HubbotError
    from hubbot.main import load
    from hubbot.settings import Settings

    try:
        return load(Settings(), config=config, demo=demo)
    except HubbotError as exc:
        _fail(str(exc), exc.exit_code)
        raise


@config_app.command("check")
def config_check(path: Annotated[Path, typer.Argument(help="The fleet YAML file to check.")]) -> None:
    """Print every problem in a fleet config, with its place in the file; exit 1 if there are any."""
    from hubbot.errors import HubbotError
    from hubbot.fleet import FleetError, load_fleet

    try:
        fleet = load_fleet(path)
    except FleetError as exc:
        _problems(path, [str(p) for p in exc.problems])
    except HubbotError as exc:
        _fail(str(exc), 1)
    read_at = ""
    if fleet.config.repository is not None:
        fleet, read_at = _check_repository(path, fleet)

    def count(n: int, word: str) -> str:
        return f"{n} {word}" if n == 1 else f"{n} {word.replace('community', 'communitie')}s"

    typer.echo(f"{path}: ok — {count(len(fleet.communities), 'community')}, {count(len(fleet.clusters), 'cluster')}, "
               f"{count(len(fleet.hubs), 'hub')}{read_at}")


def _check_repository(path: Path, fleet: Fleet) -> tuple[Fleet, str]:
    """Fetch the fleet's repository and check it with hubbot's file: every cluster.yaml against the
    repository's schema, every reference from hubbot's file into it. Exits 1 on any problem."""
    import asyncio

    from hubbot.adapters.fleet_repository import GitFleet
    from hubbot.errors import HubbotError
    from hubbot.fleet import FleetError
    from hubbot.main import repository_mirror
    from hubbot.settings import Settings

    try:
        mirror = repository_mirror(Settings(), fleet)
        found = asyncio.run(GitFleet.open(fleet.config, mirror, source=str(path))).head
    except FleetError as exc:
        _problems(path, [str(p) for p in exc.problems])
    except HubbotError as exc:
        _fail(str(exc), 1)
        raise
    assert found.commit is not None and fleet.config.repository is not None
    where = f" (repository {mirror.shown} at {fleet.config.repository.branch} {found.commit[:12]})"
    if found.problems:
        _problems(path, list(found.problems), where)
    return found, where


def _problems(path: Path, problems: list[str], where: str = "") -> NoReturn:
    """Print every problem, then how many on stderr; exit 1."""
    for problem in problems:
        typer.echo(problem)
    typer.echo(f"{path}: {len(problems)} problem(s){where}", err=True)
    raise typer.Exit(1)


@config_app.command("repository")
def config_repository(
    path: Annotated[Path, typer.Argument(help="A checkout of the fleet repository.")],
    clusters_dir: Annotated[str, typer.Option(help="Where the cluster folders are.")] = "config/clusters",
    schema: Annotated[str | None, typer.Option(help="The cluster.yaml schema, relative to the repository "
                                                    "(default: the deployer's, when present).")] = None,
) -> None:
    """Check a fleet repository (a cluster.yaml per cluster folder): each against the repository's own
    schema, every file it names present, every secret file sops-encrypted. Exit 1 on any problem."""
    from hubbot.fleet.repository import read

    found = read(path, clusters_dir=clusters_dir, schema_file=schema)
    for problem in found.problems:
        typer.echo(str(problem))
    checked = f"checked against {found.schema}" if found.schema else "no cluster schema in the repository"
    summary = f"{path}: {len(found.clusters)} clusters, {len(found.hubs)} hubs ({checked})"
    if found.problems:
        typer.echo(f"{summary}; {len(found.problems)} problem(s)", err=True)
        raise typer.Exit(1)
    typer.echo(f"{summary}: ok")


@config_app.command("schema")
def config_schema() -> None:
    """Print the fleet config's JSON Schema (for editors and CI)."""
    import json

    from hubbot.fleet import json_schema

    typer.echo(json.dumps(json_schema(), indent=2))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (also done on every start)."""
    from hubbot.errors import HubbotError
    from hubbot.settings import Settings
    from hubbot.store import Database

    try:
        Database(Settings().database.url).upgrade()
    except HubbotError as exc:
        _fail(str(exc), exc.exit_code)
    typer.echo("database is up to date")


def pidfd_child_watcher() -> None:
    """Python 3.11 waits for each child process (every helm run of a deploy) in a thread of its own;
    a pidfd watcher, the default from 3.12 on, waits in the event loop instead. Set before any event
    loop starts."""
    if sys.version_info >= (3, 12) or not hasattr(os, "pidfd_open"):
        return
    try:
        os.close(os.pidfd_open(os.getpid()))
    except OSError:  # a kernel before 5.3, or a sandbox that forbids it
        return
    asyncio.set_child_watcher(asyncio.PidfdChildWatcher())


def main() -> None:
    pidfd_child_watcher()
    app()


if __name__ == "__main__":
    main()
