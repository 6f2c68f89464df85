"""A manager who closes an incident without the customer's agreement has the customer told, once, that the support
team closed it (never the manager's internal reason) and how to come back: by SMS, else by e-mail; without either,
nobody is told and the timeline and the manager's page say so. A customer whose agreement a rep recorded is told
it was closed as agreed with them on the phone, never that the support team closed it (tests/updates/
test_verbal_close.py)."""

from __future__ import annotations

from sqlalchemy import select

from app.dashboard.timeline import timeline
from app.models import Delivery, IncidentEvent, Rep, Role, UpdateDeliveryStatus
from tests.integration.board_support import CSRF, login_as
from tests.paging.conftest import ALICE, CUSTOMER, MARIA
from tests.updates.test_breach_notice_by_email import HOTLINE_NUMBER, UK_LANDLINE, _rows, _through_the_breach

REASON = "Caller hung up before giving details"


def _manager_resolves(desk, client, reference):
    """Maria, a manager, resolves from the dashboard with a written reason; returns the page she sees."""
    with desk.hotline.db.session() as s:
        maria = s.scalar(select(Rep.id).where(Rep.phone == MARIA))
    login_as(client, desk.hotline, Role.MANAGER, name="Maria M.", rep_id=maria)
    page = client.post(f"/incidents/{reference}/resolve", data={"csrf_token": CSRF, "reason": REASON},
                       follow_redirects=True).get_data(as_text=True)
    desk.settle()
    return page


def _lines(desk, incident_id):
    return [e.text for e in timeline(_rows(desk, IncidentEvent, incident_id), [])]


def test_a_breached_customer_is_texted_that_the_support_team_closed_it(desk, network, client, smtp):
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_sms("have not reached you")
    incident = _through_the_breach(desk, network, desk.open_incident)
    customer.expect_sms("was closed by our support team")
    desk.at(minutes=21)

    page = _manager_resolves(desk, client, incident.reference)

    assert desk.incident(incident.id).status == "resolved"
    assert ("The customer is told by SMS that the support team closed it, and that a NO with the reference reopens it "
            "if it is not solved.") in page
    [closing] = [m.body for m in network.twilio.messages if m.to == CUSTOMER and "closed" in m.body]
    # the time on the customer's clock (San Francisco), the hotline's number, never the manager's reason
    assert closing == (f"Sev-1 hotline: your incident {incident.reference} was closed by our support team at "
                       f"19:21 PST. If it is not solved, reply NO {incident.reference} within 7 days to reopen it, "
                       f"or call us on {HOTLINE_NUMBER}.")
    assert [d for d in _rows(desk, Delivery, incident.id) if d.purpose == "closing_notice"] == []
    assert ("Closing notice to the customer queued by SMS: the support team closed the incident (the reason is not "
            "given); they may reply NO or call if the problem is not resolved") in _lines(desk, incident.id)
    assert customer.unmet == []


def test_a_landline_customer_is_told_by_email_without_the_reason(desk, network, client, smtp):
    incident = _through_the_breach(desk, network, lambda: desk.intake(caller=UK_LANDLINE)[0])

    page = _manager_resolves(desk, client, incident.reference)

    assert "The customer is told by e-mail that the support team closed it." in page
    [notice] = [d for d in _rows(desk, Delivery, incident.id) if d.purpose == "closing_notice"]
    assert (notice.channel, notice.to_address, notice.status) == ("email", "dana@acme.example",
                                                                  UpdateDeliveryStatus.SENT)
    assert notice.subject == f"Sev-1 incident {incident.reference} was closed"
    assert (f"your Severity-1 incident, reference {incident.reference}, was closed by our support team at 03:20 GMT."
            in notice.body)
    assert f"If the problem persists, call us on {HOTLINE_NUMBER} and give your reference" in notice.body
    assert REASON not in notice.body and "hung up" not in notice.body
    assert [m for m in network.twilio.messages if m.to == UK_LANDLINE] == []


def test_a_customer_nobody_can_write_to_is_not_told_and_the_manager_and_timeline_say_so(desk, network, client, smtp):
    def landline_without_address():
        incident = desk.intake(caller=UK_LANDLINE)[0]
        with desk.hotline.db.transaction() as s:
            s.get(type(incident), incident.id).email = ""
        return incident

    incident = _through_the_breach(desk, network, landline_without_address)

    page = _manager_resolves(desk, client, incident.reference)

    assert "The customer could NOT be told that it was closed" in page
    assert [d for d in _rows(desk, Delivery, incident.id) if d.purpose == "closing_notice"] == []
    assert [e.detail["channel"] for e in _rows(desk, IncidentEvent, incident.id)
            if e.kind == "customer_closing_notice"] == ["none"]
    assert ("Customer NOT told that the incident was closed: their number takes no SMS (or opted out) and there is "
            "no e-mail address") in _lines(desk, incident.id)


def test_a_customer_who_agreed_is_told_it_was_closed_as_agreed_not_that_the_support_team_closed_it(
        desk, network, client, smtp):
    from tests.updates.conftest import verified_callback

    incident, alice_phone = desk.acknowledged_by_alice(network)
    with desk.hotline.db.session() as s:
        alice = s.scalar(select(Rep.id).where(Rep.phone == ALICE))
    desk.run(lambda s, now: verified_callback(s, desk.incident(incident.id), now, rep_id=alice))
    alice_phone.expect_sms("Maria Manager recorded on the dashboard that the customer agreed it is resolved (Dana)")
    with desk.hotline.db.session() as s:
        maria = s.scalar(select(Rep.id).where(Rep.phone == MARIA))
    login_as(client, desk.hotline, Role.MANAGER, name="Maria M.", rep_id=maria)
    # before this change nothing: their update schedule just stopped, on the rep's word alone
    network.phone(CUSTOMER).expect_sms(f"as agreed with you on the phone, incident {incident.reference} is closed")
    page = client.post(f"/incidents/{incident.reference}/resolve", data={"csrf_token": CSRF, "who_agreed": "Dana"},
                       follow_redirects=True).get_data(as_text=True)
    desk.settle()  # the network fails the test on any other SMS to the customer

    assert desk.incident(incident.id).status == "resolved"
    assert "that it was closed as agreed on the phone" in page and "support team closed it" not in page
    assert [e.detail["agreed"] for e in _rows(desk, IncidentEvent, incident.id)
            if e.kind == "customer_closing_notice"] == [True]
    assert not any("support team closed" in m.body for m in network.twilio.messages if m.to == CUSTOMER)
