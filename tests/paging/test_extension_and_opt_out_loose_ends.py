"""Loose ends of callback extensions and reps' SMS opt-outs.

The board's dial link carries the extension (one query for every row), the caller's closing words read it
back with the number, an older call's extension line (logged before its number was confirmed) is matched
to the number confirmed after it, a rep's STOP names the rep, the on-call API says whose number opted out,
and a page not sent because of an opt-out says so.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import event, select

from app.models import Incident, IncidentEvent
from app.models.user import Role
from app.services.api_tokens import create_token
from app.services.callback_extensions import callback_extensions
from app.services.events import log_event
from ivr_flows import Stage
from ivr_flows.model import IncidentInfo
from ivr_flows.questions import saved_lines
from tests.integration.board_support import login_as, make_incident, parse
from tests.paging.conftest import ALICE, CUSTOMER
from tests.paging.test_rep_sms_opt_out import _events, _stopped, _text_hotline
from tests.unit.flow_driver import NOW, Call, run

LANDLINE = "+442079460958"  # a fixed line: the customer gets no receipt SMS


# ---------------------------------------------------------------- 1. the board


def _board_statements(client) -> tuple[object, int]:
    engine = client.application.extensions["hotline"].db.engine
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        doc = parse(client.get("/board"))
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    return doc, len(statements)


def test_the_board_dials_the_extension_with_one_query_for_all_rows(desk, network, client, hotline):
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.intake(callback_number="415-555-0100 extension 204")[0]
    plain = make_incident(hotline, reference="700001", callback_phone=LANDLINE)
    login_as(client, hotline)

    doc, before = _board_statements(client)
    dial = doc.find("a", id=f"dial-{incident.reference}")
    assert dial.attrs["href"] == "tel:+14155550100;ext=204"
    assert dial.text() == "Dial +14155550100 myself, then extension 204"
    assert "extension 204" in dial.attrs["aria-label"]
    other = doc.find("a", id="dial-700001")
    assert (other.attrs["href"], other.text()) == (f"tel:{LANDLINE}", f"Dial {LANDLINE} myself")
    assert plain

    # more incidents with extensions: no more statements (no query per row)
    for n in range(3):
        more = make_incident(hotline, reference=f"70001{n}", callback_phone=LANDLINE)
        with hotline.db.transaction() as session:  # as the intake logs a confirmed number with an extension
            log_event(session, at=hotline.clock.now(), actor="ivr", kind="field_captured", incident_id=more,
                      detail={"field": "callback_phone", "source": "keypad"}, flow=True)
            log_event(session, at=hotline.clock.now(), actor="ivr", kind="callback_extension",
                      incident_id=more, detail={"extension": f"3{n}"}, flow=True)
    doc, after = _board_statements(client)
    assert doc.find("a", id="dial-700012").attrs["href"] == f"tel:{LANDLINE};ext=32"
    assert after == before
    desk.settle()


# ---------------------------------------------------------------- 2. the closing words


def test_the_closing_words_read_the_extension_back_with_the_number(desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    closing = desk.intake(callback_number="415-555-0100 extension 204")[1]["closing"]
    assert "An engineer will call you back on plus 1, 4 1 5, 5 5 5, 0 1 0 0, extension 2, 0, 4 within 15" \
           in closing
    desk.settle()


def _saved_call(lang_key: str, speech: str) -> Call:
    call = run(Call(caller_id="anonymous"), [("press", lang_key), ("press", "1"), ("press", "#"),
                                              ("say", "Acme"), ("say", "Dana Smith")])
    if call.stage is Stage.CALLBACK_CONFIRM:
        call.press("2")
    call.speak(speech)
    call.press("1")
    return call


def test_the_german_closing_words_read_the_extension_back_too():
    call = _saved_call("2", "0151 12345678 Durchwahl 12")
    state = replace(call.state, incident=IncidentInfo("123456", NOW + timedelta(minutes=15)))
    closing = " ".join(saved_lines(state))
    assert "unter der Nummer plus 4 9, 1 5 1 1, 2 3 4 5 6 7 8, Durchwahl 1, 2 zurück." in closing


def test_without_an_extension_the_closing_words_are_unchanged():
    call = _saved_call("1", "212-555-0100")
    state = replace(call.state, incident=IncidentInfo("123456", NOW + timedelta(minutes=15)))
    closing = " ".join(saved_lines(state))
    assert "call you back on plus 1, 2 1 2, 5 5 5, 0 1 0 0 within 15 minutes" in closing
    assert "extension" not in closing


# ---------------------------------------------------------------- 3. older calls' extension lines


def _log(hotline, incident_id: int, minute: int, kind: str, **detail) -> None:
    with hotline.db.transaction() as session:
        log_event(session, at=hotline.clock.now() - timedelta(minutes=10 - minute), actor="ivr", kind=kind,
                  incident_id=incident_id, detail=detail, flow=True)


def _extension(hotline, incident_id: int) -> str:
    with hotline.db.session() as session:
        return callback_extensions(session, [session.get(Incident, incident_id)]).get(incident_id, "")


def test_an_older_calls_extension_goes_with_the_number_confirmed_after_it(hotline):
    """Before the extension commit the line was logged when the number was heard, before its confirmation."""
    kept = make_incident(hotline, reference="800001")
    _log(hotline, kept, 1, "callback_extension", extension="204")  # heard
    _log(hotline, kept, 2, "field_captured", field="callback_phone", source="keypad")  # confirmed
    _log(hotline, kept, 3, "field_captured", field="email", source="speech")
    assert _extension(hotline, kept) == "204"

    corrected = make_incident(hotline, reference="800002")  # at the read-back, another number without one
    _log(hotline, corrected, 1, "callback_extension", extension="204")
    _log(hotline, corrected, 2, "field_captured", field="callback_phone", source="keypad")
    _log(hotline, corrected, 3, "readback_correction", field="callback_phone")
    _log(hotline, corrected, 4, "field_captured", field="callback_phone", source="caller_id")
    assert _extension(hotline, corrected) == ""

    never_confirmed = make_incident(hotline, reference="800003")  # heard, then rejected: the old number kept
    _log(hotline, never_confirmed, 1, "field_captured", field="callback_phone", source="caller_id")
    _log(hotline, never_confirmed, 2, "readback_correction", field="callback_phone")
    _log(hotline, never_confirmed, 3, "callback_extension", extension="55")
    _log(hotline, never_confirmed, 4, "field_missing", field="callback_phone")
    assert _extension(hotline, never_confirmed) == ""


def test_a_new_calls_extension_stays_when_a_corrected_number_keeps_it(hotline):
    """Now the line is logged with the confirmation, and only when the extension changes."""
    incident = make_incident(hotline, reference="800004")
    _log(hotline, incident, 1, "field_captured", field="callback_phone", source="keypad")
    _log(hotline, incident, 1, "callback_extension", extension="204")
    _log(hotline, incident, 3, "readback_correction", field="callback_phone")
    _log(hotline, incident, 4, "field_captured", field="callback_phone", source="keypad")  # same extension
    assert _extension(hotline, incident) == "204"
    _log(hotline, incident, 5, "field_captured", field="callback_phone", source="caller_id")
    _log(hotline, incident, 5, "callback_extension", extension="")  # a new number without one clears it
    assert _extension(hotline, incident) == ""


# ---------------------------------------------------------------- 4. a rep's STOP


def test_a_reps_stop_and_start_are_logged_as_the_rep_by_sms(desk, network):
    _stopped(desk)
    [stop] = _events(desk, None, "sms_opted_out")
    assert stop.actor == "Alice Primary" and stop.detail["via"] == "sms" and stop.detail["rep_id"]
    _text_hotline(desk, ALICE, "START")
    [start] = _events(desk, None, "sms_opted_in")
    assert (start.actor, start.detail["via"]) == ("Alice Primary", "sms")


def test_a_customers_stop_is_still_the_customers(desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    _stopped(desk, CUSTOMER)
    [stop] = _events(desk, incident.id, "sms_opted_out")
    assert stop.actor == "customer" and "rep_id" not in stop.detail


# ---------------------------------------------------------------- 5. the on-call API


def test_the_oncall_api_says_whose_number_opted_out_of_sms(desk, network, client, hotline, clock):
    with hotline.db.transaction() as session:
        token = create_token(session, "oncall", clock.now(), scopes=("oncall:admin",))
    auth = {"Authorization": f"Bearer {token}"}
    reps = client.get("/api/v1/reps", headers=auth).get_json()["reps"]
    assert {r["name"]: r["sms_opted_out"] for r in reps}["Alice Primary"] is False
    _stopped(desk)

    reps = {r["name"]: r for r in client.get("/api/v1/reps", headers=auth).get_json()["reps"]}
    assert (reps["Alice Primary"]["sms_opted_out"], reps["Bob Secondary"]["sms_opted_out"]) == (True, False)
    assert client.get(f"/api/v1/reps/{reps['Alice Primary']['id']}", headers=auth).get_json()["sms_opted_out"]
    on_call = client.get("/api/v1/oncall", headers=auth).get_json()
    primary = next(s for s in on_call["schedules"] if s["name"] == "primary")
    assert [(r["name"], r["sms_opted_out"]) for r in primary["on_call"]] == [("Alice Primary", True)]

    # read-only: a PUT may not set it (only the rep's START lifts it); other changes keep it shown
    alice = reps["Alice Primary"]
    put = client.put(f"/api/v1/reps/{alice['id']}", json={"sms_opted_out": False}, headers=auth)
    assert put.status_code == 422 and put.get_json()["error"]["field"] == "sms_opted_out"
    assert "START" in put.get_json()["error"]["message"]
    put = client.put(f"/api/v1/reps/{alice['id']}", json={"time_zone": "Europe/Berlin"}, headers=auth)
    assert put.status_code == 200 and put.get_json()["sms_opted_out"] is True

    schema = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert schema["Rep"]["properties"]["sms_opted_out"]["readOnly"] is True
    assert "sms_opted_out" not in schema["RepInput"]["properties"]


# ---------------------------------------------------------------- 6. the incident page


def test_a_page_not_sent_for_an_opt_out_says_so_on_the_incident_page(desk, network, client, hotline):
    _stopped(desk)
    network.phone(ALICE).expect_call(answer=False)
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()
    login_as(client, hotline, Role.REP)

    pages = parse(client.get(f"/incidents/{incident.reference}")).find("section", id="pages").find_all("li")
    [sms] = [li for li in pages if "SMS" in li.text()]
    assert "Alice Primary, SMS: not sent (opted out)" in sms.text() and "failed" not in sms.text()
    assert sms.attrs["class"] == "warn"  # not a failed delivery: the rep was called instead
    with hotline.db.session() as session:
        assert session.scalars(select(IncidentEvent.id).where(
            IncidentEvent.incident_id == incident.id, IncidentEvent.kind == "page_not_sent_opted_out")).all()
