"""The incident page: every captured field, the recording, the deadline and the timeline in words."""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime

from sqlalchemy import select

from app.models import Callback, CallSession, Channel, IncidentEvent, PageStatus
from app.services.callbacks import confirm_person, customer_leg_status
from app.services.events import log_event
from app.services.incidents import rescue_call
from ivr_flows.model import FlowPolicy
from tests.integration.board_support import CSRF, login_as, make_incident, make_rep, page, parse

TWILIO_RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC00/Recordings/RE1234"


def test_every_captured_field_and_the_recording(client, hotline, clock):
    login_as(client, hotline)
    make_incident(hotline, ticket_number="40211", ticket_match="number", language="de-DE", caller_id="+4930123456",
                  missing_fields=["email", "company"], problem_text="Line one\nLine <two>",
                  recording_url=TWILIO_RECORDING, recording_seconds=42)

    doc = parse(client.get("/incidents/123456"))

    fields = {dd.attrs["id"]: dd.text() for dd in doc.find("dl", cls="fields").find_all("dd") if "id" in dd.attrs}
    assert fields == {"f-company": "Acme Mail GmbH", "f-contact": "Dana Smith", "f-phone": "+14155552671",
                      "f-email": "dana@acme.example", "f-service": "SMTP injection failing",
                      "f-ticket": "40211 (number)", "f-language": "de-DE", "f-caller-id": "+4930123456",
                      "f-missing": "email, company", "f-source": "ivr"}
    assert doc.find(id="f-problem").children == ["Line one\nLine <two>"]
    assert doc.find("audio").attrs["src"] == TWILIO_RECORDING + ".mp3"
    assert "controls" in doc.find("audio").attrs
    link = doc.find(id="fields").find_all("a")[-1]
    assert (link.attrs["href"], link.text()) == (TWILIO_RECORDING, "Open the recording")
    countdown = doc.find(cls="countdown")
    assert (countdown.text(), countdown.attrs["data-remaining"]) == ("12:00 left", "720")


def test_a_recording_elsewhere_plays_as_given_and_unsafe_links_are_dropped(client, hotline):
    login_as(client, hotline)
    make_incident(hotline, "111111", recording_url="https://files.example.com/vm/1.wav")
    make_incident(hotline, "222222", recording_url="javascript:alert(1)")

    assert parse(client.get("/incidents/111111")).find("audio").attrs["src"] == "https://files.example.com/vm/1.wav"
    doc = parse(client.get("/incidents/222222"))
    assert doc.find_all("audio") == []
    assert not [a for a in doc.find_all("a") if a.attrs.get("href", "").startswith("javascript")]


def test_the_timeline_tells_the_story_in_order(client, hotline, clock):
    alice = make_rep(hotline, "Alice")
    login_as(client, hotline, rep_id=alice)
    with hotline.db.transaction() as session:
        log_event(session, at=clock.now(), actor="caller", kind="call_received", call_sid="CA1",
                  detail={"from": "+14155552671", "to": "+15005550006"})
        incident = rescue_call(session, call_sid="CA1", from_number="+14155552671", now=clock.now(),
                                     reason="caller hung up", policy=FlowPolicy())
        session.get(CallSession, "CA1").status = "completed"  # the caller hung up (end_call records it first)
        incident_id, reference = incident.id, incident.reference
    clock.advance(minutes=1)
    page(hotline, incident_id, "Alice", alice, Channel.SMS, PageStatus.DELIVERED)
    clock.advance(minutes=1)
    client.post(f"/incidents/{reference}/call", data={"csrf_token": CSRF, "back": "incident"})
    clock.advance(minutes=1)
    with hotline.db.transaction() as session:
        callback = session.scalars(select(Callback)).one()
        customer_leg_status(session, callback.id, "answered", format_datetime(clock.now()), "CA2", clock.now())
        confirm_person(session, callback.id, clock.now())  # the customer pressed a key
    clock.advance(minutes=1)
    response = client.post(f"/incidents/{reference}/notes",
                           data={"csrf_token": CSRF, "back": "incident", "text": "Customer <b>happy</b>"})
    assert response.headers["Location"].endswith(f"/incidents/{reference}")

    doc = parse(client.get(f"/incidents/{reference}"))

    lines = [li.find(cls="what").text() for li in doc.find("ol", cls="timeline").find_all("li")]
    assert lines == [
        "Call received from +14155552671",
        # a rescued incident lists what its caller never gave (it listed nothing until session 30)
        f"Incident {reference} opened (rescued); callback due by 03:15 UTC; missing: company, contact_name, email, "
        "problem",
        "Saved from an unfinished call (caller hung up)",
        # the first page step ran with the opening; no on-call is configured here
        "An escalation target could not be resolved: no schedule 'primary'",
        "Nobody to page at escalation level 0",
        "Escalation level 0: nobody to page",
        "SMS page to Alice (oncall:primary) queued",
        "SMS page to Alice: delivered",
        "Acknowledged via dashboard",
        "Acknowledgement SMS to the customer queued",
        "Callback requested: the hotline calls the rep, then +14155552671",
        "Customer's phone: answered",
        "Customer connected at 03:03 UTC, 3.0 min after capture (within the deadline)",
        # the answer starts the customer's updates (policy step 5), not the end of the call that may never come
        "Customer updates owed every 60 minutes; the first by Thu 26 Nov 04:03:00 UTC",
        "Note by Rita Rep",
    ]
    assert doc.find("ol", cls="timeline").find_all("li")[-1].find(cls="note-text").text() == "Customer <b>happy</b>"
    assert doc.find(cls="acked-by").text() == "Acknowledged by Alice at 03:02 UTC"
    assert doc.find(id="callbacks").find(cls="outcome").text() == "met"
    assert doc.find(cls="state").text() == "Callback connected at 03:03 UTC"


def test_a_breach_is_on_the_timeline(client, hotline, clock):
    login_as(client, hotline)
    incident_id = make_incident(hotline, captured_at=clock.now() - timedelta(minutes=16))
    with hotline.db.transaction() as session:
        log_event(session, at=clock.now(), actor="system", kind="callback_breached", incident_id=incident_id,
                  detail={"due_at": (clock.now() - timedelta(minutes=1)).isoformat()})

    doc = parse(client.get("/incidents/123456"))

    last = doc.find("ol", cls="timeline").find_all("li")[-1]
    assert last.find(cls="what").text() == "Deadline of 02:59 UTC breached"
    assert "bad" in last.attrs["class"].split()
    assert doc.find(cls="countdown").text() == "1:00 overdue"


def test_unknown_reference_is_a_404_page(client, hotline):
    login_as(client, hotline)
    response = client.get("/incidents/%3Cb%3Enope")
    assert response.status_code == 404
    assert parse(response).find("h1").text() == "No incident <b>nope"
    assert "<b>nope" not in response.get_data(as_text=True)
    assert client.get("/incidents/999999").status_code == 404


def test_caller_text_renders_as_text(client, hotline):
    login_as(client, hotline)
    make_incident(hotline, company='<img src=x onerror="alert(1)">', problem_text="'; DROP TABLE incidents; --",
                  email="a@b.example\"><script>x</script>")

    response = client.get("/incidents/123456")

    body = response.get_data(as_text=True)
    assert "<img src=x" not in body and "<script>x</script>" not in body
    doc = parse(response)
    # as text (its brackets the label's: a company the caller said never shows the hotline's markers' parentheses)
    assert doc.find("h1").find(cls="company").text() == '<img src=x onerror="alert[1]">'
    assert doc.find(id="f-problem").text() == "'; DROP TABLE incidents; --"
    assert doc.find(id="f-email").text() == 'a@b.example"><script>x</script>'


def test_a_note_from_the_incident_page_appears_in_its_timeline(client, hotline):
    login_as(client, hotline, name="Rita Rep")
    make_incident(hotline)

    client.post("/incidents/123456/notes", data={"csrf_token": CSRF, "back": "incident", "text": "Left voicemail"})

    with hotline.db.session() as session:
        assert session.scalars(select(IncidentEvent.detail).where(IncidentEvent.kind == "note")).all() == [
            {"text": "Left voicemail"}]
    last = parse(client.get("/incidents/123456")).find("ol", cls="timeline").find_all("li")[-1]
    assert (last.find(cls="what").text(), last.find(cls="note-text").text()) == ("Note by Rita Rep", "Left voicemail")
