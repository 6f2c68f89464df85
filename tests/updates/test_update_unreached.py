"""An update (or resolution proposal) that reached the customer by no channel never passes in silence.

The customer's handset is unreachable (Twilio reports the SMS ``undelivered``, 30003) and the e-mail fails: the
owner is told once by SMS to phone the customer, the incident page says "sent, NOT delivered", and the managers'
report counts it as not delivered. A delivery still waiting for its report is not a failure. An e-mail being
retried is not one either, but the customer must not wait its 31 minutes of retries unreached with nobody knowing:
once it failed twice (a minute apart) with every other channel failed, the owner is told at once that the message
has not reached them so far.
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

STALLED = "customer_message_stalled"


def _rows(desk, model, **where):
    with desk.hotline.db.session() as session:
        return list(session.scalars(select(model).filter_by(**where).order_by(model.id)))


def _lines(desk, incident, kind):
    return [e for e in _rows(desk, IncidentEvent, incident_id=incident.id) if e.kind == kind]


def _called_back(desk, network):
    """An incident Alice called back (connect key, then "every hour"): she owns its updates."""
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(press="1", answered=True).expect_sms("as agreed, you will get an update every hour")  # "every hour", told in writing
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
    # the e-mail failed once and is retried in a minute: it may yet reach them, so nobody is told yet (Alice's phone
    # expects nothing)
    assert _lines(desk, incident, "customer_update_undelivered") == [] == _lines(desk, incident, STALLED)

    # its second try fails too: Alice is told at once, not when the e-mail gives up half an hour later
    alice.expect_sms(f"SEV1 {ref} Acme Mail: customer update 1 has NOT reached them so far "
                     f"(SMS failed, e-mail failing, still retried). Phone the customer: {CUSTOMER}.")
    [mail] = _rows(desk, Delivery, purpose="update", channel="email")
    desk.clock.set(mail.next_attempt_at)
    desk.settle()
    assert alice.unmet == []
    [stalled] = _lines(desk, incident, STALLED)
    assert stalled.at - written <= timedelta(minutes=2)
    assert stalled.detail["channels"] == {"sms": "failed", "email": "retrying"} and stalled.detail["told"] == ["owner"]
    assert _lines(desk, incident, "customer_update_undelivered") == []
    login(client, make_user(desk.hotline, Role.MANAGER).email)
    assert ("The latest customer update has NOT reached the customer so far: phone them"
            in client.get("/board").get_data(as_text=True))

    alice.expect_sms(f"SEV1 {ref} Acme Mail: customer update 1 reached them by NO channel "
                     f"(SMS failed, e-mail failed). Phone the customer: {CUSTOMER}.")
    mail = _until_mail_ends(desk, "update")
    assert mail.status == "failed" and mail.attempts == 6
    assert alice.unmet == []
    [line] = _lines(desk, incident, "customer_update_undelivered")
    assert line.detail["channels"] == {"sms": "failed", "email": "failed"} and line.detail["told"] == ["owner"]
    alerts = _rows(desk, Delivery, purpose="unreached")
    assert [(a.recipient, a.to_address, a.status) for a in alerts] == [("owner", ALICE, "delivered")] * 2
    assert len(_lines(desk, incident, STALLED)) == 1  # told once that it had not reached them, however many tries

    # a late copy of Twilio's report (or a lookup of a lost one) tells nobody again
    with desk.hotline.db.transaction() as session:
        sms_status(session, sms.id, "undelivered", "30003", desk.clock.now())
    desk.settle()
    assert len(_lines(desk, incident, "customer_update_undelivered")) == 1
    assert len(_rows(desk, Delivery, purpose="unreached")) == 2

    # the incident page says it; the managers' report counts it as not delivered
    page = client.get(f"/incidents/{ref}").get_data(as_text=True)
    assert "Customer update 1 was sent, NOT delivered: it reached the customer by no channel" in page
    assert ("Customer update 1 has NOT reached the customer so far (sms failed, email retrying); the owner told by "
            "SMS to phone them") in page
    board = client.get("/board").get_data(as_text=True)
    assert "The latest customer update reached the customer by NO channel: phone them" in board
    assert "so far" not in board  # the final word replaces the one said while the e-mail was still retried
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
    alice.expect_sms(f"SEV1 {ref} Acme Mail: the resolution proposal has NOT reached the customer so far "
                     f"(SMS failed, e-mail failing, still retried). Phone them: {CUSTOMER}.")
    alice.expect_sms(f"SEV1 {ref} Acme Mail: the resolution proposal reached the customer by NO channel "
                     f"(SMS failed, e-mail failed). Phone them: {CUSTOMER}.")
    started = desk.clock.now()
    _until_mail_ends(desk, "proposal")
    assert alice.unmet == []
    assert desk.clock.now() - started < timedelta(hours=1)  # not when its 72 h of silence run out
    [line] = _lines(desk, incident, "resolution_proposal_undelivered")
    assert line.detail["told"] == ["owner"]
    [stalled] = _lines(desk, incident, STALLED)
    assert stalled.detail["proposal_id"] == line.detail["proposal_id"] and stalled.at - started <= timedelta(minutes=2)
    assert network.phone(MARIA).sms == []


def test_an_email_refused_once_then_accepted_alerts_nobody(desk, network, smtp):
    incident, customer, _alice = _called_back(desk, network)
    smtp.stop()
    customer.expect_sms("update: Investigating", fail="undelivered")
    desk.run(lambda s, now: write_update(s, lock_incident(s, incident.reference), what_is_wrong="Investigating",
                                           by="Alice Primary", via="dashboard", now=now))
    smtp.start()  # a passing refusal: the retry a minute later is taken
    [mail] = _rows(desk, Delivery, purpose="update", channel="email")
    assert (mail.status, mail.attempts) == ("queued", 1)
    desk.clock.set(mail.next_attempt_at)
    desk.settle()
    [mail] = _rows(desk, Delivery, purpose="update", channel="email")
    assert (mail.status, mail.attempts) == ("sent", 2)
    assert _lines(desk, incident, STALLED) == [] == _rows(desk, Delivery, purpose="unreached")


def test_an_sms_report_after_the_email_failed_twice_tells_the_owner_then(desk, network, smtp, client):
    """The other order: the e-mail has failed twice already when Twilio's report says the SMS never arrived."""
    incident, customer, alice = _called_back(desk, network)
    ref = incident.reference
    smtp.stop()
    network.lose_status_callbacks("/twilio/updates/sms-status")  # its report comes late (below)
    customer.expect_sms("update: Investigating", fail="undelivered")
    desk.run(lambda s, now: write_update(s, lock_incident(s, ref), what_is_wrong="Investigating",
                                           by="Alice Primary", via="dashboard", now=now))
    [mail] = _rows(desk, Delivery, purpose="update", channel="email")
    desk.clock.set(mail.next_attempt_at)
    desk.settle()
    [mail] = _rows(desk, Delivery, purpose="update", channel="email")
    assert (mail.status, mail.attempts) == ("queued", 2)
    [sms] = _rows(desk, Delivery, purpose="update", channel="sms")
    assert sms.status == "sent" and _lines(desk, incident, STALLED) == []  # it may have reached them: nobody told

    alice.expect_sms(f"SEV1 {ref} Acme Mail: customer update 1 has NOT reached them so far "
                     f"(SMS failed, e-mail failing, still retried). Phone the customer: {CUSTOMER}.")
    with desk.hotline.db.transaction() as session:
        sms_status(session, sms.id, "undelivered", "30003", desk.clock.now())
    desk.settle()
    assert alice.unmet == []
    [line] = _lines(desk, incident, STALLED)
    assert line.detail["update_id"] == sms.update_id and line.detail["channels"] == {"sms": "failed",
                                                                                    "email": "retrying"}
    # the board says it until the e-mail is taken at its next try: it may then have reached them
    login(client, make_user(desk.hotline, Role.MANAGER).email)
    stalled = "The latest customer update has NOT reached the customer so far: phone them"
    assert stalled in client.get("/board").get_data(as_text=True)
    smtp.start()
    [mail] = _rows(desk, Delivery, purpose="update", channel="email")
    desk.clock.set(mail.next_attempt_at)
    desk.settle()
    [mail] = _rows(desk, Delivery, purpose="update", channel="email")
    assert mail.status == "sent"
    board = client.get("/board").get_data(as_text=True)
    assert stalled not in board and "NO channel" not in board

