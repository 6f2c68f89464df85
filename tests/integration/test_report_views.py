"""The compliance report over real rows: its figures equal those recomputed here from the event log."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, update

from app.models import Incident, IncidentEvent, IncidentFactsRow, Rep, Role
from app.services.acks import Actor, acknowledge
from app.services.callbacks import confirm_person, customer_leg_status, open_callback, self_report
from app.services.events import log_event
from tests.integration.dashboard_support import login_as

WEEK = {"start": "2026-11-23", "end": "2026-11-30", "tz": "Europe/Berlin"}
RANGE_UTC = (datetime(2026, 11, 22, 23, 0, tzinfo=UTC), datetime(2026, 11, 29, 23, 0, tzinfo=UTC))
OUTCOMES = ("met", "late", "self_reported", "worked_by_email", "pending", "attempted", "no_callback")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class Desk:
    """Drives the real services, one transaction per action, at the given times: the clock is moved there first,
    so each log line is written when it says (``written_at``), as the services would have written it then."""

    def __init__(self, hotline):
        self.db, self.clock = hotline.db, hotline.clock
        with self.db.transaction() as session:
            reps = [Rep(name="Alice Example", phone="+4930000001"), Rep(name="Bob Example", phone="+4930000002")]
            session.add_all(reps)
            session.flush()
            self.reps = {r.name.split()[0]: (r.id, r.name) for r in reps}

    def _written(self, when: str | datetime) -> None:
        self.clock.set(at(when) if isinstance(when, str) else when)

    def open(self, reference: str, captured: str, company: str = "", sla_minutes: int = 15) -> None:
        captured_at = at(captured)
        self._written(captured_at)
        with self.db.transaction() as session:
            incident = Incident(reference=reference, company=company or f"{reference} GmbH",
                                received_at=captured_at - timedelta(minutes=2), captured_at=captured_at,
                                callback_due_at=captured_at + timedelta(minutes=sla_minutes))
            session.add(incident)
            session.flush()
            log_event(session, at=captured_at, actor="ivr", kind="incident_opened", incident_id=incident.id,
                      detail={"reference": reference, "source": "ivr",
                              "callback_due_at": incident.callback_due_at.isoformat(), "missing": []})

    def ack(self, reference: str, rep: str, now: str, written: str | None = None) -> None:
        """``rep`` acknowledges at ``now``; the line written then, or at ``written`` (a late writer)."""
        rep_id, name = self.reps[rep]
        self._written(written or now)
        with self.db.transaction() as session:
            rep = session.get(Rep, rep_id)
            assert acknowledge(session, self._incident(session, reference), self.actor(rep), at(now)).ok

    def call(self, reference: str, rep: str, now: str, status: str, twilio_time: str) -> None:
        self._written(now)
        with self.db.transaction() as session:
            callback = open_callback(session, self._incident(session, reference), self.reps[rep][0], at(now))
            callback_id = callback.id
        self._written(at(twilio_time) + timedelta(seconds=2))
        with self.db.transaction() as session:
            customer_leg_status(session, callback_id, status, format_datetime(at(twilio_time)), f"CA{callback_id}",
                                at(twilio_time) + timedelta(seconds=1))
            if status in ("answered", "in-progress"):  # the customer pressed a key: a person answered
                confirm_person(session, callback_id, at(twilio_time) + timedelta(seconds=2))

    def self_report(self, reference: str, rep: str, called: str, now: str) -> None:
        rep_id, name = self.reps[rep]
        self._written(now)
        with self.db.transaction() as session:
            self_report(session, self._incident(session, reference), rep_id, name, at(called), "own phone", at(now))

    @staticmethod
    def actor(rep: Rep) -> Actor:
        """``rep`` acting through the services: as a manager may, on incidents nobody paged them for (these stories
        page nobody, so a page of theirs would be a figure the report counts: ``acks.allowed``)."""
        return Actor(rep.name, "web", rep, is_manager=True)

    @staticmethod
    def _incident(session, reference: str) -> Incident:
        return session.scalars(select(Incident).where(Incident.reference == reference)).one()


@pytest.fixture
def desk(hotline, clock) -> Desk:
    """A week of incidents in Berlin time, one or more of each outcome, then the clock on Monday after."""
    d = Desk(hotline)
    d.open("R1MET", "2026-11-23 09:00")  # Mon 10:00 CET
    d.ack("R1MET", "Alice", "2026-11-23 09:02")
    d.call("R1MET", "Alice", "2026-11-23 09:03", "answered", "2026-11-23 09:06:10")
    d.open("R2MET", "2026-11-23 09:30")
    d.ack("R2MET", "Bob", "2026-11-23 09:31")
    d.call("R2MET", "Bob", "2026-11-23 09:32", "in-progress", "2026-11-23 09:40:00")
    d.open("R3LATE", "2026-11-24 12:00")
    d.ack("R3LATE", "Bob", "2026-11-24 12:10")
    d.call("R3LATE", "Bob", "2026-11-24 12:14", "answered", "2026-11-24 12:17:30")
    d.open("R4UNREACH", "2026-11-25 20:00")
    d.ack("R4UNREACH", "Alice", "2026-11-25 20:01")
    d.call("R4UNREACH", "Alice", "2026-11-25 20:02", "no-answer", "2026-11-25 20:02:40")
    d.open("R5SELF", "2026-11-26 02:00", company="=HYPERLINK(\"x\")")
    d.ack("R5SELF", "Bob", "2026-11-26 02:03")
    d.self_report("R5SELF", "Bob", "2026-11-26 02:09", "2026-11-26 02:20")
    d.open("R6NOBODY", "2026-11-27 23:30")  # Sat 00:30 CET
    d.open("R7RETRY", "2026-11-28 10:00")
    d.ack("R7RETRY", "Alice", "2026-11-28 10:01")
    d.call("R7RETRY", "Alice", "2026-11-28 10:02", "busy", "2026-11-28 10:02:30")
    d.call("R7RETRY", "Alice", "2026-11-28 10:05", "answered", "2026-11-28 10:08:00")
    d.open("R0BEFORE", "2026-11-22 22:59")  # Sun 23:59 CET: the week before
    d.open("R8AFTER", "2026-11-29 23:00")  # Mon 00:00 CET: the range's end, excluded
    clock.set(at("2026-11-30 08:00"))
    return d


def recompute(hotline) -> dict:
    """The figures, worked out here from the raw log lines with none of the report's code."""
    with hotline.db.session() as session:
        refs = dict(session.execute(select(Incident.id, Incident.reference).where(
            Incident.captured_at >= RANGE_UTC[0], Incident.captured_at < RANGE_UTC[1])).all())
        kinds: dict[str, dict[str, list[dict]]] = {ref: {} for ref in refs.values()}
        for event in session.scalars(select(IncidentEvent).where(IncidentEvent.incident_id.in_(refs))):
            kinds[refs[event.incident_id]].setdefault(event.kind, []).append(event.detail)
    outcome, seconds = {}, []
    for ref, lines in kinds.items():
        answered = lines.get("callback_met", []) + lines.get("callback_late", [])
        if answered:
            seconds.append(min(d["seconds_after_capture"] for d in answered))
        outcome[ref] = next((name for name, kind in (("met", "callback_met"), ("late", "callback_late"),
                                                     ("self_reported", "callback_self_reported"),
                                                     ("attempted", "callback_attempted")) if kind in lines),
                            "no_callback")
    total = len(outcome)
    ordered = sorted(seconds)

    def rank(p: int) -> float:
        return ordered[math.ceil(p * len(ordered) / 100) - 1]

    figures = {"total": total, "breached-count": sum(o != "met" for o in outcome.values()),
               "ttc-count": len(ordered), "ttc-median": rank(50), "ttc-p90": rank(90), "ttc-p99": rank(99),
               "ttc-max": ordered[-1]}
    for name in OUTCOMES:
        count = sum(o == name for o in outcome.values())
        figures[f"{name}-count"] = count
        figures[f"{name}-percent"] = round(100 * count / total, 1)
    figures["breached-percent"] = round(100 * figures["breached-count"] / total, 1)
    return {"figures": figures, "outcome": outcome}


def page_figures(html: str) -> dict:
    found = {}
    for name, attrs, value in re.findall(r'data-figure="([\w-]+)"([^>]*)>([^<]*)<', html):
        seconds = re.search(r'data-seconds="([^"]*)"', attrs)
        raw = seconds.group(1) if seconds else value.strip().rstrip("%")
        found[name] = None if raw == "" else float(raw) if "." in raw else int(raw)
    return found


def links(html: str) -> dict[str, str]:
    return {text: unescape(href) for href, text in re.findall(r'<a href="([^"]+)">([^<]+)</a>', html)}


def test_a_manager_sees_figures_equal_to_the_log(client, hotline, desk):
    login_as(client, hotline, Role.MANAGER)
    response = client.get("/reports/compliance", query_string=WEEK)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    expected = recompute(hotline)
    assert expected["figures"]["total"] == 7 and expected["figures"]["met-count"] == 3  # the data is what we think
    shown = page_figures(html)
    assert {k: shown[k] for k in expected["figures"]} == expected["figures"]
    breaches = dict(re.findall(r'<tr data-reference="(\w+)">.*?<td class="bad" data-reason>([^<]+)</td>', html, re.S))
    assert breaches == {"R3LATE": "acknowledged but called late", "R4UNREACH": "customer unreachable",
                        "R5SELF": "self-reported call only (unverified)", "R6NOBODY": "nobody acknowledged"}
    assert breaches.keys() == {ref for ref, o in expected["outcome"].items() if o != "met"}
    for ref in breaches:
        assert f'href="/incidents/{ref}"' in html
    reps = {name: [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', row)]
            for name, row in re.findall(r'<tr data-rep="([^"]+)">(.*?)</tr>', html, re.S)}
    assert reps == {"Alice Example": [3, 2, 0, 1, 0], "Bob Example": [3, 1, 1, 0, 1]}
    hours = re.findall(r'<tr data-hour-index="(\d+)"><th>([^<]+)</th>', html)
    assert ("120", "Sat 00:00–00:59") in hours  # R6NOBODY, Fri 23:30 UTC, counted in Berlin time
    assert html.count("<svg") == 3 and "<script" not in html
    assert 'name="viewport"' in html


def test_exports_parse_carry_their_digest_and_agree_with_the_log(client, hotline, desk):
    login_as(client, hotline, Role.MANAGER)
    html = client.get("/reports/compliance", query_string=WEEK).get_data(as_text=True)
    href = links(html)
    expected = recompute(hotline)

    csv_response = client.get(href["CSV"])
    assert csv_response.status_code == 200
    as_of = parse_qs(urlsplit(href["CSV"]).query)["as_of"][0]  # the page's links pin the second it was made
    name = f"compliance_2026-11-23_2026-11-30_Europe-Berlin_asof-{_stamp(as_of)}.csv"
    assert csv_response.headers["Content-Disposition"] == f'attachment; filename="{name}"'
    assert csv_response.is_streamed and "X-Content-SHA256" not in csv_response.headers  # streamed: no digest header
    body = csv_response.get_data()
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert {r["reference"]: r["outcome"] for r in rows} == expected["outcome"]
    # guarded against spreadsheets, and read as the board reads it (a said name's brackets square: ``said_company``)
    assert next(r for r in rows if r["reference"] == "R5SELF")["company"] == "'=HYPERLINK[\"x\"]"
    assert all(r["breached"] == ("no" if r["outcome"] == "met" else "yes") for r in rows)
    digest_file = client.get(href["CSV SHA-256"]).get_data(as_text=True)
    assert digest_file == f"{hashlib.sha256(body).hexdigest()}  {name}\n"

    json_response = client.get(href["JSON"])
    raw = json_response.get_data()
    assert client.get(href["JSON SHA-256"]).get_data(as_text=True).split()[0] == hashlib.sha256(raw).hexdigest()
    document = json.loads(raw)
    canonical = json.dumps(document["rows"], sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert document["rows_sha256"] == hashlib.sha256(canonical).hexdigest()
    summary = document["summary"]
    figures = expected["figures"]
    assert summary["incidents"] == figures["total"]
    assert {k: v["count"] for k, v in summary["outcomes"].items()} == {o: figures[f"{o}-count"] for o in OUTCOMES}
    assert summary["breached"] == {"count": figures["breached-count"], "percent": figures["breached-percent"]}
    assert [summary["seconds_to_callback"][k] for k in ("median", "p90", "p99", "max")] == [
        figures["ttc-median"], figures["ttc-p90"], figures["ttc-p99"], figures["ttc-max"]]
    assert [r["reference"] for r in document["rows"]] == [r["reference"] for r in rows]


def _stamp(as_of: str) -> str:
    """An ISO instant as the export's file name carries it: 20261130T080000Z."""
    return datetime.fromisoformat(as_of.replace("Z", "+00:00")).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _attachment(response) -> str:
    return re.fullmatch(r'attachment; filename="([^"]+)"', response.headers["Content-Disposition"]).group(1)


def test_exports_of_other_zones_or_instants_are_named_for_what_they_certify(client, hotline, clock, desk):
    """Probe V (V4): the same dates in UTC and in Asia/Karachi, or pinned to another instant, are other bytes; each
    CSV and JSON downloads under a name carrying its zone and as_of, and its ``.sha256`` line names that file. They
    all downloaded as compliance_<start>_<end>.csv, and neither the file nor its digest said which they were."""
    login_as(client, hotline, Role.MANAGER)
    dates = {"start": "2026-11-29", "end": "2026-11-30"}
    names: dict[tuple[str, str, str], str] = {}
    bodies: dict[str, bytes] = {}
    for tz in ("UTC", "Asia/Karachi"):
        for as_of in ("2026-11-30T06:00:00Z", "2026-11-30T07:30:15+01:00"):
            query = {**dates, "tz": tz, "as_of": as_of}
            for ext in ("csv", "json"):
                response = client.get(f"/reports/compliance.{ext}", query_string=query)
                assert response.status_code == 200
                name = _attachment(response)
                body = response.get_data()
                digest = client.get(f"/reports/compliance.{ext}.sha256", query_string=query)
                assert digest.get_data(as_text=True) == f"{hashlib.sha256(body).hexdigest()}  {name}\n"
                assert _attachment(digest) == f"{name}.sha256"
                names[tz, as_of, ext] = name
                bodies[name] = body
    assert names["UTC", "2026-11-30T06:00:00Z", "csv"] == \
        "compliance_2026-11-29_2026-11-30_UTC_asof-20261130T060000Z.csv"
    assert names["Asia/Karachi", "2026-11-30T07:30:15+01:00", "json"] == \
        "compliance_2026-11-29_2026-11-30_Asia-Karachi_asof-20261130T063015Z.json"
    assert len(set(names.values())) == len(names)  # no two of these downloads share a name
    assert bodies["compliance_2026-11-29_2026-11-30_UTC_asof-20261130T060000Z.csv"] != \
        bodies["compliance_2026-11-29_2026-11-30_Asia-Karachi_asof-20261130T060000Z.csv"]
    live = client.get("/reports/compliance.csv", query_string={**dates, "tz": "UTC"})  # as of now, to the second
    assert _attachment(live) == f"compliance_2026-11-29_2026-11-30_UTC_asof-{clock.now().strftime('%Y%m%dT%H%M%SZ')}.csv"


def test_a_pinned_export_does_not_change_when_the_log_grows(client, hotline, clock, desk):
    login_as(client, hotline, Role.MANAGER)
    href = links(client.get("/reports/compliance", query_string=WEEK).get_data(as_text=True))
    first = client.get(href["CSV"]).get_data()
    first_digest = client.get(href["CSV SHA-256"]).get_data()
    clock.advance(hours=1)
    desk.ack("R6NOBODY", "Bob", "2026-11-30 08:30")  # a late acknowledgement, logged after the report
    assert client.get(href["CSV"]).get_data() == first
    assert client.get(href["CSV SHA-256"]).get_data() == first_digest
    assert client.get("/reports/compliance.csv", query_string=WEEK).get_data() != first


def test_an_empty_range_shows_zeros(client, hotline, desk):
    login_as(client, hotline, Role.MANAGER)
    response = client.get("/reports/compliance", query_string={"start": "2027-01-04", "end": "2027-01-11"})
    assert response.status_code == 200
    shown = page_figures(response.get_data(as_text=True))
    assert (shown["total"], shown["met-count"], shown["met-percent"], shown["breached-percent"]) == (0, 0, 0.0, 0.0)
    assert (shown["ttc-count"], shown["ttc-median"], shown["ttc-max"]) == (0, None, None)


def test_defaults_are_the_last_seven_days_in_utc(client, hotline, desk):
    login_as(client, hotline, Role.MANAGER)
    html = client.get("/reports/compliance").get_data(as_text=True)
    assert "Tue 2026-11-24 00:00 UTC" in html and "Tue 2026-12-01 00:00 UTC" in html
    assert page_figures(html)["total"] == 6  # R3LATE .. R7RETRY (5) and R8AFTER are in the UTC week


@pytest.mark.parametrize("query, message", [
    ({"start": "2026-13-01"}, "is not a date"),
    ({"start": "2026-11-30", "end": "2026-11-23"}, "must be after the start"),
    ({"tz": "Mars/Olympus"}, "Unknown time zone"),
    ({"tz": "Europe"}, "Unknown time zone"),  # a directory of the tz database: IsADirectoryError, was a 500
    ({"tz": "US"}, "Unknown time zone"),
    ({"tz": "localtime"}, "Unknown time zone"),  # the host's own zone is no place
    # an outside probe's report took these, which the on-call import refuses: one rule for a zone a user names
    ({"tz": "EST"}, "is a fixed offset or an old rule, not a place"),
    ({"tz": "Etc/GMT+5"}, "use the Area/City name of the place"),
    ({"tz": "posix/Europe/Berlin"}, "not a place"),
    ({"tz": "right/UTC"}, "not a place"),
    ({"start": "2020-01-01", "end": "2026-01-01"}, "at most 366 days"),
    # probe P1: the updates report's UTC instants, dropped here without a word (the last 7 days answered)
    ({"from": "2026-12-01", "to": "2026-12-02"}, "takes its range as start and end (local dates, YYYY-MM-DD"),
    ({"from": "garbage"}, "not from (times in UTC, which only the updates report takes)"),
    ({"start": "2026-11-23", "end": "2026-11-30", "to": "2026-12-02"}, "not to (times in UTC"),
])
def test_bad_input_gives_the_page_with_an_error(client, hotline, query, message):
    login_as(client, hotline, Role.MANAGER)
    response = client.get("/reports/compliance", query_string=query)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    for export in ("/reports/compliance.csv", "/reports/compliance.json", "/reports/compliance.csv.sha256"):
        refused = client.get(export, query_string=query)
        assert refused.status_code == 400
        assert message in refused.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/reports/compliance", "/reports/compliance.csv", "/reports/compliance.json",
                                  "/reports/compliance.csv.sha256"])
def test_a_rep_is_forbidden(client, hotline, path):
    login_as(client, hotline, Role.REP)
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", ["/reports/compliance", "/reports/compliance.csv", "/reports/compliance.json"])
def test_without_login_the_way_is_to_the_login_page(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("pinned", [False, True])
def test_a_breach_reason_this_version_does_not_know_keeps_its_line_and_is_named(client, hotline, desk, pinned):
    """Probe N N1: a newer version's `db upgrade` refolded a row to a reason this version does not know; before this
    host's restart its CSV dropped that incident without a word (PostgreSQL: the line was NULL, skipped by
    string_agg) or failed (SQLite). The line is the newer version's, the reason as stored; page and JSON name it."""
    newer = 'called back, by a "newer" version'  # a comma and quotes: quoted as the csv module quotes them
    with hotline.db.transaction() as session:
        incident_id = session.scalars(select(Incident.id).where(Incident.reference == "R6NOBODY")).one()
        session.execute(update(IncidentFactsRow).where(IncidentFactsRow.incident_id == incident_id)
                        .values(breach_reason=newer))
    login_as(client, hotline, Role.MANAGER)
    html = client.get("/reports/compliance", query_string=WEEK).get_data(as_text=True)
    query = parse_qs(urlsplit(links(html)["CSV"]).query) if pinned else WEEK  # pinned: the as_of SQL
    assert ("as_of" in query) is pinned
    body = client.get("/reports/compliance.csv", query_string=query).get_data()
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert len(rows) == 7 and next(r for r in rows if r["reference"] == "R6NOBODY")["breach_reason"] == newer
    assert b',yes,"called back, by a ""newer"" version",\r\n' in body  # the related reference, last: none
    document = json.loads(client.get("/reports/compliance.json", query_string=query).get_data())
    assert next(r for r in document["rows"] if r["reference"] == "R6NOBODY")["breach_reason"] == newer
    assert document["summary"]["unknown_values"] == [f'breach reason "{newer}"']
    assert document["summary"]["breach_reasons"][newer] == 1
    page = unescape(html)
    assert re.search(r'<tr data-reference="R6NOBODY">.*?<td class="bad" data-reason>called back, by a "newer" '
                     r'version</td>', page, re.S)
    assert 'id="report-unknown-values"' in page and f'breach reason "{newer}"' in page


def test_a_report_of_values_this_version_knows_names_none_and_its_json_has_no_such_key(client, hotline, desk):
    login_as(client, hotline, Role.MANAGER)
    assert 'id="report-unknown-values"' not in client.get("/reports/compliance", query_string=WEEK).get_data(as_text=True)
    exported = client.get("/reports/compliance.json", query_string=WEEK)
    assert "unknown_values" not in exported.get_json()["summary"]
    assert exported.headers["X-Hotline-Schema"] == "unversioned"  # the tests' tables are built without Alembic


def test_an_as_of_still_to_come_is_refused_so_the_same_parameters_always_give_the_same_bytes(client, hotline, clock,
                                                                                           desk):
    """A manager pins next midnight to preview the day's report. Taken as "now", it gave bytes that the same
    parameters never gave again (the digest fetched after midnight judged the deadlines at midnight): a report can
    be pinned only to an instant that has passed, and is refused, saying so, until then."""
    desk.open("TONIGHT", "2026-11-30 07:55")  # due 08:10: open at 08:00, breached by midnight
    login_as(client, hotline, Role.MANAGER)
    query = {"start": "2026-11-30", "end": "2026-12-01", "tz": "UTC", "as_of": "2026-12-01T00:00:00Z"}
    for path in ("/reports/compliance", "/reports/compliance.csv", "/reports/compliance.json",
                 "/reports/compliance.csv.sha256", "/reports/compliance.json.sha256"):
        early = client.get(path, query_string=query)
        assert early.status_code == 400 and "as_of" in early.get_data(as_text=True), path
    clock.set(at("2026-12-02 08:00"))
    login_as(client, hotline, Role.MANAGER)  # the session of the day before has ended
    body = client.get("/reports/compliance.csv", query_string=query).get_data()
    assert b"TONIGHT" in body and body.endswith(b"yes,nobody acknowledged,\r\n")
    digest = client.get("/reports/compliance.csv.sha256", query_string=query).get_data(as_text=True)
    assert digest.split()[0] == hashlib.sha256(body).hexdigest()
    now = clock.now().replace(microsecond=123456)
    clock.set(now)  # the page's own links pin the second it was made: as of now is no instant to come
    assert client.get("/reports/compliance.csv", query_string={**query, "as_of": now.isoformat()}).status_code == 200


def test_a_pinned_export_does_not_change_when_a_line_stamped_before_its_as_of_is_written_after_it(
        client, hotline, clock, desk):
    """The log only grows, but not in ``at`` order: a line can be written after a report was pinned and still be
    stamped before its ``as_of`` (a late job logging the instant it acted, a spooled status callback applied when
    the database is back, a long transaction). The pinned report is of the log as it had been written by then."""
    login_as(client, hotline, Role.MANAGER)
    query = {**WEEK, "as_of": "2026-11-30T07:00:00Z"}  # an hour ago: past the provisional window
    pinned = {path: client.get(path, query_string=query).get_data()
              for path in ("/reports/compliance.csv", "/reports/compliance.csv.sha256", "/reports/compliance.json")}
    desk.ack("R6NOBODY", "Bob", "2026-11-30 06:59", written="2026-11-30 09:00")  # stamped before the as_of
    for path, body in pinned.items():
        assert client.get(path, query_string=query).get_data() == body, path
    assert client.get("/reports/compliance.csv", query_string=WEEK).get_data() != pinned["/reports/compliance.csv"]


def test_a_report_as_of_the_last_minute_says_it_is_provisional_until_lines_being_written_then_are_in(
        client, hotline, clock, desk):
    """A transaction open at ``as_of`` may still commit a line written before it (the time limits end it within
    30 s): such a report says so, on the page and in a header of its downloads, and not once it is final."""
    login_as(client, hotline, Role.MANAGER)
    recent = {**WEEK, "as_of": "2026-11-30T07:59:30Z"}  # the clock: 08:00
    page = client.get("/reports/compliance", query_string=recent).get_data(as_text=True)
    notice = re.search(r'id="report-provisional">(.*?)</p>', page, re.S)
    # both instants in the report's time zone (the final time was in UTC beside the as_of in the zone)
    assert notice and ("Provisional</strong> until\n  Mon 2026-11-30 09:00:30 CET: a change being saved at "
                       "Mon 2026-11-30 08:59:30 CET") in notice[1]
    for path in ("/reports/compliance.csv", "/reports/compliance.csv.sha256", "/reports/compliance.json"):
        assert client.get(path, query_string=recent).headers["X-Report-Provisional-Until"] == "2026-11-30T08:00:30Z"
    clock.set(at("2026-11-30 08:00:31"))
    page = client.get("/reports/compliance", query_string=recent).get_data(as_text=True)
    assert 'id="report-provisional"' not in page
    assert "X-Report-Provisional-Until" not in client.get("/reports/compliance.csv", query_string=recent).headers
