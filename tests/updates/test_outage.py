"""A known outage (issue 11): declared on the dashboard, 20 callers linked, one update and one resolution
reach every customer in their language; each incident keeps its own 15-minute callback.

Telephony is the in-memory simulated network (20 customers' pages would need 20 scripted reps);
e-mail goes to a real local SMTP server.
"""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from app.models import CustomerUpdate, DueStep, FollowUp, Incident, Outage, OutageLink, ResolutionProposal
from app.models.user import Role
from app.queue import JobQueue
from app.reports.updates import update_figures
from app.services.outages import statement_for_callers
from app.wiring import Hotline
from hotline_sim.phone import SimulatedCall, flask_transport
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.fakes import SimulatedTelephony
from tests.integration.dashboard_support import login, login_as, post_form
from tests.updates.backoffice import settle
from tests.updates.conftest import callback_over, verified_callback
from workers import context

_SIDS = itertools.count(1)  # each SMS its own MessageSid: a repeated one is a retry and gets the stored answer
ENGLISH = ["ann", "bea", "cat", "dan", "eve", "fay", "gus", "hal", "ivy", "jon", "kim", "lou", "max", "ned"]
GERMAN = ["otto", "paul", "rita", "sven", "tina", "uwe"]


@pytest.fixture
def hotline(settings, clock, redis_conn):
    """A hotline on the in-memory phone network (no scripted phones), real SQL, Redis and SMTP."""
    h = Hotline.build(settings, clock=clock, jobs=JobQueue(redis_conn, settings.queue_name),
                      telephony=SimulatedTelephony(clock))
    context.use(h)
    yield h
    context.use(None)
    h.db.dispose()


def _call(client, caller: str, name: str, german: bool, heard: list | None = None) -> str:
    """A customer calls and completes the intake (English or German); returns the call SID.

    ``heard`` gets what the caller heard right after choosing the language (before triage).
    """
    call = SimulatedCall(transport=flask_transport(client), base_url=PUBLIC_BASE_URL, auth_token=TEST_AUTH_TOKEN,
                         caller=caller)
    call.dial()
    first = call.press("2" if german else "1")
    if heard is not None:
        heard.append(" ".join(first.said))
    if german:
        call.say("beide")
        call.press("#")
        call.say(f"{name.title()} GmbH")
        call.say(f"{name.title()} Meier")
        call.press("1")
        call.say(f"{name} ät firma punkt de")
        call.press("1")
        call.say("Alle Einlieferungen schlagen fehl.")
    else:
        call.press("1")
        call.press("#")
        call.say(f"{name.title()} Mail")
        call.say(f"{name.title()} Smith")
        call.press("1")
        call.say(f"{name} at acme dot example")
        call.press("1")
        call.say("Every API call returns 500.")
    call.record(seconds=5)
    call.press("1")
    return call.call_sid


def _sms_reply(client, from_: str, body: str) -> str:
    """A customer's SMS to the hotline number, signed as Twilio signs it."""
    url = f"{PUBLIC_BASE_URL}/twilio/sms"
    params = {"MessageSid": f"SM{next(_SIDS):032d}", "From": from_, "To": "+15005550006",
              "Body": body, "AccountSid": "AC" + "0" * 32}
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(url, params)
    response = client.post("/twilio/sms", data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_outage_with_20_linked_incidents_updated_and_resolved_together(hotline, client, clock, smtp):
    telephony: SimulatedTelephony = hotline.telephony
    heard: list[str] = []
    before = _call(client, "+14155550999", "zed", german=False, heard=heard)  # before the outage: never linked
    maria = login_as(client, hotline, Role.MANAGER, name="Maria Manager")
    declared = post_form(client, "/outages", {"affected_service": "any", "what_fails": "API calls in the EU region time out",
                                              "what_fails_de": "API-Aufrufe in der EU-Region laufen ab",
                                              "since": "2026-11-26 02:40", "next_update_at": "2026-11-26 03:30"})
    assert declared.status_code == 302
    with hotline.db.session() as s:
        outage = s.scalars(select(Outage)).one()
        assert "API calls in the EU region time out, since 2:40 a.m. UTC" in statement_for_callers(s, "en-US",
                                                                                                  clock.now())
        assert "API-Aufrufe in der EU-Region laufen ab" in statement_for_callers(s, "de-DE", clock.now())

    customers = {}
    for n, name in enumerate(ENGLISH):
        customers[_call(client, f"+1415555{n + 200:04d}", name, german=False, heard=heard)] = f"+1415555{n + 200:04d}"
    for n, name in enumerate(GERMAN):
        customers[_call(client, f"+4915112345{n + 10:03d}", name, german=True, heard=heard)] = \
            f"+4915112345{n + 10:03d}"
    # the statement right after the greeting, before triage, in the caller's language (never before the outage)
    assert "EU region" not in heard[0] and "EU-Region" not in heard[0]
    assert all("API calls in the EU region time out" in h for h in heard[1:15])
    assert all("API-Aufrufe in der EU-Region laufen ab" in h for h in heard[15:])
    # its times on the caller's clock, as the call's deadline is spoken: never UTC to a caller in San Francisco
    assert all("since 6:40 p.m. PST. Our next update is due by 7:30 p.m. PST." in h for h in heard[1:15])
    assert all("seit 3:40 Uhr (MEZ). Das nächste Update folgt bis 4:30 Uhr (MEZ)." in h for h in heard[15:])
    with hotline.db.transaction() as s:  # each customer was called back and answered (a verified contact)
        for incident in s.scalars(select(Incident)):
            verified_callback(s, incident, clock.now())
            callback_over(s, incident, clock.now())  # and the call ended: no engineer is on the phone at the resolve
    settle(hotline)

    with hotline.db.session() as s:
        linked = list(s.scalars(select(Incident).join(OutageLink, OutageLink.incident_id == Incident.id)
                                .where(OutageLink.outage_id == outage.id).order_by(Incident.id)))
        unlinked = s.scalars(select(Incident).where(Incident.call_sid == before)).one()
        assert len(linked) == 20 and unlinked not in linked
        assert sum(i.language == "de-DE" for i in linked) == 6
        for incident in linked:  # each keeps its own 15-minute callback
            breach = s.scalars(select(DueStep).where(DueStep.incident_id == incident.id,
                                                     DueStep.kind == "breach")).one()
            assert breach.due_at == incident.captured_at + timedelta(minutes=15) and breach.status == "pending"
    assert "Linked incidents (20)" in client.get(f"/outages/{outage.id}").get_data(as_text=True)

    # -- one update for the outage reaches every linked customer, each in their language
    clock.advance(minutes=5)
    sms_before = len(telephony.sms)
    next_at = (clock.now() + timedelta(minutes=20)).replace(second=0, microsecond=0)
    sent = post_form(client, f"/outages/{outage.id}/update", {
        "what_is_wrong": "A load balancer in the EU region drops connections", "expected_resolution": "04:00 UTC",
        "next_update_at": f"{next_at:%Y-%m-%d %H:%M}"})
    assert sent.status_code == 302
    settle(hotline)
    new_sms = telephony.sms[sms_before:]
    updates = [m for m in new_sms if "load balancer" in m.body]
    assert sorted(m.to for m in updates) == sorted(customers.values())
    # every customer is told the next update time the manager set (a probe's were told each incident's own interval)
    with hotline.db.session() as s:
        follow_ups = s.scalars(select(FollowUp).where(FollowUp.incident_id.in_([i.id for i in linked]))).all()
    assert {f.next_due_at for f in follow_ups} == {next_at}
    assert sum("Erwartete Behebung: 04:00 UTC" in m.body for m in updates) == 6
    assert sum("Expected resolution: 04:00 UTC" in m.body for m in updates) == 14
    mails = [m for m in smtp.inbox.messages if "load balancer" in m.get_content()]
    assert len(mails) == 20 and sum(m["Subject"].startswith("Sev-1-Vorfall") for m in mails) == 6
    with hotline.db.session() as s:
        assert s.scalars(select(CustomerUpdate).where(CustomerUpdate.incident_id == unlinked.id)).all() == []
        assert len(s.scalars(select(CustomerUpdate).where(CustomerUpdate.outage_id == outage.id)).all()) == 20

    # -- resolving the outage proposes resolution to every linked incident
    clock.advance(minutes=30)
    sms_before = len(telephony.sms)
    assert post_form(client, f"/outages/{outage.id}/resolve", {"summary": "load balancer replaced"}).status_code == 302
    settle(hotline)
    proposals = [m for m in telephony.sms[sms_before:] if "Reply YES" in m.body or "Antworten Sie JA" in m.body]
    assert sorted(m.to for m in proposals) == sorted(customers.values())
    with hotline.db.session() as s:
        assert len(s.scalars(select(ResolutionProposal).where(ResolutionProposal.outage_id == outage.id)).all()) == 20
        assert s.scalars(select(ResolutionProposal).where(ResolutionProposal.incident_id == unlinked.id)).all() == []

    # -- customers answer on their own: an English YES, a German JA, a NO, and one through the e-mail link
    numbers = list(customers.values())
    with hotline.db.session() as s:  # the reference each proposal SMS gave (a YES must name it)
        ref = dict(s.execute(select(Incident.callback_phone, Incident.reference)).all())
    assert "Incident" in _sms_reply(client, numbers[0], f"YES {ref[numbers[0]]}")
    assert "geschlossen" in _sms_reply(client, numbers[15], f"JA {ref[numbers[15]]}")
    assert "keep working" in _sms_reply(client, numbers[1], "no")
    link_mail = next(m for m in smtp.inbox.to("cat@acme.example") if "please confirm" in str(m["Subject"]))
    link = re.search(r"https://hotline\.example\.com(/resolution/\S+)", link_mail.get_content()).group(1)
    page = client.get(link)  # strict CSP: the page's look comes from the dashboard stylesheet, nothing inline
    assert page.status_code == 200 and "<style" not in page.get_data(as_text=True)
    assert "unsafe-inline" not in page.headers.get("Content-Security-Policy", "unsafe-inline")
    assert client.post(link, data={"answer": "confirm"}).status_code == 200

    # -- silence closes the rest after 72 hours, counted apart
    clock.advance(hours=72)
    settle(hotline)
    with hotline.db.session() as s:
        states = sorted(p.state for p in s.scalars(select(ResolutionProposal).where(
            ResolutionProposal.outage_id == outage.id)))
        assert states.count("confirmed") == 3 and states.count("rejected") == 1 and states.count("expired") == 16
        figures = update_figures(s, clock.now() - timedelta(days=5), clock.now() + timedelta(seconds=1))
    assert figures.confirmed == 3 and figures.confirmed_by == {"link": 1, "sms": 2}
    assert figures.unconfirmed == 16 and figures.rejected == 1 and figures.outage_linked_incidents == 20
    assert figures.updates_owed == 20 and figures.on_time == 20 and figures.punctuality_percent == 100.0
    login(client, maria.email)  # three days on: the dashboard session timed out
    report = client.get("/reports/updates?from=2026-11-20 00:00&to=2026-12-31 00:00").get_data(as_text=True)
    assert re.search(r"Incidents linked to an outage</th><td>20<", report)
    assert re.search(r"Resolved, not confirmed</th><td>16<", report)


def test_resolving_an_outage_names_the_incidents_it_could_not_ask_and_logs_why_on_each(hotline, client, clock):
    from app.models import IncidentEvent
    from app.services.outages import declare, resolve_outage

    with hotline.db.transaction() as s:
        declare(s, what_fails="API calls time out", since=clock.now(), by="Maria", now=clock.now())
    called_back = _call(client, "+14155550201", "ann", german=False)
    waiting = _call(client, "+14155550202", "bea", german=False)  # linked, but not called back yet
    with hotline.db.transaction() as s:
        incident = s.scalars(select(Incident).where(Incident.call_sid == called_back)).one()
        verified_callback(s, incident, clock.now())
        callback_over(s, incident, clock.now())
    clock.advance(minutes=11)  # the proposal waits 10 minutes after the callback's end
    with hotline.db.transaction() as s:
        outage = s.scalars(select(Outage)).one()
        result = resolve_outage(s, outage, summary="load balancer replaced", by="Maria", now=clock.now(),
                                settings=hotline.settings)
        skipped = s.scalars(select(Incident).where(Incident.call_sid == waiting)).one()
        why = s.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == skipped.id,
                                                    IncidentEvent.kind == "outage_resolution_not_proposed")).one()
    assert result.ok and "proposed to 1 incidents" in result.message
    assert f"Not proposed to 1 (each stays open; its timeline says why): {skipped.reference}." in result.message
    assert why.detail["outage_id"] == outage.id and "call" in why.detail["why"].lower()
    assert skipped.status == "open"


def test_an_outage_update_and_its_resolution_reach_a_german_caller_in_german(hotline, client, clock, smtp):
    """The caller chose German in the IVR: the outage's update and its resolution reach them in German words (the
    manager's German wording), not only in a German frame around the English text; the English caller reads English."""
    telephony: SimulatedTelephony = hotline.telephony
    login_as(client, hotline, Role.MANAGER, name="Maria Manager")
    post_form(client, "/outages", {"affected_service": "any", "what_fails": "API calls in the EU region time out",
                                   "what_fails_de": "API-Aufrufe in der EU-Region laufen ab"})
    english, german = "+14155550301", "+4915112345301"
    _call(client, english, "ann", german=False)
    _call(client, german, "otto", german=True)
    with hotline.db.transaction() as s:
        for incident in s.scalars(select(Incident)):
            verified_callback(s, incident, clock.now())
            callback_over(s, incident, clock.now())
        outage_id = s.scalars(select(Outage.id)).one()
    settle(hotline)

    clock.advance(minutes=5)
    before = len(telephony.sms)
    page = post_form(client, f"/outages/{outage_id}/update", {
        "what_is_wrong": "A load balancer in the EU region drops connections", "expected_resolution": "04:00 UTC",
        "workaround": "Use the US endpoint",
        "what_is_wrong_de": "Ein Load-Balancer in der EU-Region trennt Verbindungen",
        "workaround_de": "Nutzen Sie den US-Endpunkt"}, follow_redirects=True).get_data(as_text=True)
    assert "Outage update sent to 2 incidents." in page
    settle(hotline)
    [to_otto] = [m.body for m in telephony.sms[before:] if m.to == german]
    [to_ann] = [m.body for m in telephony.sms[before:] if m.to == english]
    assert "Ein Load-Balancer in der EU-Region trennt Verbindungen" in to_otto and "load balancer" not in to_otto
    assert "Umgehung: Nutzen Sie den US-Endpunkt" in to_otto and "Erwartete Behebung: 04:00 UTC" in to_otto
    assert "A load balancer in the EU region drops connections" in to_ann and "Workaround: Use the US endpoint" in to_ann
    [mail] = [m for m in smtp.inbox.to("otto@firma.de") if "Update" in str(m["Subject"])]
    assert "Was ist gestört: Ein Load-Balancer in der EU-Region trennt Verbindungen" in mail.get_content()
    assert "load balancer" not in mail.get_content()
    with hotline.db.session() as s:  # the row says what the customer was sent
        rows = {i.language: u for u, i in s.execute(select(CustomerUpdate, Incident).join(
            Incident, Incident.id == CustomerUpdate.incident_id))}
    assert rows["de-DE"].what_is_wrong == "Ein Load-Balancer in der EU-Region trennt Verbindungen"
    assert rows["en-US"].what_is_wrong == "A load balancer in the EU region drops connections"

    clock.advance(minutes=30)
    before = len(telephony.sms)
    post_form(client, f"/outages/{outage_id}/resolve", {"summary": "load balancer replaced",
                                                        "summary_de": "Load-Balancer ersetzt"})
    settle(hotline)
    [to_otto] = [m.body for m in telephony.sms[before:] if m.to == german]
    [to_ann] = [m.body for m in telephony.sms[before:] if m.to == english]
    assert "Wir halten Ihr Problem für gelöst: Load-Balancer ersetzt" in to_otto and "replaced" not in to_otto
    assert "We believe your problem is resolved: load balancer replaced" in to_ann


def test_an_outage_update_without_german_words_says_which_german_customers_read_english(hotline, client, clock, smtp):
    """No German wording given: the German customer still gets the update (never held back), and the manager is
    told that they read it in English."""
    login_as(client, hotline, Role.MANAGER, name="Maria Manager")
    post_form(client, "/outages", {"affected_service": "any", "what_fails": "API calls time out"})
    _call(client, "+4915112345302", "uwe", german=True)
    with hotline.db.transaction() as s:
        incident = s.scalars(select(Incident)).one()
        verified_callback(s, incident, clock.now())
        outage_id, reference = s.scalars(select(Outage.id)).one(), incident.reference
    page = post_form(client, f"/outages/{outage_id}/update", {"what_is_wrong": "A load balancer drops connections"},
                     follow_redirects=True).get_data(as_text=True)
    assert "Outage update sent to 1 incidents." in page
    assert f"1 German-speaking customer got the English words (no German wording was given): {reference}." in page


def test_an_outage_declared_with_an_offset_is_stored_at_its_instant_and_a_zone_name_is_refused(hotline, client, clock):
    """An outside probe's "since 2026-12-07 05:00 +01:00" was stored as 05:00 UTC (the offset dropped), and every
    caller heard the outage began an hour later than it did; "10:30 CET" was taken as 10:30 UTC."""
    login_as(client, hotline, Role.MANAGER, name="Maria Manager")
    now = clock.now()
    since, next_at = now - timedelta(minutes=30), now + timedelta(hours=1)
    written = {"since": (since + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M +01:00"),
               "next_update_at": (next_at - timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M-08:00")}
    assert post_form(client, "/outages", {"affected_service": "any", "what_fails": "API calls time out", **written}).status_code == 302
    with hotline.db.session() as s:
        outage = s.scalars(select(Outage)).one()
    assert (outage.since, outage.next_update_at) == (since.replace(second=0, microsecond=0),
                                                     next_at.replace(second=0, microsecond=0))
    refused = post_form(client, "/outages", {"affected_service": "any", "what_fails": "SMTP relay in EU", "since": "2026-12-07 05:00 CET"},
                        follow_redirects=True).get_data(as_text=True)
    assert "Give times as YYYY-MM-DD HH:MM (UTC), or with its offset" in refused
    page = post_form(client, f"/outages/{outage.id}/update", {"what_is_wrong": "A load balancer drops connections",
                                                             "next_update_at": "in an hour"},
                     follow_redirects=True).get_data(as_text=True)
    assert "Nothing was sent: give the next update&#39;s time as" in page
    with hotline.db.session() as s:
        assert s.scalars(select(Outage)).one().next_update_at == next_at.replace(second=0, microsecond=0)
        assert len(s.scalars(select(Outage)).all()) == 1


def test_a_manager_links_an_incident_opened_before_the_outage_and_it_gets_the_outage_update(hotline, client, clock,
                                                                                           smtp):
    """A probe: an incident opened a minute before the outage was declared could not be linked to it on the
    dashboard (only new ones are), so its customer never heard the outage's updates."""
    telephony: SimulatedTelephony = hotline.telephony
    earlier = _call(client, "+14155550301", "ann", german=False)  # before the outage: not linked at its opening
    login_as(client, hotline, Role.MANAGER, name="Maria Manager")
    assert post_form(client, "/outages", {"affected_service": "any", "what_fails": "API calls time out"}).status_code == 302
    with hotline.db.transaction() as s:
        verified_callback(s, s.scalars(select(Incident).where(Incident.call_sid == earlier)).one(), clock.now())
        outage_id = s.scalars(select(Outage.id)).one()
        reference = s.scalars(select(Incident.reference).where(Incident.call_sid == earlier)).one()
    page = client.get(f"/outages/{outage_id}").get_data(as_text=True)
    assert "Linked incidents (0)" in page and f'action="/outages/{outage_id}/link"' in page

    for wrong, said in (("999999", "No incident has the reference 999999"), (" ", "Give the reference of the incident to link")):
        post_form(client, f"/outages/{outage_id}/link", {"reference": wrong})
        assert said in client.get(f"/outages/{outage_id}").get_data(as_text=True)
    post_form(client, f"/outages/{outage_id}/link", {"reference": reference})
    page = client.get(f"/outages/{outage_id}").get_data(as_text=True)
    assert "Linked incidents (1)" in page and f"Incident {reference} linked" in page
    post_form(client, f"/outages/{outage_id}/link", {"reference": reference})
    assert "is linked to this outage already" in client.get(f"/outages/{outage_id}").get_data(as_text=True)

    before = len(telephony.sms)
    sent = post_form(client, f"/outages/{outage_id}/update", {"what_is_wrong": "A load balancer drops connections"})
    assert sent.status_code == 302
    settle(hotline)
    assert [m.body for m in telephony.sms[before:] if m.to == "+14155550301" and "load balancer" in m.body]
    post_form(client, f"/outages/{outage_id}/resolve", {"summary": "Replaced"})
    post_form(client, f"/outages/{outage_id}/link", {"reference": reference})
    assert "resolved already: nothing was linked" in client.get(f"/outages/{outage_id}").get_data(as_text=True)
