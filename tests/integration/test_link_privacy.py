"""Signed links (acknowledgement, resolution) as the web side serves and logs them: no token in a log line,
no customer detail on the page of a link whose incident is closed."""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from datetime import timedelta

from app import create_app
from app.models import Channel, FollowUp, FollowUpState, Incident, PageStatus, ProposalKind, ResolutionProposal
from app.services.page_urls import PageUrls
from app.services.resolution import resolution_link
from tests.integration.board_support import make_incident, make_rep, page


def _status(request) -> int:
    try:
        with urllib.request.urlopen(request) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_a_resolution_links_token_is_not_in_the_access_log(served, hotline, caplog):
    caplog.set_level(logging.INFO)
    create_app(hotline)  # installs the redacting filter on the root handlers present now (caplog's among them)
    incident_id = make_incident(hotline)
    now = hotline.clock.now()
    with hotline.db.transaction() as session:  # a proposal awaiting the customer's answer, as ``propose`` leaves it
        session.add(FollowUp(incident_id=incident_id, agreed_at=now, state=FollowUpState.AWAITING_CONFIRMATION, next_due_at=None))
        proposal = ResolutionProposal(incident_id=incident_id, kind=ProposalKind.RESOLVED, summary="queue drained",
                                      proposed_at=now, expires_at=now + timedelta(hours=72))
        session.add(proposal)
        session.flush()
        proposal_id = proposal.id
    token = resolution_link(hotline.settings, proposal_id).rsplit("/", 1)[1]

    # the customer's mail client opens the link, then the customer answers; a scanner tries a garbled one
    assert _status(f"{served}/resolution/{token}") == 200
    assert _status(urllib.request.Request(f"{served}/resolution/{token}", data=b"answer=reject",
                                          method="POST")) == 200
    assert _status(f"{served}/resolution/{token}x") == 410

    access = [r.getMessage() for r in caplog.records if r.name == "werkzeug" and "HTTP/1.1" in r.getMessage()]
    assert len([line for line in access if "/resolution/[redacted]" in line]) == 3, access
    assert [r.getMessage() for r in caplog.records if token in r.getMessage()] == []
    with hotline.db.session() as session:
        assert session.get(ResolutionProposal, proposal_id).state == "rejected"  # the link itself still works


def test_an_ack_link_of_a_closed_incident_shows_no_customer_details(client, hotline):
    incident_id = make_incident(hotline, company="Acme Mail GmbH", callback_phone="+14155552671")
    page_id = page(hotline, incident_id, "Alice", make_rep(hotline), Channel.SMS, PageStatus.DELIVERED)
    token = PageUrls(hotline.settings).ack_link(page_id, hotline.clock.now()).rsplit("/", 1)[1]

    open_page = client.get(f"/ack/{token}")
    assert open_page.status_code == 200
    assert "+14155552671" in open_page.get_data(as_text=True) and b'<form method="post">' in open_page.data

    with hotline.db.transaction() as session:
        incident = session.get(Incident, incident_id)
        incident.status = "resolved"
        incident.resolved_at = hotline.clock.now()
    closed = client.get(f"/ack/{token}")
    body = closed.get_data(as_text=True)
    assert closed.status_code == 410
    assert "Incident 123456 is closed. Nothing to do." in body
    assert "+14155552671" not in body and "4155552671" not in body and "Acme" not in body and "<form" not in body
    # and the button, had the page been left open, changes nothing either
    assert client.post(f"/ack/{token}", data={"action": "ack"}).status_code == 409
    with hotline.db.session() as session:
        assert session.get(Incident, incident_id).acknowledged_at is None


def test_an_ack_link_whose_holder_may_no_longer_act_shows_no_customer_details(client, hotline):
    """A rep deactivated since the page (they left the team) keeps the SMS for its two hours: the link's page must
    show them neither the customer's company nor the callback number, as its button would be refused anyway."""
    from app.models import Rep

    incident_id = make_incident(hotline, company="Acme Mail GmbH", callback_phone="+14155552671")
    rep_id = make_rep(hotline)
    page_id = page(hotline, incident_id, "Alice", rep_id, Channel.SMS, PageStatus.DELIVERED)
    token = PageUrls(hotline.settings).ack_link(page_id, hotline.clock.now()).rsplit("/", 1)[1]
    with hotline.db.transaction() as session:
        session.get(Rep, rep_id).active = False

    shown = client.get(f"/ack/{token}")
    body = shown.get_data(as_text=True)
    assert shown.status_code == 403
    assert "Nothing was changed" in body
    assert "+14155552671" not in body and "4155552671" not in body and "Acme" not in body and "<form" not in body

    # a page that reached no rep (the account's TAM, paged by number): the same
    tam_page = page(hotline, incident_id, "Terry TAM", None, Channel.SMS, PageStatus.DELIVERED, phone="+14155550166")
    tam_token = PageUrls(hotline.settings).ack_link(tam_page, hotline.clock.now()).rsplit("/", 1)[1]
    shown = client.get(f"/ack/{tam_token}")
    body = shown.get_data(as_text=True)
    assert shown.status_code == 403 and "Acme" not in body and "4155552671" not in body and "<form" not in body

    with hotline.db.transaction() as session:  # back on the team: the link works again within its two hours
        session.get(Rep, rep_id).active = True
    shown = client.get(f"/ack/{token}")
    assert shown.status_code == 200 and "+14155552671" in shown.get_data(as_text=True)
