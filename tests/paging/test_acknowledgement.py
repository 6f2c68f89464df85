"""Acknowledgement by SMS reply and by signed link; wrong senders and stale codes change nothing."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update
from twilio.request_validator import RequestValidator

from app.models import DueStep, Incident, IncidentEvent, Page, Rep
from app.services.page_text import hhmm
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.integration.board_support import parse
from tests.paging.conftest import ALICE, BOB, CUSTOMER

ALICE_ZONE = "America/Los_Angeles"


def _events(desk, kind):
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(IncidentEvent).where(IncidentEvent.kind == kind)))


def _sms_from(desk, sender, body):
    """An SMS reaching the hotline number, signed like Twilio."""
    params = {"MessageSid": "SM" + "7" * 32, "From": sender, "To": "+15005550006", "Body": body,
              "AccountSid": "AC" + "0" * 32}
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(PUBLIC_BASE_URL + "/twilio/sms", params)
    return desk.client.post("/twilio/sms", data=params, headers={"X-Twilio-Signature": signature})


def test_ack_by_sms_naming_the_incident(desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    alice = network.phone(ALICE)
    incident_ref = []
    alice.expect_sms("SEV1", reply="placeholder").expect_call(answer=False)
    # the reply must name the incident: patch the expectation once the reference is known
    incident = desk.open_incident()
    incident_ref.append(incident.reference)
    alice._sms[0].reply = f"ack {incident.reference}"
    alice.expect_sms(f"Acknowledged {incident.reference}")
    desk.settle()
    assert desk.incident(incident.id).acknowledged_at == desk.t0
    [ack] = _events(desk, "acknowledged")
    assert ack.detail["via"] == "sms"
    desk.at(minutes=3)  # nobody else is paged


def test_bare_reply_acknowledges_the_only_open_page(desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    alice = network.phone(ALICE).expect_sms("SEV1", reply="OK").expect_call(answer=False)
    alice.expect_sms("Acknowledged")
    incident = desk.open_incident()
    desk.settle()
    assert desk.incident(incident.id).acknowledged_by is not None


def test_bare_reply_with_two_open_pages_asks_which_one(desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone("+14155550177").expect_sms("we have your report")
    alice = network.phone(ALICE)
    alice.expect_sms("SEV1").expect_call(answer=False).expect_sms("SEV1").expect_call(answer=False)
    first = desk.open_incident()
    second = desk.open_incident(caller="+14155550177")
    desk.settle()
    answer = _sms_from(desk, ALICE, "ack").get_data(as_text=True)
    assert "several open pages" in answer and first.reference in answer and second.reference in answer
    assert desk.incident(first.id).acknowledged_at is None and desk.incident(second.id).acknowledged_at is None


def test_wrong_sender_unknown_and_stale_codes_get_a_clear_answer_and_change_nothing(desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    network.phone(ALICE).expect_sms("SEV1").expect_call(press="1")
    incident = desk.open_incident()
    desk.settle()
    before = desk.incident(incident.id)

    stranger = _sms_from(desk, "+14155559999", f"ACK {incident.reference}").get_data(as_text=True)
    assert "matches no open incident" in stranger and "nothing was changed" in stranger
    unknown = _sms_from(desk, BOB, "ACK 999999").get_data(as_text=True)
    assert "No incident 999999" in unknown
    stale = _sms_from(desk, BOB, f"ACK {incident.reference}").get_data(as_text=True)
    assert "already acknowledged" in stale and "Nothing was changed" in stale
    after = desk.incident(incident.id)
    assert (after.acknowledged_at, after.acknowledged_by) == (before.acknowledged_at, before.acknowledged_by)
    assert len(_events(desk, "acknowledgement_refused")) == 1


def _ack_link(desk, incident_id):
    with desk.hotline.db.session() as s:
        page = s.scalars(select(Page).where(Page.incident_id == incident_id, Page.channel == "sms",
                                            Page.purpose == "page")).first()
    [body] = [m.body for m in desk.network.twilio.messages if m.sid == page.twilio_sid]
    return re.search(r"https?://\S+/ack/(\S+)", body).group(1)


def test_ack_by_signed_link_and_the_link_cannot_be_forged_or_reused_late(desk, network, clock):
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    token = _ack_link(desk, incident.id)
    page = desk.client.get(f"/ack/{token}")
    assert page.status_code == 200 and b"Acknowledge" in page.data
    assert desk.incident(incident.id).acknowledged_at is None  # a GET (a link preview) changes nothing
    assert desk.client.post(f"/ack/{token[:-2]}xx").status_code == 410
    assert desk.client.post(f"/ack/{token}").status_code == 200
    assert desk.incident(incident.id).acknowledged_at == desk.t0
    desk.settle()
    clock.advance(hours=3)
    expired = desk.client.post(f"/ack/{token}")
    assert expired.status_code == 410 and b"expired" in expired.data


def test_ack_racing_an_escalation_step_means_no_page_after_the_ack(desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    token = _ack_link(desk, incident.id)
    desk.clock.set(desk.t0.replace(minute=3))
    from workers import watchdog

    watchdog.sweep(desk.hotline)  # the level-1 step is handed to RQ ...
    assert desk.client.post(f"/ack/{token}").status_code == 200  # ... and the ack lands before it runs
    desk.settle()  # Bob's phone has no expectation: a page to him would fail the test
    with desk.hotline.db.session() as s:
        level1 = s.scalars(select(DueStep).where(DueStep.incident_id == incident.id, DueStep.kind == "page",
                                                 DueStep.level == 1)).one()
    assert level1.outcome == "skipped_acknowledged"


def test_pages_queued_before_the_ack_are_canceled_not_sent(desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    token = _ack_link(desk, incident.id)
    desk.clock.set(desk.t0.replace(minute=3))
    from app.services.steps import run_step

    with desk.hotline.db.transaction() as s:  # the step ran and wrote its pages, not yet sent
        step = s.scalars(select(DueStep).where(DueStep.incident_id == incident.id, DueStep.level == 1,
                                               DueStep.kind == "page")).one()
        assert run_step(s, step.id, desk.clock.now())
    assert desk.client.post(f"/ack/{token}").status_code == 200
    desk.settle()
    with desk.hotline.db.session() as s:
        level1 = s.scalars(select(Page).where(Page.incident_id == incident.id, Page.step_id == step.id)).all()
    assert sorted((p.to_number, p.channel, p.status) for p in level1) == [
        (ALICE, "voice", "canceled"), (BOB, "sms", "canceled"), (BOB, "voice", "canceled")]


def test_an_ack_after_the_deadline_says_it_has_passed_and_to_call_now(desk, network):
    # a probe's rep acknowledged at 09:34 PST and was told "Call Acme Mail on ... by 09:30 PST"
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    desk.clock.set(incident.callback_due_at + timedelta(minutes=4))
    reply = _sms_from(desk, ALICE, f"ACK {incident.reference}").get_data(as_text=True)
    due = hhmm(incident.callback_due_at, "America/Los_Angeles")
    assert (f"Acknowledged {incident.reference}. The callback deadline {due} has passed: call Acme Mail on "
            f"{incident.callback_phone} now.") in reply


def test_an_incident_whose_owner_was_deactivated_is_taken_over_by_the_next_ack(desk, network):
    # a probe deactivated the rep who had acknowledged: the rep on call's ACK was refused ("already acknowledged by
    # Bob") and nobody worked the incident until the at-risk alert
    incident, _alice = desk.acknowledged_by_alice(network)
    with desk.hotline.db.transaction() as s:
        s.execute(update(Rep).where(Rep.phone == ALICE).values(active=False))  # she left the team
    reply = _sms_from(desk, BOB, f"ACK {incident.reference}").get_data(as_text=True)
    assert "already acknowledged" not in reply
    desk.settle()  # nothing is sent to the former owner
    with desk.hotline.db.session() as s:
        bob = s.scalar(select(Rep.id).where(Rep.phone == BOB))
        assert s.get(Incident, incident.id).acknowledged_by == bob


def test_the_ack_link_of_an_incident_another_rep_acknowledged_says_who_and_offers_taking_it_over(desk, network):
    # probe A F8 d: Carol's link offered "Acknowledge / Acknowledge and call me now" with no word that Bob had it
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False).expect_call(answer=False)
    network.phone(BOB).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    token = _ack_link(desk, incident.id)
    desk.at(minutes=3)
    _sms_from(desk, BOB, f"ACK {incident.reference}")
    desk.settle()
    doc = parse(desk.client.get(f"/ack/{token}"))
    acked = desk.incident(incident.id).acknowledged_at
    assert doc.find("p", cls="owner").text() == (f"Already acknowledged by Bob Secondary at {hhmm(acked, ALICE_ZONE)}. "
                                                 "You need do nothing, or take it over:")
    buttons = [(b.attrs["value"], b.text()) for b in doc.find_all("button")]
    assert buttons == [("call", "Take it over and call me now: I will be connected to the customer")]
