"""Reps read the times of a customer's updates on their own clock (``page_text.rep_clock``), as they read a page:
the owner's reminder, the confirmation of an interval they agreed, and the managers' "update was due" alert."""

from __future__ import annotations

from sqlalchemy import select, update

from app.models import Rep
from app.models.user import Role
from app.services.acks import Actor, lock_incident, reached_by_email
from tests.integration.dashboard_support import login_as, post_form
from tests.paging.conftest import ALICE, MARIA
from tests.paging.test_acknowledgement import _sms_from


def alice_reaches_an_email_only_caller(desk) -> str:
    """An e-mail-only incident (no company captured) paged to Alice, who ACKs it and, at 2 minutes, records the
    customer reached by e-mail (so customer updates are owed); returns its reference."""
    incident = desk.email_only_incident()
    desk.settle()
    ref = desk.incident(incident.id).reference
    assert "Acknowledged" in _sms_from(desk, ALICE, f"ACK {ref}").get_data(as_text=True)
    desk.at(minutes=2)
    with desk.hotline.db.transaction() as session:
        rep = session.scalars(select(Rep).where(Rep.phone == ALICE)).one()
        assert reached_by_email(session, lock_incident(session, ref), Actor(name=rep.name, via="dashboard", rep=rep),
                                "E-mailed Dana, she replied", desk.clock.now()).ok
    return ref


def _alice_reached_them_maria_in_berlin(desk, network):
    """Maria's clock is Berlin's; Alice reaches an e-mail-only caller and the clock is at T+5. Their phones and the
    incident's reference."""
    with desk.hotline.db.transaction() as session:
        session.execute(update(Rep).where(Rep.phone == MARIA).values(time_zone="Europe/Berlin"))
    alice, maria = network.phone(ALICE), network.phone(MARIA)
    alice.expect_sms("SEV1").expect_call(answer=False)
    ref = alice_reaches_an_email_only_caller(desk)
    desk.at(minutes=5)
    return alice, maria, ref


def test_update_times_are_on_the_clock_of_the_rep_who_reads_them(desk, network, smtp):
    # T0 is 03:00 UTC: Alice (America/Los_Angeles) reads 19:00 PST, Maria (Europe/Berlin) 04:00 CET
    alice, maria, ref = _alice_reached_them_maria_in_berlin(desk, network)
    answer = _sms_from(desk, ALICE, f"EVERY 2 hours {ref}").get_data(as_text=True)
    assert "every 2 hours" in answer and "due by 21:05 PST." in answer  # 05:05 UTC
    alice.expect_sms("customer update 1 due by 21:05 PST")
    desk.at(minutes=115)
    maria.expect_sms("customer update 1 was due 06:05 CET")
    desk.at(minutes=125)
    assert alice.unmet == [] and maria.unmet == []


def test_a_rep_told_an_update_went_already_reads_its_time_on_their_clock(desk, network, smtp):
    # T0 is 03:00 UTC: Alice (America/Los_Angeles) wrote the update at 19:03 PST, by SMS and then on the dashboard
    alice = network.phone(ALICE)
    alice.expect_sms("SEV1").expect_call(answer=False)
    ref = alice_reaches_an_email_only_caller(desk)
    desk.at(minutes=3)
    assert "sent" in _sms_from(desk, ALICE, f"UPDATE {ref} DNS for the API is broken").get_data(as_text=True)
    desk.at(minutes=4)
    again = _sms_from(desk, ALICE, f"UPDATE {ref}: DNS for the API is broken").get_data(as_text=True)  # not a replay
    assert "already sent at 19:03 PST" in again and "UTC" not in again
    login_as(desk.client, desk.hotline, Role.REP, name="Alice at her desk", rep_name="Alice Primary")
    post_form(desk.client, f"/incidents/{ref}/updates", {"what_is_wrong": "DNS for the API is broken"})
    page = desk.client.get(f"/incidents/{ref}/updates").get_data(as_text=True)
    assert "already sent at 19:03 PST" in page
    assert len(smtp.inbox.to("dana@acme.example")) == 1 + 1  # the receipt, then the update once


def test_an_update_a_day_away_names_its_day_in_every_text_a_rep_reads(desk, network, smtp):
    """An outside probe's rep texted EVERY 24 hours and read "The next update is due by 15:16 EST": no day, so it read
    as due right now (the customer's SMS named the day). Each text a rep or manager reads names the day when the due
    time is not today on their clock, and only then."""
    # T0 is 2026-11-26 03:00 UTC: Alice (America/Los_Angeles) reads 2026-11-25 19:00 PST, Maria (Europe/Berlin) 04:00
    alice, maria, ref = _alice_reached_them_maria_in_berlin(desk, network)
    answer = _sms_from(desk, ALICE, f"EVERY 24 hours {ref}").get_data(as_text=True)
    assert "Updates for" in answer and "every 24 hours" in answer
    assert "The next update is due by 2026-11-26 19:05 PST." in answer  # 2026-11-27 03:05 UTC, tomorrow for her
    login_as(desk.client, desk.hotline, Role.REP, name="Alice at her desk", rep_name="Alice Primary")
    page = desk.client.get(f"/incidents/{ref}/updates").get_data(as_text=True)
    assert "due by <strong>2026-11-26 19:05 PST</strong>" in page
    # the reminder, 10 minutes before, and the first alert, at the due time, fall on the reader's same day: no date
    alice.expect_sms(f"SEV1 {ref} unknown company: customer update 1 due by 19:05 PST.")
    maria.expect_sms("customer update 1 was due 04:05 CET")
    desk.at(minutes=24 * 60 + 6)
    assert alice.unmet == [] and maria.unmet == []
    # still unwritten a day later: the alert again, now naming the day it was due
    maria.expect_sms("customer update 1 was due 2026-11-27 04:05 CET")
    desk.at(minutes=48 * 60 + 6)
    assert alice.unmet == [] and maria.unmet == []
