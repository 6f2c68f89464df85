"""Real headless Chromium (Debian's, driven by Playwright) against the app on a local port."""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app import create_app
from app.queue import JobQueue
from app.settings import Settings
from app.wiring import Hotline
from tests.browser.seed import seed
from tests.conftest import REQUIRE_ALL
from tests.fakes import FakeClock

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"  # `npm ci --prefix tests/browser`
DOCS_SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                  "--disable-background-networking", "--disable-component-update"]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The hotline on 127.0.0.1:<port>, seeded with incidents, reps and users; yields (base_url, hotline)."""
    from redis import Redis

    from app.migrate import upgrade
    from tests.conftest import REDIS_URL

    data = tmp_path_factory.mktemp("browser")
    clock = FakeClock()
    server_holder: dict = {}
    settings = Settings(data_dir=data / "data", database_url=f"sqlite:///{data / 'hotline.db'}",
                        queue_name=f"browser-{uuid.uuid4().hex[:8]}", public_base_url="")
    upgrade(settings.resolved_database_url)
    redis = Redis.from_url(REDIS_URL)
    hotline = Hotline.build(settings, clock=clock, jobs=JobQueue(redis, settings.queue_name))
    seed(hotline)
    clock.advance(minutes=5)  # "now" is five minutes after the newest incident opened
    server = make_server("127.0.0.1", 0, create_app(hotline), threaded=True)
    server_holder["thread"] = threading.Thread(target=server.serve_forever, daemon=True)
    server_holder["thread"].start()
    yield f"http://127.0.0.1:{server.server_port}", hotline
    server.shutdown()
    hotline.db.dispose()
    redis.flushdb()  # the jobs the seeded incidents queued (the database is this test process's, as redis_conn's)
    redis.close()


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium; a missing browser fails in CI and skips elsewhere."""
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if REQUIRE_ALL:
            pytest.fail(f"Chromium required for browser tests but not found at {CHROMIUM}")
        pytest.skip(f"no Chromium at {CHROMIUM}")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (no cookies) sized like a phone."""
    context = browser.new_context(viewport={"width": 412, "height": 915}, accept_downloads=True)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="session")
def shots(tmp_path_factory) -> Path:
    """Where screenshots go: a temporary folder, or docs/screenshots when HOTLINE_REFRESH_SCREENSHOTS=1."""
    if os.environ.get("HOTLINE_REFRESH_SCREENSHOTS") == "1":
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        return DOCS_SHOTS
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's script from the npm registry; missing, it fails in CI and skips elsewhere."""
    if not AXE.exists():
        message = f"axe-core not installed at {AXE}: run `npm ci --prefix tests/browser`"
        if REQUIRE_ALL:
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text(encoding="utf-8")


def log_in(page, base_url: str, email: str, password: str) -> None:
    """Log in through the real form."""
    page.goto(f"{base_url}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/board")


__all__ = ["DOCS_SHOTS", "log_in", "timedelta"]
