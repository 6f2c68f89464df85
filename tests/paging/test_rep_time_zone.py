"""A rep reads and hears the callback deadline on their own clock (the rep's ``time_zone``), named by its zone:
Alice in Los Angeles is paged at 19:00 on her evening, not told "by 03:15 UTC" (tomorrow, in UTC)."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, update

from app.config_check import oncall_problems
from app.config_report import CheckReport
from app.models import Rep
from tests.paging.conftest import ALICE, BOB, CUSTOMER, MARIA
from tests.paging.test_acknowledgement import _sms_from


def test_each_rep_reads_the_deadline_on_their_own_clock(desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call()
    incident = desk.open_incident()
    desk.settle()
    [page] = alice.sms
    assert "by 19:15 PST." in page and "UTC" not in page  # the incident is due at 03:15 UTC
    assert "called back by 19:15 P S T" in alice.calls[0].heard  # the voice page says it on her clock too
    bob = network.phone(BOB).expect_sms("SEV1").expect_call(answer=False)
    alice.expect_call(answer=False)
    desk.at(minutes=3)
    assert "by 03:15 UTC." in bob.sms[0]  # Bob keeps UTC, his zone
    network.phone(CUSTOMER).expect_sms("has taken your incident")
    answer = _sms_from(desk, ALICE, f"ACK {incident.reference}").get_data(as_text=True)
    assert "by 19:15 PST" in answer
    alice.expect_sms("AT RISK")
    bob.expect_sms("AT RISK")
    network.phone(MARIA).expect_sms("AT RISK")
    desk.at(minutes=10)
    network.phone(MARIA).expect_sms("BREACHED").expect_call(answer=False)
    network.phone(CUSTOMER).expect_sms("have not reached you")  # the customer is told the deadline passed
    desk.at(minutes=15)
    alice.expect_sms("deadline 19:15 PST BREACHED").expect_call(answer=False)
    network.phone(MARIA).expect_sms("deadline 03:15 UTC BREACHED").expect_call(answer=False)
    desk.at(minutes=20)


def test_a_stored_zone_that_no_longer_loads_pages_in_utc_and_says_so(desk, network, hotline, caplog):
    # a zone stored under an older tz database (or written around the validator) that this one has not: the page
    # must still go out, on UTC, and the log must say whose zone did not load
    with hotline.db.transaction() as session:
        session.execute(update(Rep).where(Rep.name == "Alice Primary").values(time_zone="America/Atlantis"))
        alice_id = session.scalars(select(Rep.id).where(Rep.name == "Alice Primary")).one()
    caplog.set_level(logging.WARNING)
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call()
    incident = desk.open_incident()
    desk.settle()
    [page] = alice.sms
    assert "by 03:15 UTC." in page
    assert "called back by 03:15 U T C" in alice.calls[0].heard
    network.phone(CUSTOMER).expect_sms("has taken your incident")
    assert "by 03:15 UTC" in _sms_from(desk, ALICE, f"ACK {incident.reference}").get_data(as_text=True)
    desk.settle()
    warned = [r.getMessage() for r in caplog.records if "America/Atlantis" in r.getMessage()]
    assert warned and all(f"rep {alice_id}" in line and "UTC" in line for line in warned)
    report = CheckReport()
    oncall_problems(hotline.settings, report, desk.clock.now(), strict=True)
    [named] = [p for p in report.warnings if "America/Atlantis" in p.message]
    assert named.where == "reps[Alice Primary].time_zone" and "UTC" in named.message
    assert not [p for p in report.errors if "time zone" in p.message]  # her pages still go out: a warning


def test_a_deadline_after_midnight_on_the_reps_clock_names_its_day(desk, network):
    """Session 41's left-over: a page written at 23:58 on Alice's clock read "by 00:13 PST", with no word of the day.
    Her page and her acknowledgement's answer name the date; Bob's, on UTC where both times are one day, do not; and
    the at-risk alert, written after midnight on her clock, no longer needs it."""
    desk.t0 = desk.t0 + timedelta(hours=4, minutes=58)  # 23:58 PST on November 25; 07:58 UTC on the 26th
    desk.clock.set(desk.t0)
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    assert "Call back +14155550100 by 2026-11-26 00:13 PST." in alice.sms[0]
    network.phone(CUSTOMER).expect_sms("has taken your incident")
    answer = _sms_from(desk, ALICE, f"ACK {incident.reference}").get_data(as_text=True)
    assert f"Acknowledged {incident.reference}. Call " in answer and "by 2026-11-26 00:13 PST" in answer
    alice.expect_sms("AT RISK")
    network.phone(MARIA).expect_sms("AT RISK")
    desk.at(minutes=10)
    assert "(by 00:13 PST)" in alice.sms[-1] and "2026-11-26" not in alice.sms[-1]
    assert "(by 08:13 UTC)" in network.phone(MARIA).sms[-1]
