"""An update (or resolution proposal) that reached the customer by no channel never passes in silence.

The customer's handset is unreachable (Twilio reports the SMS ``undelivered``, 30003) and the e-mail fails: the
owner is told once by SMS to phone the customer, the incident page says "sent, NOT delivered", and the managers'
report counts it as not delivered. A delivery still waiting for its report (the e-mail being retried) is not a
failure: nobody is told before every channel has ended.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.models import Delivery, IncidentEvent, ProposalKind
from app.models.user import Role
from app.reports.updates import update_figures
from app.services.acks import lock_incident
from app.services.deliveries import sms_status
from app.services.resolution import propose
from app.services.updates import write_update
from tests.integration.dashboard_support import login, make_user
from tests.paging.conftest import ALICE, CUSTOMER, MARIA


def _rows(desk, model, **where):
    with desk.hotline.db.session() as session:
        return list(session.scalars(select(model).filter_by(**where).order_by(model.id)))


def _lines(desk, incident, kind):
    return [e for e in _rows(desk, IncidentEvent, incident_id=incident.id) if e.kind == kind]


def _called_back(desk, network):
    """An incident Alice called back (connect key, then "every hour"): she owns its updates."""
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(press="1", answered=True)
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(press=["2", "2"])
    incident = desk.open_incident()
    desk.settle()
    return incident, customer, alice


def _until_mail_ends(desk, purpose):
    """Move the clock through the e-mail's retries (the SMTP server is down) until its last try failed."""
    for _ in range(10):
        [mail] = _rows(desk, Delivery, purpose=purpose, channel="email")
        if mail.status != "queued":
            return mail
        desk.clock.set(mail.next_attempt_at)
        desk.settle()
    raise AssertionError("the e-mail was still being retried")


def test_an_update_that_reached_the_customer_by_no_channel_tells_the_owner_once(desk, network, smtp, client):
    incident, customer, alice = _called_back(desk, network)
    ref = incident.reference
    smtp.stop()  # every e-mail fails from now on
    customer.expect_sms("update: Investigating", fail="undelivered")  # an unreachable handset (30003)
    written = desk.clock.now()
    result = desk.run(lambda s, now: write_update(s, lock_incident(s, ref), what_is_wrong="Investigating",
                                                    by="Alice Primary", via="dashboard", now=now))
    assert result.ok
    [sms] = _rows(desk, Delivery, purpose="update", channel="sms")
    assert sms.status == "failed" and sms.last_error == "Twilio undelivered 30003"
    # the e-mail is still being retried: it may yet reach them, so nobody is told (Alice's phone expects nothing)
    assert _lines(desk, incident, "customer_update_undelivered") == []

    alice.expect_sms(f"SEV1 {ref} Acme Mail: customer update 1 reached them by NO channel "
                     f"(SMS failed, e-mail failed). Phone the customer: {CUSTOMER}.")
    mail = _until_mail_ends(desk, "update")
    assert mail.status == "failed" and mail.attempts == 6
    assert alice.unmet == []
    [line] = _lines(desk, incident, "customer_update_undelivered")
    assert line.detail["channels"] == {"sms": "failed", "email": "failed"} and line.detail["told"] == ["owner"]
    [alert] = _rows(desk, Delivery, purpose="unreached")
    assert alert.recipient == "owner" and alert.to_address == ALICE and alert.status == "delivered"

    # a late copy of Twilio's report (or a lookup of a lost one) tells nobody again
    with desk.hotline.db.transaction() as session:
        sms_status(session, sms.id, "undelivered", "30003", desk.clock.now())
    desk.settle()
    assert len(_lines(desk, incident, "customer_update_undelivered")) == 1
    assert len(_rows(desk, Delivery, purpose="unreached")) == 1

    # the incident page says it; the managers' report counts it as not delivered
    login(client, make_user(desk.hotline, Role.MANAGER).email)
    page = client.get(f"/incidents/{ref}").get_data(as_text=True)
    assert "Customer update 1 was sent, NOT delivered: it reached the customer by no channel" in page
    board = client.get("/board").get_data(as_text=True)
    assert "The latest customer update reached the customer by NO channel: phone them" in board
    with desk.hotline.db.session() as session:
        figures = update_figures(session, written - timedelta(hours=1), desk.clock.now() + timedelta(minutes=1))
    assert figures.on_time == 1 and figures.not_delivered == 1
    report = client.get("/reports/updates", query_string={
        "from": f"{written - timedelta(hours=1):%Y-%m-%d %H:%M}",
        "to": f"{desk.clock.now() + timedelta(minutes=1):%Y-%m-%d %H:%M}"}).get_data(as_text=True)
    assert '<td id="not-delivered">1</td>' in report
    exported = client.get("/reports/updates.json", query_string={
        "from": f"{written - timedelta(hours=1):%Y-%m-%d %H:%M}",
        "to": f"{desk.clock.now() + timedelta(minutes=1):%Y-%m-%d %H:%M}"})
    assert exported.status_code == 200 and exported.headers["Cache-Control"] == "no-store"
    body = exported.get_json()
    assert (body["updates"]["on_time"], body["updates"]["not_delivered"], body["updates"]["updates_owed"]) == (1, 1, 1)
    assert body["updates"]["punctuality_percent"] == 100.0 and body["range"]["end_excluded"] is True
    assert body["range"]["from"] == f"{written - timedelta(hours=1):%Y-%m-%dT%H:%M}:00Z"

    # the next update that reaches them clears the board's warning
    customer.expect_sms("update: Fixed")
    desk.run(lambda s, now: write_update(s, lock_incident(s, ref), what_is_wrong="Fixed", by="Alice Primary",
                                           via="dashboard", now=now))
    assert "reached the customer by NO channel" not in client.get("/board").get_data(as_text=True)


def test_an_update_whose_email_was_accepted_alerts_nobody(desk, network, smtp):
    incident, customer, _alice = _called_back(desk, network)
    customer.expect_sms("update: Investigating", fail="undelivered")
    desk.run(lambda s, now: write_update(s, lock_incident(s, incident.reference), what_is_wrong="Investigating",
                                           by="Alice Primary", via="dashboard", now=now))
    statuses = {d.channel: d.status for d in _rows(desk, Delivery, purpose="update")}
    assert statuses == {"sms": "failed", "email": "sent"}  # the mail server took it: it may have reached them
    assert _lines(desk, incident, "customer_update_undelivered") == []
    assert _rows(desk, Delivery, purpose="unreached") == []


def test_a_proposal_that_reached_the_customer_by_no_channel_tells_the_owner_at_once(desk, network, smtp):
    incident, customer, alice = _called_back(desk, network)
    ref = incident.reference
    smtp.stop()
    customer.expect_sms("We believe your problem is resolved", fail="undelivered")
    desk.run(lambda s, now: propose(s, lock_incident(s, ref), ProposalKind.RESOLVED, summary="queue replayed",
                                      by="Alice Primary", now=now, settings=desk.hotline.settings))
    alice.expect_sms(f"SEV1 {ref} Acme Mail: the resolution proposal reached the customer by NO channel "
                     f"(SMS failed, e-mail failed). Phone them: {CUSTOMER}.")
    started = desk.clock.now()
    _until_mail_ends(desk, "proposal")
    assert alice.unmet == []
    assert desk.clock.now() - started < timedelta(hours=1)  # not when its 72 h of silence run out
    [line] = _lines(desk, incident, "resolution_proposal_undelivered")
    assert line.detail["told"] == ["owner"]
    assert network.phone(MARIA).sms == []
