"""A bearer link's refused POSTs are one line of the incident's kept-forever log an hour, not one a request (an
outside probe's 220 POSTs to a page SMS's link after another rep acknowledged wrote 220 lines in 10 s)."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.models import IncidentEvent, Page
from app.services.acks import Actor, resolve
from app.services.refusal_lines import WINDOW
from tests.paging.conftest import ALICE, BOB, CUSTOMER
from tests.paging.test_callback_rep_leg import _sms_from


def _lines(desk, incident_id: int, kind: str) -> list[IncidentEvent]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident_id,
                                                          IncidentEvent.kind == kind).order_by(IncidentEvent.id)))


def _link_of(desk, incident_id: int, phone: str) -> str:
    with desk.hotline.db.session() as s:
        page = s.scalars(select(Page).where(Page.incident_id == incident_id, Page.to_number == phone,
                                            Page.channel == "sms", Page.purpose == "page")).one()
    [body] = [m.body for m in desk.network.twilio.messages if m.sid == page.twilio_sid]
    return re.search(r"https?://\S+/ack/(\S+)", body).group(1)


def _owned_by_alice_paged_to_bob(desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False).expect_call(answer=False)
    network.phone(BOB).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    desk.at(minutes=3)  # level 1: Bob's page SMS carries his link
    assert "Acknowledged" in _sms_from(desk, ALICE, f"ACK {incident.reference}").get_data(as_text=True)
    desk.settle()
    return incident


def test_a_links_refused_posts_are_one_line_an_hour(desk, network, clock):
    incident = _owned_by_alice_paged_to_bob(desk, network)
    token = _link_of(desk, incident.id, BOB)
    owner = desk.incident(incident.id).acknowledged_by

    answers = [desk.client.post(f"/ack/{token}", data={"action": "ack"}) for _ in range(8)]

    assert {a.status_code for a in answers} == {409} and all(b"Nothing was changed" in a.data for a in answers)
    [line] = _lines(desk, incident.id, "acknowledgement_refused")
    assert (line.actor, line.detail["via"], line.detail["outcome"]) == ("Bob Secondary", "link", "refused_owned_by_other")
    assert desk.incident(incident.id).acknowledged_by == owner
    # the hour over (the link lives two), the next refusal is a line again: the log still says the link was used
    clock.advance(seconds=WINDOW.total_seconds() + 1)
    assert desk.client.post(f"/ack/{token}", data={"action": "ack"}).status_code == 409
    assert len(_lines(desk, incident.id, "acknowledgement_refused")) == 2
    # a phone's refusal (an SMS from a rep, signed by Twilio) is a line of its own channel, once an hour too
    # (tests/paging/test_phone_refusal_lines.py); its answer goes once in 10 minutes
    answers = [_sms_from(desk, BOB, f"ACK {incident.reference}", sid="SM" + str(n) * 32).get_data(as_text=True)
               for n in range(2)]
    assert "Nothing was changed" in answers[0] and "Nothing was changed" not in answers[1]
    assert [e.detail["via"] for e in _lines(desk, incident.id, "acknowledgement_refused")] == ["link", "link", "sms"]


def test_a_refused_resolve_through_a_link_is_one_line_an_hour(desk, network, clock):
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()

    for via in ("link", "link", "link", "web", "web"):  # nobody reached the customer: refused every time
        with desk.hotline.db.transaction() as s:
            answer = resolve(s, desk.incident(incident.id), Actor(name="Hank", via=via), clock.now(), agreed_by="Hank")
            assert not answer.ok and answer.outcome == "refused_no_verified_callback"

    assert [e.detail["via"] for e in _lines(desk, incident.id, "resolve_refused")] == ["link", "web", "web"]
