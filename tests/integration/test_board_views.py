"""The live board: open incidents by urgency, countdowns, pages, and the acknowledge / call / note actions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.models import (
    Callback,
    CallbackOutcome,
    Channel,
    Incident,
    IncidentEvent,
    IncidentStatus,
    Page,
    PageStatus,
    Rep,
    Role,
)
from app.services import leases
from tests.integration.board_support import CSRF, login_as, make_incident, make_rep, page, paged, parse


def _incident(hotline, reference: str) -> Incident:
    with hotline.db.session() as session:
        return session.scalar(select(Incident).where(Incident.reference == reference))


def _posting_to(node, path: str) -> list:
    """The buttons and forms in ``node`` that post to an URL ending in ``path``."""
    return [b for b in node.find_all("button") if b.attrs.get("formaction", "").endswith(path)] + \
        [f for f in node.find_all("form") if f.attrs.get("action", "").endswith(path)]


def _events(hotline, kind: str) -> list[IncidentEvent]:
    with hotline.db.session() as session:
        return list(session.scalars(select(IncidentEvent).where(IncidentEvent.kind == kind).order_by(IncidentEvent.id)))


def test_open_incidents_most_urgent_first_with_live_countdowns(client, hotline, clock):
    login_as(client, hotline)
    now = clock.now()
    make_incident(hotline, "222222", captured_at=now - timedelta(minutes=1))
    make_incident(hotline, "111111", captured_at=now - timedelta(minutes=10), company="Globex")
    make_incident(hotline, "333333", captured_at=now - timedelta(minutes=14), status=IncidentStatus.RESOLVED)

    doc = parse(client.get("/board"))

    rows = doc.find_all("tr", cls="incident")
    assert [r.attrs["id"] for r in rows] == ["inc-111111", "inc-222222"]
    first = rows[0].find(cls="countdown")
    assert first.text() == "5:00 left"
    assert first.attrs["data-remaining"] == "300"
    assert first.attrs["data-due"] == "2026-11-26T03:05:00Z"
    assert "warn" in first.attrs["class"].split()
    assert rows[1].find(cls="countdown").text() == "14:00 left"
    assert rows[0].find(cls="company").text() == "Globex"
    assert rows[0].find(cls="service").text() == "SMTP injection failing"

    clock.advance(minutes=6, seconds=30)
    later = parse(client.get("/board")).find("tr", id="inc-111111").find(cls="countdown")
    assert later.text() == "1:30 overdue"
    assert "bad" in later.attrs["class"].split()


def test_board_works_without_javascript_and_says_when_empty(client, hotline):
    login_as(client, hotline)
    doc = parse(client.get("/board"))
    meta = doc.find("noscript").find("meta")
    assert meta.attrs == {"http-equiv": "refresh", "content": "30"}
    assert doc.find(id="no-incidents").text() == "No open Sev-1 incidents."


def test_without_javascript_a_rows_button_posts_the_pages_one_form_and_its_links_lead_to_the_forms(client, hotline):
    alice = make_rep(hotline, "Alice")
    login_as(client, hotline, rep_id=alice)
    paged(hotline, make_incident(hotline), alice)
    board = parse(client.get("/board"))
    button = board.find("button", id="ack-123456")
    shared = board.find("form", id=button.attrs["form"])  # outside the rows: a live update never replaces it
    fields = {i.attrs["name"]: i.attrs["value"] for i in shared.find_all("input")}
    assert (shared.attrs["method"], fields) == ("post", {"csrf_token": CSRF})
    assert not board.find(id="board-rows").find_all("form", id="act")

    response = client.post(button.attrs["formaction"], data=fields)  # what a browser without JavaScript sends

    assert response.status_code == 302 and response.headers["Location"].endswith("/board#inc-123456")
    assert _incident(hotline, "123456").acknowledged_by == alice
    row = parse(client.get("/board")).find("tr", id="inc-123456")
    incident_page = parse(client.get("/incidents/123456"))
    for link in (row.find("a", id="note-123456"), row.find("a", id="resolve-reason-123456")):
        path, anchor = link.attrs["href"].split("#")
        assert path == "/incidents/123456" and incident_page.find(id=anchor).tag == "summary"  # the form's own place
    assert client.post("/incidents/123456/notes", data={"text": "no token"}).status_code == 400


def test_board_shows_one_line_per_person_paged_with_their_latest_status_and_purpose(client, hotline, clock):
    login_as(client, hotline)
    alice = make_rep(hotline, "Alice")
    incident_id = make_incident(hotline)
    page(hotline, incident_id, "Alice", alice, Channel.SMS, PageStatus.DELIVERED)
    page(hotline, incident_id, "Alice", alice, Channel.VOICE, PageStatus.NO_ANSWER)  # same round, second channel
    clock.advance(minutes=3)
    page(hotline, incident_id, "Bob", None, Channel.VOICE, PageStatus.NO_ANSWER, phone="+4930901821")

    row = parse(client.get("/board")).find("tr", id="inc-123456")

    assert [li.text() for li in row.find(cls="pages").find_all("li")] == [
        "Alice, voice call: no-answer (first page, 2 pages)", "Bob, voice call: no-answer (escalation)"]
    assert row.find(cls="state").text() == "Paged, not acknowledged"


def test_acknowledge_records_the_users_rep_and_cancels_queued_pages(client, hotline, clock):
    alice = make_rep(hotline, "Alice")
    login_as(client, hotline, name="Alice A.", rep_id=alice)
    incident_id = make_incident(hotline)
    paged(hotline, incident_id, alice)
    page(hotline, incident_id, "Bob", None, Channel.VOICE, PageStatus.QUEUED, phone="+4930901821")

    response = client.post("/incidents/123456/acknowledge", data={"csrf_token": CSRF, "back": "board"})

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/board#inc-123456")
    incident = _incident(hotline, "123456")
    assert incident.acknowledged_by == alice
    assert incident.acknowledged_at == clock.now()
    [ack] = _events(hotline, "acknowledged")
    assert (ack.actor, ack.detail["via"], ack.detail["pages_canceled"]) == ("Alice", "dashboard", 1)
    with hotline.db.session() as session:
        notice = session.scalar(select(Page).where(Page.purpose == "ack_notice"))
    assert notice is not None and notice.to_number == "+14155552671"
    assert f"page-{notice.id}" in hotline.jobs.job_ids()
    doc = parse(client.get("/board"))
    assert "Acknowledged 123456." in doc.find("p", cls="flash").text()
    assert doc.find("tr", id="inc-123456").find(cls="state").text() == "Acknowledged by Alice at 03:00 UTC"
    assert not _posting_to(doc, "/acknowledge")


@pytest.mark.parametrize("role", [Role.REP, Role.MANAGER])
def test_a_login_linked_to_no_rep_cannot_acknowledge_or_take_over_and_nothing_changes(client, hotline, role):
    # an outside probe's login without a rep acknowledged: the escalation stopped, the customer was told an engineer
    # would call back, and nobody could (the board said "Acknowledged by Nolink", the API's owner was null)
    login_as(client, hotline, role=role, name="Nolink")
    incident_id = make_incident(hotline)
    page(hotline, incident_id, "Bob", None, Channel.VOICE, PageStatus.QUEUED, phone="+4930901821")

    response = client.post("/incidents/123456/acknowledge", data={"csrf_token": CSRF, "back": "board"})
    taking = client.post("/incidents/123456/take-over", data={"csrf_token": CSRF, "back": "board"})

    assert response.status_code == taking.status_code == 302
    incident = _incident(hotline, "123456")
    assert incident.acknowledged_at is None and incident.acknowledged_by is None
    assert _events(hotline, "acknowledged") == [] and _events(hotline, "taken_over") == []
    refused = _events(hotline, "acknowledgement_refused")
    assert [(e.detail["outcome"], e.detail["rep_id"]) for e in refused] == [("refused_not_a_rep", None)] * 2
    with hotline.db.session() as session:
        assert session.scalar(select(Page).where(Page.purpose == "ack_notice")) is None  # the customer is told nothing
        assert session.scalar(select(Page.status).where(Page.purpose != "ack_notice")) == PageStatus.QUEUED
    doc = parse(client.get("/board"))
    flashes = doc.find_all("p", cls="flash")
    assert flashes and all("error" in f.attrs["class"].split() for f in flashes)
    assert "not linked to an active on-call rep" in flashes[0].text() and "--rep" in flashes[0].text()
    assert "Acknowledged" not in doc.find("tr", id="inc-123456").find(cls="state").text()


def test_a_login_linked_to_no_rep_is_offered_no_acknowledge_or_take_over_and_told_why(client, hotline):
    alice = make_rep(hotline, "Alice")
    make_incident(hotline, "111111")
    paged(hotline, make_incident(hotline, "222222"), alice)
    login_as(client, hotline, rep_id=alice)
    client.post("/incidents/222222/acknowledge", data={"csrf_token": CSRF})
    assert _posting_to(parse(client.get("/board")), "/acknowledge")  # the rows built for a rep's login ...
    login_as(client, hotline, role=Role.MANAGER, name="Nolink")

    for doc in (parse(client.get("/board")), parse(client.get("/board/rows")), parse(client.get("/incidents/111111")),
                parse(client.get("/incidents/222222"))):
        assert not _posting_to(doc, "/acknowledge") and not _posting_to(doc, "/take-over")  # ... are not reused
        assert _posting_to(doc, "/notes") or doc.find("a", id="note-111111")  # the rest of the actions stay
    for path in ("/board", "/incidents/111111"):
        assert "linked to no active on-call rep" in parse(client.get(path)).find(id="not-a-rep").text()
    login_as(client, hotline, rep_id=alice)
    doc = parse(client.get("/board"))
    assert _posting_to(doc, "/acknowledge") and _posting_to(doc, "/take-over") and doc.find_all(id="not-a-rep") == []


def test_a_login_linked_to_a_deactivated_rep_cannot_acknowledge(client, hotline):
    alice = make_rep(hotline, "Alice")
    login_as(client, hotline, rep_id=alice)
    with hotline.db.transaction() as session:
        session.get(Rep, alice).active = False
    make_incident(hotline)

    client.post("/incidents/123456/acknowledge", data={"csrf_token": CSRF})

    assert _incident(hotline, "123456").acknowledged_at is None
    assert [e.detail["outcome"] for e in _events(hotline, "acknowledgement_refused")] == ["refused_not_a_rep"]


def test_call_the_customer_by_a_second_rep_takes_the_incident_over_and_places_the_call(client, hotline):
    # issue 7: Bob's "Call the customer now" answered "already acknowledged, nothing was changed" and placed no call
    alice, bob = make_rep(hotline, "Alice"), make_rep(hotline, "Bob", "+4930901821")
    login_as(client, hotline, rep_id=alice)
    paged(hotline, make_incident(hotline), alice, bob)
    client.post("/incidents/123456/acknowledge", data={"csrf_token": CSRF})
    login_as(client, hotline, name="Bob B.", rep_id=bob)

    client.post("/incidents/123456/call", data={"csrf_token": CSRF})

    assert _incident(hotline, "123456").acknowledged_by == bob
    with hotline.db.session() as session:
        [callback] = session.scalars(select(Callback)).all()
        told = session.scalars(select(Page).where(Page.purpose == "taken_over")).one()
    assert callback.rep_id == bob and f"callback-{callback.id}" in hotline.jobs.job_ids()
    assert told.rep_id == alice and told.channel == "sms"  # the previous owner is told by SMS
    [taken] = _events(hotline, "taken_over")
    assert taken.detail["rep_id"] == bob and taken.actor == "Bob"
    flash = parse(client.get("/board")).find_all("p", cls="flash")[-1]
    assert "error" not in flash.attrs["class"].split() and flash.text().startswith(
        "You took incident 123456 over from Alice, who is told. Calling you now on +4930901821")
    row = parse(client.get("/board")).find("tr", id="inc-123456")
    assert "Bob" in row.find(cls="state").text()  # the board shows the owner


def test_call_the_customer_acknowledges_then_queues_the_bridged_call_after_commit(client, hotline, clock):
    alice = make_rep(hotline, "Alice")
    login_as(client, hotline, rep_id=alice)
    paged(hotline, make_incident(hotline), alice)

    response = client.post("/incidents/123456/call", data={"csrf_token": CSRF})
    client.post("/incidents/123456/call", data={"csrf_token": CSRF})  # a second tap is the same request

    assert response.status_code == 302
    incident = _incident(hotline, "123456")
    # the rep's phone is rung first: the callback starts only once Twilio shows the customer's leg dialled
    assert incident.acknowledged_by == alice and incident.callback_started_at is None
    with hotline.db.session() as session:
        [callback] = session.scalars(select(Callback))
    assert (callback.rep_id, callback.outcome, callback.customer_number) == (
        alice, CallbackOutcome.PENDING, "+14155552671")
    assert f"callback-{callback.id}" in hotline.jobs.job_ids()
    assert [e.detail["callback_id"] for e in _events(hotline, "callback_requested")] == [callback.id]
    flashes = [p.text() for p in parse(client.get("/board")).find_all("p", cls="flash")]
    assert flashes[0].startswith("Calling you on +4930901820 now")
    assert flashes[1].startswith("The hotline is already calling you")


def test_call_needs_a_login_linked_to_a_rep(client, hotline):
    login_as(client, hotline, role=Role.ADMIN, name="Ada Admin")
    make_incident(hotline)

    client.post("/incidents/123456/call", data={"csrf_token": CSRF})

    incident = _incident(hotline, "123456")
    assert incident.acknowledged_at is None and incident.callback_started_at is None
    with hotline.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Callback)) == 0
    assert hotline.jobs.job_ids() == []
    flash = parse(client.get("/board")).find("p", cls="flash")
    assert "error" in flash.attrs["class"].split()
    assert "not linked to a rep with a phone number" in flash.text()


def test_a_note_is_logged_cleaned(client, hotline, clock):
    user = login_as(client, hotline, name="Rita Rep")
    make_incident(hotline)

    client.post("/incidents/123456/notes", data={"csrf_token": CSRF, "text": "  Called twice,\r\nno answer\x07 \n\n\n\nretrying "})

    [note] = _events(hotline, "note")
    assert (note.actor, note.at, note.detail) == (user.name, clock.now(), {"text": "Called twice,\nno answer \n\nretrying"})
    assert note.incident_id == _incident(hotline, "123456").id


def test_an_empty_or_too_long_note_is_refused(client, hotline):
    login_as(client, hotline)
    make_incident(hotline)

    client.post("/incidents/123456/notes", data={"csrf_token": CSRF, "text": " \n "})
    client.post("/incidents/123456/notes", data={"csrf_token": CSRF, "text": "x" * 2001})

    assert _events(hotline, "note") == []
    flashes = [p.text() for p in parse(client.get("/board")).find_all("p", cls="error")]
    assert flashes == ["The note is empty. Nothing was saved.",
                       "The note has 2001 characters; at most 2000 fit. Nothing was saved."]


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(client, hotline):
    alice = make_rep(hotline, "Alice")
    login_as(client, hotline, rep_id=alice)
    make_incident(hotline)

    responses = [client.post("/incidents/123456/acknowledge", data={"csrf_token": "forged"}),
                 client.post("/incidents/123456/call"),
                 client.post("/incidents/123456/notes", data={"text": "hi"})]

    assert [r.status_code for r in responses] == [400, 400, 400]
    assert _incident(hotline, "123456").acknowledged_at is None
    assert _events(hotline, "note") == [] and _events(hotline, "callback_requested") == []
    assert hotline.jobs.job_ids() == []


def test_actions_on_an_unknown_incident_are_404(client, hotline):
    login_as(client, hotline)
    assert client.post("/incidents/999999/acknowledge", data={"csrf_token": CSRF}).status_code == 404
    assert client.post("/incidents/999999/notes", data={"csrf_token": CSRF, "text": "x"}).status_code == 404


def test_caller_text_is_escaped(client, hotline):
    login_as(client, hotline)
    make_incident(hotline, company="<script>alert(1)</script>", contact_name="Robert'); DROP TABLE incidents;--")

    response = client.get("/board")

    body = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body
    row = parse(response).find("tr", id="inc-123456")
    # as text (its brackets the label's: a company the caller said never shows the hotline's markers' parentheses)
    assert row.find(cls="company").text() == "<script>alert[1]</script>"
    assert "Robert'); DROP TABLE incidents;--" in row.text()
    assert _incident(hotline, "123456") is not None


def test_breached_and_connected_states(client, hotline, clock):
    login_as(client, hotline)
    now = clock.now()
    make_incident(hotline, "111111", captured_at=now - timedelta(minutes=20), breached_at=now - timedelta(minutes=5))
    make_incident(hotline, "222222", captured_at=now - timedelta(minutes=25),
                  acknowledged_at=now - timedelta(minutes=20), callback_started_at=now - timedelta(minutes=19),
                  callback_answered_at=now - timedelta(minutes=18))

    rows = parse(client.get("/board")).find_all("tr", cls="incident")

    assert [r.attrs["id"] for r in rows] == ["inc-111111", "inc-222222"]  # a connected callback sinks
    assert rows[0].find(cls="state").text() == "Breached at 02:55 UTC"
    assert rows[0].find(cls="countdown").text() == "5:00 overdue"
    assert rows[1].find(cls="state").text() == "Callback connected at 02:42 UTC"
    assert "ok" in rows[1].find(cls="countdown").attrs["class"].split()
    assert not _posting_to(rows[1], "/call")


def test_pages_need_a_login(client, hotline):
    make_incident(hotline)
    for path in ("/board", "/incidents/123456", "/oncall"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_take_over_moves_the_incident_to_the_second_rep_and_tells_the_first(client, hotline):
    alice, bob = make_rep(hotline, "Alice"), make_rep(hotline, "Bob", "+4930901821")
    login_as(client, hotline, rep_id=alice)
    paged(hotline, make_incident(hotline), alice, bob)
    client.post("/incidents/123456/acknowledge", data={"csrf_token": CSRF})
    login_as(client, hotline, name="Bob B.", rep_id=bob)
    assert "Take over" in client.get("/board").get_data(as_text=True)

    client.post("/incidents/123456/take-over", data={"csrf_token": CSRF})

    assert _incident(hotline, "123456").acknowledged_by == bob
    with hotline.db.session() as session:
        told = session.scalars(select(Page).where(Page.purpose == "taken_over")).one()
        assert session.scalar(select(func.count()).select_from(Callback)) == 0  # taking over places no call
    assert told.rep_id == alice and f"page-{told.id}" in hotline.jobs.job_ids()
    assert [e.actor for e in _events(hotline, "taken_over")] == ["Bob"]


def test_a_row_built_once_still_shows_each_change_and_each_viewers_own_csrf_token(client, hotline, clock):
    """The board keeps each row's HTML between requests (board_html._ROWS): a change to the incident, its pages
    or its owner builds the row anew, the countdown moves with the clock, and the forms carry the token of the
    session asking, not of the one the row was first built for."""
    login_as(client, hotline)
    alice = make_rep(hotline, "Alice")
    incident_id = make_incident(hotline, callback_phone="")  # no number: the row carries a form with a token
    before = parse(client.get("/board")).find("tr", id="inc-123456")
    assert before.find(cls="countdown").text() == "12:00 left"
    assert before.find(cls="state").text() == "Not paged yet"
    assert {i.attrs["value"] for i in before.find_all("input") if i.attrs.get("name") == "csrf_token"} == {CSRF}

    with client.session_transaction() as s:
        s["csrf_token"] = "another-viewers-token"
    clock.advance(minutes=1)
    page(hotline, incident_id, "Alice", alice, Channel.SMS, PageStatus.DELIVERED)
    after = parse(client.get("/board")).find("tr", id="inc-123456")

    assert after.find(cls="countdown").text() == "11:00 left"
    assert [li.text() for li in after.find(cls="pages").find_all("li")] == ["Alice, SMS: delivered (first page)"]
    assert {i.attrs["value"] for i in after.find_all("input") if i.attrs.get("name") == "csrf_token"} == {
        "another-viewers-token"}


def test_a_page_not_sent_yet_is_not_paged_and_the_board_says_when_no_worker_runs(client, hotline, clock):
    # a probe stopped every worker: the board said "Paged, not acknowledged" while both pages sat queued, and
    # nothing on it said that nothing would leave (only /healthz did)
    login_as(client, hotline)
    alice = make_rep(hotline, "Alice")
    incident_id = make_incident(hotline)
    page(hotline, incident_id, "Alice", alice, Channel.SMS, PageStatus.QUEUED)
    board = parse(client.get("/board"))
    assert board.find("tr", id="inc-123456").find(cls="state").text() == "Page not sent yet"
    assert board.find(id="no-worker").text().startswith("No hotline worker runs")
    assert board.find_all(id="no-worker")[0].attrs["role"] == "alert"

    with hotline.db.transaction() as s:  # a worker's watchdog passes
        assert leases.hold(s, leases.WATCHDOG, "worker-1", clock.now(), timedelta(seconds=30))
    page(hotline, incident_id, "Alice", alice, Channel.VOICE, PageStatus.RINGING)
    board = parse(client.get("/board"))
    assert board.find_all(id="no-worker") == []
    assert board.find("tr", id="inc-123456").find(cls="state").text() == "Paged, not acknowledged"
