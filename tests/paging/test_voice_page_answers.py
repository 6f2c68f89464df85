"""What a rep hears after pressing a key on the voice page: words for the ear, as the page itself speaks them (the
reference and numbers digit by digit, the zone's letters one by one), never the SMS answer read aloud with its
"Reply CALL 123456"."""

from __future__ import annotations

from sqlalchemy import select
from twilio.request_validator import RequestValidator

from app.models import Page
from app.services.page_text import spoken_time
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.paging.conftest import ALICE, CUSTOMER, MARIA
from tests.paging.test_acknowledgement import _sms_from
from tests.paging.test_twilio_failures import _work


def _key(desk, page_id: int, digits: str) -> str:
    """The rep pressed ``digits`` on the voice page ``page_id`` (a Gather's action, signed like Twilio)."""
    path = f"/twilio/page/voice/key?page={page_id}"
    params = {"CallSid": "CA" + "4" * 32, "Digits": digits, "AccountSid": "AC" + "0" * 32, "From": "+15005550006",
              "To": ALICE}
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(PUBLIC_BASE_URL + path, params)
    response = desk.client.post(path, data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_pressing_1_is_confirmed_in_spoken_words_not_the_sms_answer(desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(press="1")
    incident = desk.open_incident()
    desk.settle()
    [call] = alice.calls
    ref, due = ", ".join(incident.reference), spoken_time(incident.callback_due_at, "America/Los_Angeles")
    said = call.heard.split("Press 9 to repeat. ", 1)[1]
    assert said == (f"Acknowledged incident {ref}. Call Acme Mail back on 1, 4, 1, 5, 5, 5, 5, 0, 1, 0, 0 by {due}. "
                    f"Reply to the text message with CALL and the reference to be connected instead. Goodbye.")
    assert due == "19:15 P S T" and incident.reference not in said


def test_pressing_1_after_another_rep_acknowledged_says_who_has_it_in_spoken_words(desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    _work(desk)
    # Alice's page call is playing its menu when Maria acknowledges by SMS; then Alice presses 1
    assert "Acknowledged" in _sms_from(desk, MARIA, f"ACK {incident.reference}").get_data(as_text=True)
    with desk.hotline.db.session() as s:
        page_id = s.scalars(select(Page.id).where(Page.incident_id == incident.id, Page.to_number == ALICE,
                                                  Page.channel == "voice")).one()
    said = _key(desk, page_id, "1")
    ref = ", ".join(incident.reference)
    assert (f"Incident {ref} was already acknowledged by Maria Manager at 19:00 P S T. Nothing was changed. Reply to "
            f"the text message with CALL and the reference to take it over. Goodbye.") in said
    assert incident.reference not in said and "PST" not in said
    desk.settle()


def test_a_voice_page_answered_after_its_rep_acknowledged_by_sms_says_so_and_offers_only_the_connection(
        desk, network):
    # a probe's rep acknowledged by SMS while her voice page rang; answering it replayed "Press 1 to acknowledge"
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call()
    incident = desk.open_incident()
    _work(desk)
    assert "Acknowledged" in _sms_from(desk, ALICE, f"ACK {incident.reference}").get_data(as_text=True)
    desk.settle()
    [call] = alice.calls
    at = spoken_time(desk.clock.now(), "America/Los_Angeles")
    assert f"You acknowledged it at {at}. Press 2 to be connected to the customer now. Press 9 to repeat." in call.heard
    assert "Press 1 to acknowledge" not in call.heard
    # and with no key pressed, the call ends with the truth (session 43's probe heard "This page is not acknowledged;
    # we will keep paging" of the incident it had just acknowledged)
    assert call.heard.endswith("No key pressed. The incident stays acknowledged by you. Goodbye.")
    assert "not acknowledged" not in call.heard and "keep paging" not in call.heard


def test_a_breach_call_after_an_ack_with_no_callback_says_the_alert_stands_and_offers_the_take_over(desk, network):
    # a probe's manager answered the breach call of an incident acknowledged 15 minutes before and never called
    # back: "was already acknowledged by Alice ... You need do nothing on this call", while the SMS said BREACHED
    incident, alice = desk.acknowledged_by_alice(network)
    alice.expect_sms("AT RISK")
    network.phone(MARIA).expect_sms("AT RISK")
    desk.at(minutes=10)
    maria = network.phone(MARIA).expect_sms("BREACHED").expect_call()
    network.phone(CUSTOMER).expect_sms("have not reached you")  # acknowledged, never called back: told at the breach
    desk.at(minutes=16)
    [call] = maria.calls
    assert "You need do nothing" not in call.heard
    assert "This is a breach alert: the deadline has passed and no callback has reached the customer." in call.heard
    assert "It was acknowledged by Alice Primary at" in call.heard
    assert "Press 2 to take it over and be connected to the customer now." in call.heard
    assert "Press 1 to acknowledge" not in call.heard
    assert call.heard.endswith("No key pressed. Nothing was changed: Alice Primary has the incident. Goodbye.")
    assert "keep paging" not in call.heard


def test_a_voice_page_with_no_key_pressed_before_anyone_acknowledged_says_paging_goes_on(desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call()
    desk.open_incident()
    desk.settle()
    [call] = alice.calls
    assert call.heard.endswith("No key pressed. This page is not acknowledged; we will keep paging. Goodbye.")
