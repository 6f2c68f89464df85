"""The dashboard keeps the guards SMS and keypress keep (probe AT1): a rep's login acts on the incidents its rep was
paged for, is on call for or owns; the owner (or a manager) agrees the interval, proposes and records the customer's
agreement; when someone else acts, the owner is told. An outside probe's Carol, paged for nothing and on no schedule,
was refused every one of these by SMS and did all of them on the dashboard: took Alice's incident over, had the
customer bridged to her phone, told the customer a false update and interval, proposed and closed it, and Alice
heard of none of it.

Through the real dashboard forms (CSRF), the signed webhooks, and the simulated Twilio with scripted phones that
fail the test on any SMS or call nobody expected."""

from __future__ import annotations

from sqlalchemy import select

from app.models import (
    Callback,
    CustomerUpdate,
    Delivery,
    FollowUp,
    Incident,
    IncidentEvent,
    Rep,
    ResolutionProposal,
    Role,
)
from tests.integration.board_support import CSRF, login_as
from tests.paging.conftest import ALICE, BOB, CUSTOMER, MARIA
from tests.updates.test_customer_sms import _called_back, _rows

CAROL = "+14155550144"  # a rep on no schedule, paged for nothing


def _rep_id(desk, phone: str) -> int:
    with desk.hotline.db.session() as s:
        return s.scalar(select(Rep.id).where(Rep.phone == phone))


def _carol_logs_in(desk) -> None:
    with desk.hotline.db.transaction() as s:
        carol = Rep(name="Carol Nopage", phone=CAROL)
        s.add(carol)
        s.flush()
        carol_id = carol.id
    login_as(desk.client, desk.hotline, name="Carol at her desk", rep_id=carol_id)


def _post(desk, path: str, **form: str) -> str:
    """Post a dashboard form as the logged-in user: a redirect back (the page's flash says what happened); the flash."""
    response = desk.client.post(path, data={"csrf_token": CSRF, "back": "incident", **form})
    assert response.status_code == 302
    page = desk.client.get(response.headers["Location"]).get_data(as_text=True)
    desk.settle()
    return page


def _state(desk, incident_id: int) -> tuple:
    """What an action could change: the incident's owner and status, its schedule, updates, proposals, callbacks,
    and every message queued for anyone."""
    incident = desk.incident(incident_id)
    [follow_up] = _rows(desk, FollowUp, incident_id=incident_id) or [None]
    return (incident.status, incident.acknowledged_by, incident.acknowledged_at,
            follow_up and (follow_up.interval_minutes, follow_up.owner_rep_id, follow_up.state, follow_up.next_due_at),
            len(_rows(desk, CustomerUpdate, incident_id=incident_id)),
            len(_rows(desk, ResolutionProposal, incident_id=incident_id)),
            len(_rows(desk, Callback, incident_id=incident_id)), len(_rows(desk, Delivery)),
            len(desk.network.twilio.messages), len(desk.network.twilio.calls))


def _refused(desk, incident_id: int, kind: str) -> list[tuple]:
    return [(e.detail.get("command") or e.detail.get("outcome"), e.detail.get("why"), e.detail["via"])
            for e in _rows(desk, IncidentEvent, incident_id=incident_id, kind=kind)]


def test_a_rep_paged_for_nothing_changes_nothing_of_an_owned_incident_on_the_dashboard(desk, network, smtp):
    incident, _customer = _called_back(desk, network)  # Alice's, called back, updates hourly
    ref = incident.reference
    _carol_logs_in(desk)
    before = _state(desk, incident.id)

    pages = [
        _post(desk, f"/incidents/{ref}/updates", what_is_wrong="Carol says: all good, ignore the engineer"),
        _post(desk, f"/incidents/{ref}/updates/interval", minutes="240"),
        _post(desk, f"/incidents/{ref}/updates/propose", kind="resolved", summary="fixed"),
        _post(desk, f"/incidents/{ref}/updates/verbal", who_agreed="Vera"),
        _post(desk, f"/incidents/{ref}/resolve", who_agreed="Vera"),
    ]
    for page in pages:  # the SMS channel's words, as an error
        assert f'class="flash error" role="alert">You were not paged for {ref} and do not own it. Nothing was changed.' \
            in page
    for path in ("take-over", "call"):
        page = _post(desk, f"/incidents/{ref}/{path}")
        assert (f'class="flash error" role="alert">You were not paged for incident {ref} and are not on call. '
                "Nothing was changed.") in page

    assert _state(desk, incident.id) == before  # no row, no SMS or call to the customer, Alice or Carol
    assert _refused(desk, incident.id, "update_sms_refused") == [
        (command, "not_paged", "dashboard") for command in ("update", "every", "propose", "agreed", "agreed")]
    assert _refused(desk, incident.id, "acknowledgement_refused") == [
        ("refused_not_paged", None, "dashboard")] * 2
    assert _rows(desk, IncidentEvent, incident_id=incident.id, kind="owner_told_of_sms") == []


def test_a_rep_paged_for_nothing_neither_acknowledges_nor_calls_and_the_escalation_goes_on(desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report")  # never "an engineer has taken your incident"
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    _carol_logs_in(desk)

    for path in ("acknowledge", "call"):
        page = _post(desk, f"/incidents/{incident.reference}/{path}")
        assert f"You were not paged for incident {incident.reference} and are not on call." in page

    after = desk.incident(incident.id)
    assert (after.acknowledged_at, after.acknowledged_by) == (None, None)
    assert _rows(desk, Callback, incident_id=incident.id) == []
    network.phone(ALICE).expect_call(answer=False)
    network.phone(BOB).expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=3)  # the reps are still paged


def _alice_owns_bob_paged(desk, network):
    incident, customer = desk.called_back_late_by_alice(network)  # Alice, Bob and Maria paged; Alice called back
    return incident, customer, network.phone(ALICE)


def test_a_paged_rep_writes_an_update_and_the_owner_is_told_but_agrees_no_interval_nor_proposes(desk, network, smtp):
    incident, customer, alice = _alice_owns_bob_paged(desk, network)
    ref = incident.reference
    login_as(desk.client, desk.hotline, name="Bob at his desk", rep_id=_rep_id(desk, BOB))
    customer.expect_sms(f"Sev-1 {ref} update: MTA restarted, watching queues.")
    alice.expect_sms(f"SEV1 {ref} Acme Mail: Bob Secondary sent your customer an update from the dashboard: "
                     "MTA restarted, watching queues")

    page = _post(desk, f"/incidents/{ref}/updates", what_is_wrong="MTA restarted, watching queues")

    assert f"Update 1 for {ref} sent" in page
    assert alice.unmet == [] and customer.unmet == []
    before = _state(desk, incident.id)
    for path, form, words in (("updates/interval", {"minutes": "15"}, "agrees the update interval"),
                              ("updates/propose", {"kind": "resolved", "summary": "fixed"}, "proposes the resolution"),
                              ("updates/verbal", {"who_agreed": "Vera"}, "records that the customer agreed")):
        page = _post(desk, f"/incidents/{ref}/{path}", **form)
        assert f"Incident {ref} is owned by Alice Primary: only the owner or a manager {words}" in page
        assert "take it over (Take over, or Call the customer now)" in page
    assert _state(desk, incident.id) == before
    [told] = [e.detail for e in _rows(desk, IncidentEvent, incident_id=incident.id, kind="owner_told_of_sms")]
    assert (told["command"], told["via"], told["told_rep_ids"]) == ("update", "dashboard", [_rep_id(desk, ALICE)])


def test_a_manager_agrees_the_interval_proposes_and_records_the_agreement_and_the_owner_is_told(desk, network, smtp):
    incident, customer, alice = _alice_owns_bob_paged(desk, network)
    ref = incident.reference
    login_as(desk.client, desk.hotline, Role.MANAGER, name="Maria M.", rep_id=_rep_id(desk, MARIA))
    customer.expect_sms("as agreed, you will get an update every 30 minutes")
    alice.expect_sms(f"SEV1 {ref} Acme Mail: Maria Manager agreed updates every 30 minutes with your customer on the "
                     "dashboard.")
    assert f"Updates for {ref} every 30 minutes" in _post(desk, f"/incidents/{ref}/updates/interval", minutes="30")
    customer.expect_sms("We believe your problem is resolved: mail flows again")
    alice.expect_sms(f"SEV1 {ref} Acme Mail: Maria Manager proposed the resolution to your customer from the "
                     "dashboard: mail flows again")
    page = _post(desk, f"/incidents/{ref}/updates/propose", kind="resolved", summary="mail flows again")
    assert f"Proposed to the customer of {ref}; waiting for their answer." in page
    customer.expect_sms(f"incident {ref} is closed")
    alice.expect_sms(f"SEV1 {ref} Acme Mail: Maria Manager recorded on the dashboard that the customer agreed it is "
                     "resolved (Vera): the incident is closed.")

    page = _post(desk, f"/incidents/{ref}/resolve", who_agreed="Vera")

    assert f"Incident {ref} is resolved: Vera agreed." in page
    assert desk.incident(incident.id).status == "resolved"
    assert alice.unmet == [] and customer.unmet == []
    [follow_up] = _rows(desk, FollowUp, incident_id=incident.id)
    assert follow_up.owner_rep_id == _rep_id(desk, ALICE)  # still Alice's
    told = [(e.detail["command"], e.detail["via"]) for e in _rows(desk, IncidentEvent, incident_id=incident.id,
                                                                   kind="owner_told_of_sms")]
    assert told == [("every", "dashboard"), ("propose", "dashboard"), ("agreed", "dashboard")]


def test_a_manager_takes_over_and_calls_an_incident_they_were_not_paged_for(desk, network):
    """A manager's login (its rep no manager, paged for nothing): the manager's override, as by SMS."""
    incident, alice = desk.acknowledged_by_alice(network)
    ref = incident.reference
    with desk.hotline.db.transaction() as s:
        rep = Rep(name="Mona Lead", phone=CAROL)
        s.add(rep)
        s.flush()
        mona = rep.id
    login_as(desk.client, desk.hotline, Role.MANAGER, name="Mona", rep_id=mona)
    alice.expect_sms("took this incident over from you")

    page = _post(desk, f"/incidents/{ref}/take-over")

    assert f"You took incident {ref} over from Alice Primary" in page
    assert desk.incident(incident.id).acknowledged_by == mona
    assert alice.unmet == []


def test_the_owner_acts_alone_on_the_dashboard_and_nobody_is_told(desk, network, smtp):
    incident, customer = _called_back(desk, network)
    ref = incident.reference
    login_as(desk.client, desk.hotline, name="Alice at her desk", rep_id=_rep_id(desk, ALICE))
    customer.expect_sms("as agreed, you will get an update every 2 hours")
    customer.expect_sms(f"Sev-1 {ref} update: Queues drained.")

    assert f"Updates for {ref} every 2 hours" in _post(desk, f"/incidents/{ref}/updates/interval", minutes="120")
    assert f"Update 1 for {ref} sent" in _post(desk, f"/incidents/{ref}/updates", what_is_wrong="Queues drained.")

    assert customer.unmet == []
    assert _rows(desk, IncidentEvent, incident_id=incident.id, kind="owner_told_of_sms") == []
    with desk.hotline.db.session() as s:
        assert s.get(Incident, incident.id).status == "open"
