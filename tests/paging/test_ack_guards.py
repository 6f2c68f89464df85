"""Reps' pages and acknowledgements: the same guards on every channel (the account's TAM is told, never owns);
a notice told each time its event happens; no alert retried after the customer was reached."""

from __future__ import annotations

import re

from sqlalchemy import select
from twilio.request_validator import RequestValidator

from app.models import Account, DueStep, IncidentEvent, Page
from app.services.page_urls import PageUrls
from app.services.tickets import parse_ticket_input, upsert_ticket
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.integration.dashboard_support import login_as, post_form
from tests.paging.conftest import ALICE, BOB, CUSTOMER, MARIA
from tests.paging.test_callback_rep_leg import _acknowledged_then_call, _callbacks, _sms_from
from tests.paging.test_policy import TAM, _call_about_ticket


def _ticket_with_a_tam_at_work(desk) -> None:
    """Ticket 7788 of an account whose TAM works now (03:00 UTC is noon in Tokyo): the level-0 page SMSes them."""
    with desk.hotline.db.transaction() as s:
        upsert_ticket(s, parse_ticket_input({
            "number": "7788", "company": "Globex Mailers", "contact_name": "Hank Scorpio",
            "contact_email": "hank@globex.example", "contact_phone": "+14155550166",
            "tam_name": "Terry TAM", "tam_phone": TAM, "support_pin": "2468"}), desk.clock.now())
        s.scalars(select(Account).where(Account.name == "Globex Mailers")).one().tam_time_zone = "Asia/Tokyo"


def _tam_page(desk, incident_id: int, channel: str) -> Page:
    with desk.hotline.db.session() as s:
        return s.scalars(select(Page).where(Page.incident_id == incident_id, Page.to_number == TAM,
                                            Page.channel == channel, Page.purpose == "page")).one()


def _level_1(desk, incident_id: int) -> DueStep:
    with desk.hotline.db.session() as s:
        return s.scalars(select(DueStep).where(DueStep.incident_id == incident_id, DueStep.kind == "page",
                                               DueStep.level == 1)).one()


def _refusals(desk, incident_id: int) -> list[IncidentEvent]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident_id,
                                                          IncidentEvent.kind == "acknowledgement_refused")))


def test_the_tams_ack_link_does_not_stop_the_escalation_to_the_reps(desk, network):
    _ticket_with_a_tam_at_work(desk)
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    network.phone(TAM).expect_sms("SEV1")
    incident = _call_about_ticket(desk)
    desk.settle()
    page = _tam_page(desk, incident.id, "sms")
    [body] = [m.body for m in desk.network.twilio.messages if m.sid == page.twilio_sid]
    assert "/ack/" not in body  # the TAM's SMS carries no link (tests/paging/test_tam_text.py) ...
    # ... but a link for their page (one sent before that change, still within its two hours) is refused
    link = PageUrls(desk.hotline.settings).ack_link(page.id, page.created_at)
    token = re.search(r"https?://\S+/ack/(\S+)", link).group(1)

    answer = desk.client.post(f"/ack/{token}", data={"action": "ack"})
    assert answer.status_code == 409 and b"Nothing was changed" in answer.data
    after = desk.incident(incident.id)
    assert (after.acknowledged_at, after.acknowledged_by) == (None, None)
    assert [e.detail["via"] for e in _refusals(desk, incident.id)] == ["link"]

    network.phone(ALICE).expect_call(answer=False)
    network.phone(BOB).expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=3)  # the reps are still paged
    assert _level_1(desk, incident.id).outcome.startswith("paged")


def test_the_tam_pressing_1_on_a_voice_page_does_not_stop_the_escalation(desk, network):
    _ticket_with_a_tam_at_work(desk)
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    # the TAM's SMS fails: the same person is called at once; the call offers no menu (tests/paging/test_tam_text.py)
    tam = network.phone(TAM).expect_sms("SEV1", fail="undelivered").expect_call()
    incident = _call_about_ticket(desk)
    desk.settle()
    voice = _tam_page(desk, incident.id, "voice")
    assert voice.status == "answered" and "Press 1" not in tam.calls[0].heard
    # a keypress for the page all the same (a request replayed or built by hand, signed): still refused
    url = f"{PUBLIC_BASE_URL}/twilio/page/voice/key?page={voice.id}"
    params = {"CallSid": voice.twilio_sid, "Digits": "1", "AccountSid": "AC" + "0" * 32, "To": TAM}
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(url, params)
    answer = desk.client.post(url.removeprefix(PUBLIC_BASE_URL), data=params, headers={"X-Twilio-Signature": signature})
    assert "Nothing was changed" in answer.get_data(as_text=True)
    after = desk.incident(incident.id)
    assert (after.acknowledged_at, after.acknowledged_by) == (None, None)
    assert [e.detail["via"] for e in _refusals(desk, incident.id)] == ["voice"]

    network.phone(ALICE).expect_call(answer=False)
    network.phone(BOB).expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=3)
    assert _level_1(desk, incident.id).outcome.startswith("paged")


def test_the_tams_sms_reply_changes_nothing_either(desk, network):
    _ticket_with_a_tam_at_work(desk)
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False).expect_sms("the account's TAM (Terry TAM) texted: ACK")
    network.phone(TAM).expect_sms("SEV1", reply="ACK")
    network.phone(TAM).expect_sms("Nothing else was changed")  # their words go to the paged rep: no acknowledgement
    incident = _call_about_ticket(desk)
    desk.settle()
    assert desk.incident(incident.id).acknowledged_at is None


# ------------------------------------------------------------------ notices told each time, not once per incident


def test_a_rep_who_misses_the_hotlines_call_twice_is_told_twice(desk, network):
    incident, alice = _acknowledged_then_call(desk, network, busy=True)
    desk.at(minutes=5)
    alice.expect_call(busy=True).expect_sms("could not reach you")
    again = _sms_from(desk, ALICE, f"CALL {incident.reference}", sid="SM" + "8" * 32)
    assert "Calling you now" in again.get_data(as_text=True)
    desk.settle()
    assert [c.outcome for c in _callbacks(desk, incident.id)] == ["rep_not_reached", "rep_not_reached"]
    assert [m for m in alice.sms if "could not reach you" in m] == [alice.sms[-1]] * 2


# ------------------------------------------------------------------ an alert in retry when the customer is reached


def test_an_at_risk_alert_retried_after_the_customer_was_reached_is_canceled_not_sent(desk, network, twilio):
    incident, alice = desk.acknowledged_by_alice(network)
    twilio.fail_next(2, status=500)  # Twilio fails both at-risk SMS (to Maria, the manager, and to Alice)
    desk.at(minutes=10)
    with desk.hotline.db.session() as s:
        alerts = list(s.scalars(select(Page).where(Page.incident_id == incident.id, Page.purpose == "at_risk")))
    assert sorted((p.to_number, p.status, p.attempts) for p in alerts) == [(ALICE, "queued", 1), (MARIA, "queued", 1)]

    network.phone(CUSTOMER).expect_call(press="1", answered=True)
    alice.expect_call()
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {incident.reference}").get_data(as_text=True)
    desk.settle()  # the customer is called back and answers before the alerts' retry is due
    assert [c.outcome for c in _callbacks(desk, incident.id)] == ["met"]

    desk.at(minutes=11)  # "AT RISK, no callback started" would now be false: Maria's and Alice's phones expect nothing
    with desk.hotline.db.session() as s:
        alerts = list(s.scalars(select(Page).where(Page.incident_id == incident.id, Page.purpose == "at_risk")))
    assert sorted((p.to_number, p.status, p.sent_at) for p in alerts) == [(ALICE, "canceled", None),
                                                                           (MARIA, "canceled", None)]
    assert [m.body for m in twilio.messages if "AT RISK" in m.body] == []


def test_a_rep_deactivated_after_the_page_cannot_act_on_its_link(desk, network):
    """Deactivated reps are unknown senders by SMS; their ack link and keypress are refused the same way."""
    from app.models.oncall import Rep

    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    with desk.hotline.db.session() as s:
        page = s.scalars(select(Page).where(Page.incident_id == incident.id, Page.to_number == ALICE,
                                            Page.channel == "sms")).one()
    [body] = [m.body for m in desk.network.twilio.messages if m.sid == page.twilio_sid]
    token = re.search(r"https?://\S+/ack/(\S+)", body).group(1)
    with desk.hotline.db.transaction() as s:  # Alice leaves the team after the page went out
        s.scalars(select(Rep).where(Rep.phone == ALICE)).one().active = False

    answer = desk.client.post(f"/ack/{token}", data={"action": "ack"})
    assert answer.status_code == 409 and b"Nothing was changed" in answer.data
    after = desk.incident(incident.id)
    assert (after.acknowledged_at, after.acknowledged_by) == (None, None)
    assert [e.detail["via"] for e in _refusals(desk, incident.id)] == ["link"]


def _paged_tam(desk, network):
    """Alice and the account's TAM paged about the customer's call on a ticket of the TAM's account (at work)."""
    _ticket_with_a_tam_at_work(desk)
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    network.phone(TAM).expect_sms("SEV1")
    incident = _call_about_ticket(desk)
    desk.settle()
    return incident, alice


def test_a_tams_ack_is_no_acknowledgement_their_words_reach_the_paged_rep(desk, network):
    incident, alice = _paged_tam(desk, network)
    alice.expect_sms(f"the account's TAM (Terry TAM) texted: ACK {incident.reference}")
    answer = _sms_from(desk, TAM, f"ACK {incident.reference}").get_data(as_text=True)
    assert "matches no open incident" not in answer
    assert "Nothing else was changed" in answer and "on-call reps" in answer
    desk.settle()
    assert desk.incident(incident.id).acknowledged_at is None  # told, never acting


def test_a_dashboard_login_linked_to_no_rep_does_not_stop_the_escalation(desk, network, client):
    """An outside probe's login created with ``--role rep`` and no ``--rep`` acknowledged on the board: the customer
    was texted that an engineer would call back, the level-1 step was skipped as acknowledged, and nobody could
    call back. The same guard as the TAM's: refused, nothing changed, the reps still paged."""
    network.phone(CUSTOMER).expect_sms("we have your report")  # and no "an engineer has taken your incident"
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    login_as(client, desk.hotline, name="Nolink")

    answer = post_form(client, f"/incidents/{incident.reference}/acknowledge", {"back": "board"})
    desk.settle()

    assert answer.status_code == 302
    after = desk.incident(incident.id)
    assert (after.acknowledged_at, after.acknowledged_by) == (None, None)
    assert [(e.detail["via"], e.detail["outcome"]) for e in _refusals(desk, incident.id)] == [
        ("dashboard", "refused_not_a_rep")]
    network.phone(ALICE).expect_call(answer=False)
    network.phone(BOB).expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=3)  # the reps are still paged
    assert _level_1(desk, incident.id).outcome.startswith("paged")
