"""The customer's SMS after the callback: STOP / START and Twilio's 21610, answers that carry other
numbers or free text, and a bare YES / NO when more than one incident could be meant.

Through the signed SMS webhook, the simulated Twilio (which, like Twilio, refuses SMS to a number that
texted STOP with error 21610), scripted phones that fail the test on any SMS nobody expected, and a
real local SMTP server.
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from twilio.request_validator import RequestValidator

from app.models import Delivery, Incident, IncidentEvent, ProposalKind, Rep, ResolutionProposal, SmsOptOut
from app.models.user import Role
from app.services.acks import lock_incident
from app.services.page_text import hhmm
from app.services.resolution import propose
from app.services.updates import write_update
from hotline_sim.phone import SimulatedCall, flask_transport
from hotline_sim.twilio_records import ApiMessage, new_sid
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.integration.dashboard_support import login_as
from tests.paging.conftest import ALICE, CUSTOMER, MARIA

_SIDS = itertools.count(1)


def _text_hotline(desk, body: str, sender: str = CUSTOMER, **extra: str) -> list[str]:
    """An SMS from ``sender`` to the hotline, seen by the simulated Twilio and signed like Twilio; the reply texts."""
    return _post_sms(desk, *_sms_request(desk, body, sender, **extra))


def _sms_request(desk, body: str, sender: str = CUSTOMER, **extra: str) -> tuple[dict[str, str], str]:
    """The form and signature of an SMS from ``sender`` to the hotline, as Twilio would post it."""
    twilio = desk.network.twilio
    hotline_number = desk.hotline.settings.twilio_number
    twilio.add_message(ApiMessage(sid=new_sid("SM"), to=hotline_number, from_=sender, body=body,
                                  date_created=desk.clock.now(), direction="inbound", status="received"))
    params = {"MessageSid": f"SM{next(_SIDS):032d}", "From": sender, "To": hotline_number, "Body": body,
              "AccountSid": twilio.account_sid, **extra}
    return params, RequestValidator(TEST_AUTH_TOKEN).compute_signature(f"{PUBLIC_BASE_URL}/twilio/sms", params)


def _post_sms(desk, params: dict[str, str], signature: str) -> list[str]:
    """Post a signed SMS webhook; the reply texts."""
    response = desk.client.post("/twilio/sms", data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    root = ET.fromstring(response.get_data(as_text=True))
    assert root.tag == "Response"
    return [(m.findtext("Body") or m.text or "").strip() for m in root.iter("Message")]



def _rows(desk, model, **where):
    with desk.hotline.db.session() as session:
        return list(session.scalars(select(model).filter_by(**where).order_by(model.id)))


def _kinds(desk, incident_id: int) -> list[str]:
    return [e.kind for e in _rows(desk, IncidentEvent, incident_id=incident_id)]


def _update(desk, ref: str, what: str):
    return desk.run(lambda s, now: write_update(s, lock_incident(s, ref), what_is_wrong=what, by="Alice Primary",
                                                  via="dashboard", now=now))


def _propose(desk, ref: str, summary: str):
    return desk.run(lambda s, now: propose(s, lock_incident(s, ref), ProposalKind.RESOLVED, summary=summary,
                                             by="Alice Primary", now=now, settings=desk.hotline.settings))


def _sms_requests_to(desk, number: str) -> int:
    return sum(1 for r in desk.network.twilio.requests
               if r.method == "POST" and r.path.endswith("/Messages.json") and r.params.get("To") == [number])


def _called_back(desk, network):
    """An incident of CUSTOMER, acknowledged and called back by Alice (who owns its updates, hourly)."""
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(press="1", answered=True).expect_sms("as agreed, you will get an update every hour")  # "every hour", told in writing
    network.phone(ALICE).expect_sms("SEV1").expect_call(press=["2", "2"])
    incident = desk.open_incident()
    desk.settle()
    return incident, customer


def test_stop_is_recorded_sms_skipped_email_sent_the_rep_sees_it_and_start_lifts_it(desk, network, smtp, client):
    incident, customer = _called_back(desk, network)
    ref = incident.reference
    assert _text_hotline(desk, "Stop") == []  # Twilio answers STOP itself: never "matches no open incident"
    [opt_out] = _rows(desk, SmsOptOut)
    assert opt_out.phone == CUSTOMER and opt_out.source == "keyword"
    assert "sms_opted_out" in _kinds(desk, incident.id)
    tried = _sms_requests_to(desk, CUSTOMER)

    _update(desk, ref, "Investigating the API cluster")  # the scripted phone would fail on any SMS to it
    [sms] = _rows(desk, Delivery, incident_id=incident.id, channel="sms", purpose="update")
    assert sms.status == "opted_out" and sms.attempts == 0 and "STOP" in sms.last_error
    [mail] = _rows(desk, Delivery, incident_id=incident.id, channel="email", purpose="update")
    assert mail.status == "sent" and len(smtp.inbox.to(desk.incident(incident.id).email)) == 1
    assert _sms_requests_to(desk, CUSTOMER) == tried  # never sent to Twilio, never retried

    login_as(client, desk.hotline, Role.REP, name="Rita Rep")
    page = client.get(f"/incidents/{ref}").get_data(as_text=True)
    assert "opted out of SMS (the customer texted STOP)" in page
    assert "SMS update to the customer NOT sent: the number opted out of SMS (STOP)" in page
    updates_page = client.get(f"/incidents/{ref}/updates").get_data(as_text=True)
    assert "<td>opted_out</td>" in updates_page

    assert _text_hotline(desk, "START") == []
    assert _rows(desk, SmsOptOut) == [] and "sms_opted_in" in _kinds(desk, incident.id)
    customer.expect_sms(f"Sev-1 {ref} update: Failover running")
    _update(desk, ref, "Failover running")
    assert [d.status for d in _rows(desk, Delivery, incident_id=incident.id, channel="sms", purpose="update")] == [
        "opted_out", "delivered"]


def test_twilio_21610_records_the_opt_out_once_final_and_later_sms_are_not_tried(desk, network, smtp):
    incident, customer = _called_back(desk, network)
    desk.network.twilio.opted_out.add(CUSTOMER)  # the customer's STOP never reached us; Twilio refuses (21610)
    tried = _sms_requests_to(desk, CUSTOMER)
    _propose(desk, incident.reference, "API healthy again")
    [sms] = _rows(desk, Delivery, incident_id=incident.id, channel="sms", purpose="proposal")
    assert sms.status == "opted_out" and sms.attempts == 1 and "21610" in sms.last_error
    assert _sms_requests_to(desk, CUSTOMER) == tried + 1  # tried once: no retry
    [opt_out] = _rows(desk, SmsOptOut)
    assert opt_out.phone == CUSTOMER and opt_out.source == "twilio_21610"
    [mail] = _rows(desk, Delivery, incident_id=incident.id, channel="email", purpose="proposal")
    assert mail.status == "sent"

    desk.clock.set(desk.clock.now() + timedelta(minutes=5))
    network.phone(ALICE).expect_sms("the customer says it is NOT resolved")
    assert _text_hotline(desk, f"NO {incident.reference}") == []  # carried out, but no answer to an opted-out number
    desk.settle()
    assert [p.state for p in _rows(desk, ResolutionProposal, incident_id=incident.id)] == ["rejected"]
    _update(desk, incident.reference, "Still deferred mail")
    statuses = [(d.purpose, d.status, d.attempts) for d in _rows(desk, Delivery, incident_id=incident.id,
                                                                  channel="sms", recipient="customer")]
    assert statuses[-2:] == [("proposal", "opted_out", 1), ("update", "opted_out", 0)]
    assert _sms_requests_to(desk, CUSTOMER) == tried + 1


@pytest.mark.parametrize(("body", "extra", "opted_out"), [
    ("STOPALL", {}, True), (" unsubscribe ", {}, True), ("cancel", {}, True), ("END", {}, True), ("Quit.", {}, True),
    ("ABMELDEN", {"OptOutType": "STOP"}, True),  # Advanced Opt-Out: Twilio names the keyword's kind
    ("stop sending me the old ones please", {}, False),  # not a keyword: Twilio delivers it as a message
])
def test_opt_out_keywords_from_any_number_get_an_empty_answer(desk, body, extra, opted_out):
    stranger = "+14155550177"
    replies = _text_hotline(desk, body, sender=stranger, **extra)
    assert [o.phone for o in _rows(desk, SmsOptOut)] == ([stranger] if opted_out else [])
    assert replies == [] if opted_out else "matches no open incident" in replies[0]
    if opted_out:
        assert _text_hotline(desk, "Yes please", sender=stranger, OptOutType="START") == []
        assert _rows(desk, SmsOptOut) == []


def test_a_no_with_other_six_digit_numbers_is_a_no(desk, network, smtp):
    incident, customer = _called_back(desk, network)
    customer.expect_sms("We believe your problem is resolved")
    _propose(desk, incident.reference, "API healthy again")
    body = "NO - still 250000 messages deferred, see ticket 734512"
    due = desk.clock.now() + timedelta(hours=1)  # updates resume, hourly: the customer is told when, on their clock
    assert _text_hotline(desk, body) == [f"Thank you. We keep working on incident {incident.reference}. Your next "
                                         f"update will come by {hhmm(due, 'America/Los_Angeles')}."]
    [proposal] = _rows(desk, ResolutionProposal, incident_id=incident.id)
    assert proposal.state == "rejected" and proposal.decided_via == "sms" and "250000" in proposal.note
    assert desk.incident(incident.id).status == "open"
    answers = [e.detail for e in _rows(desk, IncidentEvent, incident_id=incident.id, kind="customer_sms_answer")]
    assert [(d["confirmed"], d["text"]) for d in answers] == [(False, body)]
    # the owner hears the NO and why at once (a probe's owner heard nothing until the next update's reminder)
    alice = network.phone(ALICE).expect_sms("NOT resolved")
    desk.settle()
    [told] = [m for m in alice.sms if "NOT resolved" in m]
    due = desk.clock.now() + timedelta(hours=1)
    assert told == (f'SEV1 {incident.reference} Acme Mail: the customer says it is NOT resolved: "{body}". Updates go '
                    f"on: the next is due by {hhmm(due, 'America/Los_Angeles')}. Reply UPDATE {incident.reference} "
                    "<text>.")


def test_free_text_is_attached_and_the_owner_told_once_in_a_while(desk, network, smtp, client):
    incident, customer = _called_back(desk, network)
    ref = incident.reference
    customer.expect_sms("We believe your problem is resolved")
    _propose(desk, ref, "API healthy again")
    alice = network.phone(ALICE).expect_sms("the customer texted: Not fixed, API still 500s")
    [reply] = _text_hotline(desk, "Not fixed, API still 500s")
    assert reply.startswith(f"Thank you. We added your message to incident {ref}. Our updates reach you by text")
    assert reply.endswith(f" To answer our proposal, reply YES {ref} or NO {ref}.")
    desk.settle()
    assert _text_hotline(desk, "Nope")[0].startswith(f"Thank you. We added your message to incident {ref}.")
    desk.settle()  # the second within 15 minutes: logged, no second SMS to Alice now (the phone would fail on it)
    desk.clock.set(desk.clock.now() + timedelta(minutes=5))
    _text_hotline(desk, "Also SMTP is down now, the queue is growing")
    desk.settle()
    company = desk.incident(incident.id).company
    told = [m.body for m in alice.received if hasattr(m, "body") and "the customer texted" in m.body]
    assert told == [f"SEV1 {ref} {company}: the customer texted: Not fixed, API still 500s"]
    texts = [e.detail for e in _rows(desk, IncidentEvent, incident_id=incident.id, kind="customer_sms_message")]
    assert [(d["text"], d["owner_told"]) for d in texts] == [
        ("Not fixed, API still 500s", True), ("Nope", False), ("Also SMTP is down now, the queue is growing",
                                                                False)]
    # held back, never dropped (an outside probe's customer's second SMS reached nobody): both go in one SMS when
    # the quarter hour since the first is over
    [first_told] = [e.at for e in _rows(desk, IncidentEvent, incident_id=incident.id, kind="customer_sms_message")
                    if e.detail["owner_told"]]
    assert texts[1]["held_until"] == texts[2]["held_until"] == (first_told + timedelta(minutes=15)).isoformat()
    alice.expect_sms("the customer texted since the last SMS")
    desk.clock.set(first_told + timedelta(minutes=15))
    desk.settle()
    told = [m.body for m in alice.received if hasattr(m, "body") and "the customer texted" in m.body]
    assert told[1:] == [f'SEV1 {ref} {company}: the customer texted since the last SMS: "Nope" / '
                        '"Also SMTP is down now, the queue is growing"']
    [proposal] = _rows(desk, ResolutionProposal, incident_id=incident.id)
    assert proposal.state == "proposed"  # words are not an answer: the customer was asked for one
    login_as(client, desk.hotline, Role.REP, name="Rita Rep")
    assert "Customer texted: Nope" in client.get(f"/incidents/{ref}").get_data(as_text=True)


def _second_incident(desk, network) -> Incident:
    """The same customer reports another problem from the same number (a repeat caller's new report)."""
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(press="1", answered=True).expect_sms("as agreed, you will get an update every hour")  # "every hour", told in writing
    network.phone(ALICE).expect_sms("SEV1").expect_call(press=["2", "2"])
    call = SimulatedCall(transport=flask_transport(desk.client), base_url=PUBLIC_BASE_URL,
                         auth_token=TEST_AUTH_TOKEN, caller=CUSTOMER)
    call.dial()
    for key in ("1", "2", "2", "#"):
        call.press(key)
    call.say("Acme Mail")
    call.say("Dana Smith")
    call.press("1")
    call.say("dana at acme dot example")
    call.press("1")
    call.say("SMTP injection times out.")
    call.record(seconds=5)
    call.press("1")
    call.hang_up()
    with desk.hotline.db.session() as session:
        second = session.scalars(select(Incident).where(Incident.call_sid == call.call_sid)).one()
    desk.settle()
    return second


def test_two_open_incidents_a_bare_yes_picks_none_a_named_one_closes_it(desk, network, smtp):
    a, customer = _called_back(desk, network)
    b = _second_incident(desk, network)
    assert a.id != b.id and desk.incident(b.id).status == "open"
    customer.expect_sms(f"Sev-1 {b.reference}: We believe")
    _propose(desk, b.reference, "SMTP healthy again")  # only B awaits an answer; A is open too
    assert _text_hotline(desk, "YES") == [f"Several of your incidents are open ({a.reference}, {b.reference}). "
                                          "Reply YES <reference> or NO <reference>."]
    assert [p.state for p in _rows(desk, ResolutionProposal, incident_id=b.id)] == ["proposed"]
    assert desk.incident(b.id).status == "open"
    assert _text_hotline(desk, f"yes {b.reference}") == [f"Thank you. Incident {b.reference} is closed."]
    assert desk.incident(b.id).status == "resolved" and desk.incident(a.id).status == "open"


def test_a_late_bare_yes_after_answering_another_incident_closes_nothing(desk, network, smtp, client):
    a, customer = _called_back(desk, network)
    b = _second_incident(desk, network)
    customer.expect_sms(f"Sev-1 {a.reference}: We believe")
    _propose(desk, a.reference, "API healthy again")
    network.phone(ALICE).expect_sms(f"SEV1 {a.reference} Acme Mail: the customer confirmed it is resolved")
    assert _text_hotline(desk, f"YES {a.reference}") == [f"Thank you. Incident {a.reference} is closed."]
    desk.clock.set(desk.clock.now() + timedelta(minutes=1))
    customer.expect_sms(f"Sev-1 {b.reference}: We believe")
    _propose(desk, b.reference, "SMTP healthy again")  # a minute after A's answer; B is the only one open
    desk.clock.set(desk.clock.now() + timedelta(minutes=1))
    assert _text_hotline(desk, "YES") == [f"To answer about incident {b.reference}, reply YES {b.reference} or "
                                          f"NO {b.reference}."]
    assert desk.incident(b.id).status == "open"
    assert [p.state for p in _rows(desk, ResolutionProposal, incident_id=b.id)] == ["proposed"]


def _folded(params: dict[str, str]) -> dict[str, str]:
    """The form with its last parameter (by name) run into the value of the one before it: Twilio signs the names and
    values run together in name order, so this form validates under the original's signature."""
    *_, before, last = sorted(params)
    folded = {name: value for name, value in params.items() if name != last}
    folded[before] += last + params[last]
    return folded


def test_a_customers_yes_replayed_with_its_form_refolded_days_later_closes_nothing(desk, network, smtp):
    # a recorded SMS webhook (a proxy's log, a leaked capture) posted again with "MessageSid=SM..To+1..." for
    # "MessageSid=SM..&To=+1..": still signed, so it is the same SMS, acted on never again; within Twilio's retry
    # window it gets the answer it got, days later nothing (webhooks.RETRY_WINDOW)
    a, customer = _called_back(desk, network)
    customer.expect_sms(f"Sev-1 {a.reference}: We believe")
    _propose(desk, a.reference, "API healthy again")
    params, signature = _sms_request(desk, f"YES {a.reference}")
    network.phone(ALICE).expect_sms(f"SEV1 {a.reference} Acme Mail: the customer confirmed it is resolved")
    assert _post_sms(desk, params, signature) == [f"Thank you. Incident {a.reference} is closed."]
    assert _post_sms(desk, _folded(params), signature) == [f"Thank you. Incident {a.reference} is closed."]
    desk.clock.set(desk.clock.now() + timedelta(days=3))
    b, _ = _called_back(desk, network)
    customer.expect_sms(f"Sev-1 {b.reference}: We believe")
    _propose(desk, b.reference, "SMTP healthy again")
    a_lines = _kinds(desk, a.id)
    assert _post_sms(desk, _folded(params), signature) == []
    assert _kinds(desk, a.id) == a_lines  # run never again: not even noted on the closed incident it names
    assert desk.incident(b.id).status == "open"
    assert [p.state for p in _rows(desk, ResolutionProposal, incident_id=b.id)] == ["proposed"]


PICTURE = {"NumMedia": "1", "MediaUrl0": "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
           "MediaContentType0": "image/png"}


def test_a_screenshot_without_words_is_the_customers_message_not_a_strangers(desk, network, smtp, client):
    incident, customer = _called_back(desk, network)
    ref = incident.reference
    customer.expect_sms("We believe your problem is resolved")
    _propose(desk, ref, "API healthy again")
    alice = network.phone(ALICE).expect_sms(f"SEV1 {ref}")
    replies = _text_hotline(desk, "", **PICTURE)  # an MMS: a picture of the error, no text
    assert len(replies) == 1 and "matches no open incident" not in replies[0]
    assert replies[0].startswith(f"Thank you. We added your message to incident {ref}.")
    assert "cannot see pictures" in replies[0]  # never a silent loss of what they sent
    desk.settle()
    [told] = [m.body for m in alice.received if hasattr(m, "body") and "the customer texted" in m.body]
    assert "1 picture or file by MMS" in told
    assert [e.detail["media"] for e in _rows(desk, IncidentEvent, incident_id=incident.id,
                                             kind="customer_sms_message")] == [1]
    assert _rows(desk, IncidentEvent, kind="sms_from_unknown_sender") == []
    [proposal] = _rows(desk, ResolutionProposal, incident_id=incident.id)
    assert proposal.state == "proposed"
    login_as(client, desk.hotline, Role.REP, name="Rita Rep")
    assert "1 picture or file by MMS" in client.get(f"/incidents/{ref}").get_data(as_text=True)


def test_a_screenshot_in_german_is_answered_in_german(desk, network, smtp):
    incident, _customer = _called_back(desk, network)
    with desk.hotline.db.transaction() as s:
        lock_incident(s, incident.reference).language = "de-DE"
    network.phone(ALICE).expect_sms(f"SEV1 {incident.reference}")
    [reply] = _text_hotline(desk, "Siehe Bild", **PICTURE)
    assert reply.startswith(f"Danke. Wir haben Ihre Nachricht zu Vorfall {incident.reference} hinzugefügt.")
    assert "Bilder" in reply
    desk.settle()


@pytest.mark.parametrize("body", ["“Yes”", "'yes'", "„Ja“", "\u200bYES", "(Confirmed)",  # quotes around the word
                                  "Yes, all good now, thanks", "YES it works again? great", "Ja, danke, geht wieder"])
def test_a_yes_in_quotes_or_with_thanks_is_still_a_yes(desk, network, smtp, body):
    incident, customer = _called_back(desk, network)
    customer.expect_sms("We believe your problem is resolved")
    _propose(desk, incident.reference, "API healthy again")
    assert _text_hotline(desk, f"{body} {incident.reference}") == [f"Thank you. Incident {incident.reference} is closed."]
    assert [p.state for p in _rows(desk, ResolutionProposal, incident_id=incident.id)] == ["confirmed"]


@pytest.mark.parametrize(("glued", "state"), [("YES{ref}", "confirmed"), ("ja{ref} danke", "confirmed"),
                                              ("NO{ref}", "rejected"), ("no{ref} still failing", "rejected")])
def test_an_answer_typed_without_its_space_before_the_reference_answers_the_proposal(desk, network, smtp, glued, state):
    # "YES123456": a phone's keyboard drops the space; the reference was not read (no word boundary), so the YES
    # named no incident and was asked for again, and the NO's reference was lost
    incident, customer = _called_back(desk, network)
    customer.expect_sms("We believe your problem is resolved")
    _propose(desk, incident.reference, "API healthy again")
    network.phone(ALICE).expect_sms(f"SEV1 {incident.reference}")  # the owner reads the answer
    [reply] = _text_hotline(desk, glued.format(ref=incident.reference))
    assert ("Thank you. Incident" in reply) is (state == "confirmed")
    assert [p.state for p in _rows(desk, ResolutionProposal, incident_id=incident.id)] == [state]
    desk.settle()


@pytest.mark.parametrize("body", ["YES", "Yes, all good now, thanks", "Ja"])
def test_a_yes_without_the_reference_from_the_callback_number_closes_nothing(desk, network, smtp, body):
    """The sending number is no identity (it may be spoofed, or a switchboard many share): only a YES naming the
    reference the proposal SMS gave that number closes the incident, as only the reference or PIN lets a repeat
    caller answer on the phone."""
    incident, customer = _called_back(desk, network)
    customer.expect_sms("We believe your problem is resolved")
    _propose(desk, incident.reference, "API healthy again")
    ref = incident.reference
    assert _text_hotline(desk, body) == [f"To answer about incident {ref}, reply YES {ref} or NO {ref}."]
    assert [p.state for p in _rows(desk, ResolutionProposal, incident_id=incident.id)] == ["proposed"]
    assert desk.incident(incident.id).status == "open" and "customer_sms_answer" not in _kinds(desk, incident.id)
    assert _text_hotline(desk, f"{body} {ref}") == [f"Thank you. Incident {ref} is closed."]
    assert [p.state for p in _rows(desk, ResolutionProposal, incident_id=incident.id)] == ["confirmed"]


def test_a_bare_yes_is_logged_on_the_incident_with_its_owner(desk, network, smtp):
    """The bare YES closes nothing and is not texted to anyone (the customer is asked to name the reference), but
    its line names the incident's owner, as every customer line does: Alice, who called them back and owns it."""
    incident, customer = _called_back(desk, network)
    customer.expect_sms("We believe your problem is resolved")
    _propose(desk, incident.reference, "API healthy again")
    [alice] = _rows(desk, Rep, phone=ALICE)
    assert desk.incident(incident.id).acknowledged_by == alice.id
    assert _text_hotline(desk, "YES")[0].startswith(f"To answer about incident {incident.reference}")
    [line] = [e.detail for e in _rows(desk, IncidentEvent, incident_id=incident.id, kind="customer_sms_message")]
    assert line["text"] == "YES" and line["owner_told"] is False and line["owner_rep_id"] == alice.id


def test_a_full_width_yes_with_its_reference_confirms(desk, network, smtp):
    incident, customer = _called_back(desk, network)
    customer.expect_sms("We believe your problem is resolved")
    _propose(desk, incident.reference, "API healthy again")
    wide_ref = "".join(chr(0xFF10 + int(d)) for d in incident.reference)
    assert _text_hotline(desk, f"ＹＥＳ　{wide_ref}") == [f"Thank you. Incident {incident.reference} is closed."]
    assert [p.state for p in _rows(desk, ResolutionProposal, incident_id=incident.id)] == ["confirmed"]


def test_n_a_is_words_not_a_no(desk, network, smtp):
    incident, customer = _called_back(desk, network)
    customer.expect_sms("We believe your problem is resolved")
    _propose(desk, incident.reference, "API healthy again")
    network.phone(ALICE).expect_sms("the customer texted: N/A")
    assert _text_hotline(desk, "N/A")[0].startswith(f"Thank you. We added your message to incident "
                                                    f"{incident.reference}.")
    assert [p.state for p in _rows(desk, ResolutionProposal, incident_id=incident.id)] == ["proposed"]
    desk.settle()


@pytest.mark.parametrize("body", ["Yes, but the API still times out", "yes but SMTP is failing again",
                                  "YES {ref} - injections don't work yet", "Ja, aber SMTP geht noch nicht"])
def test_a_yes_that_takes_itself_back_closes_nothing(desk, network, smtp, body):
    """Both sides must agree the problem is resolved: a YES followed by doubt is the customer's words, not that."""
    incident, customer = _called_back(desk, network)
    customer.expect_sms("We believe your problem is resolved")
    _propose(desk, incident.reference, "API healthy again")
    body = body.format(ref=incident.reference)
    network.phone(ALICE).expect_sms(f"the customer texted: {body}")  # the owner reads it at once
    [reply] = _text_hotline(desk, body)
    assert reply.startswith(f"Thank you. We added your message to incident {incident.reference}.")
    assert f"reply YES {incident.reference} or NO {incident.reference}" in reply  # asked for a plain answer
    assert [p.state for p in _rows(desk, ResolutionProposal, incident_id=incident.id)] == ["proposed"]
    assert _rows(desk, Incident, id=incident.id)[0].status == "open"
    assert "customer_sms_answer" not in _kinds(desk, incident.id)
    desk.settle()



def test_a_yes_that_doubts_itself_reaches_the_owner_at_once_and_words_not_passed_on_come_with_the_closure(
        desk, network, smtp):
    """One SMS per 15 minutes to the owner: a probe's customer texted, then "Yes, but it still fails" within the
    quarter hour (not passed on), then a bare YES closed it: Alice read "confirmed" and never the doubt. A YES that
    doubts itself answers the proposal, so it reaches her at once; other words she was not texted come with the
    closure."""
    incident, customer = _called_back(desk, network)
    ref = incident.reference
    customer.expect_sms("We believe your problem is resolved")
    _propose(desk, ref, "API healthy again")
    alice = network.phone(ALICE).expect_sms("the customer texted: Checking now")
    _text_hotline(desk, "Checking now")
    desk.settle()
    alice.expect_sms("the customer texted: Yes, but SMTP still defers")
    _text_hotline(desk, "Yes, but SMTP still defers")
    desk.settle()
    _text_hotline(desk, "retrying the queue")  # plain words within the quarter hour: logged, not passed on
    desk.settle()
    texts = [e.detail for e in _rows(desk, IncidentEvent, incident_id=incident.id, kind="customer_sms_message")]
    assert [(d["text"], d["owner_told"]) for d in texts] == [
        ("Checking now", True), ("Yes, but SMTP still defers", True), ("retrying the queue", False)]
    alice.expect_sms("confirmed it is resolved")
    assert _text_hotline(desk, f"YES {ref}") == [f"Thank you. Incident {ref} is closed."]
    desk.settle()
    [closed] = [m for m in alice.sms if "confirmed it is resolved" in m]
    assert closed.endswith('The incident is closed. Before that they texted: "retrying the queue"')
    desk.at(minutes=20)  # the held SMS of those words is withdrawn: Alice's phone would fail on a second copy
    [held] = _rows(desk, Delivery, incident_id=incident.id, purpose="customer_sms_held")
    assert (held.status, held.sent_at) == ("skipped", None)


def closed_by_the_customers_yes(desk, network):
    """An incident of CUSTOMER called back by Alice, the fix proposed, and closed by the customer's own YES: the
    incident, the customer's phone and Alice's."""
    incident, customer = _called_back(desk, network)
    ref = incident.reference
    customer.expect_sms("We believe your problem is resolved")
    _propose(desk, ref, "API healthy again")
    alice = network.phone(ALICE).expect_sms("confirmed it is resolved")
    assert _text_hotline(desk, f"YES {ref}") == [f"Thank you. Incident {ref} is closed."]
    desk.settle()
    return incident, customer, alice


def no_after_the_close(desk, owner, ref: str, words: str) -> None:
    """The customer texts "NO <ref> <words>" about their closed incident: the owner is texted the words, and the
    customer reads that they were passed on (the incident stays closed)."""
    owner.expect_sms(f"the customer texted: NO {ref} {words}")
    assert _text_hotline(desk, f"NO {ref} {words}") == [
        f"Incident {ref} is closed. We passed your message to the engineer who worked on it. If the problem is back, "
        "call this number to report it as a critical problem."]
    desk.settle()


def test_a_no_after_the_customers_own_yes_closed_it_reaches_the_owner_at_once(desk, network, smtp):
    """An outside probe's customer texted "NO 873668 sorry, it is failing again right now" 5 s after the YES that
    closed the incident: the quarter-hour rule held it back for good, and the customer read only "it is closed".
    Words about an incident closed lately reach its owner at once, and the customer reads that they did."""
    incident, _customer, alice = closed_by_the_customers_yes(desk, network)
    ref = incident.reference
    desk.clock.set(desk.clock.now() + timedelta(seconds=5))
    no_after_the_close(desk, alice, ref, "sorry, it is failing again right now")
    assert alice.unmet == []
    [line] = [e.detail for e in _rows(desk, IncidentEvent, incident_id=incident.id, kind="customer_sms_message")]
    assert line["owner_told"] is True


def _german(desk, incident) -> None:
    with desk.hotline.db.transaction() as s:
        lock_incident(s, incident.reference).language = "de-DE"


@pytest.mark.parametrize("word", ["STOPP", "Abmelden", "stopp."])
def test_a_german_customers_stopp_opts_out_answered_in_german_and_anmelden_lifts_it(desk, network, smtp, word):
    """Twilio's default keywords are English: STOPP reaches us as words. It is the customer's opt-out (recorded, no
    SMS tried, confirmed in German), never words texted to the owner; ANMELDEN opts back in."""
    incident, customer = _called_back(desk, network)
    _german(desk, incident)
    [reply] = _text_hotline(desk, word)
    assert "keine SMS mehr" in reply and "ANMELDEN" in reply
    [opt_out] = _rows(desk, SmsOptOut)
    assert (opt_out.phone, opt_out.source, opt_out.keyword) == (CUSTOMER, "keyword", word.upper())
    kinds = _kinds(desk, incident.id)
    assert "sms_opted_out" in kinds and "customer_sms_message" not in kinds
    tried = _sms_requests_to(desk, CUSTOMER)
    _update(desk, incident.reference, "Wir untersuchen den API-Cluster")  # the scripted phone fails on any SMS
    [sms] = _rows(desk, Delivery, incident_id=incident.id, channel="sms", purpose="update")
    assert sms.status == "opted_out" and _sms_requests_to(desk, CUSTOMER) == tried
    [back] = _text_hotline(desk, "ANMELDEN")
    assert "wieder SMS" in back and _rows(desk, SmsOptOut) == [] and "sms_opted_in" in _kinds(desk, incident.id)


def test_after_stopp_the_customers_messages_are_carried_out_but_never_answered(desk, network, smtp):
    """Twilio blocks nothing after STOPP (it is no keyword of its own): an outside probe's customer, just told "Sie
    erhalten von dieser Nummer keine SMS mehr", was answered "Danke. Wir haben Ihre Nachricht ..." each time."""
    incident, _customer = _called_back(desk, network)
    _german(desk, incident)
    network.phone(ALICE).expect_sms("the customer texted: Es geht immer noch nicht")
    assert "keine SMS mehr" in _text_hotline(desk, "STOPP")[0]
    assert _text_hotline(desk, "Es geht immer noch nicht") == []
    assert _text_hotline(desk, f"NEIN {incident.reference}") == []
    desk.settle()
    texts = [e.detail["text"] for e in _rows(desk, IncidentEvent, incident_id=incident.id, kind="customer_sms_message")]
    assert texts == ["Es geht immer noch nicht", f"NEIN {incident.reference}"]  # their words reach the owner all the same
    assert "wieder SMS" in _text_hotline(desk, "ANMELDEN")[0]  # opting back in is confirmed
    [noted] = _text_hotline(desk, "Immer noch kaputt")  # opted back in: answered again
    assert noted.startswith("Danke.")


@pytest.mark.parametrize("stop", ["STOPP", "STOP"])
def test_after_stopp_a_help_keyword_is_noted_but_answered_by_no_sms_until_anmelden(desk, network, smtp, stop):
    """An outside probe's customer, told after STOPP "Sie erhalten von dieser Nummer keine SMS mehr", was answered
    "Sev-1-Hotline: Bei einem kritischen Problem rufen Sie diese Nummer an. ..." to each HILFE, while English HELP
    from an opted-out number got no answer from the hotline."""
    incident, _customer = _called_back(desk, network)
    _german(desk, incident)
    _text_hotline(desk, stop)
    assert [o.phone for o in _rows(desk, SmsOptOut)] == [CUSTOMER]
    assert _text_hotline(desk, "HILFE") == []
    assert _text_hotline(desk, "Hilfe!") == []
    assert _text_hotline(desk, "HELP") == []
    asked = [e.detail["keyword"] for e in _rows(desk, IncidentEvent, incident_id=incident.id, kind="sms_help_asked")]
    assert asked == ["HILFE", "HILFE!", "HELP"]  # on the timeline all the same
    assert "wieder SMS" in _text_hotline(desk, "ANMELDEN")[0]
    [reply] = _text_hotline(desk, "HILFE")  # opted back in: answered again
    assert "rufen Sie diese Nummer an" in reply and incident.reference in reply


def test_stopp_with_twilios_advanced_opt_out_type_gets_no_second_answer(desk, network, smtp):
    incident, _customer = _called_back(desk, network)
    _german(desk, incident)
    assert _text_hotline(desk, "STOPP", OptOutType="STOP") == []  # Twilio answered it (Advanced Opt-Out)
    assert [o.phone for o in _rows(desk, SmsOptOut)] == [CUSTOMER]


@pytest.mark.parametrize(("body", "extra", "ours"), [
    ("HILFE", {}, True),  # Twilio does not know it: the hotline answers, in German
    ("Hilfe!", {}, True),
    ("HELP", {}, False),  # Twilio answers HELP and INFO itself: a second answer from us would only confuse
    ("info", {}, False),
    ("HILFE", {"OptOutType": "HELP"}, False),  # the operator added HILFE to Advanced Opt-Out: Twilio answered
])
def test_a_customers_help_keyword_is_answered_once_and_not_texted_to_the_owner(desk, network, smtp, client, body,
                                                                               extra, ours):
    incident, _customer = _called_back(desk, network)
    _german(desk, incident)
    replies = _text_hotline(desk, body, **extra)  # ALICE's scripted phone fails on an SMS "the customer texted"
    desk.settle()
    if ours:
        [reply] = replies
        assert "rufen Sie diese Nummer an" in reply and "STOPP" in reply and incident.reference in reply
    else:
        assert replies == []
    kinds = _kinds(desk, incident.id)
    assert "sms_help_asked" in kinds and "customer_sms_message" not in kinds
    assert _rows(desk, SmsOptOut) == []
    login_as(client, desk.hotline, Role.REP, name="Rita Rep")
    assert "Customer asked for help by SMS" in client.get(f"/incidents/{incident.reference}").get_data(as_text=True)


def test_words_for_a_deactivated_owner_go_to_the_managers_not_to_the_former_rep(desk, network, smtp):
    # Alice owns the updates and is then deactivated (she left): the customer's words must not be texted to her
    # phone, and must still reach someone who works the incident: the managers
    incident, _customer = _called_back(desk, network)
    with desk.hotline.db.transaction() as s:
        s.execute(update(Rep).where(Rep.phone == ALICE).values(active=False))
    maria = network.phone(MARIA).expect_sms("the customer texted: API still 500s")
    assert _text_hotline(desk, "API still 500s")[0].startswith(f"Thank you. We added your message to incident "
                                                                f"{incident.reference}.")
    desk.settle()
    assert _sms_requests_to(desk, ALICE) == 1  # her page alone, nothing since
    assert len(maria.sms) == 1
    [logged] = [e.detail for e in _rows(desk, IncidentEvent, incident_id=incident.id, kind="customer_sms_message")]
    assert logged["owner_told"] is True


def test_a_customers_text_before_anyone_acknowledged_reaches_the_reps_paged_for_it(desk, network, smtp):
    # a probe's customer texted "Nobody called yet..." to an unacknowledged, breached incident: told "we added your
    # message", read by nobody (the receipt promises "To add details, reply to this SMS")
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    words = "Nobody called yet. Please call my colleague on +14155550777, I am boarding a plane"
    alice.expect_sms(f"SEV1 {incident.reference} Acme Mail: the customer texted: {words}")
    assert _text_hotline(desk, words)[0].startswith(f"Thank you. We added your message to incident {incident.reference}")
    desk.settle()
    assert alice.unmet == []
    [told] = _rows(desk, Delivery, incident_id=incident.id, purpose="customer_sms")
    assert (told.to_address, told.recipient, told.status) == (ALICE, "rep", "delivered")
    [line] = [e.detail for e in _rows(desk, IncidentEvent, incident_id=incident.id, kind="customer_sms_message")]
    assert line["owner_told"] is True and line["owner_rep_id"] is None


def test_a_reader_told_nothing_yet_is_told_at_once_even_within_the_quiet_quarter_hour(desk, network, smtp):
    # a probe's owner was deactivated minutes after the customer's first text reached them: the customer's next text
    # reached nobody (one SMS per incident every 15 minutes, whoever had received it)
    incident, _customer = _called_back(desk, network)
    alice = network.phone(ALICE).expect_sms("the customer texted: Still failing")
    _text_hotline(desk, "Still failing")
    desk.settle()
    assert alice.unmet == []
    with desk.hotline.db.transaction() as s:
        s.execute(update(Rep).where(Rep.phone == ALICE).values(active=False))  # she left the team
    maria = network.phone(MARIA).expect_sms("the customer texted: Please call my colleague")
    desk.clock.set(desk.clock.now() + timedelta(minutes=2))
    _text_hotline(desk, "Please call my colleague")
    desk.settle()
    assert maria.unmet == []
    desk.clock.set(desk.clock.now() + timedelta(minutes=2))
    _text_hotline(desk, "Any news?")  # Maria was told two minutes ago: logged, no second SMS
    desk.settle()
    lines = [e.detail for e in _rows(desk, IncidentEvent, incident_id=incident.id, kind="customer_sms_message")]
    assert [d["owner_told"] for d in lines] == [True, True, False]


def test_after_a_take_over_the_customers_words_and_the_updates_schedule_go_to_the_new_owner(desk, network, smtp):
    """A probe: Bob called back and owned the updates; Alice took the incident over. The API said owner Alice, but the
    schedule kept Bob: the customer's texts and the update reminder went to Bob, told "You need do nothing more"."""
    from app.models import FollowUp
    from app.services.acks import Actor, acknowledge

    incident, customer = _called_back(desk, network)  # Alice called back and owns the updates
    ref = incident.reference
    with desk.hotline.db.session() as session:
        maria = session.scalar(select(Rep).where(Rep.phone == MARIA))
    maria_phone = network.phone(MARIA)
    network.phone(ALICE).expect_sms("took this incident over from you")
    answer = desk.run(lambda s, now: acknowledge(s, lock_incident(s, ref), Actor(maria.name, "sms", rep=maria), now,
                                                 take_over=True))
    assert answer.ok, answer
    desk.settle()
    [follow_up] = _rows(desk, FollowUp, incident_id=incident.id)
    assert follow_up.owner_rep_id == maria.id

    maria_phone.expect_sms("the customer texted: Still broken after your call")
    _text_hotline(desk, "Still broken after your call")
    desk.settle()  # Alice's phone fails the test on any SMS it did not expect: she hears nothing of it
    [said] = [e.detail for e in _rows(desk, IncidentEvent, incident_id=incident.id, kind="customer_sms_message")]
    assert said["owner_rep_id"] == maria.id and said["told_rep_ids"] == [maria.id]


def test_an_update_sms_twilio_fails_for_three_minutes_reaches_the_customer_once_it_answers(desk, network, smtp):
    """An outside probe's Twilio answered 500 for about a minute: the update SMS was tried 6 times in 64 s, then
    given up for good; the customer never got it. An SMS failing for now is tried again for an hour, as pages are,
    its failed tries written into the log a few times, not each one."""
    incident, customer = _called_back(desk, network)
    ref = incident.reference
    desk.network.twilio.fail_until(desk.clock.now() + timedelta(minutes=3), status=500)
    _update(desk, ref, "root cause found, fix rolling out")
    start = desk.clock.now()
    customer.expect_sms("root cause found, fix rolling out")
    for second in range(15, 4 * 60, 15):
        desk.clock.set(start + timedelta(seconds=second))
        desk.settle()
    [sms] = _rows(desk, Delivery, incident_id=incident.id, purpose="update", channel="sms")
    assert sms.status in ("sent", "delivered") and sms.attempts > 6  # past the six tries that used to be all
    failed = [e.detail for e in _rows(desk, IncidentEvent, incident_id=incident.id, kind="delivery_failed")
              if e.detail["delivery_id"] == sms.id]
    assert [d["final"] for d in failed] == [False] * len(failed) and len(failed) <= 6 + sms.attempts // 10


def test_twilios_retry_of_an_sms_gets_its_reply_again_but_a_late_copy_gets_none_and_changes_nothing(
        desk, network, smtp):
    """An outside probe's customer texted NO (answered "We keep working ..."), then YES closed the incident; a copy
    of the NO's request (same MessageSid) minutes later was answered "We keep working on incident ..., your next
    update will come by ..." again, of a closed incident. Twilio's retry, within seconds, still gets the reply; a
    copy past REPLY_FRESH_FOR gets none; neither is carried out again."""
    incident, customer = _called_back(desk, network)
    ref = incident.reference
    customer.expect_sms("We believe your problem is resolved")
    _propose(desk, ref, "API healthy again")
    no = _sms_request(desk, f"NO {ref} still failing on smtp")
    [first] = _post_sms(desk, *no)
    assert first.startswith(f"Thank you. We keep working on incident {ref}.")
    desk.clock.set(desk.clock.now() + timedelta(seconds=20))
    assert _post_sms(desk, *no) == [first]  # Twilio's retry: the same reply
    customer.expect_sms("We believe your problem is resolved")
    network.phone(ALICE).expect_sms("NOT resolved")
    _propose(desk, ref, "API healthy again, really")
    desk.settle()
    network.phone(ALICE).expect_sms("confirmed it is resolved")
    assert _text_hotline(desk, f"YES {ref}") == [f"Thank you. Incident {ref} is closed."]
    desk.settle()
    desk.clock.set(desk.clock.now() + timedelta(minutes=3))
    assert _post_sms(desk, *no) == []  # a late copy: no reply that the closed incident's work goes on
    assert desk.incident(incident.id).status != "open"
    answers = [e.detail for e in _rows(desk, IncidentEvent, incident_id=incident.id, kind="customer_sms_answer")]
    assert [d["confirmed"] for d in answers] == [False, True]  # the NO was carried out once


def test_a_yes_with_words_of_its_own_closes_and_the_owner_reads_them(desk, network, smtp):
    """An outside probe's customer wrote "YES 365528. Problem persists for EU customers.": no list of doubting words
    holds "persists", so it closed, and the owner read only "confirmed". The closure SMS quotes the words."""
    incident, customer = _called_back(desk, network)
    ref = incident.reference
    customer.expect_sms("We believe your problem is resolved")
    _propose(desk, ref, "API healthy again")
    alice = network.phone(ALICE).expect_sms("confirmed it is resolved")
    body = f"YES {ref}. Problem persists for EU customers."
    assert _text_hotline(desk, body) == [f"Thank you. Incident {ref} is closed."]
    desk.settle()
    [closed] = [m for m in alice.sms if "confirmed it is resolved" in m]
    assert closed.endswith(f'The incident is closed. They wrote: "{body}"')


def test_a_customers_text_with_a_nul_or_a_bidi_override_reaches_the_owner_in_plain_text(desk, network, smtp, client):
    """An outside probe's "still broken\\0" was a 500 on PostgreSQL (the text, the owner's SMS and the answer lost:
    Twilio never posts an SMS again), and a right-to-left override was forwarded to the reps and shown raw."""
    incident, _customer = _called_back(desk, network)
    ref = incident.reference
    alice = network.phone(ALICE).expect_sms("the customer texted: still broken, Acme EU")
    assert _text_hotline(desk, "still broken\x00, Acme\u202e EU")[0].startswith(
        f"Thank you. We added your message to incident {ref}.")
    desk.settle()
    [told] = [m.body for m in alice.received if hasattr(m, "body") and "the customer texted" in m.body]
    assert told.endswith("the customer texted: still broken, Acme EU")
    [line] = [e.detail for e in _rows(desk, IncidentEvent, incident_id=incident.id, kind="customer_sms_message")]
    assert line["text"] == "still broken, Acme EU"
    login_as(client, desk.hotline, Role.REP, name="Rita Rep")
    page = client.get(f"/incidents/{ref}").get_data(as_text=True)
    assert "Customer texted: still broken, Acme EU" in page and "\u202e" not in page


def test_the_callback_numbers_answer_says_by_when_the_callback_owed_comes(desk, network, smtp):
    """An outside probe (K3): "When is the next update?" from the callback number was answered only "We added your
    message", while the same words from the caller ID were told when they hear next (``how_they_hear``)."""
    incident, alice = desk.acknowledged_by_alice(network)
    due = desk.incident(incident.id).callback_due_at
    alice.expect_sms("the customer texted: When will someone call?")
    [reply] = _text_hotline(desk, "When will someone call?")
    assert reply.startswith(f"Thank you. We added your message to incident {incident.reference}. An engineer will "
                            "call you back on the callback number you gave us by ")
    assert hhmm(due, "America/Los_Angeles") in reply
    desk.settle()


def test_once_reached_the_callback_numbers_answer_gives_the_next_update_in_english_and_german(desk, network, smtp):
    incident, _customer = _called_back(desk, network)
    network.phone(ALICE).expect_sms("the customer texted: When is the next update?")
    [reply] = _text_hotline(desk, "When is the next update?")
    assert " Our updates reach you by text at this number. Your next update will come by " in reply
    desk.settle()
    with desk.hotline.db.transaction() as s:
        lock_incident(s, incident.reference).language = "de-DE"
    desk.clock.set(desk.clock.now() + timedelta(minutes=16))  # past the quarter hour: Alice is texted at once
    network.phone(ALICE).expect_sms("the customer texted: Wann kommt das nächste Update?")
    [reply] = _text_hotline(desk, "Wann kommt das nächste Update?")
    assert reply.startswith(f"Danke. Wir haben Ihre Nachricht zu Vorfall {incident.reference} hinzugefügt. Unsere "
                            "Updates erhalten Sie per SMS an diese Nummer. Das nächste Update erhalten Sie spätestens ")
    desk.settle()
