"""An update promised to the customer that is overdue is acknowledged to them: one short apology per missed round.

An outside probe's customer read "Next update by 01:30 PST"; at 01:30 the managers were alerted (and again each
interval), but the customer heard nothing and was left with a past time as our last word. Now the first late alert of
a round also texts and e-mails the customer (the channels updates use, an opted-out number carrying nothing) "we are
late with your update; an engineer will update you as soon as possible", in their language, never twice a round.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.models import Delivery, FollowUp, Incident, IncidentEvent
from app.models.user import Role
from app.services.acks import lock_incident
from app.services.update_text import late_apology_email, late_apology_sms
from app.services.updates import write_update
from tests.integration.dashboard_support import login, make_user
from tests.paging.conftest import ALICE, CUSTOMER, MARIA
from tests.paging.test_acknowledgement import _sms_from
from tests.updates.test_proposal_reached_nobody import _called_back

APOLOGY = "we are sorry, we are late with your update. An engineer will update you as soon as possible."


def _rows(desk, model, **where):
    with desk.hotline.db.session() as session:
        return list(session.scalars(select(model).filter_by(**where).order_by(model.id)))


def test_an_overdue_update_is_apologised_for_once_a_round(desk, network, smtp, client):
    incident, customer, alice, due = _called_back(desk, network)
    ref = incident.reference
    maria = network.phone(MARIA)
    alice.expect_sms(f"SEV1 {ref} Acme Mail: customer update 1 due by")
    desk.clock.set(due - timedelta(minutes=10))
    desk.settle()

    maria.expect_sms(f"SEV1 {ref} Acme Mail: customer update 1 was due")
    customer.expect_sms(f"Sev-1 {ref}: {APOLOGY}")
    desk.clock.set(due + timedelta(seconds=1))
    desk.settle()
    assert customer.unmet == [] == maria.unmet
    [mail] = [m for m in smtp.inbox.to("dana@acme.example") if m["Subject"] == f"Sev-1 incident {ref}: your update is late"]
    assert f"Sev-1 {ref}: {APOLOGY}" in mail.get_content()
    [late] = [e for e in _rows(desk, IncidentEvent, incident_id=incident.id) if e.kind == "customer_update_late"]
    assert late.detail["customer_told"] == ["sms", "email"]

    # still unwritten an interval later: the managers are told again, the customer is not apologised to again
    maria.expect_sms(f"SEV1 {ref} Acme Mail: customer update 1 was due")
    desk.clock.set(due + timedelta(hours=1, seconds=2))
    desk.settle()
    assert maria.unmet == []
    assert len(_rows(desk, Delivery, purpose="update_apology")) == 2  # one SMS and one e-mail, for round 1 only
    login(client, make_user(desk.hotline, Role.MANAGER).email)
    page = client.get(f"/incidents/{ref}").get_data(as_text=True)
    assert "managers told; the customer was sent an apology (sms, email)" in page

    # the late update is written; the next round, missed too, gets its own apology
    customer.expect_sms(f"Sev-1 {ref} update: Still investigating")
    written = desk.run(lambda s, now: write_update(s, lock_incident(s, ref), what_is_wrong="Still investigating",
                                                     by="Alice Primary", via="dashboard", now=now))
    assert written.ok
    [follow_up] = _rows(desk, FollowUp, incident_id=incident.id)
    alice.expect_sms(f"SEV1 {ref} Acme Mail: customer update 2 due by")
    maria.expect_sms(f"SEV1 {ref} Acme Mail: customer update 2 was due")
    customer.expect_sms(f"Sev-1 {ref}: {APOLOGY}")
    desk.clock.set(follow_up.next_due_at + timedelta(seconds=1))
    desk.settle()
    assert customer.unmet == [] and len(_rows(desk, Delivery, purpose="update_apology")) == 4


def test_an_opted_out_customer_is_apologised_to_by_email_only(desk, network, smtp):
    incident, customer, alice, due = _called_back(desk, network)
    ref = incident.reference
    _sms_from(desk, CUSTOMER, "STOP")
    alice.expect_sms(f"SEV1 {ref} Acme Mail: customer update 1 due by")
    network.phone(MARIA).expect_sms(f"SEV1 {ref} Acme Mail: customer update 1 was due")
    desk.clock.set(due + timedelta(seconds=1))
    desk.settle()
    assert [(d.channel, d.status) for d in _rows(desk, Delivery, purpose="update_apology")] == [("email", "sent")]
    assert len([m for m in smtp.inbox.to("dana@acme.example") if "your update is late" in m["Subject"]]) == 1


def test_the_apology_is_in_the_customers_language():
    german = Incident(reference="123456", language="de-DE", contact_name="Frau Müller")
    assert late_apology_sms(german) == ("Sev-1 123456: Es tut uns leid, Ihr Update verspätet sich. Ein Techniker "
                                        "informiert Sie so bald wie möglich.")
    subject, body = late_apology_email(german)
    assert subject == "Sev-1-Vorfall 123456: Ihr Update verspätet sich"
    assert body.startswith("Guten Tag Frau Müller,\n\nSev-1 123456: Es tut uns leid")


def test_an_apology_email_that_waited_for_smtp_is_not_sent_once_the_update_was_written(desk, network, smtp):
    incident, customer, alice, due = _called_back(desk, network)
    ref = incident.reference
    alice.expect_sms(f"SEV1 {ref} Acme Mail: customer update 1 due by")
    network.phone(MARIA).expect_sms(f"SEV1 {ref} Acme Mail: customer update 1 was due")
    customer.expect_sms(f"Sev-1 {ref}: {APOLOGY}")
    smtp.stop()  # the apology's e-mail waits for SMTP
    desk.clock.set(due + timedelta(seconds=1))
    desk.settle()
    customer.expect_sms(f"Sev-1 {ref} update: Fixed")
    desk.run(lambda s, now: write_update(s, lock_incident(s, ref), what_is_wrong="Fixed", by="Alice Primary",
                                           via="dashboard", now=now))
    smtp.start()
    desk.clock.set(due + timedelta(minutes=3))
    desk.settle()
    [mail] = _rows(desk, Delivery, purpose="update_apology", channel="email")
    assert (mail.status, mail.last_error) == ("skipped", "not sent: update_written")
    assert [m["Subject"] for m in smtp.inbox.to("dana@acme.example")] == [f"Sev-1 incident {ref}: update"]


def test_a_customer_never_told_an_update_time_in_writing_is_sent_no_apology(desk, network, smtp):
    """Their only written promise, the interval's confirmation, came back undelivered: nothing was promised them in
    writing, so nothing is apologised for (the owner was told to phone them; the managers are alerted as always)."""
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(press="1", answered=True)
    customer.expect_sms("as agreed, you will get an update every hour", fail="undelivered")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(press=["2", "2"])
    alice.expect_sms("the confirmation of the update interval reached the customer by NO channel")
    incident = desk.open_incident()
    desk.settle()
    [follow_up] = _rows(desk, FollowUp, incident_id=incident.id)
    alice.expect_sms("customer update 1 due by")
    network.phone(MARIA).expect_sms("customer update 1 was due")
    desk.clock.set(follow_up.next_due_at + timedelta(seconds=1))
    desk.settle()
    assert _rows(desk, Delivery, purpose="update_apology") == []
    [late] = [e for e in _rows(desk, IncidentEvent, incident_id=incident.id) if e.kind == "customer_update_late"]
    assert "customer_told" not in late.detail
