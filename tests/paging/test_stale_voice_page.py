"""A voice page that rings on after its incident was acknowledged by someone else, or closed: the rep who answers
is told who has it (or that it is closed), and hears nothing more: no company, no problem, no keys to press."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Incident, Rep
from app.services.acks import Actor, lock_incident, resolve
from tests.paging.conftest import ALICE, CUSTOMER, MARIA
from tests.paging.test_acknowledgement import _sms_from
from tests.paging.test_twilio_failures import _work


def _alices_page_rings_while(desk, network, act) -> tuple[Incident, str]:
    """The incident is opened and Alice's SMS and voice page handed to Twilio; ``act`` happens before her phone
    rings; she answers, ready to press 1. Returns the incident and what she heard."""
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(press="1")
    incident = desk.open_incident()
    _work(desk)  # Twilio has both pages; the phone network has not rung Alice yet
    act(incident)
    desk.settle()
    [call] = alice.calls
    assert call.pressed == []  # nothing was offered to press
    for word in ("Acme", "API", "Press", "customer must be called back"):
        assert word not in call.heard, word
    return desk.incident(incident.id), call.heard


def test_a_voice_page_answered_after_another_rep_acknowledged_says_who_has_it_and_nothing_more(desk, network):
    network.phone(CUSTOMER).expect_sms("has taken your incident")

    def maria_acknowledges(incident):
        assert "Acknowledged" in _sms_from(desk, MARIA, f"ACK {incident.reference}").get_data(as_text=True)

    incident, heard = _alices_page_rings_while(desk, network, maria_acknowledges)
    ref = ", ".join(incident.reference)
    # on Alice's clock: acknowledged at 03:00 UTC, 19:00 PST
    assert heard == (f"Incident {ref} was already acknowledged by Maria Manager at 19:00 P S T. You need do nothing "
                     f"on this call. Reply to the text message with CALL and the reference to take it over. Goodbye.")
    assert incident.acknowledged_by == _rep_id(desk, MARIA)  # her answer took nothing over


def test_a_voice_page_answered_after_the_incident_was_closed_says_so_and_nothing_more(desk, network):
    def maria_closes(incident):
        network.phone(CUSTOMER).expect_sms("was closed by our support team")  # closed without their word: told
        with desk.hotline.db.transaction() as s:
            maria = s.get(Rep, _rep_id(desk, MARIA))
            actor = Actor(name=maria.name, via="dashboard", rep=maria, is_manager=True)
            assert resolve(s, lock_incident(s, incident.reference), actor, desk.clock.now(),
                           reason="the customer's own firewall").ok

    incident, heard = _alices_page_rings_while(desk, network, maria_closes)
    ref = ", ".join(incident.reference)
    assert heard == f"Incident {ref} is closed. You need do nothing on this call. Goodbye."


def _rep_id(desk, phone: str) -> int:
    with desk.hotline.db.session() as s:
        return s.scalars(select(Rep.id).where(Rep.phone == phone)).one()
