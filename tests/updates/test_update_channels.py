"""Issue 11 channels other than the whole-life story: dashboard forms, the owner's SMS commands, the
repeat caller's keypad (service side), non-critical callers, and the interval's bounds."""

from __future__ import annotations

import itertools
import re
from dataclasses import fields
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from twilio.request_validator import RequestValidator

from app.models import (
    CustomerUpdate,
    Delivery,
    DueStep,
    FollowUp,
    Incident,
    NonCriticalContact,
    ResolutionProposal,
)
from app.models.oncall import Rep
from app.models.user import Role
from app.oncall.records import parse_rep, parse_schedule
from app.queue import JobQueue
from app.reports.updates import UpdateFigures, update_figures
from app.services.acks import Actor, lock_incident, resolve
from app.services.noncritical import record_non_critical
from app.services.oncall_admin import create_rep, save_schedule
from app.services.resolution import decide_by_call, spoken_proposal
from app.settings import Settings
from app.wiring import Hotline
from hotline_sim.phone import SimulatedCall, flask_transport
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.fakes import SimulatedTelephony
from tests.integration.dashboard_support import login_as, post_form
from tests.updates.backoffice import settle
from tests.updates.conftest import verified_callback
from workers import context

_SIDS = itertools.count(1)  # each SMS its own MessageSid: a repeated one is a retry and gets the stored answer
CUSTOMER, ALICE, BOB = "+14155550100", "+14155550111", "+14155550122"
ALICE_ALT = "+14155550133"  # a second phone of Alice's


@pytest.fixture
def hotline(settings, clock, redis_conn):
    """A hotline on the in-memory phone network with one rep, Alice."""
    h = Hotline.build(settings, clock=clock, jobs=JobQueue(redis_conn, settings.queue_name),
                      telephony=SimulatedTelephony(clock))
    with h.db.transaction() as session:
        create_rep(session, parse_rep({"name": "Alice Primary", "phone": ALICE}))
        create_rep(session, parse_rep({"name": "Bob Other", "phone": BOB}))
        # Alice is on call (an SMS acknowledgement needs a page or the pager); Bob is not
        save_schedule(session, parse_schedule({
            "name": "primary", "time_zone": "UTC",
            "layers": [{"rotation": "daily", "handoff_time": "00:00",
                        "starts_on": (clock.now().date() - timedelta(days=1)).isoformat(), "members": ["Alice Primary"]}]}), clock.now())
    context.use(h)
    yield h
    context.use(None)
    h.db.dispose()


def _incident(client, hotline, caller: str = CUSTOMER, email: bool = True) -> Incident:
    """Through the IVR, called back (a verified contact); ``email`` False: silent at the e-mail question."""
    call = SimulatedCall(transport=flask_transport(client), base_url=PUBLIC_BASE_URL, auth_token=TEST_AUTH_TOKEN,
                         caller=caller)
    call.dial()
    for step in ("1", "1", "#"):
        call.press(step)
    call.say("Acme Mail")
    call.say("Dana Smith")
    prompt = call.press("1")  # call back on this number
    if email:
        call.say("dana at acme dot example")
        call.press("1")
    else:
        for _ in range(4):  # the e-mail question is asked again, then left
            if not any("mail" in said.lower() for said in prompt.said[-2:]):
                break
            prompt = call.silence()
    call.say("Every API call returns 500.")
    call.record(seconds=5)
    call.press("1")
    with hotline.db.transaction() as s:  # the customer was called back (a proposal needs a verified contact)
        incident = s.scalars(select(Incident).where(Incident.call_sid == call.call_sid)).one()
        verified_callback(s, incident, hotline.clock.now())
    return incident


def _sms(client, from_: str, body: str) -> str:
    url = f"{PUBLIC_BASE_URL}/twilio/sms"
    params = {"MessageSid": f"SM{next(_SIDS):032d}", "From": from_,
              "To": "+15005550006", "Body": body, "AccountSid": "AC" + "0" * 32}
    response = client.post("/twilio/sms", data=params,
                           headers={"X-Twilio-Signature": RequestValidator(TEST_AUTH_TOKEN).compute_signature(url, params)})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _rows(hotline, model, **where):
    with hotline.db.session() as s:
        return list(s.scalars(select(model).filter_by(**where).order_by(model.id)))


def test_dashboard_interval_update_proposal_and_verbal_agreement(hotline, client, clock, smtp):
    incident = _incident(client, hotline)
    login_as(client, hotline, Role.MANAGER, name="Rita Rep")  # a rep paged for nothing may not (update_rights)
    base = f"/incidents/{incident.reference}/updates"
    assert post_form(client, f"{base}/interval", {"minutes": "10"}).status_code == 302
    assert "15 minutes to 24 hours, not 10 minutes" in client.get(base).get_data(as_text=True)
    # unchanged: the schedule the verified callback started (the default hour)
    assert [(f.interval_minutes, f.agreed_via) for f in _rows(hotline, FollowUp)] == [(60, "default")]
    post_form(client, f"{base}/interval", {"minutes": "120"})
    [follow_up] = _rows(hotline, FollowUp, incident_id=incident.id)
    assert follow_up.interval_minutes == 120 and follow_up.agreed_via == "dashboard"
    assert follow_up.next_due_at == clock.now() + timedelta(hours=2)
    steps = {(s.kind, s.level): s.due_at for s in _rows(hotline, DueStep, incident_id=incident.id)}
    assert steps[("update_reminder", 1)] == follow_up.next_due_at - timedelta(minutes=10)
    assert steps[("update_due", 1)] == follow_up.next_due_at

    clock.advance(minutes=30)
    post_form(client, base, {"what_is_wrong": "DNS for the API is broken", "expected_resolution": "one hour",
                             "workaround": "use api2.example"})
    settle(hotline)
    page = client.get(base).get_data(as_text=True)
    assert "DNS for the API is broken" in page and "on time" in page
    sms = [m for m in hotline.telephony.sms if m.to == CUSTOMER and "DNS" in m.body]
    assert len(sms) == 1 and "Workaround: use api2.example" in sms[0].body
    assert [m["Subject"] for m in smtp.inbox.to("dana@acme.example")] == [f"Sev-1 incident {incident.reference}: update"]

    post_form(client, f"{base}/verbal", {"who_agreed": ""})
    assert _rows(hotline, Incident, id=incident.id)[0].status == "open"  # who agreed is required
    post_form(client, f"{base}/verbal", {"who_agreed": "Dana Smith", "note": "confirmed on the phone"})
    settle(hotline)
    assert _rows(hotline, Incident, id=incident.id)[0].status == "resolved"
    [proposal] = _rows(hotline, ResolutionProposal, incident_id=incident.id)
    assert proposal.state == "confirmed" and proposal.decided_via == "verbal"
    assert proposal.agreed_by == "Dana Smith (recorded by Rita Rep)"
    # agreed on the phone: the customer is not asked again in writing
    assert {d.status for d in _rows(hotline, Delivery, proposal_id=proposal.id)} <= {"skipped"}
    assert not [m for m in hotline.telephony.sms if "Reply YES" in m.body]
    assert _rows(hotline, FollowUp)[0].closed_how == "verbal"


def test_rep_cannot_declare_an_outage(hotline, client):
    login_as(client, hotline, Role.REP)
    assert post_form(client, "/outages", {"what_fails": "everything"}).status_code == 403
    assert client.get("/reports/updates").status_code == 403
    assert client.get("/reports/updates.json").status_code == 403


@pytest.mark.parametrize(("query", "says"), [
    ("from=last+tuesday", "must be times as"), ("from=2026-11-30 14:00&to=2026-11-30 13:00", "end after"),
    # whatever followed the minutes was dropped and the time taken as UTC: another range than the one asked for
    ("from=2026-11-30 14:00 nonsense", "must be times as"), ("from=2026-11-30 14:00 CET", "must be times as"),
    ("to=2026-11-30 14:00:00.5", "must be times as")])
def test_the_updates_report_refuses_a_range_it_cannot_read_instead_of_showing_another(hotline, client, query, says):
    login_as(client, hotline, Role.MANAGER)
    response = client.get(f"/reports/updates?{query}")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and says in page and 'id="update-figures"' not in page
    exported = client.get(f"/reports/updates.json?{query}")
    assert exported.status_code == 400 and says in exported.get_json()["error"] and "updates" not in exported.get_json()


@pytest.mark.parametrize(("start", "end"), [
    ("2026-11-30 14:00", "2026-12-01 09:30"), ("2026-11-30T14:00Z", "2026-12-01T09:30:00 UTC"),
    ("2026-11-30T06:00:00-08:00", "2026-12-01T10:30+01:00"), ("2026-11-30 15:00 +0100", "2026-12-01 10:30%2B01:00"),
    ("2026-11-30T15:00:00+01:00", "2026-12-01T10:30:00+01:00")])  # "+" unencoded in a URL arrives as a space
def test_the_updates_report_takes_a_range_with_an_offset_at_its_instant(hotline, client, start, end):
    login_as(client, hotline, Role.MANAGER)
    body = client.get(f"/reports/updates.json?from={start}&to={end}").get_json()
    assert (body["range"]["from"], body["range"]["to"]) == ("2026-11-30T14:00:00Z", "2026-12-01T09:30:00Z")


def test_the_updates_report_links_its_range_as_json_and_the_json_has_every_figure_of_the_page(hotline, client,
                                                                                             clock):
    login_as(client, hotline, Role.MANAGER)
    page = client.get("/reports/updates?from=2026-11-30 14:00&to=2026-12-01 09:30").get_data(as_text=True)
    link = re.search(r'id="updates-json" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    body = client.get(link).get_json()
    # overdue_at: when the rounds overdue and unwritten were judged, the range's end or now if sooner
    overdue_at = min(datetime(2026, 12, 1, 9, 30, tzinfo=UTC), clock.now()).isoformat().replace("+00:00", "Z")
    assert body["range"] == {"from": "2026-11-30T14:00:00Z", "to": "2026-12-01T09:30:00Z", "end_excluded": True,
                             "tz": "UTC", "overdue_at": overdue_at}
    figures = body["updates"]
    assert set(figures) == {f.name for f in fields(UpdateFigures)} | {"punctuality_percent"}
    assert figures["updates_owed"] == 0 and figures["lateness"] == {"count": 0, "median": None, "p90": None,
                                                                     "p99": None, "max": None,
                                                                     "percentile_method": "nearest-rank"}


def test_the_updates_report_shows_a_managers_close_on_the_page_and_in_the_json(hotline, client, clock, smtp):
    incident = _incident(client, hotline)
    with hotline.db.transaction() as s:
        answer = resolve(s, lock_incident(s, incident.reference), Actor(name="Maria", via="dashboard", is_manager=True),
                         clock.now(), reason="the customer moved to another provider")
        assert answer.outcome == "resolved_by_manager"
    login_as(client, hotline, Role.MANAGER)
    day = clock.now().strftime("%Y-%m-%d")
    query = f"from={day} 00:00&to={(clock.now() + timedelta(days=1)).strftime('%Y-%m-%d')} 00:00"
    page = client.get(f"/reports/updates?{query}").get_data(as_text=True)
    assert re.search(r"Closed by a manager, without the customer's agreement</th><td id=\"closed-by-manager\">1<",
                     page)
    assert re.search(r"Resolved, not confirmed</th><td>0<", page)
    figures = client.get(f"/reports/updates.json?{query}").get_json()["updates"]
    assert (figures["closed_by_manager"], figures["confirmed"], figures["unconfirmed"]) == (1, 0, 0)
    assert figures["time_to_resolution"]["count"] == 0


def test_owner_sms_sets_interval_writes_update_and_proposes(hotline, client, clock, smtp):
    incident = _incident(client, hotline)
    ref = incident.reference
    # reps act on their own incidents: Bob (level 1, not yet due) was not paged; Alice was, at the opening
    assert "not paged for" in _sms(client, BOB, f"EVERY 30 {ref}")
    # unchanged: the schedule the verified callback started (the default hour)
    assert [(f.interval_minutes, f.agreed_via) for f in _rows(hotline, FollowUp)] == [(60, "default")]
    assert "acknowledged" in _sms(client, ALICE, f"ACK {ref}").lower()
    assert "every 30 minutes" in _sms(client, ALICE, f"EVERY 30 {ref}")
    [follow_up] = _rows(hotline, FollowUp, incident_id=incident.id)
    assert follow_up.interval_minutes == 30 and follow_up.agreed_via == "sms" and follow_up.owner_rep_id
    assert "not 5 minutes" in _sms(client, ALICE, f"EVERY 5 {ref}")
    clock.advance(minutes=40)  # 10 minutes late
    assert "not paged for" in _sms(client, BOB, f"UPDATE {ref} Bob was never paged for this")
    assert "10 min late" in _sms(client, ALICE, f"UPDATE {ref} Rebuilding the index")
    [update] = _rows(hotline, CustomerUpdate, incident_id=incident.id)
    assert update.round == 1 and update.late_seconds == 600 and update.written_by == "Alice Primary"
    assert "waiting for their answer" in _sms(client, ALICE, f"WORKAROUND {ref} use the SMTP relay in us-east")
    [proposal] = _rows(hotline, ResolutionProposal, incident_id=incident.id)
    assert proposal.kind == "workaround" and proposal.summary == "use the SMTP relay in us-east"
    # a customer's bare "YES" from another number is not theirs to give: the rep commands answer it
    assert "matches no open incident" in _sms(client, "+14155550177", "YES")
    assert _rows(hotline, ResolutionProposal)[0].state == "proposed"
    assert "is closed" in _sms(client, CUSTOMER, f"CONFIRM {ref}")
    assert _rows(hotline, ResolutionProposal)[0].state == "confirmed"
    assert _rows(hotline, Incident, id=incident.id)[0].status == "resolved"


def test_repeat_caller_hears_the_proposal_and_presses_2_then_1(hotline, client, clock, smtp):
    incident = _incident(client, hotline)
    with hotline.db.session() as s:
        assert spoken_proposal(s, incident.reference) is None
    _sms(client, ALICE, f"ACK {incident.reference}")
    _sms(client, ALICE, f"PROPOSE {incident.reference} the queue is drained")
    with hotline.db.transaction() as s:
        heard = spoken_proposal(s, incident.reference)
        assert "We believe your problem is resolved: the queue is drained" in heard and "Press 1" in heard
        assert decide_by_call(s, incident.reference, "2", clock.now()).ok
    [follow_up] = _rows(hotline, FollowUp, incident_id=incident.id)
    assert follow_up.state == "updating" and follow_up.next_due_at == clock.now() + timedelta(minutes=60)
    _sms(client, ALICE, f"PROPOSE {incident.reference} really drained now")
    with hotline.db.transaction() as s:
        assert decide_by_call(s, incident.reference, "1", clock.now()).ok
        assert not decide_by_call(s, incident.reference, "1", clock.now()).ok  # nothing awaits any more
    states = [(p.state, p.decided_via) for p in _rows(hotline, ResolutionProposal, incident_id=incident.id)]
    assert states == [("rejected", "call"), ("confirmed", "call")]


def test_non_critical_caller_is_logged_texted_and_counted_apart(hotline, clock):
    with hotline.db.transaction() as s:
        record_non_critical(s, call_sid="CA1", caller_id=CUSTOMER, language="en-US", now=clock.now(),
                            settings=hotline.settings, send_howto=True)
        record_non_critical(s, call_sid="CA1", caller_id=CUSTOMER, language="en-US", now=clock.now(),
                            settings=hotline.settings, send_howto=True)  # a retried webhook: once
        record_non_critical(s, call_sid="CA2", caller_id="+14155550188", language="de-DE", now=clock.now(),
                            settings=hotline.settings, send_howto=False)
    settle(hotline)
    assert len(_rows(hotline, NonCriticalContact)) == 2
    [sms] = hotline.telephony.sms
    assert sms.to == CUSTOMER and "To open a support ticket" in sms.body
    assert hotline.telephony.calls == []  # nobody paged
    with hotline.db.session() as s:
        figures = update_figures(s, clock.now() - timedelta(hours=1), clock.now() + timedelta(hours=1))
    assert figures.non_critical_contacts == 2


@pytest.mark.parametrize(("howto", "howto_de", "read"), [
    ("", "", "Sev-1-Hotline: Um ein Support-Ticket zu eröffnen, schreiben Sie an support@example.com oder nutzen Sie "
             "das Kunden-Dashboard."),
    ("Open a ticket at https://help.acme.example", "", "Sev-1-Hotline: Open a ticket at https://help.acme.example"),
    ("Open a ticket at https://help.acme.example", "Tickets unter https://hilfe.acme.example",
     "Sev-1-Hotline: Tickets unter https://hilfe.acme.example"),
])
def test_a_german_caller_who_asks_how_to_open_a_ticket_reads_it_in_german(hotline, client, howto, howto_de, read):
    """An outside probe's German caller, who chose German and asked for the SMS, read TICKET_HOWTO's English:
    TICKET_HOWTO_DE is their text; unset, the operator's own TICKET_HOWTO (their address), else a German
    placeholder."""
    hotline.settings = hotline.settings.with_overrides(ticket_howto=howto or Settings.ticket_howto,
                                                       ticket_howto_de=howto_de)
    call = SimulatedCall(transport=flask_transport(client), base_url=PUBLIC_BASE_URL, auth_token=TEST_AUTH_TOKEN,
                         caller="+4915112345678")
    call.dial()
    call.press("2")  # Deutsch
    call.press("9")  # not critical
    call.press("2")  # the SMS on how to open a ticket
    settle(hotline)
    [sms] = hotline.telephony.sms
    assert (sms.to, sms.body) == ("+4915112345678", read)


def test_the_proposal_webhook_refuses_a_call_that_did_not_prove_who_it_is(hotline, client, clock, smtp):
    incident = _incident(client, hotline)
    ref = incident.reference
    _sms(client, ALICE, f"ACK {ref}")
    _sms(client, ALICE, f"PROPOSE {ref} the queue is drained")
    call = SimulatedCall(transport=flask_transport(client), base_url=PUBLIC_BASE_URL, auth_token=TEST_AUTH_TOKEN,
                         caller=CUSTOMER)
    heard = call.dial(path=f"/twilio/updates/proposal?ref={ref}")  # no keyed reference or PIN on this call
    assert "the queue is drained" not in " ".join(heard.said)
    assert "No resolution awaits your answer" in " ".join(heard.said)
    [proposal] = _rows(hotline, ResolutionProposal, incident_id=incident.id)
    assert proposal.state == "proposed"


def test_repeat_caller_keys_the_reference_hears_the_proposal_and_confirms(hotline, client, clock, smtp):
    incident = _incident(client, hotline)
    ref = incident.reference
    _sms(client, ALICE, f"ACK {ref}")
    _sms(client, ALICE, f"PROPOSE {ref} the queue is drained")
    call = SimulatedCall(transport=flask_transport(client), base_url=PUBLIC_BASE_URL, auth_token=TEST_AUTH_TOKEN,
                         caller=CUSTOMER)
    call.dial()
    call.press("1")  # English
    asked = call.press("1")  # add information: first the reference from the receipt SMS
    assert "reference number" in " ".join(asked.said)
    heard = call.press(ref)  # proven: the proposal comes before anything else
    said = " ".join(heard.said)
    assert "We believe your problem is resolved: the queue is drained" in said and "Press 1 to confirm" in said
    assert f"Incident {', '.join(ref)} is closed" in " ".join(call.press("1").said)
    [proposal] = _rows(hotline, ResolutionProposal, incident_id=incident.id)
    assert proposal.state == "confirmed" and proposal.decided_via == "call"
    assert _rows(hotline, Incident, id=incident.id)[0].status == "resolved"


@pytest.mark.parametrize("key, words", [("1", "Thank you. Incident {ref} is closed."),
                                        ("2", "Thank you. We keep working on incident {ref}. Your next update will "
                                              "come by {due}.")])
def test_the_repeat_callers_answer_is_confirmed_in_spoken_words(hotline, client, clock, smtp, key, words):
    # said on the call as the intake says a reference (digit by digit), not the SMS answer's "Incident 123456"; a NO
    # hears when the next update comes, on their clock as the intake says a time
    from ivr_flows.prompts import say_time

    incident = _incident(client, hotline)
    ref = incident.reference
    _sms(client, ALICE, f"ACK {ref}")
    _sms(client, ALICE, f"PROPOSE {ref} the queue is drained")
    call = SimulatedCall(transport=flask_transport(client), base_url=PUBLIC_BASE_URL, auth_token=TEST_AUTH_TOKEN,
                         caller=CUSTOMER)
    call.dial()
    call.press("1")  # English
    call.press("1")  # add information: the reference
    assert "Press 1 to confirm" in " ".join(call.press(ref).said)
    said = " ".join(call.press(key).said)
    [follow_up] = _rows(hotline, FollowUp, incident_id=incident.id)
    due = say_time("en-US", follow_up.next_due_at, CUSTOMER) if follow_up.next_due_at else ""
    assert said == words.format(ref=", ".join(ref), due=due) and ref not in said
    assert key == "1" or follow_up.next_due_at == clock.now() + timedelta(minutes=follow_up.interval_minutes)


def test_a_repeat_caller_who_does_not_key_the_reference_never_hears_the_proposal(hotline, client, clock, smtp):
    incident = _incident(client, hotline)
    _sms(client, ALICE, f"ACK {incident.reference}")
    _sms(client, ALICE, f"PROPOSE {incident.reference} the queue is drained")
    call = SimulatedCall(transport=flask_transport(client), base_url=PUBLIC_BASE_URL, auth_token=TEST_AUTH_TOKEN,
                         caller=CUSTOMER)
    call.dial()
    call.press("1")
    call.press("1")
    wrong = call.press("999999")
    assert "the queue is drained" not in " ".join(wrong.said)
    assert [p.state for p in _rows(hotline, ResolutionProposal, incident_id=incident.id)] == ["proposed"]


def test_a_non_critical_caller_on_the_hotline_is_counted_apart_and_texted_on_request(hotline, client, clock):
    call = SimulatedCall(transport=flask_transport(client), base_url=PUBLIC_BASE_URL, auth_token=TEST_AUTH_TOKEN,
                         caller=CUSTOMER)
    call.dial()
    call.press("1")  # English
    menu = call.press("9")  # not a critical outage
    assert "press 2" in " ".join(menu.said)
    done = call.press("2")  # a text message on how to open a ticket
    assert done.kind == "hangup" and "text message on how to open a ticket" in " ".join(done.said)
    settle(hotline)
    [contact] = _rows(hotline, NonCriticalContact)
    assert contact.call_sid == call.call_sid and contact.sms_to == CUSTOMER
    [sms] = hotline.telephony.sms
    assert sms.to == CUSTOMER and "To open a support ticket" in sms.body
    assert _rows(hotline, Incident) == [] and hotline.telephony.calls == []  # nobody paged, no incident
    other = SimulatedCall(transport=flask_transport(client), base_url=PUBLIC_BASE_URL, auth_token=TEST_AUTH_TOKEN,
                          caller="+14155550177")
    other.dial()
    other.press("1")
    other.press("9")
    other.hang_up()  # logged as a contact, no SMS
    with hotline.db.session() as s:
        assert update_figures(s, clock.now() - timedelta(hours=1), clock.now() + timedelta(hours=1)) \
            .non_critical_contacts == 2
    assert len(hotline.telephony.sms) == 1


def test_the_interval_keypad_names_the_interval_in_force_when_no_key_changes_it(hotline, client):
    from app.models import Callback
    from app.services.updates import agree_interval

    incident = _incident(client, hotline)
    with hotline.db.transaction() as s:  # agreed at an earlier callback: every 30 minutes
        assert agree_interval(s, s.get(Incident, incident.id), 30, via="keypad", by="Alice Primary",
                              now=hotline.clock.now()).ok
        callback_id = s.scalars(select(Callback.id).where(Callback.incident_id == incident.id)).one()
    url = f"{PUBLIC_BASE_URL}/twilio/updates/interval?callback={callback_id}"
    params = {"CallSid": "CA" + "9" * 32, "Digits": "9", "AccountSid": "AC" + "0" * 32}
    answer = client.post(url.removeprefix(PUBLIC_BASE_URL), data=params,
                         headers={"X-Twilio-Signature": RequestValidator(TEST_AUTH_TOKEN).compute_signature(url, params)})
    assert "No interval was changed: updates every 30 minutes." in answer.get_data(as_text=True)



@pytest.mark.parametrize("body", ["Update: {ref} Rebuilding the index", "“UPDATE” {ref} Rebuilding the index",
                                  "update #{ref} Rebuilding the index"])
def test_an_update_command_with_punctuation_is_an_update(hotline, client, clock, smtp, body):
    incident = _incident(client, hotline)
    ref = incident.reference
    assert "acknowledged" in _sms(client, ALICE, f"ACK {ref}").lower()
    answer = _sms(client, ALICE, body.format(ref=ref))
    assert "not understood" not in answer and "Commands:" not in answer
    [written] = _rows(hotline, CustomerUpdate, incident_id=incident.id)
    assert written.what_is_wrong == "Rebuilding the index" and written.written_by == "Alice Primary"


def _colleagues_number(hotline, rep_phone: str, number: str) -> None:
    """The customer's callback number is also a rep's (a colleague reported the outage from their phone)."""
    with hotline.db.transaction() as s:
        s.execute(update(Rep).where(Rep.phone == rep_phone).values(phone_alt=number))


def test_a_yes_from_a_reps_number_that_awaits_their_own_yes_is_the_customers_agreement(hotline, client, clock, smtp):
    incident = _incident(client, hotline)
    _colleagues_number(hotline, BOB, CUSTOMER)  # Bob was never paged: his YES can only be the customer's
    _sms(client, ALICE, f"ACK {incident.reference}")
    _sms(client, ALICE, f"PROPOSE {incident.reference} the queue is drained")
    assert f"reply YES {incident.reference}" in _sms(client, CUSTOMER, "Yes")  # a YES must name it
    assert "is closed" in _sms(client, CUSTOMER, f"Yes {incident.reference}")
    assert _rows(hotline, ResolutionProposal)[0].state == "confirmed"
    assert _rows(hotline, Incident, id=incident.id)[0].status == "resolved"


def test_a_bare_yes_that_could_be_an_ack_or_the_customers_agreement_changes_nothing(hotline, client, clock, smtp):
    paged = _incident(client, hotline)  # Alice is paged for it and has not acknowledged
    with hotline.db.transaction() as s:  # its callback is not made yet: Alice's page still needs her
        s.execute(update(Incident).where(Incident.id == paged.id).values(callback_answered_at=None))
    own = _incident(client, hotline, caller=ALICE_ALT)
    _colleagues_number(hotline, ALICE, ALICE_ALT)
    _sms(client, ALICE, f"ACK {own.reference}")
    _sms(client, ALICE, f"PROPOSE {own.reference} the queue is drained")
    answer = _sms(client, ALICE_ALT, "YES")
    assert f"acknowledge your page ({paged.reference})" in answer and f"your own incident ({own.reference})" in answer
    assert "Nothing was changed" in answer
    assert _rows(hotline, Incident, id=paged.id)[0].acknowledged_at is None
    assert _rows(hotline, ResolutionProposal, incident_id=own.id)[0].state == "proposed"
    assert "is closed" in _sms(client, ALICE_ALT, f"YES {own.reference}")  # named: the customer's agreement
    assert _rows(hotline, ResolutionProposal, incident_id=own.id)[0].state == "confirmed"
    assert "acknowledged" in _sms(client, ALICE_ALT, f"YES {paged.reference}").lower()  # named: Alice's ACK
    assert _rows(hotline, Incident, id=paged.id)[0].acknowledged_at is not None


def test_the_same_update_sent_twice_in_a_row_reaches_the_customer_once(hotline, client, clock, smtp):
    """A double click on Send (or the form sent again from the browser's history, or the same text by SMS too):
    the customer gets the update once, the rep is told it went already, and it answers one round, not two."""
    incident = _incident(client, hotline)
    login_as(client, hotline, Role.MANAGER, name="Rita Rep")  # a rep paged for nothing may not (update_rights)
    base = f"/incidents/{incident.reference}/updates"
    form = {"what_is_wrong": "DNS for the API is broken", "expected_resolution": "one hour"}
    clock.advance(minutes=20)
    post_form(client, base, form)
    post_form(client, base, form)
    settle(hotline)
    assert "was already sent" in client.get(base).get_data(as_text=True)
    assert len([m for m in hotline.telephony.sms if m.to == CUSTOMER and "DNS for the API" in m.body]) == 1
    assert len(smtp.inbox.to("dana@acme.example")) == 1
    assert [u.round for u in _rows(hotline, CustomerUpdate, incident_id=incident.id)] == [1]
    clock.advance(minutes=30)  # the same words later are a new update
    post_form(client, base, form)
    settle(hotline)
    assert [u.round for u in _rows(hotline, CustomerUpdate, incident_id=incident.id)] == [1, 2]


def test_a_customer_asked_only_by_sms_is_told_that_silence_closes_the_incident(hotline, client, clock, smtp):
    """Silence for RESOLUTION_SILENCE_HOURS closes the incident as resolved, not confirmed: the e-mail says so, and
    so must the SMS, the only thing a customer without an e-mail address reads."""
    incident = _incident(client, hotline, email=False)
    ref = incident.reference
    _sms(client, ALICE, f"ACK {ref}")
    assert "waiting for their answer" in _sms(client, ALICE, f"PROPOSE {ref} the queue is drained")
    settle(hotline)
    [ask] = [m.body for m in hotline.telephony.sms if m.to == CUSTOMER and f"Reply YES {ref}" in m.body]
    hours = hotline.settings.resolution_silence_hours
    assert f"Without an answer within {hours} hours we close it as resolved" in ask
    assert _rows(hotline, Delivery, incident_id=incident.id, channel="email") == []


def test_the_updates_report_takes_the_compliance_reports_local_dates_and_zone(hotline, client, clock, smtp):
    """Probe G F4: ``start``/``end`` (the compliance report's parameters) were dropped without a word and the last
    7 days answered instead; a manager comparing both reports for a period compared different periods."""
    incident = _incident(client, hotline)
    with hotline.db.transaction() as s:  # closed at 2026-11-26 03:00 UTC: 19:00 the evening before in Los Angeles
        resolve(s, lock_incident(s, incident.reference), Actor(name="Maria", via="dashboard", is_manager=True),
                clock.now(), reason="the customer moved to another provider")
    login_as(client, hotline, Role.MANAGER)
    pacific = client.get("/reports/updates.json?start=2026-11-25&end=2026-11-26&tz=America/Los_Angeles").get_json()
    # "tz" names the dates' zone, as the compliance export's range does (from and to stay instants in UTC)
    assert pacific["range"] == {"from": "2026-11-25T08:00:00Z", "to": "2026-11-26T08:00:00Z", "end_excluded": True,
                                "start": "2026-11-25", "end": "2026-11-26", "tz": "America/Los_Angeles",
                                "overdue_at": min(datetime(2026, 11, 26, 8, tzinfo=UTC), clock.now()).isoformat()
                                .replace("+00:00", "Z")}
    assert pacific["updates"]["closed_by_manager"] == 1
    later = client.get("/reports/updates.json?start=2026-11-26&end=2026-11-27&tz=America/Los_Angeles").get_json()
    assert later["range"]["from"] == "2026-11-26T08:00:00Z" and later["updates"]["closed_by_manager"] == 0
    utc = client.get("/reports/updates.json?start=2026-11-26&end=2026-11-27").get_json()  # tz defaults to UTC
    assert (utc["range"]["from"], utc["range"]["to"]) == ("2026-11-26T00:00:00Z", "2026-11-27T00:00:00Z")
    assert utc["updates"]["closed_by_manager"] == 1
    page = client.get("/reports/updates?start=2026-11-26&end=2026-11-27&tz=America/Los_Angeles").get_data(as_text=True)
    assert "Local dates 2026-11-26 until 2026-11-27, not included (America/Los_Angeles)" in page
    assert re.search(r'id="closed-by-manager">0<', page)
    link = re.search(r'id="updates-json" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert client.get(link).get_json()["range"] == later["range"]  # its JSON link carries the dates and the zone


@pytest.mark.parametrize(("query", "says"), [
    ("start=2026-11-25&from=2026-11-25 00:00", "either as start, end and tz"),
    ("tz=Europe/Berlin&to=2026-11-26 00:00", "either as start, end and tz"),
    ("start=25.11.2026", "is not a date: use YYYY-MM-DD"), ("start=2026-11-26&end=2026-11-25", "end date must be after"),
    ("tz=Europe/Berlinn", "time zone"), ("start=2026-11-25&as_of=2026-11-26T00:00:00Z", "leave as_of out")])
def test_the_updates_report_refuses_a_mix_of_ranges_or_dates_it_cannot_read(hotline, client, query, says):
    login_as(client, hotline, Role.MANAGER)
    response = client.get(f"/reports/updates?{query}")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and says in page.replace("&#39;", "'") and 'id="update-figures"' not in page
    exported = client.get(f"/reports/updates.json?{query}")
    assert exported.status_code == 400 and says in exported.get_json()["error"] and "updates" not in exported.get_json()


def test_the_compliance_reports_link_to_the_updates_report_carries_its_dates_and_zone(hotline, client):
    login_as(client, hotline, Role.MANAGER)
    page = client.get("/reports/compliance?start=2026-11-20&end=2026-11-27&tz=Asia/Kolkata").get_data(as_text=True)
    link = re.search(r'id="updates-report" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert link == "/reports/updates?start=2026-11-20&end=2026-11-27&tz=Asia/Kolkata"
    updates = client.get(link).get_data(as_text=True)
    assert "Local dates 2026-11-20 until 2026-11-27, not included (Asia/Kolkata): from 2026-11-19 18:30 to " \
           "2026-11-26 18:30 UTC" in updates
