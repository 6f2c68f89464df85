"""E-mails that waited for SMTP say, when they leave, what is true then, or do not leave (``app.services.late_mail``).

An outside probe stopped SMTP over a breach: when it came back the customer's receipt promised "an engineer will
call you back by 22:17" after the apology for that deadline, and the TAM read "AT RISK, 5 min left" and "the reps
are being paged" after the breach e-mail. Here each e-mail is queued on time and sent late, as SMTP's retries would.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.dashboard.timeline import timeline
from app.models import Delivery, DeliveryChannel, Incident, IncidentEvent
from app.models.paging import TAM_ROLE
from app.oncall.contactable import EMAIL, Contactable
from app.services.acks import Actor, lock_incident, resolve
from app.services.customer_mail import email_customer
from app.services.deliveries import DeliverySender, queue_delivery
from app.services.page_text import dated
from app.services.tam_mail import email_tam
from tests.integration.board_support import make_incident
from tests.updates.conftest import verified_callback

TAM_EMAIL = "terry@globex.example"


def _tam_mail(hotline, incident_id: int, purpose: str) -> int:
    with hotline.db.transaction() as session:
        return queue_delivery(session, channel=DeliveryChannel.EMAIL, to=TAM_EMAIL, purpose=purpose,
                              subject=f"SEV1 {purpose}", body=f"the TAM's {purpose} notice", now=hotline.clock.now(),
                              incident_id=incident_id, recipient=TAM_ROLE).id


def _send(hotline, delivery_id: int) -> Delivery:
    DeliverySender(hotline.db, hotline.telephony, hotline.settings).send(delivery_id, hotline.clock.now())
    with hotline.db.session() as session:
        return session.get(Delivery, delivery_id)


def _timeline(hotline, incident_id: int) -> list[str]:
    with hotline.db.session() as session:
        events = list(session.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident_id)
                                      .order_by(IncidentEvent.id)))
    return [line.text for line in timeline(events, [])]


def test_a_receipt_that_waited_past_the_deadline_leaves_as_the_apology(hotline, clock, smtp):
    incident_id = make_incident(hotline, captured_at=clock.now())  # due in 15 minutes
    with hotline.db.transaction() as session:
        queued = email_customer(session, session.get(Incident, incident_id), "receipt", clock.now(), "+15005550006")
        assert "An engineer will call you back by" in queued.body
        receipt_id = queued.id
    clock.advance(minutes=20)  # SMTP was down until now
    sent = _send(hotline, receipt_id)
    assert sent.status == "sent"
    [mail] = smtp.inbox.to("dana@acme.example")
    body = mail.get_content()
    assert "We are sorry we have not called you back yet" in body and "call you back by" not in body
    assert "We are sorry we have not called you back yet" in sent.body  # the row holds what was sent


def test_a_receipt_sent_in_time_keeps_its_promise(hotline, clock, smtp):
    incident_id = make_incident(hotline, captured_at=clock.now())
    with hotline.db.transaction() as session:
        receipt_id = email_customer(session, session.get(Incident, incident_id), "receipt", clock.now(),
                                    "+15005550006").id
    clock.advance(minutes=2)
    assert _send(hotline, receipt_id).status == "sent"
    assert "An engineer will call you back by" in smtp.inbox.to("dana@acme.example")[0].get_content()


def test_the_tams_page_and_at_risk_mails_are_not_sent_after_the_breach_mail(hotline, clock, smtp):
    incident_id = make_incident(hotline, captured_at=clock.now())
    page_id = _tam_mail(hotline, incident_id, "page")
    clock.advance(minutes=10)
    at_risk_id = _tam_mail(hotline, incident_id, "at_risk")
    clock.advance(minutes=5)
    breach_id = _tam_mail(hotline, incident_id, "breach")
    clock.advance(minutes=5)  # SMTP back: the three leave now, the breach first or last
    assert _send(hotline, page_id).status == "skipped"
    assert _send(hotline, at_risk_id).status == "skipped"
    assert _send(hotline, breach_id).status == "sent"
    assert [m["Subject"] for m in smtp.inbox.to(TAM_EMAIL)] == ["SEV1 breach"]
    lines = _timeline(hotline, incident_id)
    assert ("EMAIL page to the account's TAM NOT sent: it waited for SMTP past the breach, which the breach e-mail "
            "tells instead") in lines


def test_the_tams_at_risk_mail_is_not_sent_past_the_deadline_but_is_before_it(hotline, clock, smtp):
    incident_id = make_incident(hotline, captured_at=clock.now())
    clock.advance(minutes=10)
    late_id, on_time_id = _tam_mail(hotline, incident_id, "at_risk"), _tam_mail(hotline, incident_id, "at_risk")
    clock.advance(minutes=2)
    assert _send(hotline, on_time_id).status == "sent"
    clock.advance(minutes=4)  # 16 minutes in: past the deadline
    late = _send(hotline, late_id)
    assert late.status == "skipped" and late.last_error == "not sent: deadline_passed"
    assert len(smtp.inbox.to(TAM_EMAIL)) == 1


def _refused_then_back(hotline, smtp, delivery_id: int, meanwhile) -> Delivery:
    """SMTP refuses the e-mail's first try; ``meanwhile(session, incident, now)`` happens; SMTP is back at its retry."""
    smtp.stop()
    refused = _send(hotline, delivery_id)
    assert refused.status == "queued" and refused.attempts == 1 and refused.last_error
    hotline.clock.advance(minutes=1)
    with hotline.db.transaction() as session:
        meanwhile(session, lock_incident(session, "123456"), hotline.clock.now())
    smtp.start()
    hotline.clock.set(max(hotline.clock.now(), refused.next_attempt_at))
    return _send(hotline, delivery_id)


def _called_back(session, incident, now) -> None:
    verified_callback(session, incident, now)  # the customer answered and confirmed by a key


def _resolved(session, incident, now) -> None:
    assert resolve(session, incident, Actor(name="Maria", via="web", is_manager=True), now,
                   reason="The customer's own relay was at fault").ok


@pytest.mark.parametrize(("meanwhile", "reason", "why"), [
    (_called_back, "callback_done", "until the customer was reached, so its alert was no longer true"),
    (_resolved, "resolved", "until the incident was resolved, so its alert was no longer true")])
def test_the_tams_at_risk_mail_is_not_sent_once_the_customer_was_reached_or_it_was_resolved(
        hotline, clock, smtp, meanwhile, reason, why):
    incident_id = make_incident(hotline, captured_at=clock.now())
    clock.advance(minutes=10)
    at_risk_id = _tam_mail(hotline, incident_id, "at_risk")
    late = _refused_then_back(hotline, smtp, at_risk_id, meanwhile)
    with hotline.db.session() as session:
        assert clock.now() < session.get(Incident, incident_id).callback_due_at  # its minutes left are not why
    assert late.status == "skipped" and late.last_error == f"not sent: {reason}"
    assert smtp.inbox.to(TAM_EMAIL) == []
    assert f"EMAIL at_risk to the account's TAM NOT sent: it waited for SMTP {why}" in _timeline(hotline, incident_id)


def test_the_tams_at_risk_mail_still_leaves_late_while_nobody_reached_the_customer(hotline, clock, smtp):
    incident_id = make_incident(hotline, captured_at=clock.now())
    clock.advance(minutes=10)
    at_risk_id = _tam_mail(hotline, incident_id, "at_risk")
    assert _refused_then_back(hotline, smtp, at_risk_id, lambda *_: None).status == "sent"
    assert len(smtp.inbox.to(TAM_EMAIL)) == 1


def _tam_page(hotline, incident_id: int) -> int:
    """The TAM's page e-mail as the page step writes it (no TAM phone on file: by e-mail)."""
    with hotline.db.transaction() as session:
        tam = Contactable(None, "Terry TAM", "", (EMAIL,), TAM_ROLE, email=TAM_EMAIL)
        return email_tam(session, session.get(Incident, incident_id), tam, "page", hotline.clock.now()).id


def test_the_tams_page_mail_that_waited_past_the_resolution_says_when_it_was_opened_and_resolved(
        hotline, clock, smtp):
    incident_id = make_incident(hotline, captured_at=clock.now())
    page_id = _tam_page(hotline, incident_id)
    with hotline.db.session() as session:
        assert "the on-call reps are being paged" in session.get(Delivery, page_id).body  # as queued
        opened = session.get(Incident, incident_id).received_at
    sent = _refused_then_back(hotline, smtp, page_id, _resolved)
    assert sent.status == "sent"  # a TAM hears of their account's Sev-1 incidents, resolved or not
    [mail] = smtp.inbox.to(TAM_EMAIL)
    assert mail["Subject"] == ("SEV1 123456 Acme Mail GmbH: Severity 1 incident, resolved (for your information, "
                               "nothing to do)")
    body = mail.get_content()
    with hotline.db.session() as session:
        resolved_at = session.scalars(select(IncidentEvent.at).where(
            IncidentEvent.incident_id == incident_id, IncidentEvent.kind == "resolved")).one()
    assert (f"SEV1 123456 Acme Mail GmbH: SMTP injection failing. For your information as the account's TAM: this "
            f"Severity 1 incident was opened at {dated(opened)} and resolved at {dated(resolved_at)}. "
            "You need not reply.") in body
    assert "You need do nothing: the incident is resolved." in body
    assert "paged" not in body and "call the customer back" not in body
    assert "You need do nothing: the incident is resolved." in sent.body  # the row holds what was sent


def test_the_tams_page_mail_that_waited_while_the_incident_stayed_open_keeps_its_words(hotline, clock, smtp):
    incident_id = make_incident(hotline, captured_at=clock.now())
    page_id = _tam_page(hotline, incident_id)
    assert _refused_then_back(hotline, smtp, page_id, lambda *_: None).status == "sent"
    assert "the on-call reps are being paged" in smtp.inbox.to(TAM_EMAIL)[0].get_content()


def test_the_tams_page_mail_that_waited_past_the_callback_says_when_the_customer_was_called_back(
        hotline, clock, smtp):
    incident_id = make_incident(hotline, captured_at=clock.now())
    page_id = _tam_page(hotline, incident_id)
    sent = _refused_then_back(hotline, smtp, page_id, _called_back)
    assert sent.status == "sent"
    [mail] = smtp.inbox.to(TAM_EMAIL)
    assert mail["Subject"] == ("SEV1 123456 Acme Mail GmbH: Severity 1 incident, customer called back (for your "
                               "information, nothing to do)")
    body = mail.get_content()
    with hotline.db.session() as session:
        incident = session.get(Incident, incident_id)
        opened, answered = incident.received_at, incident.callback_answered_at
    assert answered is not None
    assert (f"this Severity 1 incident was opened at {dated(opened)}, and an engineer called the customer back at "
            f"{dated(answered)}. You need not reply.") in body
    assert "You need do nothing: the engineer works on it with the customer." in body
    assert "paged" not in body and "call the customer back by" not in body


def test_the_tams_breach_mail_is_not_sent_once_the_customer_was_called_back(hotline, clock, smtp):
    """The pages' rule (``pages.outdated_by_answer``): a breach alert still waiting once the customer was called back
    is no longer true ("no callback yet"), by SMS or by e-mail; a correction then follows no BREACHED they read."""
    incident_id = make_incident(hotline, captured_at=clock.now())
    clock.advance(minutes=15, seconds=1)
    breach_id = _tam_mail(hotline, incident_id, "breach")
    late = _refused_then_back(hotline, smtp, breach_id, _called_back)
    assert late.status == "skipped" and late.last_error == "not sent: callback"
    assert smtp.inbox.to(TAM_EMAIL) == []
    assert ("EMAIL breach to the account's TAM NOT sent: it waited for SMTP until the customer was called back, so "
            "its alert was no longer true") in _timeline(hotline, incident_id)


@pytest.mark.parametrize("answered", [True, False])
def test_the_tams_breach_correction_leaves_only_while_an_answer_by_the_deadline_stands(hotline, clock, smtp, answered):
    """None standing when it leaves (the answer it told of withdrawn since, too short to count): "NOT breached after
    all" is false, and it is not sent."""
    incident_id = make_incident(hotline, captured_at=clock.now())
    if answered:
        with hotline.db.transaction() as session:
            _called_back(session, lock_incident(session, "123456"), clock.now())
    corrected_id = _tam_mail(hotline, incident_id, "breach_corrected")
    sent = _send(hotline, corrected_id)
    assert sent.status == ("sent" if answered else "skipped")
    assert len(smtp.inbox.to(TAM_EMAIL)) == int(answered)
    if not answered:
        assert sent.last_error == "not sent: callback_not_met"
        assert ("EMAIL breach_corrected to the account's TAM NOT sent: the answer it told of no longer counts (too "
                "short), so it was no longer true") in _timeline(hotline, incident_id)
