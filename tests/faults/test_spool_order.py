"""The emergency spool is replayed in the order it came, also when a record fails to replay.

An outside probe held a lock on ``incidents`` past a replay's time limit: the replay's first record, a rescued
caller, failed and was appended *after* their voicemail and status callback, spooled meanwhile, and the next replay
applied them first: the caller was texted "your call ended before we could take your details ... call us again"
and 0.3 s later "we have your report"; their voicemail went to no incident, and a missed-call row was left for a
call that is an incident. A failed record now keeps its place, and the replay stops there.
"""

from __future__ import annotations

import json
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from app.models import Incident, MissedCall
from app.services.spool import DEAD_NAME, MAX_TRIES, SPOOL_NAME, TRIES, replay, spool
from hotline_sim.phone import SimulatedCall, flask_transport
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.faults.test_status_callback_outage import _web_without_database
from tests.paging.conftest import ALICE, CUSTOMER

LOCKED = OperationalError("SELECT incidents.id FROM incidents", {}, Exception("canceling statement: lock timeout"))


class _LockedOnce:
    """The hotline's database, whose first transaction waits on a table lock (``meanwhile`` runs) and then fails."""

    def __init__(self, db, meanwhile) -> None:
        self.db, self.meanwhile, self.failed = db, meanwhile, False
        self.outage = db.outage  # the process's outage, which notes the failure

    @contextmanager
    def transaction(self):
        """The first one fails after ``meanwhile``; the others are the database's."""
        if not self.failed:
            self.failed = True
            self.meanwhile()
            raise LOCKED
        with self.db.transaction() as session:
            yield session


def test_a_rescue_that_fails_to_replay_stays_ahead_of_the_voicemail_and_hang_up_spooled_meanwhile(
        desk, network, tmp_path):
    customer = network.phone(CUSTOMER).expect_sms("we have your report")  # and no "call us again"
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    with _web_without_database(desk.hotline, tmp_path) as broken:
        call = SimulatedCall(transport=flask_transport(broken), base_url=PUBLIC_BASE_URL,
                             auth_token=TEST_AUTH_TOKEN, caller=CUSTOMER)
        assert call.fallback().kind == "record"  # the rescue, spooled
        # the replay's first record waits on the lock while the caller's voicemail and hang-up are spooled
        assert replay(_LockedOnce(desk.hotline.db, lambda: call.record(seconds=33)), desk.hotline.settings) == 0

    desk.settle()  # the lock is gone: the watchdog replays

    with desk.hotline.db.session() as s:
        [incident] = s.scalars(select(Incident)).all()
        missed = s.scalars(select(MissedCall)).all()
    assert incident.call_sid == call.call_sid and incident.callback_phone == CUSTOMER
    assert incident.recording_seconds == 33 and incident.recording_url.startswith("https://")
    assert missed == []
    assert len(customer.sms) == 1 and incident.reference in customer.sms[0]
    assert not list(desk.hotline.settings.data_dir.glob("spool*"))


def _rescue(data_dir, call_sid: str, **extra) -> None:
    spool(data_dir, "rescue", {"call_sid": call_sid, "from": CUSTOMER, "reason": "db down", "source": "fallback",
                               "at": "2026-12-03T03:00:00+00:00", **extra})


def _incident_sids(hotline) -> list[str]:
    with hotline.db.session() as s:
        return list(s.scalars(select(Incident.call_sid).order_by(Incident.id)))


def test_a_record_that_never_applies_is_set_aside_after_its_tries_and_the_records_behind_it_go_on(
        hotline, client, caplog):
    data_dir = hotline.settings.data_dir
    first, later = "CA" + "1" * 32, "CA" + "3" * 32
    _rescue(data_dir, first)
    spool(data_dir, "rescue", {"call_sid": "CA" + "2" * 32, "from": CUSTOMER, "at": "not a time"})  # never applies
    _rescue(data_dir, later)

    for tries in range(1, MAX_TRIES):  # it stops the replay, first in line, each time
        replay(hotline.db, hotline.settings)
        assert _incident_sids(hotline) == [first]
        [held] = [json.loads(line) for line in data_dir.glob("spool*.replaying").__next__().read_text().splitlines()
                  if "not a time" in line]
        assert held[TRIES] == tries
        assert "emergency spool" in " ".join(client.get("/healthz").get_json()["warnings"])
    assert replay(hotline.db, hotline.settings) == 1

    assert _incident_sids(hotline) == [first, later]
    [dead] = (data_dir / DEAD_NAME).read_text().splitlines()
    assert json.loads(dead)["at"] == "not a time" and json.loads(dead)["from"] == CUSTOMER  # the file keeps all
    assert "set aside" in caplog.text and "not a time" in caplog.text
    assert not (data_dir / SPOOL_NAME).exists() and not list(data_dir.glob("spool*.replaying"))
    [warning] = [w for w in client.get("/healthz").get_json()["warnings"] if "set aside" in w]
    assert warning.startswith("1 record(s)") and DEAD_NAME in warning


def test_the_database_down_never_sets_a_record_aside(hotline):
    data_dir = hotline.settings.data_dir
    _rescue(data_dir, "CA" + "1" * 32)
    down = _LockedOnce(hotline.db, lambda: None)
    for _ in range(MAX_TRIES + 2):
        down.failed = False
        assert replay(down, hotline.settings) == 0
    assert not (data_dir / DEAD_NAME).exists()
    assert replay(hotline.db, hotline.settings) == 1 and _incident_sids(hotline) == ["CA" + "1" * 32]
