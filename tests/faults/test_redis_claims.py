"""The Redis databases test runs and benchmarks claim (``hotline_sim.redis_claim``): a claim left by a process that
is gone (pytest-xdist ends its workers without their exit handlers) is taken over, a live one never is."""

from __future__ import annotations

import os
import subprocess
import sys

from hotline_sim.redis_claim import claim


def _finished_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_claim_whose_process_is_gone_is_taken_over_and_a_live_ones_is_not(redis_server_of_its_own):
    server = redis_server_of_its_own
    server.client.set("hotline-test-db:4", _finished_pid())  # left by a run killed without its exit handlers
    server.client.set("hotline-test-db:5", os.getppid())  # a live process: the one that started this test
    assert claim(4, port=server.port) == 4
    assert server.client.get("hotline-test-db:4") == str(os.getpid()).encode()
    assert claim(5, port=server.port) == 6  # the live claim stands; the next free database is taken
    assert server.client.get("hotline-test-db:5") == str(os.getppid()).encode()


def test_with_every_database_claimed_by_live_processes_the_first_is_used(redis_server_of_its_own):
    server = redis_server_of_its_own
    for db in range(1, 16):
        server.client.set(f"hotline-test-db:{db}", os.getppid())
    assert claim(9, port=server.port) == 9
    assert all(server.client.get(f"hotline-test-db:{db}") == str(os.getppid()).encode() for db in range(1, 16))
