"""A rep whose number texted STOP: no page SMS is tried, the page says why, the rep is called at once,
START / UNSTOP / YES gives SMS back, and operators see it (/healthz, `hotline check`, the on-call page).

Through the signed SMS webhook and the simulated Twilio (which, like Twilio, refuses SMS to a number that
texted STOP with error 21610), scripted phones that fail the test on any SMS nobody expected.
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from app.config_check import oncall_problems
from app.config_report import CheckReport
from app.models import DueStep, Incident, IncidentEvent, Override, Page, Rep, Schedule, SmsOptOut
from app.models.user import Role
from app.services.oncall_admin import save_policy
from hotline_sim.twilio_records import ApiMessage, new_sid
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.integration.board_support import login_as, parse
from tests.paging.conftest import ALICE, BOB
from workers import watchdog

LANDLINE = "+442079460958"  # a fixed line: the customer gets no receipt SMS
_SIDS = itertools.count(1)


def _text_hotline(desk, sender: str, body: str) -> list[str]:
    """An SMS from ``sender`` to the hotline, seen by the simulated Twilio and signed like Twilio; our reply texts."""
    twilio, number = desk.network.twilio, desk.hotline.settings.twilio_number
    twilio.add_message(ApiMessage(sid=new_sid("SM"), to=number, from_=sender, body=body,
                                  date_created=desk.clock.now(), direction="inbound", status="received"))
    params = {"MessageSid": f"SM{next(_SIDS):032d}", "From": sender, "To": number, "Body": body,
              "AccountSid": twilio.account_sid}
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(f"{PUBLIC_BASE_URL}/twilio/sms", params)
    response = desk.client.post("/twilio/sms", data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    return [(m.findtext("Body") or m.text or "").strip()
            for m in ET.fromstring(response.get_data(as_text=True)).iter("Message")]


def _policy(desk, *channels: str) -> None:
    """One level: the primary on call, on ``channels`` only."""
    levels = [{"delay_minutes": 0, "targets": [{"type": "schedule", "schedule": "primary", "channels": list(channels)}]},
              {"delay_minutes": 5, "targets": [{"type": "schedule", "schedule": "secondary", "channels": ["sms"]}]}]
    with desk.hotline.db.transaction() as s:
        save_policy(s, "test-policy", levels, is_default=True)


def _sms_requests_to(desk, number: str) -> int:
    return sum(1 for r in desk.network.twilio.requests
               if r.method == "POST" and r.path.endswith("/Messages.json") and r.params.get("To") == [number])


def _page(desk, incident_id: int, to: str, channel: str, level: int = 0) -> Page:
    with desk.hotline.db.session() as s:
        return s.scalars(select(Page).join(DueStep, DueStep.id == Page.step_id).where(
            Page.incident_id == incident_id, Page.to_number == to, Page.channel == channel, Page.purpose == "page",
            DueStep.level == level)).one()


def _events(desk, incident_id: int | None, kind: str) -> list[IncidentEvent]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(IncidentEvent).where(
            IncidentEvent.incident_id.is_(incident_id) if incident_id is None else IncidentEvent.incident_id
            == incident_id, IncidentEvent.kind == kind).order_by(IncidentEvent.id)))


def _opt_outs(desk) -> list[SmsOptOut]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(SmsOptOut)))


def _stopped(desk, number: str = ALICE) -> None:
    assert _text_hotline(desk, number, "STOP") == []  # Twilio answers STOP itself
    assert [o.phone for o in _opt_outs(desk)] == [number]


def test_a_rep_who_texted_stop_is_called_at_once_and_no_sms_is_tried(desk, network):
    _stopped(desk)
    alice = network.phone(ALICE).expect_call(answer=False)  # an SMS to her would fail the test
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()

    assert _sms_requests_to(desk, ALICE) == 0  # never asked of Twilio
    sms, voice = _page(desk, incident.id, ALICE, "sms"), _page(desk, incident.id, ALICE, "voice")
    assert (sms.status, sms.attempts, sms.sent_at, sms.twilio_sid) == ("failed", 0, None, "")
    assert "opted out of SMS" in sms.last_error and "START" in sms.last_error
    assert voice.status != "failed" and voice.sent_at == desk.t0 and len(alice.calls) == 1
    [skipped] = _events(desk, incident.id, "page_not_sent_opted_out")
    assert skipped.detail["page_id"] == sms.id
    assert _events(desk, incident.id, "page_sent")[0].detail["page_id"] == voice.id  # no "sent" for the SMS


def test_an_sms_only_step_counts_the_page_failed_at_once_and_calls_the_rep(desk, network):
    _policy(desk, "sms")
    _stopped(desk)
    alice = network.phone(ALICE).expect_call(answer=False)
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()

    assert _sms_requests_to(desk, ALICE) == 0
    sms, voice = _page(desk, incident.id, ALICE, "sms"), _page(desk, incident.id, ALICE, "voice")
    assert sms.status == "failed" and sms.attempts == 0
    assert (voice.created_at, voice.sent_at, voice.step_id) == (desk.t0, desk.t0, sms.step_id)
    assert len(alice.calls) == 1
    [fallback] = _events(desk, incident.id, "page_sms_failed_calling")
    assert fallback.detail == {"page_id": sms.id, "voice_page_id": voice.id}


def test_a_stop_after_the_page_was_queued_stops_its_send(desk, network):
    _policy(desk, "sms")
    alice = network.phone(ALICE).expect_call(answer=False)
    incident = desk.open_incident(caller=LANDLINE)  # the page row is written; its job has not run yet
    assert _page(desk, incident.id, ALICE, "sms").status == "queued"
    _stopped(desk)
    desk.settle()

    assert _sms_requests_to(desk, ALICE) == 0
    sms, voice = _page(desk, incident.id, ALICE, "sms"), _page(desk, incident.id, ALICE, "voice")
    assert (sms.status, sms.attempts) == ("failed", 0) and "opted out of SMS" in sms.last_error
    assert voice.sent_at == desk.t0 and len(alice.calls) == 1


def test_twilio_21610_on_a_page_records_the_opt_out_and_the_next_page_is_not_tried(desk, network):
    desk.network.twilio.opted_out.add(ALICE)  # her STOP never reached us: Twilio refuses with 21610
    alice = network.phone(ALICE).expect_call(answer=False).expect_call(answer=False)
    first = desk.open_incident(caller=LANDLINE)
    desk.settle()
    assert _sms_requests_to(desk, ALICE) == 1
    assert "21610" in _page(desk, first.id, ALICE, "sms").last_error
    [opt_out] = _opt_outs(desk)
    assert (opt_out.phone, opt_out.source) == (ALICE, "twilio_21610")

    second = desk.open_incident(caller="+442079460959")
    desk.settle()
    assert _sms_requests_to(desk, ALICE) == 1  # not tried again
    assert _page(desk, second.id, ALICE, "sms").attempts == 0 and len(alice.calls) == 2


@pytest.mark.parametrize("word", ["START", "unstop", "Yes"])
def test_start_unstop_or_yes_gives_the_rep_sms_pages_again(desk, network, word):
    _stopped(desk)
    _text_hotline(desk, ALICE, word)
    assert _opt_outs(desk) == []
    assert len(_events(desk, None, "sms_opted_in")) == 1
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()
    assert _page(desk, incident.id, ALICE, "sms").status in ("sent", "delivered")


def test_yes_from_an_opted_out_rep_both_lifts_the_opt_out_and_acknowledges(desk, network):
    _stopped(desk)
    network.phone(ALICE).expect_call(answer=False)
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()
    replies = _text_hotline(desk, ALICE, "YES")
    assert _opt_outs(desk) == []
    assert replies and incident.reference in replies[0]
    with desk.hotline.db.session() as s:
        assert s.get(Incident, incident.id).acknowledged_at is not None


def test_operators_see_a_rep_on_call_who_cannot_get_sms_pages(desk, network, client, rq_listening):
    hotline = desk.hotline
    watchdog.tick(hotline, "a")
    assert client.get("/healthz").get_json()["warnings"] == []
    _stopped(desk)

    body = client.get("/healthz").get_json()
    assert body["status"] == "ok" and body["on_call"]["sms_opted_out"] == 1
    [warning] = body["warnings"]
    assert "cannot get SMS pages" in warning and "START" in warning and ALICE not in warning

    report = CheckReport()
    oncall_problems(hotline.settings, report, desk.clock.now(), strict=True)
    [line] = [f"{p.where}: {p.message} {p.fix}" for p in report.warnings if "Alice Primary" in p.message]
    assert "STOP" in line and f"START to the hotline number {hotline.settings.twilio_number}" in line
    assert not [p for p in report.errors if "SMS" in p.message]  # calls still reach her: a warning, not an error

    login_as(client, hotline, Role.REP, name="Rita Rep")
    doc = parse(client.get("/oncall"))
    primary = doc.find("section", id="schedule-primary").find(cls="now-on-call").text()
    assert "no SMS pages" in primary and "START" in primary
    secondary = doc.find("section", id="schedule-secondary").find(cls="now-on-call").text()
    assert "SMS" not in secondary

    _text_hotline(desk, ALICE, "START")
    assert client.get("/healthz").get_json()["warnings"] == []
    assert "no SMS pages" not in parse(client.get("/oncall")).find("section", id="schedule-primary").text()


def test_bob_is_still_texted_while_alice_is_opted_out(desk, network):
    _stopped(desk)
    network.phone(ALICE).expect_call(answer=False)
    network.phone(BOB).expect_sms("SEV1")
    _policy(desk, "sms", "voice")
    incident = desk.open_incident(caller=LANDLINE)
    desk.at(minutes=5)
    assert _page(desk, incident.id, BOB, "sms", level=1).status in ("sent", "delivered")


def test_a_page_sms_undelivered_with_21610_records_the_opt_out(desk, network):
    _policy(desk, "sms")
    network.phone(ALICE).expect_sms("SEV1", fail="undelivered", error_code=21610).expect_call(answer=False)
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()
    assert _page(desk, incident.id, ALICE, "sms").status == "undelivered"
    assert [(o.phone, o.source) for o in _opt_outs(desk)] == [(ALICE, "twilio_21610")]
    assert _page(desk, incident.id, ALICE, "voice").sent_at == desk.t0


def test_a_rep_who_texted_stop_and_comes_on_call_soon_is_named_by_check_before_the_shift(desk):
    """An outside probe: Kira texted STOP 29 minutes before her shift began; `hotline check` named her only once it
    ran (at night on her clock). It now names her, the schedule and the shift's start while she is not on call."""
    hotline, now = desk.hotline, desk.clock.now()
    kira_phone = "+14155550355"
    with hotline.db.transaction() as s:
        kira = Rep(name="Kira Next", phone=kira_phone, time_zone="Pacific/Auckland")
        s.add(kira)
        s.flush()
        primary = s.scalars(select(Schedule).where(Schedule.name == "primary")).one()
        s.add(Override(schedule_id=primary.id, rep_id=kira.id, starts_at=now + timedelta(hours=2),
                       ends_at=now + timedelta(hours=10), created_at=now))
    _stopped(desk, kira_phone)

    report = CheckReport()
    oncall_problems(hotline.settings, report, now, strict=True)
    [line] = [f"{p.where}: {p.message} {p.fix}" for p in report.warnings if "Kira Next" in p.message]
    start = (now + timedelta(hours=2)).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert line.startswith("reps[Kira Next].phone: ") and "schedule 'primary'" in line and start in line, line
    assert "STOP" in line and f"START to the hotline number {hotline.settings.twilio_number}" in line
    assert not [p for p in report.errors if "Kira" in p.message]  # calls will still reach her: a warning

    _text_hotline(desk, kira_phone, "START")
    report = CheckReport()
    oncall_problems(hotline.settings, report, now, strict=True)
    assert not [p for p in report.warnings if "Kira Next" in p.message]  # texts reach her again: nothing to say
