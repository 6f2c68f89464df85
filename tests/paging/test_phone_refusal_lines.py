"""A rep's refusals by phone (SMS and page-call keys) are one event-log line an hour per person and incident, as a
link's are (``refusal_lines``); the SMS answer to a refused SMS goes once in 10 minutes (``refusal_answers``).

Before, a misbehaving phone or a script repeating a refused ACK (or words that are no command) 200 times wrote 200
lines to the incident's kept-forever log and was answered by 200 SMS; a loop between an auto-reply and the hotline
had no end. A command carried out is never held back.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

from sqlalchemy import select, text
from twilio.request_validator import RequestValidator

from app.models import IncidentEvent, Page
from app.services.refusal_lines import WINDOW
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.paging.conftest import ALICE, BOB, CUSTOMER
from tests.paging.test_callback_rep_leg import _sms_from
from tests.paging.test_link_refusal_lines import _owned_by_alice_paged_to_bob

ANSWER_EVERY = timedelta(minutes=10)  # refusal_answers' (spelled here: the tests run on the code before it too)
ANSWERS_PER_REP = 10
SENT = 0  # a new MessageSid for each SMS: each is a real SMS of its own, not Twilio's retry of one


def _texted(desk, sender: str, body: str) -> list[str]:
    """The SMS the hotline answers ``body`` with (parsed TwiML: none when it holds its answer back)."""
    global SENT
    SENT += 1
    response = _sms_from(desk, sender, body, sid=f"SM{SENT:032d}")
    assert response.status_code == 200
    return [message.text or "" for message in ET.fromstring(response.get_data(as_text=True)).findall("Message")]


def _lines(desk, kind: str, incident_id: int | None = None) -> list[IncidentEvent]:
    on = IncidentEvent.incident_id.is_(None) if incident_id is None else IncidentEvent.incident_id == incident_id
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(IncidentEvent).where(IncidentEvent.kind == kind, on).order_by(IncidentEvent.id)))


def test_a_refused_ack_repeated_by_sms_is_one_line_an_hour_and_one_answer_in_ten_minutes(desk, network, clock):
    incident = _owned_by_alice_paged_to_bob(desk, network)
    owner = desk.incident(incident.id).acknowledged_by

    answers = [_texted(desk, BOB, f"ACK {incident.reference}") for _ in range(20)]

    [first] = answers[0]
    assert "already acknowledged by Alice Primary" in first and "Nothing was changed" in first
    assert answers[1:] == [[]] * 19  # no SMS back: the same answer went moments ago
    [line] = _lines(desk, "acknowledgement_refused", incident.id)
    assert (line.actor, line.detail["via"], line.detail["outcome"]) == ("Bob Secondary", "sms", "refused_owned_by_other")
    assert desk.incident(incident.id).acknowledged_by == owner
    # ten minutes on, the same refusal is answered again (once), still no second line within the hour
    clock.advance(seconds=ANSWER_EVERY.total_seconds() + 1)
    assert [len(_texted(desk, BOB, f"ACK {incident.reference}")) for _ in range(3)] == [1, 0, 0]
    assert len(_lines(desk, "acknowledgement_refused", incident.id)) == 1
    # the hour over, the next refusal is a line again (the log still tells that he tried, and from when)
    clock.advance(seconds=WINDOW.total_seconds())
    assert len(_texted(desk, BOB, f"ACK {incident.reference}")) == 1
    assert len(_lines(desk, "acknowledgement_refused", incident.id)) == 2
    with desk.hotline.db.session() as s:  # only the last 10 minutes' answers are kept
        assert s.scalar(text("SELECT count(*) FROM refusal_answers")) == 1


def test_words_that_are_no_command_repeated_by_sms_are_bounded_and_a_real_ack_still_acts(desk, network, clock):
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()

    answers = [_texted(desk, ALICE, "Ja") for _ in range(30)]  # an auto-reply, a loop, a script

    assert "not understood" in answers[0][0].lower() and answers[1:] == [[]] * 29
    [line] = _lines(desk, "sms_not_understood")
    assert (line.actor, line.detail["via"], line.detail["body"]) == ("Alice Primary", "sms", "Ja")
    # an answer that says something else goes at once (another reference) ...
    [unknown] = _texted(desk, ALICE, "ACK 999999")
    assert "No incident 999999. Nothing was changed." in unknown
    # ... and what is carried out is never held back: HELP each time, the acknowledgement itself
    assert all(len(_texted(desk, ALICE, "HELP")) == 1 for _ in range(3))
    [acked] = _texted(desk, ALICE, f"ACK {incident.reference}")
    assert "Acknowledged" in acked and desk.incident(incident.id).acknowledged_at is not None
    desk.settle()  # the customer is told
    assert [len(_texted(desk, ALICE, f"ACK {incident.reference}")) for _ in range(3)] == [1, 1, 1]  # already yours
    assert _lines(desk, "acknowledgement_refused", incident.id) == []
    clock.advance(seconds=ANSWER_EVERY.total_seconds() + 1)
    assert len(_texted(desk, ALICE, "Ja")) == 1 and len(_lines(desk, "sms_not_understood")) == 1


def test_refusals_in_varying_words_get_at_most_a_few_answers_in_ten_minutes(desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    desk.open_incident()
    desk.settle()

    answered = [len(_texted(desk, ALICE, f"ACK {900000 + n}")) for n in range(ANSWERS_PER_REP + 5)]

    assert answered == [1] * ANSWERS_PER_REP + [0] * 5
    [line] = _lines(desk, "sms_unknown_reference")  # no incident: one line for the rep in the hour
    assert line.detail["reference"] == "900000"


def test_a_refused_key_on_page_calls_is_one_line_an_hour_and_each_call_still_hears_why(desk, network):
    incident = _owned_by_alice_paged_to_bob(desk, network)
    with desk.hotline.db.session() as s:
        voice = s.scalars(select(Page).where(Page.incident_id == incident.id, Page.to_number == BOB,
                                             Page.channel == "voice")).first()
    url = f"{PUBLIC_BASE_URL}/twilio/page/voice/key?page={voice.id}"

    heard = []
    for n in range(6):  # six calls (each its own CallSid) whose listener presses 1
        params = {"CallSid": f"CA{n:032d}", "Digits": "1", "AccountSid": "AC" + "0" * 32, "To": BOB}
        signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(url, params)
        response = desk.client.post(url.removeprefix(PUBLIC_BASE_URL), data=params,
                                    headers={"X-Twilio-Signature": signature})
        root = ET.fromstring(response.get_data(as_text=True))
        assert [verb.tag for verb in root] == ["Say", "Hangup"]
        heard.append(root[0].text)

    assert all("Nothing was changed" in said for said in heard)  # a call's words cost no SMS: each hears why
    [line] = _lines(desk, "acknowledgement_refused", incident.id)
    assert (line.actor, line.detail["via"]) == ("Bob Secondary", "voice")
    assert desk.incident(incident.id).acknowledged_by != voice.rep_id
