"""An extension given with the callback number reaches the rep wherever the number does.

The callback dials the number; the rep keys the extension in once connected (DTMF passes
through the bridged call). Signed webhooks through the scripted caller, the real app and the
simulated Twilio for the pages and the bridged call.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.models import Callback, Incident, MissedCall
from app.services.api_tokens import create_token
from app.voice.bridge import bridge_twiml
from hotline_sim.phone import SimulatedCall, flask_transport
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.integration.dashboard_support import login_as
from tests.paging.conftest import ALICE, BOB, CUSTOMER

# the live wait is offered only while a `hotline worker` runs (``app.watchdog_state``)
pytestmark = pytest.mark.usefixtures("worker_runs")

KEY_IN = "The customer's number has extension 2, 0, 4."
KEYED_FOR_THE_REP = ("Their number has extension 2, 0, 4: the hotline keys it in when their switchboard answers. "
                     "If you are asked for it again, key it in.")


def _alice_clock(incident: Incident) -> str:
    """The deadline as Alice (America/Los_Angeles) reads it in her page."""
    local = incident.callback_due_at.astimezone(ZoneInfo("America/Los_Angeles"))
    return f"{local:%H:%M} {local.tzname()}"


def _intake(desk, callback_number: str) -> Incident:
    """The customer calls from their direct line but asks to be called back on ``callback_number`` (spoken)."""
    incident, heard = desk.intake(callback_number=callback_number)
    assert "plus 1, 4 1 5, 5 5 5, 0 1 0 0, extension 2, 0, 4?" in heard["number"]  # the caller hears it back
    return incident


def test_the_rep_is_told_the_extension_in_the_page_the_voice_page_and_the_bridged_call(desk, network):
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(press="1", answered=True)
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(press="2")
    incident = _intake(desk, "415-555-0100 extension 204")
    desk.settle()

    [page_sms] = [body for body in alice.sms if body.startswith("SEV1")]
    assert f"Call back +14155550100 ext. 204 by {_alice_clock(incident)}." in page_sms
    page_call, bridged = alice.calls[0].heard.split("Dialling now.")
    assert KEY_IN in page_call.split("Press 1 to acknowledge")[0]  # the voice page's summary
    assert bridged.strip().startswith(KEYED_FOR_THE_REP)  # just before the customer's phone rings
    # the switchboard answers: the extension is keyed in, then whoever picks up there is asked for a key
    heard = customer.calls[0].heard
    assert heard.index("[plays digits ww204]") < heard.index("This is the Severity-1 hotline calling")
    with desk.hotline.db.session() as session:
        [callback] = session.scalars(select(Callback).where(Callback.incident_id == incident.id)).all()
    assert callback.customer_number == "+14155550100" and callback.outcome == "met"  # the number alone is dialled


def test_the_dashboard_and_the_api_show_the_extension_with_the_number(desk, network, client, hotline, clock):
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = _intake(desk, "415-555-0100 ext 204")
    desk.settle()

    login_as(client, hotline)
    html = client.get(f"/incidents/{incident.reference}").get_data(as_text=True)
    assert 'href="tel:+14155550100;ext=204"' in html
    assert '<span id="f-extension">extension 204: key it in once connected</span>' in html
    assert "Dial +14155550100 myself, then extension 204" in html

    with hotline.db.transaction() as session:
        token = create_token(session, "helpdesk", clock.now(), scopes=("incidents:read",))
    body = client.get(f"/api/v1/incidents/{incident.reference}", headers={"Authorization": f"Bearer {token}"}).json
    assert (body["callback_phone"], body["callback_extension"]) == ("+14155550100", "204")
    listed = client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {token}"}).json
    assert [(i["reference"], i["callback_extension"]) for i in listed["incidents"]] == [(incident.reference, "204")]


def test_without_an_extension_the_rep_is_told_none(desk, network, client, hotline, clock):
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    [page_sms] = [body for body in alice.sms if body.startswith("SEV1")]
    assert f"Call back +14155550100 by {_alice_clock(incident)}." in page_sms
    with hotline.db.transaction() as session:
        token = create_token(session, "helpdesk", clock.now(), scopes=("incidents:read",))
    body = client.get(f"/api/v1/incidents/{incident.reference}", headers={"Authorization": f"Bearer {token}"}).json
    assert body["callback_extension"] == ""


def _customer_leg(desk, incident: Incident) -> dict[str, str]:
    """The <Number> attributes of the bridged call the rep's answer would dial for ``incident``."""
    with desk.hotline.db.session() as session:
        incident = session.get(Incident, incident.id)
        callback = Callback(id=999, incident_id=incident.id, kind="bridged", customer_number=incident.callback_phone)
        twiml = bridge_twiml(callback, incident, desk.hotline.settings, live=False)
    [number] = ET.fromstring(twiml).iter("Number")
    return dict(number.attrib)


def test_a_switchboard_is_not_hung_up_on_as_an_answering_machine(desk, network):
    """An auto-attendant is a machine by design: with an extension only the key press proves the person."""
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    with_extension = _intake(desk, "415-555-0100 extension 204")
    desk.settle()
    leg = _customer_leg(desk, with_extension)
    assert "machineDetection" not in leg and leg["url"].startswith("/twilio/bridge/customer-whisper")

    without = desk.open_incident(caller="+14155550111")
    leg = _customer_leg(desk, without)
    assert leg["machineDetection"] == "Enable" and leg["url"].startswith("/twilio/bridge/customer-whisper")


SWITCHBOARD = "+14155552500"  # one company's switchboard: every caller behind it shows this caller ID


def test_a_callback_to_one_extension_never_counts_for_a_colleagues_incident_on_another(desk, network):
    """Two colleagues call from their switchboard, each asking to be called back on their own extension; the second
    report is linked to the first (the same number). An outside probe's callback to the first caller's extension was
    counted for the second's incident too (met), which was then never called, and a third colleague silent at the
    repeat-caller menu was taken for the first caller."""
    from tests.paging.test_acknowledgement import _sms_from
    from tests.paging.test_redial_after_dropped_call import _redial

    switchboard = network.phone(SWITCHBOARD).expect_sms("we have your report").expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    art, _heard = desk.intake(caller=SWITCHBOARD, callback_number="415-555-2500 extension 204")
    desk.settle()
    alice.expect_sms("SEV1").expect_call(answer=False)
    desk.clock.set(desk.t0.replace(second=30))
    george = _redial(desk, caller=SWITCHBOARD, callback_number="415-555-2500 extension 310")
    desk.settle()
    assert desk.incident(george.id).related_incident_id == art.id

    switchboard.expect_sms("has taken your incident").expect_call(press="1", answered=True, talk_seconds=30)
    alice.expect_call()
    desk.clock.set(desk.t0.replace(minute=desk.t0.minute + 1))
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {art.reference}").get_data(as_text=True)
    desk.settle()
    assert desk.incident(art.id).callback_answered_at is not None
    george_now = desk.incident(george.id)
    assert (george_now.reached_on_callback_id, george_now.callback_answered_at) == (None, None)

    alice.expect_call(answer=False)  # George's level 1: the primary again and the secondary; his promise runs on
    network.phone(BOB).expect_sms(f"SEV1 {george.reference}").expect_call(answer=False)
    desk.at(minutes=3, seconds=30)  # three minutes after George's report
    assert alice.unmet == [] and switchboard.unmet == []

    # a third colleague, silent at the repeat-caller menu, hangs up: no incident calls their number itself (each
    # rings an extension), so theirs is a missed call for the reps, not taken for Art's or George's repeat call
    third = SimulatedCall(transport=flask_transport(desk.client), base_url=PUBLIC_BASE_URL,
                          auth_token=TEST_AUTH_TOKEN, caller=SWITCHBOARD)
    third.dial()
    assert "open incident" in " ".join(third.press("1").said)
    switchboard.expect_sms("your call ended before we could take your details")  # invited to call again
    third.silence()
    third.hang_up()
    desk.settle()
    with desk.hotline.db.session() as s:
        assert [m.caller_id for m in s.scalars(select(MissedCall))] == [SWITCHBOARD]
