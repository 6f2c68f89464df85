"""A host whose SECRET_KEY differs from the deployment's workers' is named by `hotline check`, at start and in /healthz.

An outside probe's second web host (SECRET_KEY=ffff..., the deployment's DATABASE_URL, REDIS_URL, QUEUE_NAME and
PUBLIC_BASE_URL) passed `hotline check` with 0 errors and answered /healthz "ok" with no warning, and refused as "not
valid" the acknowledgement link of every page SMS the deployment's workers had signed.
"""

from __future__ import annotations

import re

from app import create_app
from app.config_check import CheckReport, Role, run_checks
from app.health import OTHER_SECRET_KEY
from app.key_fingerprints import BREAKS, FINGERPRINTS_KEY, FIX, ROLLING
from app.services.page_urls import PageUrls
from app.wiring import Hotline
from tests.conftest import REDIS_URL
from workers import watchdog

DEPLOYMENT_KEY = "d" * 52
OTHER_KEY = "f" * 52


def _check(hotline: Hotline, secret_key: str, role: Role = Role.CHECK) -> CheckReport:
    settings = hotline.settings
    env = {"HOTLINE_DATA_DIR": str(settings.data_dir), "DATABASE_URL": settings.database_url, "REDIS_URL": REDIS_URL,
           "QUEUE_NAME": settings.queue_name, "SECRET_KEY": secret_key, "PUBLIC_BASE_URL": settings.public_base_url}
    return run_checks(env, role=role, clock=hotline.clock, probe_twilio=False)


def _other_key(report: CheckReport) -> list[str]:
    return ["\n".join(p.lines()) for p in report.problems if p.where == "SECRET_KEY" and "signs with" in p.message]


def _host(hotline: Hotline, secret_key: str) -> Hotline:
    """Another host of the deployment (its database, Redis and QUEUE_NAME) with ``secret_key``."""
    return Hotline.build(hotline.settings.with_overrides(secret_key=secret_key), clock=hotline.clock, jobs=hotline.jobs)


def test_a_worker_signing_with_another_secret_key_is_an_error_of_check_and_a_warning_at_start(hotline):
    watchdog.tick(_host(hotline, DEPLOYMENT_KEY), "host-a:10")  # the deployment's `hotline worker` passes
    assert _other_key(_check(hotline, DEPLOYMENT_KEY)) == []  # a host with the deployment's key: no problem
    [line] = _other_key(_check(hotline, OTHER_KEY))
    assert line.startswith("ERROR   SECRET_KEY: a hotline worker running now (host-a:10) signs with another SECRET_KEY "
                           "than this host's settings: the acknowledgement links in the page SMS")
    assert "dashboard session" in line and "a rolling change of SECRET_KEY shows this until every worker" in line
    assert "fix: set one SECRET_KEY on every host" in line
    for role in (Role.SERVE, Role.WORKER):  # serve and worker still start, and say so
        report = _check(hotline, OTHER_KEY, role)
        [line] = _other_key(report)
        assert line.startswith("WARNING SECRET_KEY: a hotline worker running now (host-a:10) signs with another")
        assert not [p for p in report.errors if p.where == "SECRET_KEY"]
    hotline.clock.advance(seconds=120)  # that worker stopped a while ago
    assert _other_key(_check(hotline, OTHER_KEY)) == []


def test_a_rolling_change_of_the_key_names_the_workers_not_restarted_yet(hotline):
    watchdog.tick(_host(hotline, DEPLOYMENT_KEY), "host-a:10")  # not restarted yet
    watchdog.tick(_host(hotline, OTHER_KEY), "host-b:20")  # restarted with the new key
    [line] = _other_key(_check(hotline, OTHER_KEY))
    assert "(host-a:10)" in line and "host-b:20" not in line
    hotline.clock.advance(seconds=61)  # host-a restarted with the new key too
    watchdog.tick(_host(hotline, OTHER_KEY), "host-a:11")
    assert _other_key(_check(hotline, OTHER_KEY)) == []


def test_a_host_without_secret_key_signs_with_its_own_and_is_named_beside_the_deployments_workers(hotline):
    watchdog.tick(_host(hotline, DEPLOYMENT_KEY), "host-a:10")
    hotline.settings.signing_key()  # this host's random key, made in its data dir by its serve or worker
    report = _check(hotline, "")
    [line] = _other_key(report)
    assert "(unset here: this host signs with a random key of its own HOTLINE_DATA_DIR)" in line


def test_what_a_worker_announces_reveals_nothing_of_its_key(hotline):
    watchdog.tick(_host(hotline, DEPLOYMENT_KEY), "host-a:10")
    announced = hotline.jobs.redis.hgetall(FINGERPRINTS_KEY.format(hotline.settings.queue_name))
    [(fingerprint, value)] = announced.items()
    assert re.fullmatch(rb"[0-9a-f]{12}", fingerprint) and value.endswith(b" host-a:10")
    assert b"d" * 8 not in fingerprint + value


def test_healthz_of_a_web_process_with_another_secret_key_warns(hotline):
    watchdog.tick(_host(hotline, DEPLOYMENT_KEY), "host-a:10")
    host2 = _host(hotline, OTHER_KEY)
    client = create_app(host2).test_client()
    link = PageUrls(_host(hotline, DEPLOYMENT_KEY).settings).ack_link(1, hotline.clock.now())
    assert "not valid" in client.get(link.removeprefix(hotline.settings.link_base)).get_data(as_text=True)
    answer = client.get("/healthz")
    warning = OTHER_SECRET_KEY.format(count=1, breaks=BREAKS, fix=FIX, rolling=ROLLING)
    assert answer.status_code == 200 and warning in answer.get_json()["warnings"]  # a warning, never a 503
    assert "acknowledgement links" in warning and "SECRET_KEY" in warning

    hotline.clock.advance(seconds=120)  # the deployment's workers restarted with host2's key
    watchdog.tick(host2, "host-a:11")
    assert not [w for w in client.get("/healthz").get_json()["warnings"] if "SECRET_KEY" in w]
