"""A long Twilio outage (session 34): what the retries write, and what goes out once Twilio is back.

Since session 33 a page Twilio fails for now is retried every 6 s for as long as it is wanted. Until session 34 each
retry wrote a warning and a ``page_send_failed`` line (about 600 per page an hour), and every round queued meanwhile
went out at once when Twilio came back: a rep read "10 min left" after "BREACHED". Now the first tries, the one that
calls the person meanwhile and the last are written, and in between one line per ``failure_log.LOG_EVERY`` saying
how many attempts it stands for; and of a rep's chasing pages only the latest round's goes on each channel.

The customer calls from a landline (no receipt SMS, the missed-deadline apology by e-mail), so every SMS and call is
a rep's, and the scripted phones fail the test on any page nobody expected.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.dashboard.display import page_status
from app.models import Channel, Incident, IncidentEvent, Page, Role
from app.oncall.contactable import Contactable
from app.services.oncall_admin import save_policy
from app.services.pages import queue_page
from tests.integration.dashboard_support import login_as
from tests.paging.conftest import ALICE, MARIA

LANDLINE = "+442079460958"


def _policy(desk) -> None:
    """One level: the primary on call (Alice), by SMS and voice."""
    levels = [{"delay_minutes": 0, "targets": [{"type": "schedule", "schedule": "primary",
                                                  "channels": ["sms", "voice"]}]}]
    with desk.hotline.db.transaction() as s:
        save_policy(s, "test-policy", levels, is_default=True)


def _rows(desk, model, *where, order=None) -> list:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(model).where(*where).order_by(order if order is not None else model.id)))


# ------------------------------------------------------------------ (b) rounds queued through an outage


def _outage_through_three_rounds(desk, network, twilio, status: int) -> Incident:
    """Twilio fails from before the call until T+21, past the first page (T+0), the at-risk alert (T+10), the
    breach (T+15: Maria) and the first repage (T+20: Alice and Maria); every retry comes on time (30 s apart at
    most). At T+21 Twilio answers: each of Alice and Maria gets the latest round's SMS and call, nothing else."""
    _policy(desk)
    twilio.fail_until(desk.t0 + timedelta(minutes=21), status=status)
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()
    for second in range(30, 21 * 60, 30):
        desk.at(seconds=second)
    for number in (ALICE, MARIA):
        network.phone(number).expect_sms("BREACHED").expect_call(answer=False)
    desk.at(minutes=21, seconds=6)  # every page in retry came due once more
    return incident


@pytest.mark.parametrize("status", [429, 503])
def test_after_an_outage_each_rep_gets_only_the_latest_rounds_sms_and_call(desk, network, twilio, client, status):
    incident = _outage_through_three_rounds(desk, network, twilio, status)
    pages = _rows(desk, Page, Page.incident_id == incident.id)
    sent = sorted((p.to_number, p.channel, p.purpose) for p in pages if p.sent_at is not None)
    assert sent == [(ALICE, "sms", "breach"), (ALICE, "voice", "breach"), (MARIA, "sms", "breach"),
                    (MARIA, "voice", "breach")]
    latest = {(p.to_number, p.channel): p for p in pages if p.sent_at is not None}
    assert all(p.created_at == desk.t0 + timedelta(minutes=20) for p in latest.values())  # the repage's round
    earlier = [p for p in pages if p.sent_at is None]
    assert sorted((p.to_number, p.channel, p.purpose) for p in earlier) == [
        (ALICE, "sms", "at_risk"), (ALICE, "sms", "page"), (ALICE, "voice", "page"),
        (MARIA, "sms", "at_risk"), (MARIA, "sms", "breach"), (MARIA, "voice", "breach")]
    uncertain = status == 503  # a 5xx may have reached Twilio: never called "not sent"
    lines = {e.detail["page_id"]: e.detail for e in _rows(desk, IncidentEvent, IncidentEvent.incident_id ==
                                                           incident.id, IncidentEvent.kind == "page_not_sent_superseded")}
    for page in earlier:
        assert page.status == "canceled" and page.attempts >= 1
        assert page_status(page) == ("canceled" if uncertain else "not sent") + " (superseded by a later round)"
        line = lines[page.id]
        newer = next(p for p in pages if p.id == line["superseded_by"])  # a later page to them on the channel
        assert (newer.to_number, newer.channel) == (page.to_number, page.channel) and newer.id > page.id
        assert line["why"] == "later_round" and line["later_purpose"] == newer.purpose
        assert (line.get("earlier_attempt") == "outcome_unknown") is uncertain
    # the timeline and the incident page say which later page went instead; the board counts one page per round
    login_as(client, desk.hotline, Role.MANAGER)
    html = client.get(f"/incidents/{incident.reference}").get_data(as_text=True)
    later = "not sent again" if uncertain else "NOT sent"
    at_risk = next(p for p in earlier if p.to_number == ALICE and p.purpose == "at_risk")
    assert (f"{later}: the later breach alert to the same rep (page {lines[at_risk.id]['superseded_by']}) goes "
            "instead") in html
    assert "SMS: " + ("canceled" if uncertain else "not sent") + " (superseded by a later round)" in html
    board = client.get("/board").get_data(as_text=True)
    [alices_line] = [line for line in board.splitlines() if "Alice Primary" in line and "breach alert" in line]
    assert "(breach alert, 2 pages)" in alices_line  # her SMS and call of the repage, not 5


def test_an_earlier_round_is_not_superseded_by_a_later_page_that_will_not_go(desk, network, twilio):
    """A later page that will not go (here a level's page to Alice no longer wanted: she acknowledged while it was
    with Twilio, so only its own next claim cancels it) supersedes nothing: her at-risk SMS, earlier, still goes."""
    _policy(desk)
    twilio.fail_until(desk.t0 + timedelta(minutes=11), status=429)
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()
    for second in range(30, 10 * 60 + 31, 30):
        desk.at(seconds=second)
    alices = {(p.channel, p.purpose): p for p in _rows(desk, Page, Page.incident_id == incident.id,
                                                        Page.to_number == ALICE)}
    first = alices[("sms", "page")]
    assert (first.status, first.sent_at) == ("canceled", None)  # superseded by her at-risk SMS, which will go
    alice = Contactable(rep_id=first.rep_id, name="Alice Primary", phone=ALICE, channels=("sms",), role=first.role)
    late = desk.run(lambda s, now: queue_page(s, s.get(Incident, incident.id), alice, Channel.SMS, "page", now).id)
    with desk.hotline.db.transaction() as s:  # acknowledged meanwhile (the late page still waiting for its retry)
        live = s.get(Incident, incident.id)
        live.acknowledged_at, live.owner_rep_id = desk.clock.now(), first.rep_id
    network.phone(ALICE).expect_sms("AT RISK")
    network.phone(MARIA).expect_sms("AT RISK")
    desk.at(minutes=11, seconds=6)
    [late_page] = _rows(desk, Page, Page.id == late)
    [at_risk] = _rows(desk, Page, Page.id == alices[("sms", "at_risk")].id)
    assert (late_page.status, late_page.sent_at) == ("canceled", None)  # its claim found it no longer wanted
    assert at_risk.sent_at is not None and at_risk.status == "delivered"  # not superseded by a page that never went
