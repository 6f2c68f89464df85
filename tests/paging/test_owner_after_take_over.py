"""After a take-over, every "already acknowledged by ..." names the owner with the time they took it, after who
acknowledged first and when: a probe was told "already acknowledged by Maria at 05:11 EST" (SMS, voice page, ack
link) of an incident Alice acknowledged at 05:11 and Maria took over at 05:30."""

from __future__ import annotations

from sqlalchemy import select
from twilio.request_validator import RequestValidator

from app.models import Page
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.integration.board_support import parse
from tests.integration.dashboard_support import login_as, post_form
from tests.paging.conftest import ALICE
from tests.paging.test_acknowledgement import _ack_link, _sms_from
from tests.paging.test_voice_page_answers import _key

SAID = "acknowledged by Alice Primary at 19:00 P S T and taken over by Bob Secondary at 19:04 P S T"


def _taken_over_by_bob(desk, network, client):
    """Alice acknowledges at 03:00 UTC (19:00 PST); Bob takes the incident over on the board at 03:04 UTC."""
    incident, alice = desk.acknowledged_by_alice(network)
    desk.at(minutes=4)
    alice.expect_sms(f"SEV1 {incident.reference} Acme Mail: Bob Secondary took this incident over from you")
    login_as(client, desk.hotline, name="Bob Secondary", rep_name="Bob Secondary")
    post_form(client, f"/incidents/{incident.reference}/take-over")
    desk.settle()
    desk.at(minutes=5)
    assert desk.incident(incident.id).acknowledged_at == desk.t0  # the first acknowledgement stays in the row
    return incident


def _alices_voice_page(desk, incident) -> Page:
    with desk.hotline.db.session() as s:
        return s.scalars(select(Page).where(Page.incident_id == incident.id, Page.to_number == ALICE,
                                            Page.channel == "voice")).one()


def test_an_ack_by_sms_after_a_take_over_names_the_owner_with_the_time_they_took_it(desk, network, client):
    incident = _taken_over_by_bob(desk, network, client)
    reply = _sms_from(desk, ALICE, f"ACK {incident.reference}").get_data(as_text=True)
    assert (f"Incident {incident.reference} was already acknowledged by Alice Primary at 19:00 PST and taken over "
            f"by Bob Secondary at 19:04 PST. Nothing was changed.") in reply


def test_a_key_on_the_voice_page_after_a_take_over_names_the_owner_with_the_time_they_took_it(desk, network, client):
    incident = _taken_over_by_bob(desk, network, client)
    said = _key(desk, _alices_voice_page(desk, incident).id, "1")
    assert f"Incident {', '.join(incident.reference)} was already {SAID}. Nothing was changed." in said


def test_a_voice_page_answered_after_a_take_over_names_the_owner_with_the_time_they_took_it(desk, network, client):
    incident = _taken_over_by_bob(desk, network, client)
    page = _alices_voice_page(desk, incident)
    path = f"/twilio/page/voice?page={page.id}"
    params = {"CallSid": page.twilio_sid or "CA" + "5" * 32, "AnsweredBy": "human", "AccountSid": "AC" + "0" * 32,
              "From": "+15005550006", "To": ALICE}
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(PUBLIC_BASE_URL + path, params)
    said = desk.client.post(path, data=params, headers={"X-Twilio-Signature": signature}).get_data(as_text=True)
    assert f"Incident {', '.join(incident.reference)} was already {SAID}. You need do nothing" in said


def test_the_ack_link_after_a_take_over_names_the_owner_with_the_time_they_took_it(desk, network, client):
    incident = _taken_over_by_bob(desk, network, client)
    doc = parse(desk.client.get(f"/ack/{_ack_link(desk, incident.id)}"))
    assert doc.find("p", cls="owner").text() == (
        "Already acknowledged by Alice Primary at 19:00 PST and taken over by Bob Secondary at 19:04 PST. "
        "You need do nothing, or take it over:")
