"""Two deployments (two databases) whose workers share one Redis and one QUEUE_NAME are named by `hotline check`.

A staging install pointed at production's Redis (the same REDIS_URL, QUEUE_NAME left at its default) has its
workers take production's jobs: each looks the page or step up in its own database, finds another row or none,
and production's pages leave only at its watchdog's takeover, seconds late, while each side's checks said
"2 RQ worker(s) listen on queue 'hotline'", 0 errors (seen with two `hotline worker` processes on one Redis).
"""

from __future__ import annotations

from sqlalchemy import delete, insert, select

from app.config_check import CheckReport, Role, run_checks
from app.models import Base, Lease
from app.queue import JobQueue, announce_deployment
from app.services import leases
from app.wiring import Hotline
from tests.conftest import REDIS_URL
from workers import watchdog

STAGING_URL = "https://staging-hotline.example.com"


def _check(hotline: Hotline, role: Role = Role.CHECK) -> CheckReport:
    settings = hotline.settings
    env = {"HOTLINE_DATA_DIR": str(settings.data_dir), "DATABASE_URL": settings.database_url, "REDIS_URL": REDIS_URL,
           "QUEUE_NAME": settings.queue_name, "SECRET_KEY": "k" * 40, "PUBLIC_BASE_URL": settings.public_base_url}
    return run_checks(env, role=role, clock=hotline.clock, probe_twilio=False)


def _shared(report: CheckReport) -> list[str]:
    return ["\n".join(p.lines()) for p in report.problems if "another database" in p.message]


def _other_deployment(hotline: Hotline, tmp_path, public_base_url: str = STAGING_URL) -> Hotline:
    """A second install on its own (SQLite) database and public URL, with the same Redis and QUEUE_NAME."""
    settings = hotline.settings.with_overrides(database_url=f"sqlite:///{tmp_path / 'staging.db'}",
                                               data_dir=tmp_path / "staging", public_base_url=public_base_url)
    other = Hotline.build(settings, clock=hotline.clock, jobs=hotline.jobs)
    Base.metadata.create_all(other.db.engine)
    return other


def _restored_from(prod: Hotline, staging: Hotline) -> None:
    """Give ``staging`` the rows of prod's leases table, as a restore of prod's dump does (the deployment row with
    them), after prod's workers ran."""
    with prod.db.session() as session:
        rows = [{c.name: getattr(lease, c.name) for c in Lease.__table__.columns}
                for lease in session.scalars(select(Lease))]
    with staging.db.transaction() as session:
        session.execute(delete(Lease))
        session.execute(insert(Lease), rows)


def test_workers_of_another_database_on_this_redis_and_queue_are_an_error_of_check(hotline, tmp_path):
    staging = _other_deployment(hotline, tmp_path)
    watchdog.tick(hotline, "prod-1:10")  # each side's `hotline worker` passes
    assert _shared(_check(hotline)) == []  # its own workers are no problem
    watchdog.tick(staging, "staging-1:20")
    [line] = _shared(_check(hotline))
    assert line.startswith(f"ERROR   REDIS_URL/QUEUE_NAME: a hotline worker of another database listens on this "
                           f"Redis's queues of QUEUE_NAME {hotline.settings.queue_name!r}")
    assert "fix: give each deployment a Redis of its own" in line
    assert len(_shared(_check(staging))) == 1  # and the other side sees it too
    for role in (Role.SERVE, Role.WORKER):  # serve and worker still start, and say so
        [line] = _shared(_check(hotline, role))
        assert line.startswith("WARNING REDIS_URL/QUEUE_NAME: a hotline worker of another database")
    hotline.clock.advance(seconds=120)  # the staging worker stopped a while ago
    watchdog.tick(hotline, "prod-1:10")
    assert _shared(_check(hotline)) == []
    staging.db.dispose()


def test_another_queue_name_on_the_same_redis_is_no_shared_queue(hotline, tmp_path):
    staging = _other_deployment(hotline, tmp_path)
    name = hotline.settings.queue_name + "-staging"
    staging = Hotline.build(staging.settings.with_overrides(queue_name=name), clock=hotline.clock,
                            jobs=JobQueue(hotline.jobs.redis, name))
    watchdog.tick(staging, "staging-1:20")
    assert _shared(_check(hotline)) == []
    staging.db.dispose()


def test_a_staging_copy_restored_from_productions_dump_on_its_redis_and_queue_is_an_error_of_check(hotline, tmp_path):
    # the dump carries the database's deployment id: the copy's workers announced production's id and neither
    # side's check saw another database, while the copy's workers took production's jobs. The id a worker
    # announces is bound to its PUBLIC_BASE_URL, which a copy serving its own webhooks cannot share
    watchdog.tick(hotline, "prod-1:10")
    staging = _other_deployment(hotline, tmp_path)
    _restored_from(hotline, staging)
    watchdog.tick(staging, "staging-1:20")
    [line] = _shared(_check(hotline))
    assert line.startswith("ERROR   REDIS_URL/QUEUE_NAME: a hotline worker of another database listens")
    assert len(_shared(_check(staging))) == 1


def test_every_host_of_one_deployment_announces_one_id_whatever_the_base_urls_trailing_slash_or_case(hotline):
    watchdog.tick(hotline, "prod-1:10")
    url = hotline.settings.public_base_url
    second = hotline.settings.with_overrides(public_base_url=url.replace("hotline.example.com", "Hotline.Example.COM") + "/")
    assert second.public_base_url != url
    watchdog.tick(Hotline.build(second, clock=hotline.clock, jobs=hotline.jobs), "prod-2:11")
    assert _shared(_check(hotline)) == []


def test_a_worker_of_the_release_before_announcing_the_bare_id_is_no_other_database(hotline, tmp_path):
    # during a rolling upgrade the workers of the release before still announce the database's stored id unbound to
    # any URL: that is this deployment, not another one; a restored copy's workers (this release) are still seen
    watchdog.tick(hotline, "prod-1:10")
    with hotline.db.session() as session:
        stored = leases.deployment(session)
    announce_deployment(hotline.jobs.redis, hotline.settings.queue_name, stored, hotline.clock.now().timestamp())
    assert _shared(_check(hotline)) == []
    staging = _other_deployment(hotline, tmp_path)
    _restored_from(hotline, staging)
    watchdog.tick(staging, "staging-1:20")
    assert len(_shared(_check(hotline))) == 1
    staging.db.dispose()
