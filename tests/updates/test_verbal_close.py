"""A rep's "Resolved (the customer agrees)" is only the rep's word: the customer is told, once, in their language and
by the channel they can read (SMS, else e-mail: the closing notice's rule), that it was closed as agreed with them on
the phone and how to say it is not; their NO reaches the owner at once, naming the agreement it disputes. Recorded
over the customer's own NO with nothing from them since, the rep is warned and must confirm it.

Through the real dashboard form (CSRF), the signed SMS webhook, the simulated Twilio with scripted phones that fail
the test on any SMS nobody expected, and a real local SMTP server."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from app.dashboard.timeline import timeline
from app.models import Delivery, FollowUp, IncidentEvent, Rep
from app.services.customer_text import written_time
from app.services.page_text import hhmm
from tests.integration.board_support import CSRF, login_as
from tests.paging.conftest import ALICE, CUSTOMER
from tests.updates.test_breach_notice_by_email import HOTLINE_NUMBER, UK_LANDLINE
from tests.updates.test_customer_sms import _called_back, _german, _propose, _rows, _text_hotline

ALICE_CLOCK = "America/Los_Angeles"


def _alice_logs_in(desk) -> None:
    with desk.hotline.db.session() as s:
        alice = s.scalar(select(Rep.id).where(Rep.phone == ALICE))
    login_as(desk.client, desk.hotline, name="Alice at her desk", rep_id=alice)


def _resolve(desk, ref: str, who: str, **more: str) -> str:
    """Alice posts the incident page's Resolved form; the page she lands on."""
    page = desk.client.post(f"/incidents/{ref}/resolve", data={"csrf_token": CSRF, "back": "incident",
                                                               "who_agreed": who, **more}, follow_redirects=True)
    assert page.status_code == 200
    desk.settle()
    return page.get_data(as_text=True)


def _lines(desk, incident_id: int) -> list[str]:
    return [e.text for e in timeline(_rows(desk, IncidentEvent, incident_id=incident_id), [])]


def test_a_german_sms_customer_is_told_in_german_and_their_nein_reaches_the_owner_at_once(desk, network, smtp):
    incident, customer = _called_back(desk, network)
    ref = incident.reference
    _german(desk, incident)
    _alice_logs_in(desk)
    customer.expect_sms(f"Wie telefonisch mit Ihnen vereinbart, ist Vorfall {ref} geschlossen")

    page = _resolve(desk, ref, "Jürgen")

    assert desk.incident(incident.id).status == "resolved"
    assert f"Incident {ref} is resolved: Jürgen agreed." in page
    assert "The customer is told by SMS that it was closed as agreed on the phone, and to reply NO" in page
    assert customer.unmet == []
    [closing] = [m.body for m in network.twilio.messages if m.to == CUSTOMER and "vereinbart, ist" in m.body]
    assert closing == (f"Severity-1-Hotline: Wie telefonisch mit Ihnen vereinbart, ist Vorfall {ref} geschlossen. Ist "
                       f"das Problem nicht gelöst, antworten Sie innerhalb von 7 Tagen NEIN {ref}, um ihn wieder zu "
                       f"öffnen, oder rufen Sie uns unter {HOTLINE_NUMBER} an.")
    [notice] = [e.detail for e in _rows(desk, IncidentEvent, incident_id=incident.id, kind="customer_closing_notice")]
    assert notice["channel"] == "sms" and notice["agreed"] is True
    assert ("Closing notice to the customer queued by SMS: closed as agreed with them on the phone; they may reply NO "
            "or call if the problem is not resolved") in _lines(desk, incident.id)
    [follow_up] = _rows(desk, FollowUp, incident_id=incident.id)
    assert follow_up.closed_how == "verbal"

    # their NO (as the message asks) reopens it: they never agreed in writing (tests/updates/test_reopen.py); the owner
    # reads it at once, naming the agreement it undoes, and the customer reads, in German, when the next update comes
    desk.clock.set(desk.clock.now() + timedelta(minutes=3))
    alice = network.phone(ALICE).expect_sms(
        f"SEV1 {ref} Acme Mail: REOPENED by the customer, who says it is NOT resolved (it was closed on a verbal "
        f"agreement: Jürgen (recorded by Alice Primary)). They texted: NEIN {ref} geht immer noch nicht. Call them: "
        f"{CUSTOMER}. Updates go on: the next is due by")
    [reply] = _text_hotline(desk, f"NEIN {ref} geht immer noch nicht")
    desk.settle()
    assert reply.startswith(f"Vorfall {ref} ist wieder offen: Wir haben Ihre Nachricht an den zuständigen Techniker "
                            "weitergegeben und arbeiten weiter daran. Das nächste Update erhalten Sie bis ")
    assert desk.incident(incident.id).status == "open"
    assert alice.unmet == [] and customer.unmet == []
    [line] = [e.detail for e in _rows(desk, IncidentEvent, incident_id=incident.id, kind="incident_reopened")]
    [resolved] = _rows(desk, IncidentEvent, incident_id=incident.id, kind="resolved")
    assert (line["by"], line["close"], line["undoes"]) == ("customer", "verbal", resolved.id)


def _landline_customer_said_no_by_the_link(desk, network, smtp, client):
    """An incident of a customer whose number takes no SMS (their e-mail address only), called back by Alice, whose
    proposal they rejected through the e-mail link; returns it and when they said NO."""
    from tests.updates.conftest import verified_callback

    alice = network.phone(ALICE).expect_sms("SEV1", reply="ACK").expect_call(answer=False).expect_sms("Acknowledged")
    incident = desk.intake(caller=UK_LANDLINE)[0]
    desk.settle()
    with desk.hotline.db.session() as s:
        alice_id = s.scalar(select(Rep.id).where(Rep.phone == ALICE))
    desk.run(lambda s, now: verified_callback(s, desk.incident(incident.id), now, rep_id=alice_id))
    desk.at(minutes=5)
    ref = desk.incident(incident.id).reference
    assert _propose(desk, ref, "API healthy again").ok
    desk.settle()
    link = re.search(r"https://hotline\.example\.com(/resolution/\S+)",
                     smtp.inbox.to("dana@acme.example")[-1].get_content()).group(1)
    alice.expect_sms(f"SEV1 {ref} Acme Mail: the customer says it is NOT resolved")
    desk.at(minutes=8)
    assert client.post(link, data={"answer": "reject"}).status_code == 200
    desk.settle()
    assert alice.unmet == []
    return desk.incident(incident.id), desk.clock.now()


def test_a_verbal_agreement_over_the_customers_no_is_refused_until_the_rep_confirms_it(desk, network, smtp, client):
    incident, said_no = _landline_customer_said_no_by_the_link(desk, network, smtp, client)
    ref = incident.reference
    desk.at(minutes=25)  # 17 minutes after their NO, with no call or message since
    _alice_logs_in(desk)
    warning = (f"The customer's last written answer was NO, by the e-mail link at {hhmm(said_no, ALICE_CLOCK)}, and "
               "nothing shows they were reached since (no callback answered, nothing from them).")

    # the incident page warns beside the Resolved form, whose box must be ticked (no JavaScript needed)
    shown = client.get(f"/incidents/{ref}").get_data(as_text=True)
    assert f"Warning: {warning}" in shown.replace("&#39;", "'")
    assert re.search(r'<input type="checkbox" name="agreed_after_no" value="yes" required', shown)
    assert "They agreed with me after that NO" in shown

    # posted without the box (a stale page, or straight to the URL): nothing changes, and the rep reads why
    refused = _resolve(desk, ref, "Pat Probe").replace("&#39;", "'").replace("&#34;", '"').replace("&quot;", '"')
    assert f"Incident {ref} was NOT closed: {warning}" in refused
    assert 'tick "They agreed with me after that NO"' in refused
    assert desk.incident(incident.id).status == "open"
    assert [d for d in _rows(desk, Delivery, incident_id=incident.id) if "closing" in d.purpose] == []

    # confirmed: closed, on the record, and the customer is e-mailed that it was closed as agreed
    closed = _resolve(desk, ref, "Pat Probe", agreed_after_no="yes").replace("&#39;", "'")
    assert desk.incident(incident.id).status == "resolved"
    assert f"Incident {ref} is resolved: Pat Probe agreed. Recorded although: {warning}" in closed
    assert "The customer is told by e-mail that it was closed as agreed on the phone" in closed
    [after_no] = [e for e in _rows(desk, IncidentEvent, incident_id=incident.id, kind="verbal_agreement_after_no")]
    assert after_no.detail["no_via"] == "link" and after_no.detail["recorded_by"] == "Alice Primary"
    assert any(line.startswith("Verbal agreement recorded by Alice Primary although the customer's last answer was NO "
                               "(by the e-mail link") for line in _lines(desk, incident.id))
    mail = smtp.inbox.to("dana@acme.example")[-1]
    assert mail["Subject"] == f"Sev-1 incident {ref} is closed as agreed"
    body = " ".join(mail.get_content().split())
    assert (f"as agreed with you on the phone, your Severity-1 incident, reference {ref}, was closed "
            f"{written_time(desk.clock.now(), 'Europe/London', 'en-US', desk.clock.now(), moment=True)}.") in body
    assert f"If the problem persists, call us on {HOTLINE_NUMBER} and give your reference {ref}." in body
    [notice] = [d for d in _rows(desk, Delivery, incident_id=incident.id) if d.purpose == "agreed_closing"]
    assert (notice.channel, notice.status) == ("email", "sent")
    assert [m for m in network.twilio.messages if m.to == UK_LANDLINE] == []


def test_no_warning_once_the_customer_wrote_after_their_no(desk, network, smtp):
    incident, customer = _called_back(desk, network)
    ref = incident.reference
    customer.expect_sms("We believe your problem is resolved")
    _propose(desk, ref, "API healthy again")
    alice = network.phone(ALICE).expect_sms("the customer says it is NOT resolved")
    _text_hotline(desk, f"NO {ref} still failing")
    desk.settle()
    _alice_logs_in(desk)
    # their last answer stands: the Updates page warns too, quoting it
    updates = desk.client.get(f"/incidents/{ref}/updates").get_data(as_text=True).replace("&#34;", '"')
    assert 'The customer\'s last written answer was NO, by SMS at' in updates.replace("&#39;", "'")
    assert f'("NO {ref} still failing")' in updates.replace("&quot;", '"')

    desk.clock.set(desk.clock.now() + timedelta(minutes=2))
    alice.expect_sms("the customer texted: Call me please, looks better now")
    _text_hotline(desk, "Call me please, looks better now")
    desk.settle()
    assert "last written answer was NO" not in desk.client.get(f"/incidents/{ref}").get_data(as_text=True)
    customer.expect_sms(f"as agreed with you on the phone, incident {ref} is closed")
    page = _resolve(desk, ref, "Dana")
    assert desk.incident(incident.id).status == "resolved" and "Recorded although" not in page
    [closing] = [m.body for m in network.twilio.messages if m.to == CUSTOMER and "as agreed with you" in m.body]
    assert closing == (f"Sev-1 hotline: as agreed with you on the phone, incident {ref} is closed. If it is not "
                       f"solved, reply NO {ref} within 7 days to reopen it, or call us on {HOTLINE_NUMBER}.")
    assert customer.unmet == [] and alice.unmet == []
