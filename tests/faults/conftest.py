"""The paging harness (simulated Twilio over HTTP, scripted phones, fake clock) for the fault tests, a
redis-server of a test's own, and a proxy that can freeze the test PostgreSQL."""

import shutil

import pytest
from sqlalchemy.engine import make_url

from tests.faults.freezable_proxy import FreezableProxy
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


@pytest.fixture
def proxied(database_url):
    """A FreezableProxy in front of the test PostgreSQL, and the database URL that goes through it."""
    url = make_url(database_url)
    proxy = FreezableProxy((url.host or "127.0.0.1", url.port or 5432))
    yield proxy, url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    proxy.close()
