"""Outside-in audit of who is paged and when: levels that reach only someone who cannot act, and more."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.models import IncidentEvent, Page, Rep
from app.oncall.records import OverrideInput
from app.services.oncall import find_schedule
from app.services.oncall_admin import add_override, deactivate_rep, save_policy
from tests.paging.conftest import ALICE, BOB, CUSTOMER, MARIA
from tests.paging.test_ack_guards import _ticket_with_a_tam_at_work
from tests.paging.test_callback_rep_leg import _sms_from
from tests.paging.test_policy import TAM, _call_about_ticket


def _kinds(desk, incident_id: int) -> list[str]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(IncidentEvent.kind).where(IncidentEvent.incident_id == incident_id)))


def _sent(desk, incident_id: int, purpose: str = "page") -> list[tuple[float, str, str]]:
    with desk.hotline.db.session() as s:
        pages = s.scalars(select(Page).where(Page.incident_id == incident_id, Page.purpose == purpose))
        return sorted(((p.sent_at - desk.t0).total_seconds() / 60, p.to_number, p.channel) for p in pages if p.sent_at)


def test_a_level_reaching_only_the_tam_pages_the_managers_at_once(desk, network):
    """The TAM is told, never asked: a level whose only reachable person is the TAM reaches nobody who can act."""
    _ticket_with_a_tam_at_work(desk)
    with desk.hotline.db.transaction() as s:  # primary's only member leaves: nobody on call there
        deactivate_rep(s, s.scalars(select(Rep).where(Rep.phone == ALICE)).one())
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(TAM).expect_sms("SEV1")
    network.phone(MARIA).expect_sms("SEV1").expect_call(answer=False)  # at T0, not at T+6
    incident = _call_about_ticket(desk)
    desk.settle()
    assert _sent(desk, incident.id) == [(0, MARIA, "sms"), (0, MARIA, "voice"), (0, TAM, "sms")]
    assert "nobody_to_page" in _kinds(desk, incident.id)
    assert desk.incident(incident.id).nobody_to_page_at == desk.t0


def test_the_owner_who_has_not_called_back_hears_the_at_risk_alert_too(desk, network):
    """Bob, on call as secondary, acknowledges before his level pages him; nobody calls the customer back:
    at T+10 the at-risk SMS reaches him (he owns the callback), not only those paged and the managers."""
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    bob = network.phone(BOB)
    answer = _sms_from(desk, BOB, f"ACK {incident.reference}").get_data(as_text=True)
    assert "Acknowledged" in answer and desk.incident(incident.id).acknowledged_by is not None
    desk.at(minutes=6)  # escalation stopped: a page to Bob (level 1) or Maria (level 2) would be unexpected
    alice.expect_sms("AT RISK")
    network.phone(MARIA).expect_sms("AT RISK")
    bob.expect_sms("AT RISK")
    desk.at(minutes=10)
    assert sorted(to for _m, to, _c in _sent(desk, incident.id, "at_risk")) == sorted([ALICE, BOB, MARIA])


def test_a_rep_on_call_in_two_schedules_of_one_level_gets_every_channel_either_target_asks(desk, network):
    """Alice is on call as primary (voice) and, by an override, as secondary (SMS): one page per channel."""
    levels = [{"delay_minutes": 0, "targets": [{"type": "schedule", "schedule": "primary", "channels": ["voice"]},
                                               {"type": "schedule", "schedule": "secondary", "channels": ["sms"]}]},
              {"delay_minutes": 6, "targets": [{"type": "managers"}]}]
    with desk.hotline.db.transaction() as s:
        save_policy(s, "two-hats", levels, is_default=True)
        add_override(s, find_schedule(s, "secondary"), OverrideInput(
            "Alice Primary", desk.t0 - timedelta(hours=1), desk.t0 + timedelta(hours=1), "Bob at the dentist"), desk.t0)
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    assert sorted(c for _m, to, c in _sent(desk, incident.id) if to == ALICE) == ["sms", "voice"]


def test_an_owner_deactivated_after_acknowledging_is_paged_no_more_the_rep_on_call_is(desk, network):
    """Alice acknowledges, then is deactivated (left, lost her phone) with no callback made; Bob covers
    primary by an override: the next levels page, and the at-risk SMS and the repages go to Bob and the managers,
    never to Alice."""
    incident, alice = desk.acknowledged_by_alice(network)
    desk.at(minutes=1)
    with desk.hotline.db.transaction() as s:
        deactivate_rep(s, s.scalars(select(Rep).where(Rep.phone == ALICE)).one())
        add_override(s, find_schedule(s, "primary"), OverrideInput(
            "Bob Secondary", desk.t0 + timedelta(minutes=1), desk.t0 + timedelta(hours=8), "Alice left"), desk.t0)
    bob, maria = network.phone(BOB), network.phone(MARIA)
    # her acknowledgement holds the escalation back no more (session 37): the next levels page as if nobody took it
    bob.expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=3)
    maria.expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=6)
    bob.expect_sms("AT RISK")
    maria.expect_sms("AT RISK")
    desk.at(minutes=10)
    assert sorted(to for _m, to, _c in _sent(desk, incident.id, "at_risk")) == [BOB, MARIA]
    maria.expect_sms("BREACHED").expect_call(answer=False)
    network.phone(CUSTOMER).expect_sms("have not reached you")  # the deadline passed: the customer is told
    desk.at(minutes=15)
    bob.expect_sms("BREACHED").expect_call(answer=False)
    maria.expect_sms("BREACHED").expect_call(answer=False)
    desk.at(minutes=20)
    assert ALICE not in {to for _m, to, _c in _sent(desk, incident.id, "breach")}


def test_the_repages_after_a_breach_call_the_reps_not_the_tam(desk, network):
    """Nobody acknowledges: the repages every 5 minutes ring the primary on call and the managers. The TAM,
    whom the policy tells by SMS only, is told of the breach by SMS at the breach, once: not rung every 5 minutes
    as if on call, nor texted again each round."""
    _ticket_with_a_tam_at_work(desk)
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False).expect_call(answer=False)
    bob = network.phone(BOB).expect_sms("SEV1").expect_call(answer=False)
    maria = network.phone(MARIA).expect_sms("SEV1").expect_call(answer=False)
    tam = network.phone(TAM).expect_sms("SEV1").expect_sms("AT RISK")
    for phone in (alice, bob, maria):
        phone.expect_sms("AT RISK")
    maria.expect_sms("BREACHED").expect_call(answer=False)
    tam.expect_sms("BREACHED")  # at the breach, as the managers are: not 5 minutes later
    network.phone(CUSTOMER).expect_sms("have not reached you")  # the deadline passed: the customer is told
    incident = _call_about_ticket(desk)
    desk.settle()
    for minute in (3, 6, 10, 15):
        desk.at(minutes=minute)
    assert sorted((to, c) for m, to, c in _sent(desk, incident.id, "breach") if int(m) == 15) == [
        (MARIA, "sms"), (MARIA, "voice"), (TAM, "sms")]
    for minute in (20, 25):  # a call or a second text to the TAM now would be unexpected
        alice.expect_sms("BREACHED").expect_call(answer=False)
        maria.expect_sms("BREACHED").expect_call(answer=False)
        desk.at(minutes=minute)
    assert sorted((to, c) for m, to, c in _sent(desk, incident.id, "breach") if int(m) == 20) == [
        (ALICE, "sms"), (ALICE, "voice"), (MARIA, "sms"), (MARIA, "voice")]
    assert tam.calls == [] and len(tam.sms) == 3


def test_the_tam_hears_of_the_breach_of_an_incident_a_rep_acknowledged(desk, network):
    """A rep acknowledged and never called back: the TAM told of the page hears of the breach too (the repages go
    to the owner, so the breach is the TAM's only word of it)."""
    _ticket_with_a_tam_at_work(desk)
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    tam = network.phone(TAM).expect_sms("SEV1")
    incident = _call_about_ticket(desk)
    desk.settle()
    network.phone(CUSTOMER).expect_sms("has taken your incident")
    assert "Acknowledged" in _sms_from(desk, ALICE, f"ACK {incident.reference}").get_data(as_text=True)
    for phone in (alice, network.phone(MARIA), tam):
        phone.expect_sms("AT RISK")
    desk.at(minutes=10)
    network.phone(MARIA).expect_sms("BREACHED").expect_call(answer=False)
    tam.expect_sms("BREACHED")
    network.phone(CUSTOMER).expect_sms("have not reached you")
    desk.at(minutes=15)
    assert [s for s in tam.sms if "BREACHED" in s] and tam.calls == []
