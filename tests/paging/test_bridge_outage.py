"""A bridged callback whose webhooks meet a database outage (probe AA).

AA1: the customer pressed the key while the database was unreachable. The outage's answer bridged the legs and
recorded nothing; once the database was back, the end reports (the rep's ``<Dial action>`` with ``DialBridged=true``
and 43 s, the legs' final statuses) closed the callback "picked up, no key pressed": the rep heard "not connected",
the customer was texted "we tried to call you", AT RISK and breach pages followed. Now the key press is kept in the
spool (the signed request proves it), an end report applies it before anything else, and a bridge with no key press
on record proves one (the whisper's only way to the bridge is the key). AA3: the whisper is asked in the outage, and
the person who answered is not counted a voicemail. AA4: the rep hears a neutral end when the ``<Dial action>``
meets the outage. BW1: a key press only the bridge proves counts Twilio's duration less the longest the detection and
the whisper before the key can take: a 43-second duration was 37 s of conversation only if the key came 6 s after the
answer. BW2: a message call's voicemail answering in the outage is connected to the rep (its URL says it is a message
call), not asked for a key nobody will press.

Twilio's requests are played signed (``test_callback_proof``'s helpers); the ones in the outage go to a web app on
the same data dir whose database cannot be reached (``test_status_callback_outage``).
"""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime
from xml.etree import ElementTree

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from app.models import Callback, IncidentEvent, Page
from app.services.spool import SPOOL_NAME
from tests.conftest import PUBLIC_BASE_URL, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN
from tests.faults.test_status_callback_outage import _web_without_database
from tests.paging.conftest import ALICE, CUSTOMER
from tests.paging.test_at_risk_unproven_callback import _at, _callback_by_sms
from tests.paging.test_callback_proof import _leg, _leg_sid, _leg_status, _press_key, _step_outcome, _whisper
from tests.paging.test_twilio_failures import HOTLINE_NUMBER, _signed_post, _work

ANSWERED, KEYED, ENDED = timedelta(minutes=2, seconds=30), timedelta(minutes=2, seconds=36), timedelta(minutes=3, seconds=13)
LONG_TALK = timedelta(minutes=4)  # a duration no detection and whisper before the key can account for
NOT_CONNECTED = "did not press a key"


def _post(client, url: str, params: dict[str, str]) -> str:
    """POST to ``client`` (the web app in the outage) signed like Twilio; its answer."""
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(url, params)
    response = client.post(url.removeprefix(PUBLIC_BASE_URL), data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def _key_url(callback: Callback) -> str:
    return f"{PUBLIC_BASE_URL}/twilio/bridge/customer-confirm?callback={callback.id}"


def _dial(callback: Callback, bridged: str = "true", seconds: str = "43", **more: str) -> tuple[str, dict[str, str]]:
    """The rep's ``<Dial action>``: the customer's leg completed after ``seconds``."""
    return f"{PUBLIC_BASE_URL}/twilio/bridge/dial-done?callback={callback.id}", {
        "CallSid": callback.rep_call_sid, "AccountSid": TEST_ACCOUNT_SID, "From": HOTLINE_NUMBER, "To": ALICE,
        "CallStatus": "in-progress", "DialCallStatus": "completed", "DialCallSid": _leg_sid(callback),
        "DialCallDuration": seconds, "DialBridged": bridged, **more}


def _rep_status(desk, callback: Callback) -> None:
    _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/bridge/rep-status?callback={callback.id}", {
        "CallSid": callback.rep_call_sid, "AccountSid": TEST_ACCOUNT_SID, "From": HOTLINE_NUMBER, "To": ALICE,
        "CallStatus": "completed", "CallDuration": "80"})


def _keyed_in_the_outage(desk, network, tmp_path) -> Callback:
    """Alice's callback: the customer answers at T+2:30 (the database up) and presses the key at T+2:36, while the
    database cannot be reached: the legs are bridged and the key press is kept in the spool."""
    callback = _callback_by_sms(desk, network)
    desk.clock.set(desk.t0 + ANSWERED)
    assert "<Gather" in _whisper(desk, callback)
    _leg_status(desk, callback, "in-progress", ANSWERED.total_seconds())
    desk.clock.set(desk.t0 + KEYED)
    with _web_without_database(desk.hotline, tmp_path) as client:
        answer = _post(client, _key_url(callback), _leg(callback, CallStatus="in-progress", Digits="1"))
    assert "<Hangup" not in answer and "<Say" not in answer  # an empty <Response>: the legs are bridged
    assert _row(desk, callback).person_confirmed_at is None  # nothing written: the database is down
    return callback


def _row(desk, callback: Callback) -> Callback:
    with desk.hotline.db.session() as s:
        return s.get(Callback, callback.id)


def _spooled_paths(desk) -> list[str]:
    import json

    path = desk.hotline.settings.data_dir / SPOOL_NAME
    return [json.loads(line)["path"] for line in path.read_text().splitlines()] if path.exists() else []


def _customer_sms(desk) -> list[str]:
    return [m.body for m in desk.network.twilio.messages if m.to == CUSTOMER]


def _kinds(desk, incident_id: int) -> list[str]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(IncidentEvent.kind).where(IncidentEvent.incident_id == incident_id)
                              .order_by(IncidentEvent.id)))


def _met_without_alarm(desk, callback: Callback, talking_since) -> None:
    """Met at the answer; the key press on record at ``talking_since``; no "we tried" SMS, no breach."""
    row = _row(desk, callback)
    assert row.outcome == "met" and row.answered_at == desk.t0 + ANSWERED + timedelta(seconds=1)  # Twilio's second
    assert row.person_confirmed_at == talking_since
    kinds = _kinds(desk, callback.incident_id)
    assert "callback_met" in kinds and "callback_attempted" not in kinds
    _at(desk, 16)  # past the deadline (15 minutes): the spool replayed, nothing more to chase
    assert _spooled_paths(desk) == []
    assert _row(desk, callback).outcome == "met"
    assert _step_outcome(desk, callback.incident_id, "breach") == "met"
    assert not any("tried to call you" in body for body in _customer_sms(desk))
    with desk.hotline.db.session() as s:
        purposes = set(s.scalars(select(Page.purpose).where(Page.incident_id == callback.incident_id)))
    assert not purposes & {"callback_missed", "breach", "at_risk"}


@pytest.mark.every_database
@pytest.mark.parametrize("order", ["dial_first", "leg_first"])
def test_a_key_press_kept_in_the_outage_is_applied_before_the_end_reports_that_come_before_its_replay(
        desk, network, tmp_path, order):
    """Probe AA1: the database back, the end reports come before the spool's replay, in either order: the kept key
    press is applied first, at the time its request was heard (the key was pressed by then), and the callback is
    met; the rep is asked the update interval, never told "not connected"."""
    callback = _keyed_in_the_outage(desk, network, tmp_path)
    assert _spooled_paths(desk) == ["/twilio/bridge/customer-confirm"]
    desk.clock.set(desk.t0 + ENDED)
    if order == "leg_first":
        _leg_status(desk, callback, "completed", ENDED.total_seconds(), CallDuration="43")
    twiml = _signed_post(desk, *_dial(callback)).get_data(as_text=True)
    assert NOT_CONNECTED not in twiml and "/twilio/updates/interval" in twiml
    if order == "dial_first":
        _leg_status(desk, callback, "completed", ENDED.total_seconds(), CallDuration="43")
    _rep_status(desk, callback)
    _met_without_alarm(desk, callback, desk.t0 + KEYED)


def test_a_key_press_kept_in_the_outage_and_replayed_first_counts_the_callback(desk, network, tmp_path):
    """The spool replayed before the end reports: the key press counts as it would have when heard."""
    callback = _keyed_in_the_outage(desk, network, tmp_path)
    desk.clock.set(desk.t0 + KEYED + timedelta(seconds=30))
    _work(desk)  # the watchdog replays the spool
    assert _spooled_paths(desk) == [] and _row(desk, callback).person_confirmed_at == desk.t0 + KEYED
    desk.clock.set(desk.t0 + ENDED)
    assert "/twilio/updates/interval" in _signed_post(desk, *_dial(callback)).get_data(as_text=True)
    _leg_status(desk, callback, "completed", ENDED.total_seconds(), CallDuration="43")
    _rep_status(desk, callback)
    _met_without_alarm(desk, callback, desk.t0 + KEYED)


@pytest.mark.every_database
def test_a_bridge_with_no_key_press_on_record_proves_one_at_the_dials_end(desk, network, tmp_path):
    """The kept key press is not on this host (another web host's spool, or none could be written): the bridge
    proves it, since the whisper leads there only by the key. Counted at the dial's end as heard (the latest
    instant the hotline can prove the key press by); the answer's own time decides met; the legs' ends after it
    withdraw nothing."""
    callback = _keyed_in_the_outage(desk, network, tmp_path)
    (desk.hotline.settings.data_dir / SPOOL_NAME).unlink()
    ended, seconds = ANSWERED + LONG_TALK, str(int(LONG_TALK.total_seconds()))
    desk.clock.set(desk.t0 + ended)
    twiml = _signed_post(desk, *_dial(callback, seconds=seconds)).get_data(as_text=True)
    assert NOT_CONNECTED not in twiml and "/twilio/updates/interval" in twiml
    desk.clock.set(desk.t0 + ended + timedelta(seconds=1))
    _leg_status(desk, callback, "completed", ended.total_seconds(), CallDuration=seconds)
    _rep_status(desk, callback)
    _met_without_alarm(desk, callback, desk.t0 + ended)


@pytest.mark.every_database
def test_a_bridge_proving_the_key_is_no_conversation_unless_it_outlasts_the_longest_whisper(desk, network, tmp_path):
    """Probe BW1: the bridge proves the key press, and Twilio's 43 s (from the answer) were 37 s of conversation if
    the key came 6 s in, or 3 s after a whisper heard to its end: which one, nothing on record tells. The detection
    and whisper before the key can take longer than 33 s, so no conversation of the minimum is proven: withdrawn as
    too short (before: met), the seconds set aside on record."""
    callback = _keyed_in_the_outage(desk, network, tmp_path)
    (desk.hotline.settings.data_dir / SPOOL_NAME).unlink()
    desk.clock.set(desk.t0 + ENDED)
    twiml = _signed_post(desk, *_dial(callback, seconds="43")).get_data(as_text=True)
    assert "too short to count as the callback" in twiml and "/twilio/updates/interval" not in twiml
    assert _row(desk, callback).outcome == "attempted"
    with desk.hotline.db.session() as s:
        [withdrawn] = s.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == callback.incident_id,
                                                            IncidentEvent.kind == "callback_withdrawn"))
    assert withdrawn.detail["dial_seconds"] == "43" and withdrawn.detail["before_key_seconds"] > 33


def test_a_bridge_proving_the_key_but_too_short_is_withdrawn_as_too_short(desk, network, tmp_path):
    """The bridge proves the key press, but Twilio's duration (which holds the whisper) is under the minimum: a
    person, no conversation: the rep hears it was too short, not that nobody pressed the key."""
    callback = _keyed_in_the_outage(desk, network, tmp_path)
    (desk.hotline.settings.data_dir / SPOOL_NAME).unlink()
    desk.clock.set(desk.t0 + ENDED)
    twiml = _signed_post(desk, *_dial(callback, seconds="6")).get_data(as_text=True)
    assert "too short to count as the callback" in twiml and NOT_CONNECTED not in twiml
    assert _row(desk, callback).outcome == "attempted"
    assert "callback_withdrawn" in _kinds(desk, callback.incident_id)


def test_a_dial_never_bridged_proves_no_key(desk, network, tmp_path):
    """``DialBridged=false``: never connected, so nothing is proven (the callback is only attempted)."""
    callback = _keyed_in_the_outage(desk, network, tmp_path)
    (desk.hotline.settings.data_dir / SPOOL_NAME).unlink()
    desk.clock.set(desk.t0 + ENDED)
    twiml = _signed_post(desk, *_dial(callback, bridged="false", seconds="15")).get_data(as_text=True)
    assert NOT_CONNECTED in twiml
    assert _row(desk, callback).outcome == "attempted"


@pytest.mark.every_database
def test_no_key_in_the_outage_does_not_bridge_the_legs_nor_is_kept(desk, network, tmp_path):
    """A request to the key's action without a key (Twilio sends none, but the outage's answer bridged anything):
    hung up on, and nothing kept; the key press itself is kept and bridges."""
    callback = _callback_by_sms(desk, network)
    desk.clock.set(desk.t0 + ANSWERED)
    _whisper(desk, callback)
    with _web_without_database(desk.hotline, tmp_path) as client:
        answer = _post(client, _key_url(callback), _leg(callback, CallStatus="in-progress"))
        assert "<Hangup" in answer
        assert _spooled_paths(desk) == []
        answer = _post(client, _key_url(callback), _leg(callback, CallStatus="in-progress", Digits="#"))
        assert "<Hangup" not in answer
    assert _spooled_paths(desk) == ["/twilio/bridge/customer-confirm"]


def test_no_key_with_the_database_up_does_not_bridge_either(desk, network):
    callback = _callback_by_sms(desk, network)
    desk.clock.set(desk.t0 + ANSWERED)
    _whisper(desk, callback)
    answer = _signed_post(desk, _key_url(callback), _leg(callback, CallStatus="in-progress")).get_data(as_text=True)
    assert "<Hangup" in answer and _row(desk, callback).person_confirmed_at is None
    _press_key(desk, callback)
    assert _row(desk, callback).person_confirmed_at == desk.t0 + ANSWERED


@pytest.mark.every_database
def test_the_whisper_in_the_outage_asks_for_the_key_and_a_person_who_answered_is_no_voicemail(
        desk, network, tmp_path):
    """Probe AA3: the customer answers while the database is unreachable. They are asked for the key (in English:
    the incident's language is on record only) instead of being hung up on; nobody presses it, and once the kept
    requests are replayed the callback is attempted, not a voicemail (a person answered)."""
    callback = _callback_by_sms(desk, network)
    desk.clock.set(desk.t0 + ANSWERED)
    with _web_without_database(desk.hotline, tmp_path) as client:
        whisper = _post(client, f"{PUBLIC_BASE_URL}/twilio/bridge/customer-whisper?callback={callback.id}",
                        _leg(callback, CallStatus="in-progress", AnsweredBy="human"))
        assert "<Gather" in whisper and f"/twilio/bridge/customer-confirm?callback={callback.id}" in whisper
        assert "Press any key" in whisper and "<Hangup" in whisper  # no key: hung up, never bridged
        desk.clock.set(desk.t0 + ANSWERED + timedelta(seconds=20))
        at = format_datetime(desk.t0 + ANSWERED + timedelta(seconds=20))
        _post(client, f"{PUBLIC_BASE_URL}/twilio/bridge/customer-status?callback={callback.id}",
              _leg(callback, CallStatus="completed", Timestamp=at, CallDuration="20"))
        end = _post(client, *_dial(callback, bridged="false", seconds="20"))
        assert "Sorry" not in end and "nothing more to do" in end  # AA4: a neutral end
    assert _spooled_paths(desk) == ["/twilio/bridge/customer-whisper", "/twilio/bridge/customer-status"]
    desk.clock.set(desk.t0 + ANSWERED + timedelta(seconds=40))
    _work(desk)
    row = _row(desk, callback)
    assert row.outcome == "attempted" and row.answered_by == "human"


@pytest.mark.every_database
def test_the_reps_key_press_in_the_outage_is_not_a_rep_who_hung_up(desk, network, tmp_path):
    """Probe AA5: Alice answers the hotline's call (the database up) and presses the key while it is unreachable:
    she is told to call the customer herself (the number is on record only). Her leg's end, heard once the database
    is back and before the spool's replay, applies the kept key press first: the callback is closed for the outage,
    not as "rep_hung_up_before_dial", and her SMS says she pressed the key, not "could not reach you"."""
    callback = _callback_by_sms(desk, network)
    rep_leg = {"CallSid": callback.rep_call_sid, "AccountSid": TEST_ACCOUNT_SID, "From": HOTLINE_NUMBER, "To": ALICE}
    _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/bridge/rep?callback={callback.id}",
                 {**rep_leg, "CallStatus": "in-progress", "AnsweredBy": "human"})
    with _web_without_database(desk.hotline, tmp_path) as client:
        said = _post(client, f"{PUBLIC_BASE_URL}/twilio/bridge/rep-confirm?callback={callback.id}",
                     {**rep_leg, "CallStatus": "in-progress", "Digits": "1"})
    assert "call the customer from your own phone" in said and "<Dial" not in said
    assert _spooled_paths(desk) == ["/twilio/bridge/rep-confirm"]
    desk.clock.set(desk.t0 + timedelta(minutes=2, seconds=40))
    _rep_status(desk, callback)
    assert _row(desk, callback).outcome == "rep_not_reached"
    with desk.hotline.db.session() as s:
        [why] = [e.detail["why"] for e in s.scalars(select(IncidentEvent).where(
            IncidentEvent.incident_id == callback.incident_id, IncidentEvent.kind == "callback_rep_not_reached"))]
    assert why == "rep_key_in_outage"
    _at(desk, 3)
    assert _spooled_paths(desk) == []
    texts = [m.body for m in desk.network.twilio.messages if m.to == ALICE and "NOT called" in m.body]
    assert len(texts) == 1 and "you pressed the key" in texts[0] and "could not reach you" not in texts[0]


def _message_call(desk, network) -> tuple[Callback, str]:
    """Alice's callback reaches the customer's voicemail (the database up); she presses 2 to leave a message: the
    message call and its whisper's URL, as her ``<Dial>`` gives it to Twilio."""
    callback = _callback_by_sms(desk, network)
    desk.clock.set(desk.t0 + ANSWERED)
    assert "/twilio/bridge/customer-machine" in _whisper(desk, callback, answered_by="machine_start")
    _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/bridge/customer-machine?callback={callback.id}",
                 _leg(callback, CallStatus="in-progress"))
    assert "Press 2 to leave a short message" in _signed_post(
        desk, *_dial(callback, bridged="false", seconds="20")).get_data(as_text=True)
    bridge = _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/bridge/retry?callback={callback.id}", {
        "CallSid": callback.rep_call_sid, "AccountSid": TEST_ACCOUNT_SID, "From": HOTLINE_NUMBER, "To": ALICE,
        "CallStatus": "in-progress", "Digits": "2"}).get_data(as_text=True)
    assert "Leaving a message for the customer now" in bridge
    with desk.hotline.db.session() as s:
        message = s.scalars(select(Callback).where(Callback.incident_id == callback.incident_id)
                            .order_by(Callback.id.desc())).first()
    assert message.id != callback.id and message.leaves_message
    [url] = [number.get("url") for number in ElementTree.fromstring(bridge).iter("Number")]
    return message, PUBLIC_BASE_URL + url


@pytest.mark.every_database
def test_a_message_calls_voicemail_answering_in_the_outage_takes_the_message(desk, network, tmp_path):
    """Probe BW2: the message call's voicemail answers (its greeting over: ``machine_end_beep``) while the database
    cannot be reached. As with the database, the rep is connected to it to leave the message (before: it was asked
    to press a key nobody would press, then hung up on); the request kept in the spool records the message left."""
    message, url = _message_call(desk, network)
    desk.clock.set(desk.t0 + ANSWERED + timedelta(seconds=40))
    with _web_without_database(desk.hotline, tmp_path) as client:
        answer = ElementTree.fromstring(_post(client, url, _leg(message, CallStatus="in-progress",
                                                                AnsweredBy="machine_end_beep")))
    assert answer.tag == "Response" and list(answer) == []  # an empty whisper: the rep is put through
    assert _spooled_paths(desk) == ["/twilio/bridge/customer-whisper"]
    _work(desk)  # the database back: the spool replayed
    row = _row(desk, message)
    assert (row.outcome, row.answered_by) == ("message_left", "machine_end_beep")
    assert "callback_message_left" in _kinds(desk, message.incident_id)

