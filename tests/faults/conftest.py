"""The paging harness (simulated Twilio over HTTP, scripted phones, fake clock) for the fault tests, and a
redis-server of a test's own."""

import shutil

import pytest

from tests.faults.own_processes import RedisServer
from tests.paging.conftest import desk, hotline, network, twilio  # noqa: F401 - fixtures shared with tests/paging


@pytest.fixture
def redis_server_of_its_own():
    """A redis-server for this test alone (a ``hotline`` command under test points at it), killed at the end."""
    if shutil.which("redis-server") is None:
        pytest.skip("no redis-server on PATH")
    server = RedisServer()
    yield server
    server.kill()
