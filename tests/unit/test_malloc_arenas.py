"""One malloc arena per process (app/malloc_arenas.py), counted by glibc's own statistics."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt and malloc_stats are glibc's")

ROOT = Path(__file__).resolve().parents[2]
# Four threads each allocate (past Python's small-object allocator, so through malloc) while the
# others still hold their blocks; then glibc prints one "Arena N:" section per arena to stderr.
PROGRAM = r"""
import ctypes, sys, threading
from app.malloc_arenas import share_one_arena
shared = share_one_arena() if sys.argv[1] == "share" else None
ready, done = threading.Barrier(5), threading.Event()
def allocate():
    blocks = [bytearray(4096) for _ in range(100)]
    ready.wait()
    done.wait()
threads = [threading.Thread(target=allocate) for _ in range(4)]
for thread in threads:
    thread.start()
ready.wait()
print(shared, flush=True)
ctypes.CDLL(None).malloc_stats()
done.set()
"""


def _arenas(mode: str, **env: str) -> tuple[str, int]:
    environ = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    done = subprocess.run([sys.executable, "-c", PROGRAM, mode], capture_output=True, text=True, check=True,
                          cwd=ROOT, env={**environ, "PYTHONPATH": str(ROOT), **env}, timeout=60)
    arenas = [line for line in done.stderr.splitlines() if line.startswith("Arena ")]
    return done.stdout.strip(), len(arenas)


def test_threads_share_one_arena():
    assert _arenas("share") == ("True", 1)


def test_without_it_each_thread_takes_an_arena_of_its_own():
    shared, arenas = _arenas("leave")
    assert shared == "None"
    assert arenas == 5  # the main thread's and one per allocating thread


def test_an_operators_malloc_arena_max_is_left_in_force():
    assert _arenas("share", MALLOC_ARENA_MAX="3") == ("False", 3)


# 40 MB freed in 4 KB blocks below a block still held: glibc keeps it (only the heap's top is given
# back on free), until a trim; RSS in MB before the trim, after it, and what the trim answered.
TRIM_PROGRAM = r"""
import ctypes
from app.malloc_arenas import HeapTrim
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 1048576
blocks = [libc.malloc(4096) for _ in range(10240)]
for block in blocks:
    ctypes.memset(block, 1, 4096)
fence = libc.malloc(64)
for block in blocks:
    libc.free(block)
before = rss()
trimmed = HeapTrim()()
print(before, rss(), trimmed)
"""


def test_a_trim_gives_freed_heap_pages_back():
    done = subprocess.run([sys.executable, "-c", TRIM_PROGRAM], capture_output=True, text=True, check=True,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    before, after, trimmed = done.stdout.split()
    assert trimmed == "True"
    assert float(before) - float(after) > 30


def test_gunicorn_trims_after_a_page_and_not_after_a_webhook(monkeypatch):
    from app import serving

    trims: list[str] = []
    monkeypatch.setattr(serving, "_trim", lambda: trims.append("trim"))
    serving._trim_after_page(None, None, {"PATH_INFO": "/twilio/voice/step"}, None)
    assert trims == []
    serving._trim_after_page(None, None, {"PATH_INFO": "/reports/compliance.csv"}, None)
    assert trims == ["trim"]
    server = serving.HotlineServer(None, None, serving.gunicorn_options("127.0.0.1", 0, 1))  # type: ignore[arg-type]
    server.cfg.post_request(None, None, {"PATH_INFO": "/board"}, None)  # what gunicorn calls after a response
    assert trims == ["trim", "trim"]
