"""Policy point 6: customer and provider agree together when the problem is resolved. An incident closed without the
customer's own written or keyed YES (a rep's record of a verbal agreement, a manager's close) is reopened by their
"NO <ref>" to the notice of that close, from the incident's callback number, within REOPEN_WINDOW_DAYS: open again,
on the board with their words, its owner texted at once, the update schedule resumed at the agreed interval (the
customer told, in their language, when the next comes), and a new close again needs their agreement. Their own YES
is never undone so (their words still reach the owner), nor is a close by a NO sent too late or from another number.
A rep or manager reopens any closed incident from its page, with a reason. The reports stay truthful.

Through the signed SMS webhook, the real dashboard forms (CSRF), the simulated Twilio with scripted phones that fail
the test on any SMS nobody expected, a real local SMTP server and a fake clock."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from app.models import DueStep, FollowUp, IncidentEvent, Page, Rep, Role
from app.reports.compliance import range_bounds
from app.reports.figures import FactsRange
from app.reports.updates import update_figures
from app.services.customer_text import written_time
from app.services.page_text import hhmm
from app.services.update_text import customer_zone
from tests.integration.board_support import CSRF, login_as
from tests.paging.conftest import ALICE, BOB, CUSTOMER, MARIA
from tests.updates.test_breach_notice_by_email import _through_the_breach
from tests.updates.test_closing_notice import _manager_resolves
from tests.updates.test_customer_sms import (
    _called_back,
    _propose,
    _rows,
    _text_hotline,
    _update,
    closed_by_the_customers_yes,
    no_after_the_close,
)
from tests.updates.test_verbal_close import ALICE_CLOCK, _alice_logs_in, _resolve

STRANGER = "+14155550199"


def _closed_verbally(desk, network):
    """CUSTOMER's incident, called back by Alice (hourly updates, told), closed on the verbal agreement she recorded
    (the customer is texted that it was closed as agreed on the phone); returns it and the customer's phone."""
    incident, customer = _called_back(desk, network)
    _alice_logs_in(desk)
    customer.expect_sms(f"as agreed with you on the phone, incident {incident.reference} is closed")
    _resolve(desk, incident.reference, "Dana")
    assert desk.incident(incident.id).status == "resolved"
    return incident, customer


def _reopens(desk, incident_id: int) -> list[dict]:
    return [e.detail for e in _rows(desk, IncidentEvent, incident_id=incident_id, kind="incident_reopened")]


def _repages(desk, incident_id: int) -> list[tuple[int, str]]:
    """(level, outcome) of each repage round, the count of people paged left off ("repaged_4": "repaged")."""
    return [(st.level, re.sub(r"_\d+$", "", st.outcome or "")) for st in _rows(desk, DueStep, incident_id=incident_id,
                                                                              kind="repage")]


def _board(desk) -> str:
    return desk.client.get("/board").get_data(as_text=True).replace("&#34;", '"').replace("&quot;", '"')


def test_a_verbal_close_is_reopened_by_the_customers_no_and_updates_resume_on_time(desk, network, smtp):
    incident, customer = _closed_verbally(desk, network)
    ref = incident.reference
    assert f"inc-{ref}" not in _board(desk)  # closed: off the board
    closed = desk.clock.now()

    desk.clock.set(closed + timedelta(hours=2))
    now = desk.clock.now()
    alice = network.phone(ALICE).expect_sms(
        f"SEV1 {ref} Acme Mail: REOPENED by the customer, who says it is NOT resolved (it was closed on a verbal "
        f"agreement: Dana (recorded by Alice Primary)). They texted: NO {ref} it still fails for EU senders. Call "
        f"them: {CUSTOMER}. Updates go on: the next is due by {hhmm(now + timedelta(hours=1), ALICE_CLOCK)}. "
        f"Reply UPDATE {ref} <text>.")
    [reply] = _text_hotline(desk, f"NO {ref} it still fails for EU senders")
    desk.settle()

    due = now + timedelta(hours=1)  # the interval agreed on the callback, from the reopen
    assert reply == (f"Incident {ref} is open again: we passed your message to the engineer and keep working on it. "
                     f"Your next update will come by {written_time(due, customer_zone(incident), 'en-US', now)}.")
    assert desk.incident(incident.id).status == "open"
    assert alice.unmet == [] and customer.unmet == []
    [line] = _reopens(desk, incident.id)
    [resolved] = _rows(desk, IncidentEvent, incident_id=incident.id, kind="resolved")
    assert (line["by"], line["via"], line["words"], line["undoes"], line["close"]) == (
        "customer", "sms", f"NO {ref} it still fails for EU senders", resolved.id, "verbal")
    assert line["closed_for_seconds"] == 7200
    [follow_up] = _rows(desk, FollowUp, incident_id=incident.id)
    assert (follow_up.state, follow_up.next_due_at, follow_up.interval_minutes, follow_up.closed_how) == (
        "updating", due, 60, "")

    # on the board again, with who reopened it and their words; and on its page
    board = _board(desk)
    assert f"inc-{ref}" in board and f'Reopened by the customer: "NO {ref} it still fails for EU senders"' in board
    page = desk.client.get(f"/incidents/{ref}").get_data(as_text=True).replace("&#34;", '"').replace("&quot;", '"')
    assert f'id="reopened">Reopened by the customer: "NO {ref} it still fails for EU senders"' in page

    # the schedule runs again: Alice is reminded 10 minutes before the update is due, and one written in time counts
    alice.expect_sms(f"SEV1 {ref} Acme Mail: customer update 1 due by {hhmm(due, ALICE_CLOCK)}")
    desk.clock.set(due - timedelta(minutes=10))
    desk.settle()
    assert alice.unmet == []
    customer.expect_sms("EU relay restarted")
    desk.clock.set(due - timedelta(minutes=5))
    assert _update(desk, ref, "EU relay restarted, watching it").message.endswith("sent (on time).")
    desk.settle()
    assert customer.unmet == []

    # a new close needs the customer's agreement again: their NO stands until they are reached
    refused = _resolve(desk, ref, "Dana").replace("&#39;", "'")
    assert f"Incident {ref} was NOT closed: The customer's last written answer was NO, by SMS at" in refused
    assert desk.incident(incident.id).status == "open"


def test_a_managers_close_is_reopened_by_the_customers_no_and_the_breached_callback_is_chased_again(
        desk, network, client, smtp):
    """Nobody had reached the customer when the manager closed it: their NO reopens it, and the repage rounds the
    close stopped (every 5 minutes, the owner and the managers, by SMS and call) resume, once, not one per round
    missed while it was closed; until session 41 the owner was only texted, and nobody was paged again."""
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_sms("have not reached you")
    incident = _through_the_breach(desk, network, desk.open_incident)
    ref = incident.reference
    customer.expect_sms("was closed by our support team")
    desk.at(minutes=21)
    _manager_resolves(desk, client, ref)
    assert desk.incident(incident.id).status == "resolved"
    desk.at(minutes=25)  # the repage round the close stopped: nobody is paged
    assert _repages(desk, incident.id) == [(0, "repaged"), (1, "stopped_resolved")]

    desk.at(minutes=40)
    alice = network.phone(ALICE).expect_sms(
        f"SEV1 {ref} Acme Mail: REOPENED by the customer, who says it is NOT resolved (it was closed by a manager). "
        f"They texted: no {ref}, nobody ever called us. Call them: {CUSTOMER}")
    alice.expect_sms(f"SEV1 {ref} Acme Mail: callback deadline").expect_call(answer=False)  # "... BREACHED"
    maria = network.phone(MARIA).expect_sms("BREACHED").expect_call(answer=False)
    [reply] = _text_hotline(desk, f"no {ref}, nobody ever called us")
    desk.settle()
    assert alice.unmet == [] and maria.unmet == []
    assert sum("BREACHED" in sms for sms in alice.sms) == 2  # the round at T+20, and this one
    assert _repages(desk, incident.id) == [(0, "repaged"), (1, "stopped_resolved"), (2, "repaged"), (3, "")]
    [pending] = _rows(desk, DueStep, incident_id=incident.id, kind="repage", level=3)
    assert pending.due_at == desk.clock.now() + timedelta(minutes=5)  # the next round, from now
    alice.expect_sms("BREACHED").expect_call(answer=False)
    maria.expect_sms("BREACHED").expect_call(answer=False)
    desk.at(minutes=45)
    assert alice.unmet == [] and maria.unmet == []

    # nobody reached them: no update is owed, and they are not promised one
    assert reply == (f"Incident {ref} is open again: we passed your message to the engineer, who will contact you.")
    assert desk.incident(incident.id).status == "open"
    assert [(d["by"], d["close"]) for d in _reopens(desk, incident.id)] == [("customer", "manager")]
    assert _rows(desk, FollowUp, incident_id=incident.id) == []
    assert alice.unmet == [] and customer.unmet == []
    assert f'Reopened by the customer: "no {ref}, nobody ever called us"' in _board(desk)


def _reopened_at_minute_8(desk, network, client):
    """Closed by a manager at T+2 while Alice's page went unanswered (the levels due at T+3 and T+6 find it closed),
    the customer's NO at T+8 reopens it; returns the incident, Alice's and the customer's phones."""
    customer = network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    ref = incident.reference
    customer.expect_sms("was closed by our support team")
    desk.at(minutes=2)
    _manager_resolves(desk, client, ref)
    desk.at(minutes=6)  # the next levels' steps find it closed: nobody is paged
    assert desk.incident(incident.id).status == "resolved"

    desk.at(minutes=8)
    alice.expect_sms(f"SEV1 {ref} Acme Mail: REOPENED by the customer")
    alice.expect_sms(f"SEV1 {ref}").expect_call(answer=False)  # paged again, with the callback's deadline
    [reply] = _text_hotline(desk, f"NO {ref} it is still down")
    desk.settle()
    assert reply.startswith(f"Incident {ref} is open again")
    assert alice.unmet == [] and customer.unmet == []
    with desk.hotline.db.session() as s:
        pages = list(s.scalars(select(Page).where(Page.incident_id == incident.id, Page.to_number == ALICE,
                                                  Page.purpose == "page").order_by(Page.id)))
    assert [(p.channel, p.created_at) for p in pages[-2:]] == [("sms", desk.clock.now()), ("voice", desk.clock.now())]
    return incident, alice, customer


def test_a_close_before_anyone_reached_the_customer_reopened_before_the_deadline_pages_the_on_call_again(
        desk, network, client, smtp):
    """Closed by a manager at T+2 while Alice's page went unanswered; the customer's NO at T+8 reopens it. The
    callback is still owed: Alice (the first level, nobody owns it) is paged again at once, by SMS and call, and
    the at-risk and breach steps to come chase it as for any incident (until session 41 nobody was paged)."""
    incident, alice, _customer = _reopened_at_minute_8(desk, network, client)
    alice.expect_sms("AT RISK").expect_call(answer=False)
    network.phone(MARIA).expect_sms("AT RISK").expect_sms(f"SEV1 {incident.reference}").expect_call(answer=False)
    network.phone(BOB).expect_sms(f"SEV1 {incident.reference}").expect_call(answer=False).expect_sms("AT RISK")
    desk.at(minutes=10)  # the at-risk step chases it as before the close, and the levels it skipped page with it
    assert alice.unmet == []


def _level_steps(desk, incident_id: int) -> list[tuple[int, str, int]]:
    return [(st.level, st.status, st.runs) for st in _rows(desk, DueStep, incident_id=incident_id, kind="page")]


def test_a_reopen_before_the_deadline_pages_the_levels_the_close_skipped_as_the_policy_times_them(
        desk, network, client, smtp):
    """The policy pages Alice, then at +3 Alice again and Bob, then at +6 Maria. The close at T+2 stood those two
    levels down; after the reopen at T+8 (Alice paged at once) they page again while nobody takes it (until session
    42 they never did: only the at-risk and breach alerts followed): their policy's 3 and 6 minutes after the reopen
    would be T+11 and T+14, so they page just before the at-risk alert at T+10 (``levels.rearmed_at``, the rule a
    late incident's levels follow: since session 43, when a level re-armed late in the window paged after the
    deadline), which then reaches Bob too."""
    incident, alice, customer = _reopened_at_minute_8(desk, network, client)
    assert _level_steps(desk, incident.id) == [(0, "done", 1), (1, "pending", 1), (2, "pending", 1)]
    assert {st.due_at for st in _rows(desk, DueStep, incident_id=incident.id, kind="page") if st.level} == {
        desk.t0 + timedelta(minutes=10, seconds=-1)}
    maria = network.phone(MARIA).expect_sms("AT RISK")
    alice.expect_sms("AT RISK")
    bob = network.phone(BOB).expect_sms(f"SEV1 {incident.reference}").expect_call(answer=False)
    bob.expect_sms("AT RISK")  # paged by then: the alert reaches him too
    alice.expect_call(answer=False)
    maria.expect_sms(f"SEV1 {incident.reference}").expect_call(answer=False)
    desk.at(minutes=9, seconds=58)
    assert bob.received == []  # not at once: just before the at-risk alert
    desk.at(minutes=10)
    assert bob.unmet == [] and alice.unmet == [] and maria.unmet == [] and customer.unmet == []
    desk.at(minutes=14)
    assert _level_steps(desk, incident.id) == [(0, "done", 1), (1, "done", 2), (2, "done", 2)]
    kinds = [(e.detail["level"], e.detail["outcome"]) for e in _rows(desk, IncidentEvent, incident_id=incident.id,
                                                                      kind="step_page")]
    assert kinds[1:3] == [(1, "skipped_resolved"), (2, "skipped_resolved")]
    # both re-armed levels fall due at the same instant (T+9:59): their steps are two jobs, run in either order
    assert sorted(kinds[3:]) == [(1, "paged_3"), (2, "paged_2")]  # pages sent


def test_levels_rearmed_by_a_reopen_stand_down_once_the_incident_is_taken(desk, network, client, smtp):
    incident, alice, customer = _reopened_at_minute_8(desk, network, client)
    customer.expect_sms("an engineer has taken your incident")
    [answer] = _text_hotline(desk, f"ACK {incident.reference}", sender=ALICE)
    assert "acknowledged" in answer.lower(), answer
    desk.at(minutes=9)
    network.phone(MARIA).expect_sms("AT RISK")
    alice.expect_sms("AT RISK")
    desk.at(minutes=14)  # nobody is paged by the levels: Alice owns it
    assert alice.unmet == []
    assert [(st.level, st.outcome) for st in _rows(desk, DueStep, incident_id=incident.id, kind="page")][1:] == [
        (1, "skipped_acknowledged"), (2, "skipped_acknowledged")]


def test_a_no_after_the_customers_own_yes_is_passed_on_but_does_not_reopen(desk, network, smtp):
    incident, customer, alice = closed_by_the_customers_yes(desk, network)
    ref = incident.reference
    desk.clock.set(desk.clock.now() + timedelta(hours=1))
    no_after_the_close(desk, alice, ref, "failing again")
    assert desk.incident(incident.id).status == "resolved" and _reopens(desk, incident.id) == []
    assert alice.unmet == [] and customer.unmet == []


def test_a_no_after_the_reopen_window_is_passed_on_but_does_not_reopen(desk, network, smtp):
    incident, customer = _closed_verbally(desk, network)
    ref = incident.reference
    window = timedelta(days=desk.hotline.settings.reopen_window_days)
    assert window == timedelta(days=7)  # the default

    desk.clock.set(desk.clock.now() + window + timedelta(minutes=1))
    alice = network.phone(ALICE).expect_sms(
        f"SEV1 {ref} Acme Mail: the customer says it is NOT resolved, after it was closed on a verbal agreement")
    [reply] = _text_hotline(desk, f"NO {ref} back again")
    desk.settle()
    assert reply.startswith(f"Incident {ref} is closed. We passed your message to the engineer")
    assert desk.incident(incident.id).status == "resolved" and _reopens(desk, incident.id) == []
    assert alice.unmet == [] and customer.unmet == []


def test_a_no_from_another_number_does_not_reopen(desk, network, smtp):
    incident, customer = _closed_verbally(desk, network)
    ref = incident.reference
    desk.clock.set(desk.clock.now() + timedelta(minutes=30))
    _text_hotline(desk, f"NO {ref} still failing", sender=STRANGER)
    desk.settle()  # nobody is texted: the network fails the test on any SMS
    assert desk.incident(incident.id).status == "resolved" and _reopens(desk, incident.id) == []
    assert [m for m in network.twilio.messages if m.to in (ALICE, STRANGER) and "REOPENED" in m.body] == []


def test_a_manager_reopens_from_the_incident_page_with_a_reason(desk, network, client, smtp):
    incident, customer = _closed_verbally(desk, network)
    ref = incident.reference
    with desk.hotline.db.session() as s:
        maria = s.scalar(select(Rep.id).where(Rep.phone == MARIA))
    login_as(client, desk.hotline, Role.MANAGER, name="Maria M.", rep_id=maria)
    shown = client.get(f"/incidents/{ref}").get_data(as_text=True)
    assert f'action="/incidents/{ref}/reopen"' in shown and 'name="reason" maxlength="500" required' in shown

    # without the CSRF token, or without a reason, nothing changes
    assert client.post(f"/incidents/{ref}/reopen", data={"reason": "x", "back": "incident"}).status_code == 400
    refused = client.post(f"/incidents/{ref}/reopen", data={"csrf_token": CSRF, "back": "incident", "reason": "  "},
                          follow_redirects=True).get_data(as_text=True)
    assert f"Write why incident {ref} is reopened. Nothing was changed." in refused
    assert desk.incident(incident.id).status == "resolved"

    desk.clock.set(desk.clock.now() + timedelta(minutes=30))
    now = desk.clock.now()
    due = now + timedelta(hours=1)
    alice = network.phone(ALICE).expect_sms(
        f"SEV1 {ref} Acme Mail: reopened by Maria Manager: Customer's ticket says EU still bounces. Updates go on: "
        f"the next is due by {hhmm(due, ALICE_CLOCK)}.")
    customer.expect_sms(f"Sev-1 hotline: incident {ref} is open again: our support team keeps working on it. Your "
                        f"next update will come by {written_time(due, customer_zone(incident), 'en-US', now)}.")
    page = client.post(f"/incidents/{ref}/reopen", data={"csrf_token": CSRF, "back": "incident",
                                                         "reason": "Customer's ticket says EU still bounces"},
                       follow_redirects=True).get_data(as_text=True).replace("&#39;", "'")
    desk.settle()

    assert f"Incident {ref} is open again and back on the board; its owner was texted." in page
    assert "Updates resume: the next is due by" in page and "The customer is told by SMS." in page
    assert "Reopened by Maria Manager: Customer's ticket says EU still bounces" in page
    assert desk.incident(incident.id).status == "open"
    [line] = _reopens(desk, incident.id)
    assert (line["by"], line["via"], line["reason"], line["close"]) == (
        "staff", "dashboard", "Customer's ticket says EU still bounces", "verbal")
    assert alice.unmet == [] and customer.unmet == []
    assert client.post(f"/incidents/{ref}/reopen", data={"csrf_token": CSRF, "back": "incident", "reason": "again"},
                       follow_redirects=True).get_data(as_text=True).count(f"Incident {ref} is open. Nothing") == 1


def _compliance(desk):
    start = date.fromisoformat(desk.t0.date().isoformat())
    with desk.hotline.db.session() as s:
        report = FactsRange(start, start + timedelta(days=30), "UTC", None).report(s)[0]
    return report


def test_the_reports_count_the_final_close_once_and_the_reopen_and_leave_the_promise_alone(desk, network, smtp):
    incident, customer = _closed_verbally(desk, network)
    ref = incident.reference
    before = _compliance(desk)

    network.phone(ALICE).expect_sms("REOPENED by the customer")
    desk.clock.set(desk.clock.now() + timedelta(hours=2))
    _text_hotline(desk, f"NO {ref} still down")
    desk.settle()
    assert _compliance(desk) == before  # the callback promise figures do not move

    customer.expect_sms("We believe your problem is resolved")
    desk.clock.set(desk.clock.now() + timedelta(minutes=20))
    _propose(desk, ref, "EU relay fixed")
    network.phone(ALICE).expect_sms("confirmed it is resolved")
    desk.clock.set(desk.clock.now() + timedelta(minutes=10))
    assert _text_hotline(desk, f"YES {ref}") == [f"Thank you. Incident {ref} is closed."]
    desk.settle()
    final = desk.clock.now()

    with desk.hotline.db.session() as s:
        figures = update_figures(s, desk.t0 - timedelta(hours=1), final + timedelta(hours=1))
    # one resolution, the customer's YES: the verbal close the reopen undid is not counted as one
    assert (figures.confirmed, figures.confirmed_by, figures.reopened_by_customer, figures.reopened_by_staff) == (
        1, {"sms": 1}, 1, 0)
    assert figures.time_to_resolution.count == 1
    assert figures.time_to_resolution.maximum == round((final - incident.captured_at).total_seconds())
    assert figures.rejected == 0 and figures.closed_by_manager == 0
    with desk.hotline.db.session() as s:
        start, end = range_bounds(desk.t0.date(), desk.t0.date() + timedelta(days=30), "UTC")
        assert update_figures(s, start, end) == figures
    assert _compliance(desk) == before


def test_a_schedule_reopened_for_a_customer_nobody_reached_waits_for_a_callback_and_then_starts_again(
        desk, network, smtp):
    """Updates follow a verified contact: a schedule the close ended is not owed on a reopen that finds no answer
    standing (``Decision.start_updates`` false), but withdrawn, so a callback met later starts it afresh."""
    from app.services.acks import lock_incident
    from app.services.updates import reopen_follow_up, restart_follow_up

    incident, _customer = _closed_verbally(desk, network)
    with desk.hotline.db.transaction() as s:
        follow_up = reopen_follow_up(s, lock_incident(s, incident.reference), desk.clock.now(), owed=False)
        assert (follow_up.state, follow_up.next_due_at, follow_up.closed_how) == ("withdrawn", None, "")
        restart_follow_up(s, lock_incident(s, incident.reference), desk.clock.now())
        assert (follow_up.state, follow_up.next_due_at) == ("updating", desk.clock.now() + timedelta(hours=1))
    [withdrawn] = _rows(desk, IncidentEvent, incident_id=incident.id, kind="updates_withdrawn")
    assert withdrawn.detail["reopened"] is True
