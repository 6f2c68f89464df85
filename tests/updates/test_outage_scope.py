"""Which incidents an outage takes in, and when its resolution is proposed (outside probe, F10 and F11).

F10: an outage "SMTP injection in the EU region" took in every incident opened while it was declared, 11 of 13
about failing API calls; its resolution ("The EU SMTP relays are back") was texted to them, one the second its first
callback connected. Now an outage names the service that fails and takes in only callers who named it; a manager
sees what each linked caller said and unlinks a wrong one; the resolution waits until the callback is over.
F11: the statement said "Our next update is due by 11:06 p.m." at 11:07.

The in-memory phone network of test_outage; real SQL, Redis, worker and SMTP.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.models import DueStep, Incident, IncidentEvent, Outage, OutageLink, ProposalKind, ResolutionProposal
from app.models.user import Role
from app.services.outages import declare, resolve_outage
from app.services.resolution import propose
from tests.fakes import SimulatedTelephony
from tests.integration.dashboard_support import login_as, post_form
from tests.updates import test_outage as outage_tests
from tests.updates.backoffice import settle
from tests.updates.conftest import callback_over, verified_callback
from tests.updates.test_outage import _call

hotline = outage_tests.hotline  # the fixture: the in-memory phone network

API_CALLER, BOTH_CALLER = "+14155550144", "+4915112345307"  # English presses 1 (API); German says "beide" (both)
PROPOSAL_WORDS = ("We believe your problem is resolved", "Wir halten Ihr Problem für gelöst")


def _proposals_to(telephony: SimulatedTelephony, number: str, since: int = 0) -> list[str]:
    return [m.body for m in telephony.sms[since:] if m.to == number and any(w in m.body for w in PROPOSAL_WORDS)]


def _incident(hotline, call_sid: str) -> Incident:
    with hotline.db.session() as s:
        return s.scalars(select(Incident).where(Incident.call_sid == call_sid)).one()


def _linked(hotline, outage_id: int) -> list[int]:
    with hotline.db.session() as s:
        return list(s.scalars(select(OutageLink.incident_id).where(OutageLink.outage_id == outage_id)
                              .order_by(OutageLink.incident_id)))


def _reached(hotline, *incidents: Incident) -> None:
    """Each customer was called back, answered, and the call ended."""
    with hotline.db.transaction() as s:
        for incident in incidents:
            verified_callback(s, s.get(Incident, incident.id), hotline.clock.now())
            callback_over(s, s.get(Incident, incident.id), hotline.clock.now())
    settle(hotline)


def test_an_smtp_outage_takes_in_only_callers_who_named_smtp_and_proposes_its_resolution_to_them_alone(
        hotline, client, clock, smtp):
    telephony: SimulatedTelephony = hotline.telephony
    login_as(client, hotline, Role.MANAGER, name="Maria Manager")
    assert post_form(client, "/outages", {"what_fails": "SMTP injection in the EU region",
                                          "affected_service": "smtp"}).status_code == 302
    with hotline.db.session() as s:
        outage = s.scalars(select(Outage)).one()
    assert outage.affected_service == "smtp"
    api = _incident(hotline, _call(client, API_CALLER, "ann", german=False))
    both = _incident(hotline, _call(client, BOTH_CALLER, "otto", german=True))
    assert (api.affected_service, both.affected_service) == ("api", "both")

    # only the caller who said SMTP is down (here: both) is linked; the API caller's timeline says why not
    assert _linked(hotline, outage.id) == [both.id]
    with hotline.db.session() as s:
        [why] = s.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == api.id,
                                                      IncidentEvent.kind == "outage_not_linked")).all()
    assert why.detail == {"outage_id": outage.id, "outage_service": "smtp", "caller_said": "api"}
    page = client.get(f"/outages/{outage.id}").get_data(as_text=True)
    assert "Linked incidents (1)" in page and "Service:\n   SMTP injection failing" in page
    # nor can a manager link the API caller by hand: their caller named another service
    post_form(client, f"/outages/{outage.id}/link", {"reference": api.reference})
    assert "caller said API calls failing; this outage is SMTP injection failing: nothing was linked" in client.get(
        f"/outages/{outage.id}").get_data(as_text=True)
    assert _linked(hotline, outage.id) == [both.id]

    _reached(hotline, api, both)
    clock.advance(minutes=30)
    before = len(telephony.sms)
    post_form(client, f"/outages/{outage.id}/resolve", {"summary": "The EU SMTP relays are back",
                                                        "summary_de": "Die EU-SMTP-Relays laufen wieder"})
    settle(hotline)
    assert _proposals_to(telephony, API_CALLER, before) == []
    assert len(_proposals_to(telephony, BOTH_CALLER, before)) == 1
    with hotline.db.session() as s:
        assert s.scalars(select(ResolutionProposal).where(ResolutionProposal.incident_id == api.id)).all() == []


def test_an_outage_declared_for_any_service_links_every_caller_and_a_bad_service_is_refused(hotline, client, clock):
    login_as(client, hotline, Role.MANAGER, name="Maria Manager")
    refused = post_form(client, "/outages", {"what_fails": "Everything", "affected_service": "fax"},
                        follow_redirects=True).get_data(as_text=True)
    assert "Say which service fails" in refused
    # no service at all (an old cached form, a script) is refused too, never taken for "any" (a second probe's was)
    for form in ({"what_fails": "Everything"}, {"what_fails": "Everything", "affected_service": ""}):
        missing = post_form(client, "/outages", form, follow_redirects=True).get_data(as_text=True)
        assert "Say which service fails" in missing and "Nothing was declared" in missing
    with hotline.db.session() as s:
        assert s.scalars(select(Outage)).all() == []
    assert post_form(client, "/outages", {"what_fails": "SMTP injection in the EU region",
                                          "affected_service": "any"}).status_code == 302
    api = _incident(hotline, _call(client, API_CALLER, "ann", german=False))
    with hotline.db.session() as s:
        outage = s.scalars(select(Outage)).one()
    assert outage.affected_service == "" and _linked(hotline, outage.id) == [api.id]


def test_a_manager_unlinks_a_wrongly_linked_incident_and_it_gets_neither_the_update_nor_the_resolution(
        hotline, client, clock, smtp):
    telephony: SimulatedTelephony = hotline.telephony
    login_as(client, hotline, Role.MANAGER, name="Maria Manager")
    # "any service" chosen: every new incident is linked
    post_form(client, "/outages", {"affected_service": "any", "what_fails": "SMTP injection in the EU region"})
    api = _incident(hotline, _call(client, API_CALLER, "ann", german=False))
    both = _incident(hotline, _call(client, BOTH_CALLER, "otto", german=True))
    with hotline.db.session() as s:
        outage_id = s.scalars(select(Outage.id)).one()
    assert _linked(hotline, outage_id) == [api.id, both.id]
    _reached(hotline, api, both)

    # the outage page shows what each caller said, with an Unlink button
    page = client.get(f"/outages/{outage_id}").get_data(as_text=True)
    assert "API calls failing" in page and f'aria-label="Unlink incident {api.reference} from outage {outage_id}"' in page
    assert post_form(client, f"/outages/{outage_id}/unlink", {"reference": api.reference}).status_code == 302
    assert f"Incident {api.reference} unlinked" in client.get(f"/outages/{outage_id}").get_data(as_text=True)
    assert _linked(hotline, outage_id) == [both.id]
    with hotline.db.session() as s:
        [line] = s.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == api.id,
                                                       IncidentEvent.kind == "outage_unlinked")).all()
    assert line.actor == "Maria Manager" and line.detail["outage_id"] == outage_id

    clock.advance(minutes=5)
    before = len(telephony.sms)
    post_form(client, f"/outages/{outage_id}/update", {"what_is_wrong": "The EU SMTP relays refuse connections"})
    clock.advance(minutes=30)
    post_form(client, f"/outages/{outage_id}/resolve", {"summary": "The EU SMTP relays are back"})
    settle(hotline)
    assert not [m for m in telephony.sms[before:] if m.to == API_CALLER and "SMTP relays" in m.body]
    assert len([m for m in telephony.sms[before:] if m.to == BOTH_CALLER and "SMTP relays" in m.body]) == 2
    # once its resolution was proposed, an incident stays linked (its customer answers that proposal)
    post_form(client, f"/outages/{outage_id}/unlink", {"reference": both.reference})
    assert "was proposed to incident" in client.get(f"/outages/{outage_id}").get_data(as_text=True)
    assert _linked(hotline, outage_id) == [both.id]


def test_the_outage_resolution_waits_until_the_first_callback_is_over(hotline, client, clock, smtp):
    """Resolved before this customer was reached: proposed neither the moment the callback connects nor while it goes
    on, but 10 minutes after it ended."""
    telephony: SimulatedTelephony = hotline.telephony
    with hotline.db.transaction() as s:
        declare(s, what_fails="SMTP injection in the EU region", since=clock.now(), by="Maria", now=clock.now())
    api = _incident(hotline, _call(client, API_CALLER, "ann", german=False))
    with hotline.db.transaction() as s:
        resolve_outage(s, s.scalars(select(Outage)).one(), summary="The EU SMTP relays are back", by="Maria",
                       now=clock.now(), settings=hotline.settings)
    clock.advance(minutes=4)
    with hotline.db.transaction() as s:  # the callback connects: a person answered
        verified_callback(s, s.get(Incident, api.id), clock.now())
    settle(hotline)
    assert _proposals_to(telephony, API_CALLER) == []
    clock.advance(minutes=20)  # still talking
    settle(hotline)
    assert _proposals_to(telephony, API_CALLER) == []
    with hotline.db.session() as s:
        [step] = s.scalars(select(DueStep).where(DueStep.incident_id == api.id, DueStep.kind == "outage_proposal"))
    assert step.status == "pending" and step.outcome == "waiting_for_callback_end"
    with hotline.db.transaction() as s:
        callback_over(s, s.get(Incident, api.id), clock.now())
    clock.advance(minutes=5)
    settle(hotline)
    assert _proposals_to(telephony, API_CALLER) == []
    clock.advance(minutes=6)
    settle(hotline)
    assert len(_proposals_to(telephony, API_CALLER)) == 1


def test_the_engineer_on_the_call_agrees_the_resolution_and_the_outage_proposes_nothing_more(hotline, client, clock,
                                                                                            smtp):
    """The outage was resolved while the engineer was on the phone with the customer: the resolve does not text them
    mid-call; the engineer's own proposal, made on the call, is the one the customer answers."""
    telephony: SimulatedTelephony = hotline.telephony
    with hotline.db.transaction() as s:
        declare(s, what_fails="SMTP injection in the EU region", since=clock.now(), by="Maria", now=clock.now())
    api = _incident(hotline, _call(client, API_CALLER, "ann", german=False))
    with hotline.db.transaction() as s:
        verified_callback(s, s.get(Incident, api.id), clock.now())
    settle(hotline)
    clock.advance(minutes=2)
    with hotline.db.transaction() as s:  # the callback goes on
        result = resolve_outage(s, s.scalars(select(Outage)).one(), summary="The EU SMTP relays are back",
                                by="Maria", now=clock.now(), settings=hotline.settings)
    assert "resolution proposed to 0 incidents" in result.message and api.reference in result.message
    settle(hotline)
    assert _proposals_to(telephony, API_CALLER) == []
    with hotline.db.transaction() as s:  # the engineer agrees with the customer what fixed their API calls
        assert propose(s, s.get(Incident, api.id), ProposalKind.RESOLVED, summary="API key rotated", by="Alice",
                       now=clock.now(), settings=hotline.settings).ok
        callback_over(s, s.get(Incident, api.id), clock.now())
    clock.advance(minutes=15)
    settle(hotline)
    [proposal] = _proposals_to(telephony, API_CALLER)
    assert "API key rotated" in proposal and "SMTP" not in proposal
    with hotline.db.session() as s:
        [step] = s.scalars(select(DueStep).where(DueStep.incident_id == api.id, DueStep.kind == "outage_proposal"))
    assert step.outcome == "skipped_proposal_pending"


def test_an_overdue_outage_update_is_never_promised_at_its_past_time(hotline, client, clock):
    """F11: a caller at 11:07 heard "Our next update is due by 11:06 p.m."."""
    heard: list[str] = []
    with hotline.db.transaction() as s:
        declare(s, what_fails="API in the US region", what_fails_de="API in der US-Region",
                since=clock.now() - timedelta(minutes=17), next_update_at=clock.now() - timedelta(minutes=1),
                by="Maria", now=clock.now())
    _call(client, "+14155550162", "ann", german=False, heard=heard)
    _call(client, "+4915100000007", "otto", german=True, heard=heard)
    english, german = heard
    assert "API in the US region" in english and "due by" not in english
    assert "We are sorry our next update is overdue: it follows as soon as possible." in english
    assert "API in der US-Region" in german and "folgt bis" not in german
    assert "Leider ist unser nächstes Update überfällig: Es folgt so bald wie möglich." in german
