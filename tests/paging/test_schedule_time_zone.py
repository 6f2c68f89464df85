"""A schedule whose stored time zone no longer loads (stored under an older tz database, or written around the
validator) still pages its reps: its hand-offs are worked out in UTC, the log and ``hotline check`` name it, and it
can be corrected by replacing it."""

from __future__ import annotations

import logging

from sqlalchemy import select, update

from app.config_check import oncall_problems
from app.config_report import CheckReport
from app.models import IncidentEvent, Schedule
from app.oncall.records import parse_schedule
from app.services.oncall import find_schedule, format_now
from app.services.oncall_admin import save_schedule
from tests.paging.conftest import ALICE, CUSTOMER, SCHEDULES


def _unloadable_primary(hotline) -> None:
    with hotline.db.transaction() as session:
        session.execute(update(Schedule).where(Schedule.name == "primary").values(time_zone="America/Atlantis"))


def test_a_schedule_whose_zone_no_longer_loads_still_pages_its_rep_and_says_so(desk, network, hotline, caplog):
    _unloadable_primary(hotline)
    caplog.set_level(logging.WARNING)
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call()
    incident = desk.open_incident()
    desk.settle()
    assert len(alice.sms) == 1 and alice.calls  # the on-call rep of "primary" is paged at once
    with hotline.db.session() as session:
        kinds = session.scalars(select(IncidentEvent.kind).where(IncidentEvent.incident_id == incident.id)).all()
    assert "target_unresolvable" not in kinds
    warned = [r.getMessage() for r in caplog.records if "America/Atlantis" in r.getMessage()]
    assert warned and all("schedule primary" in line and "UTC" in line for line in warned)


def test_hotline_check_and_oncall_now_name_a_schedule_whose_zone_no_longer_loads(hotline, clock):
    _unloadable_primary(hotline)
    report = CheckReport()
    oncall_problems(hotline.settings, report, clock.now(), strict=True)
    [named] = [p for p in report.warnings if "America/Atlantis" in p.message]
    assert named.where == "schedules[primary].time_zone" and "UTC" in named.message
    assert not [p for p in report.errors if "America/Atlantis" in p.message]
    assert not [p for p in report.errors if p.where == "reps/schedules"]  # Alice is still on call, in UTC
    with hotline.db.session() as session:
        now = format_now(session, clock.now())
    assert "primary [America/Atlantis, Thu 03:00 UTC]: Alice Primary" in now


def test_a_schedule_whose_zone_no_longer_loads_can_be_replaced_with_a_good_one(hotline, clock):
    _unloadable_primary(hotline)
    with hotline.db.transaction() as session:
        save_schedule(session, parse_schedule(SCHEDULES[0]), clock.now())
    with hotline.db.session() as session:
        assert find_schedule(session, "primary").time_zone == "America/Los_Angeles"
