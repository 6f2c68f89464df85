"""The ``hotline`` command: serve, worker, db, tickets, api-token, simulate, demo."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from app.settings import Settings
from app.wiring import Hotline


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log at INFO level.")
def main(verbose: bool) -> None:
    """Sev-1 Hotline: the telephone line for critical e-mail sending outages."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Run the web app (Twilio webhooks and JSON API). Production: gunicorn 'app:create_app()'."""
    from app import create_app

    hotline = _ready_hotline()
    mode = "SIMULATED telephony" if hotline.settings.simulated_telephony else "Twilio"
    click.echo(f"Sev-1 Hotline on http://{host}:{port} ({mode}; database {hotline.db.engine.url!r})")
    create_app(hotline).run(host=host, port=port, threaded=True)


@main.command()
@click.option("--burst", is_flag=True, help="Run queued jobs, then exit.")
def worker(burst: bool) -> None:
    """Run an RQ worker with the scheduler, and the watchdog."""
    from workers.runner import run_worker

    run_worker(_ready_hotline(), burst=burst)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply Alembic migrations (default: to the newest)."""
    from app.migrate import upgrade

    settings = Settings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url, revision)
    click.echo(f"database at {revision}: {_safe_url(settings.resolved_database_url)}")


@main.group()
def tickets() -> None:
    """Support tickets synced from the helpdesk."""


@tickets.command("import")
@click.argument("csv_file", type=click.Path(dir_okay=False, path_type=Path))
def tickets_import(csv_file: Path) -> None:
    """Create or update tickets from a CSV file (header: number, company, status, ...)."""
    from app.services.ticket_import import TicketImportError, import_tickets_csv

    hotline = _ready_hotline()
    try:
        report = import_tickets_csv(hotline.db, csv_file, hotline.clock.now(), hotline.settings.default_region)
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
def api_token_create(name: str) -> None:
    """Create a token; it is shown once and stored only as a hash."""
    from app.services.api_tokens import InvalidTokenName, create_token

    hotline = _ready_hotline()
    try:
        with hotline.db.transaction() as session:
            token = create_token(session, name, hotline.clock.now())
    except InvalidTokenName as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(token)


@api_token.command("revoke")
@click.argument("name")
def api_token_revoke(name: str) -> None:
    """Revoke the token(s) with this name."""
    from app.services.api_tokens import UnknownToken, revoke_token

    hotline = _ready_hotline()
    try:
        with hotline.db.transaction() as session:
            revoked = revoke_token(session, name, hotline.clock.now())
    except UnknownToken as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"revoked {len(revoked)} token(s) named {name}")


@main.group()
def oncall() -> None:
    """Reps, schedules, overrides and escalation policies."""


@oncall.command("import")
@click.argument("yaml_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def oncall_import(yaml_file: Path) -> None:
    """Create or update reps, schedules, overrides and policies from a YAML file."""
    from app.oncall.errors import OnCallConfigError
    from app.services.oncall_yaml import import_yaml

    hotline = _ready_hotline()
    try:
        with hotline.db.transaction() as session:
            summary = import_yaml(session, yaml_file.read_text(encoding="utf-8"), hotline.clock.now())
    except OnCallConfigError as exc:
        raise click.ClickException(f"{yaml_file}: {exc} (nothing was changed)") from exc
    click.echo(str(summary))


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
        raise click.ClickException(str(exc)) from exc
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
    from app.services.users import InvalidUser, create_user

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


@main.command()
@click.option("--url", default="", help="A running `hotline serve` (default: in-process app).")
@click.option("--caller", "caller", default="+14155550100", show_default=True, help="Caller ID to present.")
def simulate(url: str, caller: str) -> None:
    """An interactive phone in the terminal: type digits, words, or /silence /record /hangup."""
    from hotline_sim.console import run_console

    run_console(_ready_hotline(), server_url=url, caller=caller)


@main.command()
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the demo keeps its database and embedded Redis (default: a new temp dir).")
def demo(data_dir: Path | None) -> None:
    """A scripted Sev-1 call end to end on embedded defaults."""
    from hotline_sim.demo import run_demo

    run_demo(data_dir)


def _ready_hotline() -> Hotline:
    """A hotline from the environment, with its schema brought up to date."""
    from app.migrate import upgrade

    settings = Settings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
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
    """SIGTERM ends the process through SystemExit, so the cleanup above still runs."""
    import signal

    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(0))


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
