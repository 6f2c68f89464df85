"""A page call's words to the owner, the account's TAM and a rep someone else's acknowledgement settled.

After a take-over, the new owner's own page menu and voicemail and the TAM's call said the FIRST acknowledgement's
time ("You acknowledged it at 19:00" to Alice, who took it over at 19:04 from Maria); they now give the owner's own
time, as every other channel does (``ownership.owned_words``). And three spoken lines said "reply to the text
message" (or that the e-mail address is in it) when the page's SMS had failed: they now follow the voicemail's rule
(``page_text.sms_how``, ``email_where``: the page's SMS only while it went)."""

from __future__ import annotations

from sqlalchemy import select
from twilio.request_validator import RequestValidator

from app.models import Page
from app.services.page_text import hhmm
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.integration.board_support import parse
from tests.integration.dashboard_support import login_as, post_form
from tests.paging.conftest import ALICE, CUSTOMER, MARIA
from tests.paging.test_ack_guards import _ticket_with_a_tam_at_work
from tests.paging.test_acknowledgement import _ack_link, _sms_from
from tests.paging.test_page_voicemail import TEXT_HOTLINE
from tests.paging.test_policy import TAM, _call_about_ticket
from tests.paging.test_tam_text import _tam_called_not_texted
from tests.paging.test_twilio_failures import LANDLINE, _policy, _work
from tests.paging.test_voice_page_answers import _key


def _voice_page(desk, incident, to: str) -> Page:
    with desk.hotline.db.session() as s:
        return s.scalars(select(Page).where(Page.incident_id == incident.id, Page.to_number == to,
                                            Page.channel == "voice")).one()


def _answered(desk, page: Page, answered_by: str, sid: str) -> str:
    """Twilio fetches the page call's TwiML, answered by ``answered_by`` (signed like Twilio); returns what is said."""
    path = f"/twilio/page/voice?page={page.id}"
    params = {"CallSid": sid, "AnsweredBy": answered_by, "AccountSid": "AC" + "0" * 32, "From": "+15005550006",
              "To": page.to_number}
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(PUBLIC_BASE_URL + path, params)
    response = desk.client.post(path, data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _take_over(desk, client, incident, name: str) -> None:
    login_as(client, desk.hotline, name=name, rep_name=name)
    post_form(client, f"/incidents/{incident.reference}/take-over")


def test_the_new_owners_own_page_call_gives_the_time_she_took_it_over(desk, network, client):
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    _work(desk)
    assert "Acknowledged" in _sms_from(desk, MARIA, f"ACK {incident.reference}").get_data(as_text=True)  # 19:00 PST
    desk.clock.advance(minutes=4)
    network.phone(MARIA).expect_sms("Alice Primary took this incident over from you")
    _take_over(desk, client, incident, "Alice Primary")  # 19:04 PST
    page = _voice_page(desk, incident, ALICE)
    menu = _answered(desk, page, "human", "CA" + "6" * 32)
    assert "You took it over from Maria Manager at 19:04 P S T. Press 2 to be connected" in menu
    voicemail = _answered(desk, page, "machine_start", "CA" + "7" * 32)
    assert ("You took it over from Maria Manager at 19:04 P S T. Reply to the text message with CALL and the "
            "reference to be connected to the customer now.") in voicemail
    assert "19:00" not in menu and "19:00" not in voicemail and "You acknowledged" not in menu + voicemail
    link = parse(desk.client.get(f"/ack/{_ack_link(desk, incident.id)}"))  # her page's link says the same
    assert link.find("p", cls="owner").text() == "You took it over from Maria Manager at 19:04 PST."
    desk.settle()


def test_the_tams_call_after_a_take_over_names_the_owner_with_the_time_she_took_it(desk, network, client):
    _ticket_with_a_tam_at_work(desk)
    _tam_called_not_texted(desk)
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    network.phone(ALICE).expect_sms("SEV1")
    network.phone(TAM).expect_call(answer=False)
    incident = _call_about_ticket(desk)
    _work(desk)
    assert "Acknowledged" in _sms_from(desk, MARIA, f"ACK {incident.reference}").get_data(as_text=True)  # 12:00 JST
    desk.clock.advance(minutes=4)
    network.phone(MARIA).expect_sms("Alice Primary took this incident over from you")
    _take_over(desk, client, incident, "Alice Primary")  # 12:04 JST
    said = _answered(desk, _voice_page(desk, incident, TAM), "human", "CA" + "8" * 32)
    tokyo = hhmm(incident.callback_due_at, "Asia/Tokyo")[:5]
    assert ("account manager: Alice Primary, an on-call rep, took it over at 12:04 J S T (acknowledged by Maria "
            f"Manager at 12:00 J S T); the customer must be called back by {tokyo} J S T.") in said
    assert "acknowledged it at 12:00" not in said
    desk.settle()


def test_pressing_1_after_an_undelivered_page_sms_is_told_to_text_the_hotline_not_to_reply(desk, network):
    _policy(desk, "sms")
    network.phone(ALICE).expect_sms("SEV1", fail="undelivered").expect_call(press="1")
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()
    [call] = network.phone(ALICE).calls
    said = call.heard.split("Press 9 to repeat. ", 1)[1]
    assert said.startswith(f"Acknowledged incident {', '.join(incident.reference)}.")
    assert said.endswith(f"{TEXT_HOTLINE} CALL and the reference to be connected instead. Goodbye.")
    assert "Reply to the text message" not in call.heard and "reply CALL" not in call.heard


def test_a_page_call_settled_by_someone_elses_ack_after_an_undelivered_sms_says_to_text_the_hotline(desk, network):
    _policy(desk, "sms")
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    network.phone(ALICE).expect_sms("SEV1", fail="undelivered").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    assert "Acknowledged" in _sms_from(desk, MARIA, f"ACK {incident.reference}").get_data(as_text=True)
    page = _voice_page(desk, incident, ALICE)
    settled = _answered(desk, page, "human", "CA" + "6" * 32)
    assert f"on this call. {TEXT_HOTLINE} CALL and the reference to take it over. Goodbye." in settled
    pressed = _key(desk, page.id, "1")
    assert f"Nothing was changed. {TEXT_HOTLINE} CALL and the reference to take it over. Goodbye." in pressed
    assert "text message" not in settled + pressed
    desk.settle()


def test_the_owners_menu_for_a_customer_without_a_number_points_to_the_board_when_the_sms_failed(desk, network):
    _policy(desk, "sms")
    network.phone(ALICE).expect_sms("SEV1", fail="undelivered").expect_call(answer=False)
    incident = desk.email_only_incident()
    desk.settle()
    assert "Acknowledged" in _sms_from(desk, ALICE, f"ACK {incident.reference}").get_data(as_text=True)
    menu = _answered(desk, _voice_page(desk, incident, ALICE), "human", "CA" + "6" * 32)
    assert "reach the customer in writing; the e-mail address is on the board. Press 9 to repeat." in menu
    assert "in the text message" not in menu
    desk.settle()
