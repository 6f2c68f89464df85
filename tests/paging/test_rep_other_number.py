"""A rep's page that fails for good goes to their other number (``phone_alt``) before their level gives up.

Probe Q (Q1): Alice on call, ``phone_alt`` in the on-call YAML; Twilio refused her page SMS (21610, she had texted
STOP) and her page call (21215, the account's geo permissions) for good: the level was declared unreached and the
managers paged, and nothing ever dialled the alternate number. Through the simulated Twilio over HTTP and scripted
phones that fail the test on any page nobody expected (a page to her other number on the happy path among them).
"""

from __future__ import annotations

from sqlalchemy import select

from app.dashboard.timeline import timeline
from app.models import DueStep, IncidentEvent, Page, Rep
from app.services.oncall_admin import save_policy
from tests.conftest import PUBLIC_BASE_URL, TEST_ACCOUNT_SID
from tests.paging.conftest import ALICE, BOB, MARIA
from tests.paging.test_twilio_failures import _signed_post, _work

ALICE_ALT = "+14155550112"
LANDLINE = "+442079460958"  # a fixed line: the customer gets no receipt SMS
HOTLINE_NUMBER = "+15005550006"
GEO_PERMISSIONS = 21215  # Twilio: "Account not authorized to call this number" (geo permissions)


def _alice_has_another_number(desk) -> None:
    with desk.hotline.db.transaction() as s:
        s.scalars(select(Rep).where(Rep.phone == ALICE)).one().phone_alt = ALICE_ALT


def _policy(desk, *channels: str) -> None:
    """The primary at once on ``channels``, the secondary at T+3, the managers at T+6."""
    levels = [{"delay_minutes": 0, "targets": [{"type": "schedule", "schedule": "primary", "channels": list(channels)}]},
              {"delay_minutes": 3, "targets": [{"type": "schedule", "schedule": "secondary"}]},
              {"delay_minutes": 6, "targets": [{"type": "managers"}]}]
    with desk.hotline.db.transaction() as s:
        save_policy(s, "test-policy", levels, is_default=True)


def _level_pages(desk, incident_id: int, level: int = 0) -> dict[tuple[str, str], Page]:
    """The escalation pages of ``level``, by (number, channel)."""
    with desk.hotline.db.session() as s:
        rows = s.scalars(select(Page).join(DueStep, DueStep.id == Page.step_id).where(
            Page.incident_id == incident_id, Page.purpose == "page", DueStep.level == level).order_by(Page.id))
        return {(p.to_number, str(p.channel)): p for p in rows}


def _events(desk, incident_id: int, kind: str) -> list[IncidentEvent]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(IncidentEvent).where(
            IncidentEvent.incident_id == incident_id, IncidentEvent.kind == kind).order_by(IncidentEvent.id)))


def _timeline(desk, incident_id: int) -> list[str]:
    with desk.hotline.db.session() as s:
        events = list(s.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident_id)
                                .order_by(IncidentEvent.id)))
        pages = list(s.scalars(select(Page).where(Page.incident_id == incident_id)))
        return [entry.text for entry in timeline(events, pages)]


def _creates_to(twilio, number: str) -> list[str]:
    """The resources of every create request Twilio received to ``number``, refused ones included."""
    return [r.path.rsplit("/", 1)[-1] for r in twilio.requests
            if r.method == "POST" and (r.params.get("To") or [""])[0] == number]


def test_a_rep_whose_number_twilio_refuses_for_good_is_paged_on_their_other_number_and_acks_there(
        desk, network, twilio):
    """Q1 as the probe saw it: SMS refused 21610, call refused 21215. Her other number gets the same SMS and call, the
    managers are not paged, and her key press on the other number's call acknowledges as her."""
    _alice_has_another_number(desk)
    twilio.opted_out.add(ALICE)  # her STOP never reached the hotline: Twilio refuses her SMS with 21610
    twilio.refuse_to(ALICE, GEO_PERMISSIONS, resource="Calls")
    other = network.phone(ALICE_ALT).expect_sms("SEV1").expect_call(press="1")
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()
    pages = _level_pages(desk, incident.id)
    assert {key: page.status for key, page in pages.items()} == {
        (ALICE, "sms"): "failed", (ALICE, "voice"): "failed",
        (ALICE_ALT, "sms"): "delivered", (ALICE_ALT, "voice"): "answered"}
    assert "21610" in pages[(ALICE, "sms")].last_error and "21215" in pages[(ALICE, "voice")].last_error
    assert {p.rep_id for p in pages.values()} == {pages[(ALICE, "sms")].rep_id}  # all four are Alice's pages
    assert other.unmet == [] and len(other.sms) == 1 and len(other.calls) == 1
    # the other number's call is no later than the first (a call refused at once rang nobody: nothing to space from)
    assert pages[(ALICE_ALT, "voice")].sent_at == desk.t0
    assert _events(desk, incident.id, "level_unreached") == []  # and nobody else was paged (the phones are strict)
    with desk.hotline.db.session() as s:
        alice = s.scalars(select(Rep).where(Rep.phone == ALICE)).one()
    assert desk.incident(incident.id).acknowledged_by == alice.id
    lines = [(e.detail["page_id"], e.detail["other_page_id"]) for e in _events(desk, incident.id,
                                                                              "page_failed_other_number")]
    assert sorted(lines) == sorted([(pages[(ALICE, "sms")].id, pages[(ALICE_ALT, "sms")].id),
                                    (pages[(ALICE, "voice")].id, pages[(ALICE_ALT, "voice")].id)])
    words = _timeline(desk, incident.id)
    assert "SMS page to Alice Primary failed; paging Alice Primary's other number instead" in words
    assert "Voice call page to Alice Primary failed; paging Alice Primary's other number instead" in words
    assert "SMS page to Alice Primary's other number sent" in words
    desk.at(minutes=7)  # acknowledged: no later level pages anyone
    assert network.unexpected == []


def test_a_level_whose_rep_is_refused_on_both_numbers_pages_the_managers_once_and_no_number_twice(
        desk, network, twilio):
    """Her other number refused too: only then is the level unreached (the managers paged at once, once), and no
    number of hers is tried twice on a channel (never back from the other number to the first)."""
    _alice_has_another_number(desk)
    _policy(desk, "sms", "voice")
    twilio.refuse_to(ALICE, code=21211)
    twilio.refuse_to(ALICE_ALT, code=21211)
    maria = network.phone(MARIA).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()
    pages = _level_pages(desk, incident.id)
    assert {key: page.status for key, page in pages.items()} == {
        (ALICE, "sms"): "failed", (ALICE, "voice"): "failed", (ALICE_ALT, "sms"): "failed",
        (ALICE_ALT, "voice"): "failed"}
    assert sorted(_creates_to(twilio, ALICE)) == sorted(_creates_to(twilio, ALICE_ALT)) == ["Calls.json",
                                                                                           "Messages.json"]
    [line] = _events(desk, incident.id, "level_unreached")
    failures = _events(desk, incident.id, "page_send_failed")
    assert {f.detail["page_id"] for f in failures} == {p.id for p in pages.values()}
    assert line.at == desk.t0 and line.id > max(f.id for f in failures)  # said by the last of the four to fail
    assert maria.unmet == [] and len(maria.sms) == 1


def test_a_failed_page_call_is_followed_by_a_call_to_the_other_number_at_once(desk, network, twilio):
    """A call Twilio took and then reported ``failed`` (it could not place it): her other number is called at once,
    not held a minute as if her phone had just rung; the level is not unreached while that call lives."""
    _alice_has_another_number(desk)
    _policy(desk, "voice")
    incident = desk.open_incident(caller=LANDLINE)
    _work(desk)  # the network stays silent: the test posts the call's fate
    first = _level_pages(desk, incident.id)[(ALICE, "voice")]
    assert first.sent_at == desk.t0
    _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/page/voice/status?page={first.id}", {
        "CallSid": first.twilio_sid, "CallStatus": "failed", "AccountSid": TEST_ACCOUNT_SID, "From": HOTLINE_NUMBER,
        "To": ALICE, "Direction": "outbound-api", "ApiVersion": "2010-04-01"})
    assert _events(desk, incident.id, "level_unreached") == []
    _work(desk)
    second = _level_pages(desk, incident.id)[(ALICE_ALT, "voice")]
    assert (second.status, second.sent_at, second.rep_id) == ("sent", desk.t0, first.rep_id)
    assert _events(desk, incident.id, "page_held") == []


def test_an_undelivered_page_sms_goes_to_the_other_number_and_the_first_is_called(desk, network, twilio):
    """An SMS Twilio reports undelivered (30005, unknown handset): the same SMS to her other number, and her own
    number called as before (it may take calls); nothing else."""
    _alice_has_another_number(desk)
    _policy(desk, "sms")
    alice = network.phone(ALICE).expect_sms("SEV1", fail="undelivered", error_code=30005).expect_call(answer=False)
    other = network.phone(ALICE_ALT).expect_sms("SEV1")
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()
    assert alice.unmet == [] and other.unmet == [] and len(other.sms) == 1 and other.calls == []
    pages = _level_pages(desk, incident.id)
    assert sorted(pages) == [(ALICE, "sms"), (ALICE, "voice"), (ALICE_ALT, "sms")]
    assert [e.detail["voice_page_id"] for e in _events(desk, incident.id, "page_sms_failed_calling")] == [
        pages[(ALICE, "voice")].id]


def test_a_rep_with_another_number_is_paged_on_one_number_when_nothing_fails(desk, network, twilio):
    """The happy path, and an unanswered call (not a failure: the phone rang): her other number is never paged."""
    _alice_has_another_number(desk)
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False).expect_call(answer=False)
    network.phone(BOB).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()
    desk.at(minutes=3)
    assert _creates_to(twilio, ALICE_ALT) == []
    assert _events(desk, incident.id, "page_failed_other_number") == []
