"""Words between "<" and ">" are the customer's words ("error <550 mailbox unavailable> on send", an address written
"<ops@example.com>"): kept from what they text or say to what the rep is texted and the incident page's timeline
shows, escaped there as text (never markup).

Outside probe: such words were lost on the way. Texts kept them already (the first test guards that, from the signed
inbound SMS webhook to the rep's SMS and the dashboard); the intake cut them out of what a caller said
(``clean_text`` dropped anything between angle brackets as an HTML tag), so a repeat caller's "<550 mailbox
unavailable>" reached neither the rep's SMS nor the timeline.
"""

from __future__ import annotations

from sqlalchemy import select

from app.auth import Role
from app.models import IncidentEvent
from tests.integration.board_support import login_as, parse
from tests.paging.conftest import ALICE, CUSTOMER
from tests.paging.test_reference_at_ticket_prompt import _call
from tests.updates.test_customer_sms import _text_hotline

WORDS = "error <550 mailbox unavailable> on send to <ops@example.com>, and <script>x</script> in the log"


def _timeline(desk, client, reference: str) -> tuple[list[str], str]:
    """The incident page's timeline lines as a browser shows them, and the page's HTML."""
    login_as(client, desk.hotline, Role.MANAGER)
    response = client.get(f"/incidents/{reference}")
    assert response.status_code == 200
    lines = [node.text() for node in parse(response).find(id="timeline").find_all(cls="what")]
    return lines, response.get_data(as_text=True)


def test_a_text_keeps_its_words_between_angle_brackets_to_the_reps_sms_and_the_timeline(desk, network, client):
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    alice.expect_sms(f"SEV1 {incident.reference} Acme Mail: the customer texted: {WORDS}")

    [answer] = _text_hotline(desk, WORDS)
    desk.settle()

    assert answer.startswith(f"Thank you. We added your message to incident {incident.reference}. An engineer will")
    assert alice.unmet == []
    lines, html = _timeline(desk, client, incident.reference)
    assert f"Customer texted: {WORDS} (the owner was told by SMS)" in lines
    assert "<script>x</script>" not in html and "&lt;550 mailbox unavailable&gt;" in html


def test_a_callers_words_between_angle_brackets_reach_the_reps_sms_and_the_timeline(desk, network, client):
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    call = _call(desk, CUSTOMER)
    call.press("1")  # English
    call.press("1")  # add to the open incident: its reference first
    call.press(f"{incident.reference}#")
    alice.expect_sms(f'the customer called again and added: "{WORDS}"')
    call.say(WORDS)
    call.record(seconds=0)
    call.hang_up()
    desk.settle()

    assert alice.unmet == []
    with desk.hotline.db.session() as s:
        [added] = s.scalars(select(IncidentEvent.detail).where(IncidentEvent.incident_id == incident.id,
                                                               IncidentEvent.kind == "information_added")).all()
    assert added["text"] == WORDS
    lines, html = _timeline(desk, client, incident.reference)
    assert any(WORDS in line for line in lines)
    assert "<script>x</script>" not in html and "&lt;550 mailbox unavailable&gt;" in html
