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

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.dashboard.display import page_status
from app.dashboard.timeline import timeline
from app.models import Channel, Incident, IncidentEvent, Page, Rep, Role
from app.oncall.contactable import Contactable
from app.services.acks import Actor, resolve
from app.services.failure_log import COVERED, LOG_EVERY, LOGGED_FIRST, attempts_written
from app.services.oncall_admin import save_policy
from app.services.pages import MAX_BACKOFF_SECONDS, RETRY_FOR, queue_page
from app.services.paging_health import WINDOW, paging_health
from tests.integration.dashboard_support import login_as
from tests.paging.conftest import ALICE, BOB, MARIA

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


def _failed_lines(desk, page_id: int) -> list[IncidentEvent]:
    return [e for e in _rows(desk, IncidentEvent, IncidentEvent.kind == "page_send_failed")
            if e.detail["page_id"] == page_id]


# ------------------------------------------------------------------ (a) the log of a long retry


OUTAGE = timedelta(minutes=20)  # four LOG_EVERY (35 minutes until session 42: 30 s of CI time per database)


def test_a_page_failing_for_20_minutes_writes_a_few_lines_whose_counts_add_up(desk, network, twilio, caplog):
    """A notice (a previous owner told of a take-over: retried for RETRY_FOR) through 20 minutes of 503s, each of
    its retries made on time: about 200 attempts, 3 + 1 + one per LOG_EVERY lines, then the last one given up."""
    _policy(desk)
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()
    with desk.hotline.db.transaction() as s:  # nothing else pages meanwhile
        maria = s.scalars(select(Rep).where(Rep.phone == MARIA)).one()
        assert resolve(s, s.get(Incident, incident.id), Actor(maria.name, "dashboard", maria, True), desk.clock.now(),
                       reason="duplicate").outcome == "resolved_by_manager"
    twilio.fail_until(desk.t0 + timedelta(hours=2), status=503)  # Bob's phone expects nothing: nothing may reach it
    bob = Contactable(rep_id=None, name="Bob", phone=BOB, channels=("sms",), role="previous_owner")
    caplog.set_level(logging.WARNING, logger="app.services.pages")
    page_id = desk.run(lambda s, now: queue_page(s, s.get(Incident, incident.id), bob, Channel.SMS, "taken_over",
                                                 now).id)
    health = []  # (attempt, /healthz's paging state) after each retry
    while desk.clock.now() < desk.t0 + OUTAGE:
        [page] = _rows(desk, Page, Page.id == page_id)
        assert page.status == "queued" and page.next_attempt_at - desk.clock.now() <= timedelta(
            seconds=MAX_BACKOFF_SECONDS)
        desk.clock.set(page.next_attempt_at)  # each retry at its time: no attempt is lost to a coarse clock
        desk.settle()
        with desk.hotline.db.session() as s:
            health.append((page.attempts + 1, paging_health(s, desk.clock.now()).state))
    [page] = _rows(desk, Page, Page.id == page_id)
    # every attempt made is on the page: one per MAX_BACKOFF_SECONDS once the back-off is at its longest
    assert page.status == "queued" and page.attempts > OUTAGE.total_seconds() / MAX_BACKOFF_SECONDS - 10
    assert page.last_error.startswith("OutcomeUnknown") and "503" in page.last_error

    lines = _failed_lines(desk, page_id)
    attempts = [e.detail["attempt"] for e in lines]
    assert attempts[:LOGGED_FIRST + 1] == [1, 2, 3, 15]  # the first tries, then the one that would call a rep's page
    assert 3 + 1 + OUTAGE // LOG_EVERY - 1 <= len(lines) <= 3 + 1 + OUTAGE // LOG_EVERY + 1  # not ~200
    for before, line in zip(lines, lines[1:], strict=False):
        assert line.detail.get(COVERED, 1) == line.detail["attempt"] - before.detail["attempt"]  # the count adds up
        if COVERED in line.detail:
            assert line.detail["last_logged_at"] == before.at.isoformat()
        if line.detail["attempt"] > 15:
            assert LOG_EVERY <= line.at - before.at <= LOG_EVERY + timedelta(seconds=MAX_BACKOFF_SECONDS)
    assert sum(attempts_written(e.detail) for e in lines) == attempts[-1]
    assert page.attempts - attempts[-1] < LOG_EVERY.total_seconds() / MAX_BACKOFF_SECONDS  # since the last line
    warnings = [r.getMessage() for r in caplog.records if r.name == "app.services.pages"
                and f"page {page_id} of incident" in r.getMessage()]
    assert len(warnings) == len(lines)  # one warning per line written, the same ones
    assert f"attempt {attempts[-1]} ({lines[-1].detail[COVERED]} failed since the last line of it" in warnings[-1]
    # /healthz counts the attempts a line stands for: failing throughout, though most 10-minute windows hold a line
    # or two (its first three failures came at T0, with Alice's accepted page, which it counts from)
    assert {state for attempt, state in health if attempt >= 15} == {"failing"}
    assert 2 * LOG_EVERY <= WINDOW  # what keeps a line in every window /healthz reads

    # the last attempt is always written, with what it stands for
    with desk.hotline.db.transaction() as s:
        s.get(Page, page_id).created_at = desk.clock.now() - RETRY_FOR
    desk.clock.set(page.next_attempt_at)
    desk.settle()
    [page] = _rows(desk, Page, Page.id == page_id)
    final = _failed_lines(desk, page_id)[-1]
    assert (page.status, final.detail["final"], final.detail["attempt"]) == ("failed", True, page.attempts)
    assert sum(attempts_written(e.detail) for e in _failed_lines(desk, page_id)) == page.attempts
    words = [entry.text for entry in timeline(_rows(desk, IncidentEvent, IncidentEvent.incident_id == incident.id),
                                              [page])]
    assert [w for w in words if f"failed {final.detail[COVERED]} more times since " in w][-1].endswith("; gave up")


# ------------------------------------------------------------------ (b) rounds queued through an outage


def _outage_through_three_rounds(desk, network, twilio, status: int) -> Incident:
    """Twilio fails from before the call until T+21, past the first page (T+0), the at-risk alert (T+10), the
    breach (T+15: Maria) and the first repage (T+20: Alice and Maria); every retry comes on time (30 s apart at
    most). At T+21 Twilio answers: each of Alice and Maria gets the latest round's SMS and call, and Alice her first
    page too (its SMS has the callback number and the ACK link, which no alert carries; its call a minute after her
    breach call); nothing else."""
    _policy(desk)
    twilio.fail_until(desk.t0 + timedelta(minutes=21), status=status)
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()
    for second in range(30, 21 * 60, 30):
        desk.at(seconds=second)
    for number in (ALICE, MARIA):
        network.phone(number).expect_sms("BREACHED").expect_call(answer=False)
    network.phone(ALICE).expect_sms("Call back").expect_call(answer=False)
    desk.at(minutes=21, seconds=6)  # every page in retry came due once more
    # Alice's first page's call waits for her breach call to end (``busy_lines``), then a minute after it left (the
    # core's spacing of a rep's calls): never two calls to her phone back to back
    desk.at(minutes=22, seconds=6)
    return incident


@pytest.mark.parametrize("status", [429, 503])
def test_after_an_outage_each_rep_gets_only_the_latest_rounds_sms_and_call(desk, network, twilio, client, status):
    incident = _outage_through_three_rounds(desk, network, twilio, status)
    pages = _rows(desk, Page, Page.incident_id == incident.id)
    sent = sorted((p.to_number, p.channel, p.purpose) for p in pages if p.sent_at is not None)
    assert sent == [(ALICE, "sms", "breach"), (ALICE, "sms", "page"), (ALICE, "voice", "breach"),
                    (ALICE, "voice", "page"), (MARIA, "sms", "breach"), (MARIA, "voice", "breach")]
    latest = {(p.to_number, p.channel): p for p in pages if p.sent_at is not None and p.purpose == "breach"}
    assert all(p.created_at == desk.t0 + timedelta(minutes=20) for p in latest.values())  # the repage's round
    unsent = [p for p in pages if p.sent_at is None]
    assert sorted((p.to_number, p.channel, p.purpose) for p in unsent) == [
        (ALICE, "sms", "at_risk"), (MARIA, "sms", "at_risk"), (MARIA, "sms", "breach"), (MARIA, "voice", "breach")]
    # the at-risk alerts, with no later page to their reps yet, went no more once the deadline passed
    alerts = [p for p in unsent if p.purpose == "at_risk"]
    canceled = {e.detail["page_id"]: e.detail["reason"] for e in _rows(desk, IncidentEvent,
                                                                       IncidentEvent.kind == "page_canceled")}
    assert {p.status for p in alerts} == {"canceled"} and {canceled[p.id] for p in alerts} == {"deadline_passed"}
    earlier = [p for p in unsent if p.purpose != "at_risk"]  # Maria's breach alerts: the repage's go instead
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
    breach = next(p for p in earlier if p.channel == "sms")
    assert (f"{later}: the later breach alert to the same rep (page {lines[breach.id]['superseded_by']}) goes "
            "instead") in html
    assert "SMS: " + ("canceled" if uncertain else "not sent") + " (superseded by a later round)" in html
    board = client.get("/board").get_data(as_text=True)
    [alices_line] = [line for line in board.splitlines() if "Alice Primary" in line and "breach alert" in line]
    assert "(breach alert, 4 pages)" in alices_line  # her first page's SMS and call and the repage's, not 5


def test_a_page_is_superseded_only_by_a_later_one_that_will_go_and_carries_all_it_told(desk, network, twilio):
    """Twilio failing through the at-risk alert: Alice's first page SMS waits, and her at-risk SMS is written.
    (1) The alert does not supersede the page: it has neither her callback number nor the ACK link. (2) A later page
    that will not go supersedes nothing: here one to a rep deactivated since, on the phone Alice's page goes to (a
    shared on-call phone). (3) A later page that will go, and says all the first did, supersedes it."""
    from app.services.page_verdicts import newer_round_page

    _policy(desk)
    twilio.fail_until(desk.t0 + timedelta(minutes=30), status=429)
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()
    for second in range(30, 10 * 60 + 31, 30):
        desk.at(seconds=second)
    alices = {(p.channel, p.purpose): p.id for p in _rows(desk, Page, Page.incident_id == incident.id,
                                                           Page.to_number == ALICE)}
    first, at_risk = alices[("sms", "page")], alices[("sms", "at_risk")]

    def newer(page_id: int) -> int | None:
        def read(s, now):
            found = newer_round_page(s, s.get(Page, page_id), s.get(Incident, incident.id))
            return found.id if found is not None else None
        return desk.run(read)

    assert [p.status for p in _rows(desk, Page, Page.id.in_([first, at_risk]))] == ["queued", "queued"]
    assert newer(first) is None  # (1) the at-risk alert is later, to her, on SMS, and will go: still not her page

    def page_alices_phone(s, now, active: bool) -> int:
        shared = Rep(name=f"Shared phone {active}", phone=ALICE, active=active)
        s.add(shared)
        s.flush()
        who = Contactable(rep_id=shared.id, name=shared.name, phone=ALICE, channels=("sms",), role="primary")
        return queue_page(s, s.get(Incident, incident.id), who, Channel.SMS, "page", now).id

    desk.run(lambda s, now: page_alices_phone(s, now, active=False))
    assert newer(first) is None  # (2) to a rep deactivated since: it will not go
    later = desk.run(lambda s, now: page_alices_phone(s, now, active=True))
    assert newer(first) == later  # (3) the same page text to the same phone, and it will go
    assert newer(at_risk) is None  # a page says nothing of the alert: only a later alert (or breach) supersedes it


def test_an_at_risk_alert_twilio_failed_until_the_deadline_passed_is_never_sent(desk, network, twilio, client):
    """An outside probe's Twilio failed from before the at-risk alert until 20 s after the deadline: its reps, who
    get no breach alert, were then texted "AT RISK, 5 min left" after the deadline. An at-risk alert still unsent
    when the deadline passed goes no more (Maria's is superseded by her breach alert, as before)."""
    _policy(desk)
    twilio.fail_until(desk.t0 + timedelta(minutes=15, seconds=20), status=503)
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()
    for second in range(30, 15 * 60 + 1, 30):
        desk.at(seconds=second)
    network.phone(MARIA).expect_sms("BREACHED").expect_call(answer=False)
    network.phone(ALICE).expect_sms("Call back").expect_call(answer=False)  # her first page: still wanted
    desk.at(minutes=15, seconds=30)
    desk.at(minutes=16)
    assert not [m for m in twilio.messages if m.to == ALICE and "AT RISK" in m.body]
    [at_risk] = _rows(desk, Page, Page.incident_id == incident.id, Page.to_number == ALICE, Page.purpose == "at_risk")
    assert at_risk.status == "canceled" and at_risk.sent_at is None
    assert page_status(at_risk) == "canceled (the deadline passed first)"  # a 503: an earlier try may have gone
    [line] = [e for e in _rows(desk, IncidentEvent, IncidentEvent.kind == "page_canceled")
              if e.detail["page_id"] == at_risk.id]
    assert line.detail["reason"] == "deadline_passed"
    login_as(client, desk.hotline, Role.MANAGER)
    assert "the deadline passed before Twilio took it" in client.get(f"/incidents/{incident.reference}").get_data(
        as_text=True)
