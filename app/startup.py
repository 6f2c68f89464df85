"""What ``serve`` and ``worker`` do before they start, and how any command reports a configuration mistake."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import click

from app.config_check import Role, run_checks
from app.probes import first_line
from app.settings import Settings, SettingsError

log = logging.getLogger(__name__)


def checked_settings(role: str) -> Settings:
    """Settings that passed the start-up checks for ``role`` (schema migrated under a lock); exit 2 on an error."""

    def migrate(settings: Settings) -> None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if role == "worker":
            _upgrade_in_child()
            return
        from app.migrate import upgrade_locked

        upgrade_locked(settings.resolved_database_url, settings.data_dir)

    report = run_checks(role=Role(role), migrate=migrate)
    for problem in report.warnings:
        click.echo("\n".join(problem.lines()), err=True)
    if report.errors:
        for problem in report.errors:
            click.echo("\n".join(problem.lines()), err=True)
        click.echo(f"hotline {role} did not start: {len(report.errors)} configuration error(s). "
                   "`hotline check` shows the whole configuration.", err=True)
        raise SystemExit(2)
    assert report.settings is not None
    return report.settings


def _upgrade_in_child() -> None:
    """``hotline db upgrade`` in a child process: the worker runs for months and never needs Alembic (~11 MB) again."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", "from app.cli import main; main()", "db", "upgrade"],
                          capture_output=True, text=True, check=False)
    if done.returncode:
        lines = [line for line in (done.stderr or done.stdout).strip().splitlines() if line.strip()]
        raise RuntimeError(lines[-1] if lines else f"`hotline db upgrade` exited with {done.returncode}")


@contextmanager
def configuration_errors() -> Iterator[None]:
    """Turn a configuration mistake raised anywhere in a command into one line naming the variable (exit 2)."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

    try:
        yield
    except SettingsError as exc:
        _fail(str(exc))
    except (OperationalError, NoSuchModuleError, ArgumentError) as exc:
        _fail(f"DATABASE_URL: the database cannot be used: {first_line(getattr(exc, 'orig', None) or exc)}. "
              "Fix: start the database or correct DATABASE_URL; `hotline check` shows the whole configuration.")
    except RedisConnectionError as exc:
        _fail(f"REDIS_URL: Redis does not answer: {first_line(exc)}. "
              "Fix: start Redis or correct REDIS_URL; `hotline check` shows the whole configuration.")


def _fail(message: str) -> None:
    click.echo(f"configuration error: {message}", err=True)
    raise SystemExit(2)


def hotline_from_environment():
    """A Hotline from the environment for ``create_app()`` under a WSGI server; a bad setting exits, no traceback.

    Exit code 3 is gunicorn's "worker failed to boot": the master stops instead of respawning.
    """
    import sys

    from app.wiring import Hotline

    try:
        return Hotline.build(Settings.from_env())
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(3) from None
