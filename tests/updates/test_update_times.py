"""The customer is told when the next update comes: after an interval agreed by the owner's EVERY by SMS, on the
dashboard or by the keypad after the callback (once, only when the interval changed; by e-mail when their number
takes no SMS) and in the answer to their NO, in their language and on their clock. And an outage's resolution reaches an incident called back only after the outage was resolved.

The in-memory phone network of test_update_channels (Alice on call), real SQL, Redis, worker and SMTP.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from twilio.request_validator import RequestValidator

from app.models import Callback, Delivery, DueStep, FollowUp, Incident, IncidentEvent, Outage, ResolutionProposal
from app.models.user import Role
from app.services.outages import declare, resolve_outage
from app.services.page_text import hhmm
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.fakes import SimulatedTelephony
from tests.integration.dashboard_support import login_as, post_form
from tests.updates import test_update_channels as channels
from tests.updates.backoffice import settle
from tests.updates.conftest import callback_over, verified_callback
from tests.updates.test_outage import _call
from tests.updates.test_update_channels import ALICE, CUSTOMER, _incident, _rows, _sms

hotline = channels.hotline  # the fixture: the in-memory phone network with Alice on call

PACIFIC, BERLIN = "America/Los_Angeles", "Europe/Berlin"
GERMAN_LANDLINE, GERMAN_MOBILE = "+493012345678", "+4915112345301"


def _to(telephony: SimulatedTelephony, number: str, since: int = 0) -> list[str]:
    return [m.body for m in telephony.sms[since:] if m.to == number]


def _called_back_german(client, hotline, number: str) -> Incident:
    """A German caller on ``number`` through the German intake, called back (a verified contact)."""
    call_sid = _call(client, number, "otto", german=True)
    with hotline.db.transaction() as s:
        incident = s.scalars(select(Incident).where(Incident.call_sid == call_sid)).one()
        verified_callback(s, incident, hotline.clock.now())
    settle(hotline)
    return incident


def test_every_texts_the_customer_the_interval_and_their_next_update_time_once(hotline, client, clock, smtp):
    telephony: SimulatedTelephony = hotline.telephony
    incident = _incident(client, hotline)
    ref = incident.reference
    _sms(client, ALICE, f"ACK {ref}")
    settle(hotline)
    before = len(telephony.sms)

    # the default hourly schedule the callback started was never told the customer: "EVERY 1h" tells them (once)
    assert "Confirmation to the customer queued (SMS)." in _sms(client, ALICE, f"EVERY 1h {ref}")
    settle(hotline)
    assert [m.split(". Next")[0] for m in _to(telephony, CUSTOMER, before)] == [
        f"Sev-1 {ref}: as agreed, you will get an update every hour"]
    assert "Confirmation" not in _sms(client, ALICE, f"EVERY 60 {ref}")  # what they were told: nothing new
    settle(hotline)
    before = len(telephony.sms)

    clock.advance(minutes=5)
    reply = _sms(client, ALICE, f"EVERY 30 {ref}")
    settle(hotline)
    [follow_up] = _rows(hotline, FollowUp, incident_id=incident.id)
    assert follow_up.interval_minutes == 30 and follow_up.next_due_at == clock.now() + timedelta(minutes=30)
    assert "Confirmation to the customer queued (SMS)." in reply
    # one short SMS, on the customer's clock (a San Francisco number), never an e-mail besides
    assert _to(telephony, CUSTOMER, before) == [
        f"Sev-1 {ref}: as agreed, you will get an update every 30 minutes. "
        f"Next update by {hhmm(follow_up.next_due_at, PACIFIC)}."]
    *_hour, row = _rows(hotline, Delivery, incident_id=incident.id, purpose="interval")
    assert row.channel == "sms" and row.status == "sent"  # accepted by (simulated) Twilio
    assert not [m for m in smtp.inbox.to("dana@acme.example") if "interval" in str(m["Subject"])]

    clock.advance(minutes=1)  # the same interval again (a second SMS, a retyped command): nothing new to tell
    assert "Confirmation" not in _sms(client, ALICE, f"EVERY 30m {ref}")
    settle(hotline)
    assert len(_to(telephony, CUSTOMER, before)) == 1
    assert len(_rows(hotline, Delivery, incident_id=incident.id, purpose="interval")) == 2  # the hour, then 30 minutes


def test_every_reaches_a_german_landline_customer_by_e_mail_in_german(hotline, client, clock, smtp):
    telephony: SimulatedTelephony = hotline.telephony
    incident = _called_back_german(client, hotline, GERMAN_LANDLINE)  # a landline takes no SMS
    ref = incident.reference
    _sms(client, ALICE, f"ACK {ref}")
    settle(hotline)
    before = len(telephony.sms)

    reply = _sms(client, ALICE, f"EVERY 2h {ref}")
    settle(hotline)
    assert "Confirmation to the customer queued (e-mail)." in reply
    [follow_up] = _rows(hotline, FollowUp, incident_id=incident.id)
    [mail] = [m for m in smtp.inbox.to("otto@firma.de") if "Update-Intervall" in str(m["Subject"])]
    assert str(mail["Subject"]) == f"Sev-1-Vorfall {ref}: Update-Intervall"
    local = follow_up.next_due_at.astimezone(ZoneInfo(BERLIN))
    assert (f"Sev-1 {ref}: Wie vereinbart erhalten Sie alle 2 Stunden ein Update. "
            f"Nächstes Update bis {local:%H:%M} Uhr (MEZ).") in mail.get_content()
    assert _to(telephony, GERMAN_LANDLINE, before) == []
    [row] = _rows(hotline, Delivery, incident_id=incident.id, purpose="interval")
    assert row.channel == "email" and row.language == "de-DE"


def _on_dashboard(client, ref: str, minutes: int) -> str:
    """Set the interval on the incident's Updates page; the page it redirects to (with the flashed answer)."""
    assert post_form(client, f"/incidents/{ref}/updates/interval", {"minutes": str(minutes)}).status_code == 302
    return client.get(f"/incidents/{ref}/updates").get_data(as_text=True)


def _on_keypad(client, hotline, incident: Incident, digits: str) -> str:
    """The rep's key at the end of the bridged callback; the TwiML the rep hears."""
    with hotline.db.session() as s:
        callback_id = s.scalars(select(Callback.id).where(Callback.incident_id == incident.id)).one()
    url = f"{PUBLIC_BASE_URL}/twilio/updates/interval?callback={callback_id}"
    params = {"CallSid": f"CA{incident.id:032d}", "Digits": digits, "AccountSid": "AC" + "0" * 32}
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(url, params)
    answer = client.post(url.removeprefix(PUBLIC_BASE_URL), data=params, headers={"X-Twilio-Signature": signature})
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def test_an_interval_set_on_the_dashboard_is_texted_to_the_customer_once(hotline, client, clock, smtp):
    telephony: SimulatedTelephony = hotline.telephony
    incident = _incident(client, hotline)
    ref = incident.reference
    settle(hotline)
    before = len(telephony.sms)
    login_as(client, hotline, Role.MANAGER, name="Rita Rep")  # a rep paged for nothing may not (update_rights)

    page = _on_dashboard(client, ref, 60)  # the default hour the callback started, never told them: told once
    settle(hotline)
    assert "Confirmation to the customer queued (SMS)." in page and len(_to(telephony, CUSTOMER, before)) == 1
    assert "Confirmation" not in _on_dashboard(client, ref, 60)
    settle(hotline)
    before = len(telephony.sms)

    clock.advance(minutes=5)
    page = _on_dashboard(client, ref, 120)
    settle(hotline)
    [follow_up] = _rows(hotline, FollowUp, incident_id=incident.id)
    assert follow_up.interval_minutes == 120 and follow_up.next_due_at == clock.now() + timedelta(hours=2)
    assert "Confirmation to the customer queued (SMS)." in page
    assert _to(telephony, CUSTOMER, before) == [
        f"Sev-1 {ref}: as agreed, you will get an update every 2 hours. "
        f"Next update by {hhmm(follow_up.next_due_at, PACIFIC)}."]
    *_hour, row = _rows(hotline, Delivery, incident_id=incident.id, purpose="interval")
    assert row.channel == "sms" and row.status == "sent"
    assert not [m for m in smtp.inbox.to("dana@acme.example") if "interval" in str(m["Subject"])]
    [agreed] = [e for e in _rows(hotline, IncidentEvent, incident_id=incident.id)
                if e.kind == "update_interval_agreed" and e.detail["minutes"] == 120]
    assert agreed.detail["via"] == "dashboard" and agreed.detail["customer_told"] == "sms"


def test_an_interval_set_on_the_dashboard_reaches_a_landline_customer_by_e_mail(hotline, client, clock, smtp):
    telephony: SimulatedTelephony = hotline.telephony
    incident = _called_back_german(client, hotline, GERMAN_LANDLINE)  # a landline takes no SMS
    ref = incident.reference
    before = len(telephony.sms)
    login_as(client, hotline, Role.MANAGER, name="Rita Rep")  # a rep paged for nothing may not (update_rights)

    assert "Confirmation to the customer queued (e-mail)." in _on_dashboard(client, ref, 30)
    settle(hotline)
    [follow_up] = _rows(hotline, FollowUp, incident_id=incident.id)
    [mail] = [m for m in smtp.inbox.to("otto@firma.de") if "Update-Intervall" in str(m["Subject"])]
    local = follow_up.next_due_at.astimezone(ZoneInfo(BERLIN))
    assert (f"Sev-1 {ref}: Wie vereinbart erhalten Sie alle 30 Minuten ein Update. "
            f"Nächstes Update bis {local:%H:%M} Uhr (MEZ).") in mail.get_content()
    assert _to(telephony, GERMAN_LANDLINE, before) == []


def test_an_interval_keyed_in_after_the_callback_is_texted_to_the_customer_once(hotline, client, clock, smtp):
    telephony: SimulatedTelephony = hotline.telephony
    incident = _incident(client, hotline)
    ref = incident.reference
    settle(hotline)
    before = len(telephony.sms)

    heard = _on_keypad(client, hotline, incident, "2")  # every hour: the default the callback started, untold
    settle(hotline)
    assert "Updates for" in heard and "Confirmation to the customer queued (SMS)." in heard
    assert len(_to(telephony, CUSTOMER, before)) == 1
    before = len(telephony.sms)

    heard = _on_keypad(client, hotline, incident, "3")  # every 4 hours
    settle(hotline)
    [follow_up] = _rows(hotline, FollowUp, incident_id=incident.id)
    assert follow_up.interval_minutes == 240 and follow_up.agreed_via == "keypad"
    assert "Confirmation to the customer queued (SMS)." in heard
    assert _to(telephony, CUSTOMER, before) == [
        f"Sev-1 {ref}: as agreed, you will get an update every 4 hours. "
        f"Next update by {hhmm(follow_up.next_due_at, PACIFIC)}."]
    assert [r.channel for r in _rows(hotline, Delivery, incident_id=incident.id, purpose="interval")] == ["sms", "sms"]


def test_an_interval_keyed_in_reaches_a_landline_customer_by_e_mail(hotline, client, clock, smtp):
    telephony: SimulatedTelephony = hotline.telephony
    incident = _called_back_german(client, hotline, GERMAN_LANDLINE)
    before = len(telephony.sms)

    assert "Confirmation to the customer queued (e-mail)." in _on_keypad(client, hotline, incident, "1")
    settle(hotline)
    [mail] = [m for m in smtp.inbox.to("otto@firma.de") if "Update-Intervall" in str(m["Subject"])]
    assert "Wie vereinbart erhalten Sie alle 30 Minuten ein Update." in mail.get_content()
    assert _to(telephony, GERMAN_LANDLINE, before) == []
    [row] = _rows(hotline, Delivery, incident_id=incident.id, purpose="interval")
    assert row.channel == "email" and row.language == "de-DE"


def test_the_answer_to_a_german_customers_no_says_when_the_next_update_comes(hotline, client, clock, smtp):
    incident = _called_back_german(client, hotline, GERMAN_MOBILE)
    ref = incident.reference
    _sms(client, ALICE, f"ACK {ref}")
    _sms(client, ALICE, f"PROPOSE {ref} Load-Balancer ersetzt")
    settle(hotline)
    clock.advance(minutes=7)
    answer = _sms(client, GERMAN_MOBILE, f"NEIN {ref}")
    [follow_up] = _rows(hotline, FollowUp, incident_id=incident.id)
    assert follow_up.state == "updating" and follow_up.next_due_at == clock.now() + timedelta(hours=1)
    local = follow_up.next_due_at.astimezone(ZoneInfo(BERLIN))
    assert (f"Danke. Wir arbeiten weiter an Vorfall {ref}. Das nächste Update erhalten Sie bis "
            f"{local:%H:%M} Uhr (MEZ).") in answer


def _outage_resolved_before_two_callbacks(hotline, client, clock) -> tuple[int, Incident, Incident]:
    """An outage with an English and a German caller, resolved (with German words) before either was called back."""
    with hotline.db.transaction() as s:
        declare(s, what_fails="API calls time out", what_fails_de="API-Aufrufe laufen ab", since=clock.now(),
                by="Maria", now=clock.now())
    english, german = _call(client, CUSTOMER, "ann", german=False), _call(client, GERMAN_MOBILE, "otto", german=True)
    with hotline.db.transaction() as s:
        outage = s.scalars(select(Outage)).one()
        result = resolve_outage(s, outage, summary="load balancer replaced", summary_de="Load-Balancer ersetzt",
                                by="Maria Manager", now=clock.now(), settings=hotline.settings)
        assert "resolution proposed to 0 incidents" in result.message
        incidents = [s.scalars(select(Incident).where(Incident.call_sid == sid)).one() for sid in (english, german)]
        outage_id = outage.id
    settle(hotline)
    return outage_id, *incidents


def test_an_incident_called_back_after_its_outage_was_resolved_is_asked_to_confirm_it(hotline, client, clock, smtp):
    telephony: SimulatedTelephony = hotline.telephony
    outage_id, english, german = _outage_resolved_before_two_callbacks(hotline, client, clock)
    clock.advance(minutes=6)
    before = len(telephony.sms)
    with hotline.db.transaction() as s:
        for incident in (english, german):
            verified_callback(s, s.get(Incident, incident.id), clock.now())
    settle(hotline)
    # not while the engineer is on the phone with them, nor as the call ends: 10 minutes after it
    assert not [b for b in telephony.sms[before:] if "Reply YES" in b.body or "Antworten Sie JA" in b.body]
    clock.advance(minutes=3)
    with hotline.db.transaction() as s:
        for incident in (english, german):
            callback_over(s, s.get(Incident, incident.id), clock.now())
    settle(hotline)
    assert not [b for b in telephony.sms[before:] if "Reply YES" in b.body or "Antworten Sie JA" in b.body]
    clock.advance(minutes=11)
    settle(hotline)

    # each customer is asked as the manager's resolve would have asked them, in their language
    [to_ann] = [b for b in _to(telephony, CUSTOMER, before) if "Reply YES" in b]
    [to_otto] = [b for b in _to(telephony, GERMAN_MOBILE, before) if "Antworten Sie JA" in b]
    assert f"Sev-1 {english.reference}: We believe your problem is resolved: load balancer replaced." in to_ann
    assert f"Sev-1 {german.reference}: Wir halten Ihr Problem für gelöst: Load-Balancer ersetzt." in to_otto
    assert "schließen wir den Vorfall als gelöst" in to_otto and " ihn " not in to_otto  # "Problem" is neuter
    for incident in (english, german):
        [proposal] = _rows(hotline, ResolutionProposal, incident_id=incident.id)
        assert proposal.outage_id == outage_id and proposal.state == "proposed"
        assert proposal.proposed_by == "Maria Manager" and proposal.proposed_at == clock.now()
        [step] = _rows(hotline, DueStep, incident_id=incident.id, kind="outage_proposal")
        assert step.level == outage_id and step.status == "done" and step.outcome == "proposed"
        kinds = [e.kind for e in _rows(hotline, IncidentEvent, incident_id=incident.id)]
        # its timeline says it was not asked at the resolve, then was once reached
        assert kinds.index("outage_resolution_not_proposed") < kinds.index("outage_resolution_proposed_after_callback")
        [follow_up] = _rows(hotline, FollowUp, incident_id=incident.id)
        assert follow_up.state == "awaiting_confirmation"  # updates pause, as for any proposal

    # the customer's YES closes it as the outage's resolution
    assert "geschlossen" in _sms(client, GERMAN_MOBILE, f"JA {german.reference}")
    assert _rows(hotline, Incident, id=german.id)[0].status == "resolved"


def test_the_outage_resolution_is_proposed_once_however_often_the_customer_is_reached(hotline, client, clock, smtp):
    telephony: SimulatedTelephony = hotline.telephony
    _outage_id, english, _german = _outage_resolved_before_two_callbacks(hotline, client, clock)
    with hotline.db.transaction() as s:
        verified_callback(s, s.get(Incident, english.id), clock.now())
        callback_over(s, s.get(Incident, english.id), clock.now())
    clock.advance(minutes=11)
    settle(hotline)
    assert _sms(client, CUSTOMER, f"NO {english.reference}")  # rejected: updates go on
    clock.advance(minutes=10)
    before = len(telephony.sms)
    with hotline.db.transaction() as s:  # another callback's answer, whose word came late: Twilio's time is before
        incident = s.get(Incident, english.id)  # the first one's, so it is the incident's answer now
        verified_callback(s, incident, clock.now() - timedelta(minutes=22))
    settle(hotline)
    assert [p.state for p in _rows(hotline, ResolutionProposal, incident_id=english.id)] == ["rejected"]
    assert not [b for b in _to(telephony, CUSTOMER, before) if "Reply YES" in b]
    [step] = _rows(hotline, DueStep, incident_id=english.id, kind="outage_proposal")
    assert step.outcome == "skipped_proposed_before"
