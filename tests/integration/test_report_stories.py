"""The compliance report against what happened on a real hotline: life stories driven through the services.

Each story is checked on the page, in the CSV and the JSON, and against a full recomputation from the log.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.models import Callback, Incident, Rep, Role
from app.reports.compliance import compliance_report, range_bounds
from app.reports.figures import FactsRange
from app.reports.queries import load_range
from app.services.acks import acknowledge, reached_by_email
from app.services.api_tokens import create_token
from app.services.callbacks import withdraw_short_bridge
from tests.integration.dashboard_support import login_as
from tests.integration.test_report_views import Desk, at, page_figures

DAY = {"start": "2026-11-23", "end": "2026-11-24", "tz": "UTC"}


def _full(hotline, as_of: datetime | None = None):
    start, end = date.fromisoformat(DAY["start"]), date.fromisoformat(DAY["end"])
    with hotline.db.session() as session:
        loaded = load_range(session, *range_bounds(start, end, "UTC"), as_of or datetime(2100, 1, 1, tzinfo=UTC))
        return compliance_report(loaded.facts, start, end, "UTC", as_of=as_of, rep_names=loaded.rep_names)


def _fast(hotline, as_of: datetime | None = None):
    start, end = date.fromisoformat(DAY["start"]), date.fromisoformat(DAY["end"])
    with hotline.db.session() as session:
        return FactsRange(start, end, "UTC", as_of).report(session)[0]


def test_a_callback_answered_a_fraction_of_a_second_after_the_deadline_never_reads_as_kept(client, hotline, clock):
    desk = Desk(hotline)
    desk.open("LATEBY40MS", "2026-11-23 12:00:00.960")  # the details were in at .960; due 12:15:00.960
    desk.ack("LATEBY40MS", "Alice", "2026-11-23 12:01")
    desk.call("LATEBY40MS", "Alice", "2026-11-23 12:14", "answered", "2026-11-23 12:15:01")  # Twilio: whole seconds
    clock.set(at("2026-11-24 08:00"))
    login_as(client, hotline, Role.MANAGER)

    html = client.get("/reports/compliance", query_string=DAY).get_data(as_text=True)
    row = next(csv.DictReader(io.StringIO(client.get("/reports/compliance.csv", query_string=DAY).get_data(as_text=True))))
    document = json.loads(client.get("/reports/compliance.json", query_string=DAY).get_data())

    assert (row["outcome"], row["breached"]) == ("late", "yes")
    assert float(row["seconds_to_callback"]) > 900  # 900.04 s: never the 900.0 of a kept promise
    assert document["rows"][0]["seconds_to_callback"] > 900
    assert document["summary"]["seconds_to_callback"]["max"] > 900
    assert page_figures(html)["ttc-max"] > 900
    # 12:15:01 is any instant of that second, so the answer counts at its end, 12:15:02: 901.04 s, shown 15:02
    assert re.search(r'data-figure="ttc-max"[^>]*>15:02<', html)  # never 15:00
    for report in (_fast(hotline), _full(hotline)):
        assert report.callback_minutes[-1] == 1  # the chart's late bin, not the 14-15 minute one
        assert report.time_to_callback.maximum > 900


@pytest.mark.parametrize(("query", "message"), [
    ({"start": "0001-01-01", "end": "0001-01-03", "tz": "Asia/Tokyo"}, "between"),  # before year 1 in UTC
    ({"start": "9999-12-30", "end": "9999-12-31", "tz": "America/New_York"}, "between"),
    ({"end": "0001-01-02"}, "between"),  # the default start would be a week before year 1
    ({"start": "2026-11-01", "end": "2026-11-02", "as_of": "0001-01-01T00:00:00+14:00"}, "as_of"),
])
def test_dates_at_the_calendars_edges_are_refused_with_a_message_not_a_server_error(client, hotline, query, message):
    login_as(client, hotline, Role.MANAGER)
    response = client.get("/reports/compliance", query_string=query)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    for path in ("/reports/compliance.csv", "/reports/compliance.json", "/reports/compliance.csv.sha256"):
        response = client.get(path, query_string=query)
        assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_a_renamed_rep_is_one_row_per_rep_for_their_acknowledgements_and_their_self_reported_call(client, hotline,
                                                                                                   clock):
    desk = Desk(hotline)
    desk.open("SELFCALL", "2026-11-23 09:00")
    desk.ack("SELFCALL", "Bob", "2026-11-23 09:01")
    desk.self_report("SELFCALL", "Bob", "2026-11-23 09:05", "2026-11-23 09:06")
    with hotline.db.transaction() as session:  # the directory's name changes after the call
        session.get(Rep, desk.reps["Bob"][0]).name = "Robert Example"
    clock.set(at("2026-11-24 08:00"))
    login_as(client, hotline, Role.MANAGER)

    document = json.loads(client.get("/reports/compliance.json", query_string=DAY).get_data())
    html = client.get("/reports/compliance", query_string=DAY).get_data(as_text=True)

    assert document["summary"]["per_rep"] == [{"name": "Robert Example", "acknowledged": 1, "met": 0, "late": 0,
                                               "attempted": 0, "self_reported": 1}]
    assert re.findall(r'<tr data-rep="([^"]+)">', html) == ["Robert Example"]
    assert "(Robert Example)" in html and "Bob Example" not in html  # the breach line's caller too
    assert [(r.name, r.self_reported) for r in _full(hotline).reps] == [("Robert Example", 1)]


def test_a_rep_who_owns_an_incident_by_a_self_report_or_an_e_mail_contact_acknowledged_it_in_the_report_too(
        client, hotline, clock):
    """Nobody pressed ACK: Bob's CALLED, and Alice's record of an e-mail contact, made each the owner (the escalation
    pages stopped; the API says acknowledged by them, then). The report, its CSV and JSON say the same, and the
    self-reported incident's breach reason is that its only call was self-reported, never that nobody acknowledged
    it (nor, beside its self_reported outcome, that no callback was attempted)."""
    desk = Desk(hotline)
    desk.open("SELFONLY", "2026-11-23 09:00")
    desk.self_report("SELFONLY", "Bob", "2026-11-23 09:04", "2026-11-23 09:05")
    desk.open("MAILONLY", "2026-11-23 10:00")
    with hotline.db.transaction() as session:
        incident = session.scalars(select(Incident).where(Incident.reference == "MAILONLY")).one()
        alice = session.get(Rep, desk.reps["Alice"][0])
        assert reached_by_email(session, incident, desk.actor(alice), "wrote to ops@",
                                at("2026-11-23 10:05")).ok
    clock.set(at("2026-11-24 08:00"))
    with hotline.db.transaction() as session:
        token = create_token(session, "reporting", clock.now(), scopes=("incidents:read",))
    api = {ref: client.get(f"/api/v1/incidents/{ref}", headers={"Authorization": f"Bearer {token}"}).get_json()
           for ref in ("SELFONLY", "MAILONLY")}
    login_as(client, hotline, Role.MANAGER)
    rows = {row["reference"]: row for row in csv.DictReader(io.StringIO(
        client.get("/reports/compliance.csv", query_string=DAY).get_data(as_text=True)))}
    document = json.loads(client.get("/reports/compliance.json", query_string=DAY).get_data())

    assert api["SELFONLY"]["acknowledgement"] == {"at": "2026-11-23T09:05:00Z",
                                                  "by": {"rep_id": desk.reps["Bob"][0], "name": "Bob Example"}}
    assert api["MAILONLY"]["acknowledgement"]["at"] == "2026-11-23T10:05:00Z"
    assert (rows["SELFONLY"]["acknowledged_at"], rows["SELFONLY"]["acknowledged_by"]) == \
        ("2026-11-23T09:05:00Z", "Bob Example")
    assert rows["SELFONLY"]["breach_reason"] == "self-reported call only (unverified)"
    assert (rows["MAILONLY"]["acknowledged_at"], rows["MAILONLY"]["acknowledged_by"]) == \
        ("2026-11-23T10:05:00Z", "Alice Example")
    assert document["summary"]["per_rep"] == [
        {"name": "Alice Example", "acknowledged": 1, "met": 0, "late": 0, "attempted": 0, "self_reported": 0},
        {"name": "Bob Example", "acknowledged": 1, "met": 0, "late": 0, "attempted": 0, "self_reported": 1}]
    for report in (_fast(hotline), _full(hotline)):
        assert [(r.name, r.acknowledged) for r in report.reps] == [("Alice Example", 1), ("Bob Example", 1)]
        assert report.breach_lines[0].reason.value == "self-reported call only (unverified)"


def test_after_a_take_over_the_api_names_who_acknowledged_as_the_report_does_and_the_owner_apart(client, hotline,
                                                                                                 clock):
    """Alice acknowledged at 09:02, Bob took the incident over at 09:06. The API's acknowledgement is the one at
    09:02, so it is Alice's (as in the report's CSV and on the board, "taken over by Bob"); Bob is the owner."""
    desk = Desk(hotline)
    desk.open("TAKEN", "2026-11-23 09:00")
    desk.ack("TAKEN", "Alice", "2026-11-23 09:02")
    with hotline.db.transaction() as session:
        incident = session.scalars(select(Incident).where(Incident.reference == "TAKEN")).one()
        bob = session.get(Rep, desk.reps["Bob"][0])
        assert acknowledge(session, incident, desk.actor(bob), at("2026-11-23 09:06"), take_over=True).ok
    clock.set(at("2026-11-24 08:00"))
    with hotline.db.transaction() as session:
        token = create_token(session, "reporting", clock.now(), scopes=("incidents:read",))
    auth = {"Authorization": f"Bearer {token}"}
    shown = client.get("/api/v1/incidents/TAKEN", headers=auth).get_json()
    [listed] = client.get("/api/v1/incidents", headers=auth).get_json()["incidents"]
    login_as(client, hotline, Role.MANAGER)
    [row] = csv.DictReader(io.StringIO(client.get("/reports/compliance.csv", query_string=DAY).get_data(as_text=True)))

    alice, bob = ({"rep_id": desk.reps[name][0], "name": desk.reps[name][1]} for name in ("Alice", "Bob"))
    assert (row["acknowledged_at"], row["acknowledged_by"]) == ("2026-11-23T09:02:00Z", "Alice Example")
    for document in (shown, listed):
        assert document["acknowledgement"] == {"at": "2026-11-23T09:02:00Z", "by": alice}
        assert document["owner"] == bob


def _short_bridges(desk: Desk, hotline, reference: str, times: list[str]) -> None:
    """Bob calls the customer back at each time; they press the key and hang up 3 s later, so each answer is
    withdrawn as too short to count (``callbacks.withdraw_short_bridge``: the callback is only attempted)."""
    for when in times:
        desk.call(reference, "Bob", when, "answered", when)
        hotline.clock.set(at(when) + timedelta(seconds=6))
        with hotline.db.transaction() as session:
            callback_id = session.scalars(select(Callback.id).join(Incident).where(Incident.reference == reference)
                                          .order_by(Callback.id.desc())).first()
            assert withdraw_short_bridge(session, callback_id, "3", "true", hotline.clock.now()) is not None


@pytest.mark.parametrize(("as_of", "breached", "reason"), [
    ("2026-11-23 09:10", "pending", ""),  # the deadline 09:15 has not passed: attempted, owed still, not decided
    # passed with only attempts, all answered in time and too short: the customer was reached ("customer
    # unreachable" until session 37)
    ("2026-11-23 09:20", "yes", "callback too short to count"),
    (None, "yes", "callback too short to count"),
])
def test_callbacks_answered_too_briefly_to_count_are_attempts_by_their_rep_in_the_report_as_in_the_api(
        client, hotline, clock, as_of, breached, reason):
    """Incident 616353 (probe): Bob's three bridged calls 13 minutes before the deadline, the customer pressing the
    key and hanging up after 3 s each time. Each answer is withdrawn as too short: the callback is only attempted.
    The page, CSV and JSON say "attempted" as the API does, never "no callback" nor "called late", and the per-rep
    table credits Bob's attempt; the fast path and a full recomputation agree."""
    desk = Desk(hotline)
    desk.open("SHORTBR", "2026-11-23 09:00")
    desk.ack("SHORTBR", "Bob", "2026-11-23 09:01")
    _short_bridges(desk, hotline, "SHORTBR", ["2026-11-23 09:02:00", "2026-11-23 09:02:20", "2026-11-23 09:02:40"])
    clock.set(at(as_of) if as_of else at("2026-11-24 08:00"))
    with hotline.db.transaction() as session:
        token = create_token(session, "reporting", clock.now(), scopes=("incidents:read",))
    api = client.get("/api/v1/incidents/SHORTBR", headers={"Authorization": f"Bearer {token}"}).get_json()
    login_as(client, hotline, Role.MANAGER)
    query = DAY | ({"as_of": at(as_of).isoformat()} if as_of else {})
    html = client.get("/reports/compliance", query_string=query).get_data(as_text=True)
    [row] = csv.DictReader(io.StringIO(client.get("/reports/compliance.csv", query_string=query).get_data(as_text=True)))
    document = json.loads(client.get("/reports/compliance.json", query_string=query).get_data())

    assert (api["callback"]["outcome"], api["callback"]["attempts"], api["callback"]["answered_at"]) == (
        "attempted", 3, None)
    assert api["breach"]["breached"] == (breached == "yes")
    assert (row["outcome"], row["callback_answered_at"], row["breached"], row["breach_reason"]) == (
        "attempted", "", breached, reason)
    [line] = document["rows"]
    assert (line["outcome"], line["breach_reason"] or "") == ("attempted", reason)
    assert line["breached"] == {"yes": True, "pending": None}[breached]  # pending: null, never the false of a kept one
    figures = page_figures(html)
    assert (figures["attempted-count"], figures["no_callback-count"], figures["breached-count"]) == (
        1, 0, int(breached == "yes"))
    shown = re.search(r'<tr data-reference="SHORTBR">(.*?)</tr>', html, re.S)
    assert (shown is not None) == bool(reason)
    if shown:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", shown.group(1), re.S)
        assert cells[3] == reason and cells[5].startswith("attempted")
    per_rep = re.search(r'<tr data-rep="Bob Example">(.*?)</tr>', html, re.S).group(1)
    assert re.findall(r'<td class="num">(\d+)</td>', per_rep) == ["1", "0", "0", "1", "0"]
    bob = {"name": "Bob Example", "acknowledged": 1, "met": 0, "late": 0, "attempted": 1, "self_reported": 0}
    assert document["summary"]["per_rep"] == [bob]
    as_of_at = at(as_of) if as_of else None
    for report in (_fast(hotline, as_of_at), _full(hotline, as_of_at)):
        assert [(r.name, r.attempted) for r in report.reps] == [("Bob Example", 1)]
        assert [(o.key, o.count) for o in report.outcomes if o.count] == [("attempted", 1)]
        assert [b.reason.value for b in report.breach_lines] == ([reason] if reason else [])
