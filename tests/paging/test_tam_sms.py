"""An account's TAM who texts the hotline back: their words reach the incident's owner (or the reps paged for it),
are on its timeline, and every text is answered with where it went. A probe's TAM reached nobody, and after one
automatic answer got silence."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from sqlalchemy import select

from app.models import Delivery, IncidentEvent
from tests.paging.conftest import ALICE, CUSTOMER
from tests.paging.test_ack_guards import _paged_tam
from tests.paging.test_acknowledgement import _sms_from
from tests.paging.test_policy import TAM


def _answer(response) -> str:
    [message] = [m.findtext("Body") or m.text or "" for m in ET.fromstring(response.get_data(as_text=True))
                 .iter("Message")]
    return message.strip()


def _tam_lines(desk, incident_id: int) -> list[dict]:
    with desk.hotline.db.session() as s:
        return [e.detail for e in s.scalars(select(IncidentEvent).where(
            IncidentEvent.incident_id == incident_id, IncidentEvent.kind == "tam_sms_message").order_by(IncidentEvent.id))]


def test_every_text_of_the_tam_reaches_the_paged_rep_and_is_answered(desk, network):
    incident, alice = _paged_tam(desk, network)
    ref = incident.reference
    alice.expect_sms(f"SEV1 {ref} Globex Mailers: the account's TAM (Terry TAM) texted: What is going on?")
    alice.expect_sms(f"SEV1 {ref} Globex Mailers: the account's TAM (Terry TAM) texted: Their CTO is on "
                     "+14155550199, call him instead")
    first = _answer(_sms_from(desk, TAM, "What is going on?"))
    second = _answer(_sms_from(desk, TAM, "Their CTO is on +14155550199, call him instead"))
    desk.settle()
    for answer in (first, second):  # each one answered, saying where it went
        assert answer == (f"Your message about Sev-1 {ref} was added to the incident and texted to the reps paged "
                          "for it: Alice Primary. Nothing else was changed: the on-call reps handle the callback.")
    assert alice.unmet == []
    assert [d["text"] for d in _tam_lines(desk, incident.id)] == [
        "What is going on?", "Their CTO is on +14155550199, call him instead"]
    assert desk.incident(incident.id).acknowledged_at is None  # told, never asked: no command


def test_once_a_rep_owns_it_the_tams_words_go_to_the_owner(desk, network):
    incident, alice = _paged_tam(desk, network)
    ref = incident.reference
    network.phone(CUSTOMER).expect_sms("has taken your incident")
    assert "Acknowledged" in _sms_from(desk, ALICE, f"ACK {ref}").get_data(as_text=True)
    alice.expect_sms(f"SEV1 {ref} Globex Mailers: the account's TAM (Terry TAM) texted: CALL {ref}")
    answer = _answer(_sms_from(desk, TAM, f"CALL {ref}"))
    desk.settle()
    assert answer.startswith(f"Your message about Sev-1 {ref} was added to the incident and texted to Alice "
                             "Primary, who owns it.")
    with desk.hotline.db.session() as s:
        [sent] = s.scalars(select(Delivery).where(Delivery.incident_id == incident.id, Delivery.purpose == "tam_sms"))
        assert (sent.recipient, sent.to_address) == ("owner", ALICE)
    assert not re.search("Calling you", answer)  # CALL from a TAM places nothing
