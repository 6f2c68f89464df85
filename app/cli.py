"""The ``hotline`` command: serve, worker, db, tickets, api-token, simulate, demo.

Exit codes, one convention for every command: 0 done; 1 the command ran and refused or failed (a check found an
error, rows or a file's contents were rejected, a name is taken or unknown); 2 it could not be used as given (click's
usage errors: an unknown option, a missing argument, a file that does not exist or cannot be read, a value that
does not parse, a revision that does not exist) or the configuration is unusable (``startup.configuration_errors``).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from app.settings import Settings

if TYPE_CHECKING:
    from app.wiring import Hotline
# The hotline itself (``app.wiring``: the models, the services, SQLAlchemy, Flask, RQ) is imported by the command
# that wires one, not here: ``serve`` and ``worker`` restart as ``python -OO`` first (``docstring_free``), and the
# 0.3 s of CPU the import took before that restart was thrown away at every start (and every ``--help``).

INPUT_FILE = click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)  # missing, unreadable: exit 2


class HotlineGroup(click.Group):
    """The command group; a configuration mistake ends any command with its variable and fix, not a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        """Run the command, turning configuration errors into one clear message."""
        from app.startup import configuration_errors

        with configuration_errors():
            return super().invoke(ctx)


@click.group(cls=HotlineGroup)
@click.version_option(package_name="sev1-hotline", prog_name="hotline")
@click.option("-v", "--verbose", is_flag=True, help="Log at INFO level.")
def main(verbose: bool) -> None:
    """Sev-1 Hotline: the telephone line for critical e-mail sending outages."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from app.logging_redact import install as redact_logs
    from app.settings import SettingsError

    try:  # no phone number, e-mail, token or password in any log line, even with -v
        env = Settings.from_env()
        redact_logs(secrets=(env.twilio_auth_token, env.twilio_auth_token_secondary, env.secret_key))
    except SettingsError:  # the command reports the unreadable variable itself (``check`` lists them all)
        redact_logs(secrets=())


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="gunicorn worker processes (each runs --threads threads).")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option("--dev", is_flag=True, help="Flask's development server instead of gunicorn.")
def serve(host: str, port: int, workers: int, threads: int, dev: bool) -> None:
    """Run the web app (Twilio webhooks, dashboard, JSON API) with gunicorn, after the start-up checks."""
    from app.docstring_free import restart_without_docstrings

    restart_without_docstrings("serve")
    from app import create_app
    from app.startup import checked_settings

    hotline = _hotline(checked_settings("serve"))
    mode = "SIMULATED telephony" if hotline.settings.simulated_telephony else "Twilio"
    server = "Flask development server" if dev else f"gunicorn, {workers} worker(s) x {threads} threads"
    click.echo(f"Sev-1 Hotline on http://{host}:{port} ({mode}; {server}; "
               f"database {_safe_url(hotline.settings.resolved_database_url)})")
    if not hotline.settings.public_base_url and hotline.settings.link_base != f"http://localhost:{port}":
        click.echo(f"WARNING PUBLIC_BASE_URL: is not set, so the links in pages, SMS and e-mails and the URLs given "
                   f"to Twilio name {hotline.settings.link_base}, not this server on port {port}.\n"
                   f"        Fix: set PUBLIC_BASE_URL to the URL this server is reached at, e.g. "
                   f"PUBLIC_BASE_URL=http://localhost:{port}", err=True)
    app = create_app(hotline)
    if dev:
        app.run(host=host, port=port, threaded=True)
        return
    from app.serving import run_gunicorn

    run_gunicorn(app, hotline, host, port, workers, threads)


@main.command()
@click.option("--burst", is_flag=True, help="Run queued jobs, then exit.")
def worker(burst: bool) -> None:
    """Run an RQ worker with the scheduler, and the watchdog."""
    from app.docstring_free import restart_without_docstrings

    restart_without_docstrings("worker")
    from app.collector import freeze_for_collector
    from app.startup import checked_settings
    from workers.runner import run_worker

    hotline = _hotline(checked_settings("worker"))
    freeze_for_collector()  # a full collection then skips what start-up built: no 100 ms pause mid-page
    run_worker(hotline, burst=burst)


@main.command()
@click.option("--quiet", is_flag=True, help="Print only the problems.")
@click.option("--no-twilio", is_flag=True, help="Do not ask Twilio about the account and number.")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=60.0, show_default=True,
              help="Seconds the whole check may take; then it names the server it still waits for (an error).")
def check(quiet: bool, no_twilio: bool, time_limit: float) -> None:
    """Check the whole configuration; print each problem with its variable or YAML path and the fix."""
    from app.check_time_limit import within
    from app.config_check import run_checks

    report = within(time_limit, lambda report: run_checks(probe_twilio=not no_twilio, report=report))
    click.echo(report.text(show_passed=not quiet))
    sys.exit(1 if report.errors else 0)


@main.command("compile")
def compile_command() -> None:
    """Compile docstring-free bytecode after installing or upgrading: serve and worker then run as python -OO."""
    from app.docstring_free import KEEP_VARIABLE, compile_bytecode, uncompiled

    for tree in compile_bytecode():
        click.echo(f"some files in {tree} did not compile; they run from source")
    missing = uncompiled()
    if missing:
        click.echo(f"no docstring-free bytecode for {', '.join(missing)}: serve and worker keep their docstrings "
                   "(about 6 MB more per process); can this user write to the install?", err=True)
        sys.exit(1)
    click.echo(f"docstring-free bytecode compiled: serve and worker restart as python -OO (unless {KEEP_VARIABLE}=1)")


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply Alembic migrations (default: to the newest)."""
    from alembic.util import CommandError

    from app.migrate import upgrade_locked
    from app.probes import probe_engine, schema_state

    settings = Settings.from_env()
    settings.prepare_data_dir()
    url = settings.resolved_database_url

    def state_now():
        engine = probe_engine(url)
        try:
            return schema_state(engine)  # what the database is at now, not what was asked for
        finally:
            engine.dispose()

    before = state_now().describe()
    try:
        upgrade_locked(url, settings.data_dir, revision)
    except CommandError as exc:  # e.g. a revision that does not exist or lies behind the database's
        click.echo(f"hotline db upgrade {revision}: {exc}", err=True)
        sys.exit(2)
    after = state_now().describe()
    # an operator reads whether this run migrated anything (an older revision asked for migrates nothing either)
    done = "nothing to do" if after == before else f"migrated from: {before}"
    click.echo(f"database {after} ({done}): {_safe_url(url)}")


@main.group()
def tickets() -> None:
    """Support tickets synced from the helpdesk."""


@tickets.command("import", epilog=(
    "\b\nColumns (a header line names them, in any order; number and company are required):\n"
    "  number, company, status (open, pending, solved, closed), subject,\n"
    "  opened_at (ISO 8601 with offset), contact_name, contact_email,\n"
    "  contact_phone, contact_phone_alt (E.164, or national in DEFAULT_REGION),\n"
    "  tam_name, tam_email, tam_phone,\n"
    "  tam_time_zone (IANA, e.g. America/Los_Angeles; the TAM's hours are read in it),\n"
    "  tam_business_hours (e.g. \"mon-fri 09:00-17:00, sat 10:00-14:00\", quoted for its comma;\n"
    "    the TAM is texted or called in them, e-mailed outside them),\n"
    "  support_pin (4 to 8 digits, stored hashed; - removes it)\n"
    "Each row is its own transaction: bad rows are reported by line and the rest are imported."))
@click.argument("csv_file", type=INPUT_FILE)
def tickets_import(csv_file: Path) -> None:
    """Create or update tickets from a CSV file (header: number, company, status, ...)."""
    from app.services.ticket_import import ImportFileNotFound, TicketImportError, import_tickets_csv

    hotline = _ready_hotline()
    try:
        report = import_tickets_csv(hotline.db, csv_file, hotline.clock.now(), hotline.settings.default_region,
                                    hotline.settings.twilio_number)
    except ImportFileNotFound as exc:  # gone or unreadable since click looked
        raise click.BadParameter(str(exc), param_hint="'CSV_FILE'") from exc
    except TicketImportError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{report.created} created, {report.updated} updated, {len(report.errors)} rejected")
    for line_no, message in report.errors:
        click.echo(f"  line {line_no}: {message}", err=True)
    if report.errors:
        sys.exit(1)


@main.group("api-token")
def api_token() -> None:
    """Bearer tokens for the JSON API."""


@api_token.command("create")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, metavar="SCOPE",
              help="tickets:write (the default), incidents:read, oncall:read, oncall:admin or accounts:admin "
                   "(with tickets:write: an account's TAM and support PIN); repeat for more.")
def api_token_create(name: str, scopes: tuple[str, ...]) -> None:
    """Create a token; it is shown once and stored only as a hash."""
    from app.services.api_tokens import DEFAULT_SCOPES, InvalidScope, InvalidTokenName, create_token

    hotline = _ready_hotline()
    try:
        with hotline.db.transaction() as session:
            token = create_token(session, name, hotline.clock.now(), scopes=scopes or DEFAULT_SCOPES)
    except InvalidScope as exc:
        raise click.BadParameter(str(exc), param_hint="'--scope'") from exc
    except InvalidTokenName as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(token)


@api_token.command("list")
def api_token_list() -> None:
    """Every token: id, name, scopes, and whether it is revoked (never the token itself)."""
    from app.services.api_tokens import list_tokens

    hotline = _ready_hotline()
    with hotline.db.session() as session:
        for token in list_tokens(session):
            state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
            click.echo(f"{token.id}\t{token.name}\t{token.scopes or '-'}\t{state}")


@api_token.command("revoke")
@click.argument("name")
def api_token_revoke(name: str) -> None:
    """Revoke the token with this name (or, when no active token has it, the one with this id)."""
    from app.services.api_tokens import UnknownToken, revoke_token

    hotline = _ready_hotline()
    try:
        with hotline.db.transaction() as session:
            revoked = [token.name for token in revoke_token(session, name, hotline.clock.now())]
    except UnknownToken as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"revoked the token named {revoked[0]}")


@main.group()
def oncall() -> None:
    """Reps, schedules, overrides and escalation policies."""


@oncall.command("import")
@click.argument("yaml_file", type=INPUT_FILE)
def oncall_import(yaml_file: Path) -> None:
    """Create or update reps, schedules, overrides and policies from a YAML file."""
    from app.oncall.errors import OnCallConfigError
    from app.services.oncall_yaml import import_yaml

    try:
        text = yaml_file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:  # its contents refused, as `tickets import` refuses them
        raise click.ClickException(f"{yaml_file}: the file is not UTF-8 text ({exc.reason}) (nothing was changed)") from exc
    except OSError as exc:  # gone or unreadable since click looked
        raise click.BadParameter(f"{yaml_file}: {exc.strerror}", param_hint="'YAML_FILE'") from exc
    hotline = _ready_hotline()
    try:
        with hotline.db.transaction() as session:
            summary = import_yaml(session, text, hotline.clock.now(), hotline.settings.callback_sla_minutes,
                                      hotline.settings.twilio_number)
    except OnCallConfigError as exc:
        raise click.ClickException(f"{yaml_file}: {exc} (nothing was changed)") from exc
    click.echo(str(summary))
    for warning in summary.warnings:
        click.echo(f"warning: {warning}", err=True)


@oncall.command("export")
def oncall_export() -> None:
    """Print the whole on-call configuration as YAML (the format `oncall import` reads)."""
    from app.services.oncall_yaml import export_yaml

    hotline = _ready_hotline()
    with hotline.db.session() as session:
        click.echo(export_yaml(session), nl=False)


@oncall.command("now")
@click.option("--at", "at_text", default="", help="An ISO 8601 instant with offset (default: now).")
def oncall_now(at_text: str) -> None:
    """Print who is on call on every schedule, and the managers."""
    from app.oncall.errors import OnCallConfigError
    from app.oncall.fields import instant_field
    from app.services.oncall import format_now

    hotline = _ready_hotline()
    try:
        at = instant_field(at_text, "--at") if at_text else hotline.clock.now()
    except OnCallConfigError as exc:
        raise click.BadParameter(exc.message, param_hint="'--at'") from exc
    with hotline.db.session() as session:
        click.echo(format_now(session, at))


@main.group()
def users() -> None:
    """Dashboard users (the first admin is created here)."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(["rep", "manager", "admin"]))
@click.option("--rep", "rep_name", default="", help="Link the user to this on-call rep.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def users_create(email: str, name: str, role: str, rep_name: str, password_stdin: bool) -> None:
    """Create a dashboard user; the password is asked for twice, hidden, unless --password-stdin."""
    from app.services.users import InvalidUser, check_identity, create_user, unlinked_warning

    try:  # before the password is asked for twice
        check_identity(email, name)
    except InvalidUser as exc:
        raise click.ClickException(str(exc)) from exc
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    hotline = _ready_hotline()
    try:
        with hotline.db.transaction() as session:
            user = create_user(session, email, name, password, role, hotline.clock.now(), rep_name=rep_name or None)
    except InvalidUser as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"created {user.role} {user.email} (id {user.id})")
    if warning := unlinked_warning(user):
        click.echo(f"warning: {warning}", err=True)


@main.command()
@click.option("--url", default="", help="A running `hotline serve` (default: in-process app).")
@click.option("--caller", "caller", default="+14155550100", show_default=True, help="Caller ID to present.")
def simulate(url: str, caller: str) -> None:
    """An interactive phone in the terminal: type digits, words, or /silence /record /hangup."""
    from urllib.parse import urlsplit

    from hotline_sim.console import run_console

    parts = urlsplit(url)
    if url and (parts.scheme.lower() not in ("http", "https") or not parts.hostname):
        raise click.BadParameter(f"{url!r} is no http:// or https:// address (e.g. http://127.0.0.1:8000)",
                                 param_hint="'--url'")
    run_console(_ready_hotline(), server_url=url, caller=caller)


@main.command()
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the demo keeps its database and embedded Redis (default: a temp dir, removed at the end).")
def demo(data_dir: Path | None) -> None:
    """A scripted Sev-1 call end to end on embedded defaults."""
    from hotline_sim.demo import run_demo

    _exit_on_sigterm()  # its embedded redis-server and temp dir are cleaned up on SIGTERM/SIGHUP too
    run_demo(data_dir)


def _ready_hotline() -> Hotline:
    """A hotline from the environment, with its schema brought up to date, on the time serve and worker keep.

    Its "now" is the reference clock's (``Hotline.keep_reference_time``; an offset over the bound is logged with
    it): on a host 10 minutes slow, `oncall import` took the rep on call off mid-shift (it kept the shift before
    the hand-off) and `oncall now` named the rep before the hand-off.
    """
    from app.migrate import upgrade_locked

    settings = Settings.from_env()
    settings.prepare_data_dir()
    upgrade_locked(settings.resolved_database_url, settings.data_dir)
    hotline = _hotline(settings)
    hotline.keep_reference_time()
    return hotline


def _hotline(settings: Settings) -> Hotline:
    """Wire the hotline for this command; its embedded redis-server (if any) stops when the command ends."""
    from app.wiring import Hotline

    _exit_on_sigterm()  # before the embedded redis-server starts (RQ's worker installs its own later)
    hotline = Hotline.build(settings)
    _stop_embedded_redis_on_exit(hotline)
    return hotline


def _stop_embedded_redis_on_exit(hotline: Hotline) -> None:
    """When the command ends (normally, on error or on SIGTERM), stop the embedded redis-server it started."""
    from app.embedded_redis import stop_embedded

    context = click.get_current_context(silent=True)
    if context is not None:
        context.call_on_close(lambda: stop_embedded(hotline.jobs.redis))


def _exit_on_sigterm() -> None:
    """SIGTERM and SIGHUP (a closed terminal) end the process through SystemExit, so the cleanup above still runs.

    A SIGHUP that is ignored (``nohup``) stays ignored.
    """
    import signal

    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(0))
    if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
        signal.signal(signal.SIGHUP, lambda _signum, _frame: sys.exit(0))


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@db.command("rebuild-facts")
def db_rebuild_facts() -> None:
    """Recompute the compliance report's incident_facts table from the append-only event log alone."""
    from app.reports.facts_sync import rebuild_facts

    hotline = _ready_hotline()
    with hotline.db.engine.begin() as connection:
        written = rebuild_facts(connection)
    click.echo(f"incident facts rebuilt from the event log: {written} incidents")


if __name__ == "__main__":  # `python -m app.cli ...` runs the `hotline` command, as the installed entry point does
    main()
