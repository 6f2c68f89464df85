"""A PostgreSQL that accepts connections and never answers ends every command with the variable named, never a hang."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import event

from app.probes import CONNECT_TIMEOUT_SECONDS, probe_engine
from tests.conftest import REDIS_URL

LIMIT_SECONDS = 60  # the command must end long before this; without a connect timeout it waits for ever


@pytest.fixture
def black_hole() -> Iterator[int]:
    """A port whose kernel completes the TCP handshake (listen backlog) while nobody ever reads or answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


@pytest.mark.parametrize("args", [("db", "upgrade"), ("oncall", "now")])
def test_commands_on_a_database_that_never_answers_give_up_and_name_database_url(tmp_path, black_hole, args):
    env = {**os.environ, "HOTLINE_DATA_DIR": str(tmp_path / "data"), "REDIS_URL": REDIS_URL,
           "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{black_hole}/x"}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", "from app.cli import main; main()", *args], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=LIMIT_SECONDS)
    took = time.monotonic() - started
    assert done.returncode == 2, done.stdout + done.stderr
    assert "configuration error: DATABASE_URL" in done.stderr and "timeout expired" in done.stderr
    assert "Traceback" not in done.stderr
    assert CONNECT_TIMEOUT_SECONDS <= took < LIMIT_SECONDS


class _Stop(Exception):
    pass


def _connect_params(url: str) -> dict:
    """The keyword arguments ``probe_engine(url)`` would hand psycopg2 (caught before any connection is made)."""
    engine = probe_engine(url)
    seen: dict = {}

    def capture(_dialect, _record, _cargs, cparams):
        seen.update(cparams)
        raise _Stop

    event.listen(engine, "do_connect", capture)
    try:
        with pytest.raises(_Stop):
            engine.connect()
    finally:
        engine.dispose()
    return seen


def test_the_probe_engine_keeps_a_connect_timeout_the_url_sets_itself():
    assert _connect_params("postgresql+psycopg2://u@127.0.0.1:1/x")["connect_timeout"] == CONNECT_TIMEOUT_SECONDS
    assert _connect_params("postgresql+psycopg2://u@127.0.0.1:1/x?connect_timeout=17")["connect_timeout"] == "17"
