"""What ``serve`` and ``worker`` do before they start, and how any command reports a configuration mistake."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import click

from app.settings import Settings, SettingsError

log = logging.getLogger(__name__)
T = TypeVar("T")


def checked_settings(role: str) -> Settings:
    """Settings that passed the start-up checks for ``role`` (schema migrated under a lock); exit 2 on an error.

    The checks run in a forked child: what they import (RQ, the watchdog's modules, the
    probes) and the garbage they leave would otherwise stay in this process, and gunicorn's
    workers and RQ's scheduler are forked from it (RSS counts those pages in each).
    """
    report = in_forked_child(_run_checks, role)
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


def _run_checks(role: str):
    from app.config_check import Role, run_checks

    return run_checks(role=Role(role), migrate=migrate_in_child)


def in_forked_child(function: Callable[..., T], *args: object) -> T:
    """``function(*args)`` computed in a forked child; its result (or exception) comes back pickled."""
    import os
    import pickle
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: answer through the pipe, then leave without running any exit handler
        try:
            os.close(read)
            try:
                payload = pickle.dumps((True, function(*args)))
            except BaseException as exc:  # noqa: BLE001 - handed to the parent, which raises it
                payload = _pickled_failure(exc)
            with os.fdopen(write, "wb") as out:
                out.write(payload)
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as answer:
        payload = answer.read()
    os.waitpid(pid, 0)
    if not payload:
        raise RuntimeError("the start-up checks ended without an answer")
    ok, value = pickle.loads(payload)
    if not ok:
        raise value
    return value


def _pickled_failure(exc: BaseException) -> bytes:
    import pickle

    try:
        payload = pickle.dumps((False, exc))
        pickle.loads(payload)  # an exception whose constructor takes other arguments cannot come back
        return payload
    except Exception:  # noqa: BLE001
        return pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}")))


def migrate_in_child(settings: Settings) -> None:
    """Bring the schema to head under the migration lock, in a child interpreter, unless it is there already.

    ``serve`` and ``worker`` never import Alembic themselves: gunicorn's workers and RQ's
    scheduler are forked from them and would each carry its ~11 MB. Raises with the child's
    last line of error output when the migration fails.
    """
    import os
    import subprocess
    import sys

    from app.probes import SchemaAheadError, probe_engine, schema_state

    url = settings.resolved_database_url
    engine = probe_engine(url)
    try:
        state = schema_state(engine)
        if state.at_head:
            return
        if state.ahead:
            raise SchemaAheadError(state)
    finally:
        engine.dispose()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([sys.executable, "-m", "app.migrate", str(settings.data_dir)],
                          env={**os.environ, MIGRATE_URL_VARIABLE: url}, capture_output=True, text=True)
    if done.returncode:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise RuntimeError(lines[-1] if lines else f"the migration exited with code {done.returncode}")


MIGRATE_URL_VARIABLE = "HOTLINE_MIGRATE_URL"  # the URL goes to the child in its environment, not on a command line


@contextmanager
def configuration_errors() -> Iterator[None]:
    """Turn a configuration mistake raised anywhere in a command into one line naming the variable (exit 2)."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

    from app.probes import SchemaAheadError

    try:
        yield
    except (SettingsError, SchemaAheadError) as exc:
        _fail(str(exc))
    except (OperationalError, NoSuchModuleError, ArgumentError) as exc:
        from app.probes import first_line

        _fail(f"DATABASE_URL: the database cannot be used: {first_line(getattr(exc, 'orig', None) or exc)}. "
              "Fix: start the database or correct DATABASE_URL; `hotline check` shows the whole configuration.")
    except RedisConnectionError as exc:
        from app.probes import first_line

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
