"""Words texted from the phone a customer called from (the incident's caller ID, not its callback number) about their
incident once it is closed: handled as words from the callback number about a closed incident are (logged on it,
texted at once to whoever worked it, the customer told how to come back), marked unverified; a NO from the caller ID
reopens nothing (the reopen is asked of the callback number) and the reference is texted back only when the message
named it. Until session 44 such words reached nobody: the sender read "your number matches no open incident".

Through the signed SMS webhook, the dashboard's close, the simulated Twilio with scripted phones and a fake clock.
"""

from __future__ import annotations

from datetime import timedelta

from app.dashboard.timeline import WORDS as TIMELINE_WORDS
from tests.paging.conftest import ALICE, CUSTOMER
from tests.paging.test_caller_id_sms import MARK, MOBILE, _lines
from tests.updates.test_closing_notice_reply import _closed_by_the_manager
from tests.updates.test_customer_sms import _text_hotline


def _closed_after_a_call_from_mobile(desk, network, client):
    """The customer called from MOBILE and gave CUSTOMER as the callback number; Alice acknowledged, nobody called
    back, and Maria closed it from the dashboard at T+21. Returns the incident and Alice's phone."""
    open_it = desk.open_incident
    desk.open_incident = lambda: desk.intake(caller=MOBILE, callback_number="415-555-0100")[0]
    try:
        incident, _customer, _notice = _closed_by_the_manager(desk, network, client)
    finally:
        desk.open_incident = open_it
    assert (incident.caller_id, incident.callback_phone) == (MOBILE, CUSTOMER)
    return incident, network.phone(ALICE)


def test_words_from_the_caller_id_about_its_closed_incident_reach_its_owner_marked_unverified(desk, network, client,
                                                                                           smtp):
    incident, alice = _closed_after_a_call_from_mobile(desk, network, client)
    ref = incident.reference
    desk.at(minutes=22)
    words = f"NO {ref} it is failing again since 10:40"
    alice.expect_sms(f"SEV1 {ref} Acme Mail: the customer texted: {MARK} {words}")

    [answer] = _text_hotline(desk, words, sender=MOBILE)
    desk.settle()

    # as from the callback number (the owner told at once, the customer told how to reopen it), but a NO from the
    # caller ID reopens nothing: the reopen is asked of the callback number
    assert answer == (f"Incident {ref} is closed. We passed your message to the engineer who worked on it. If it is "
                      f"not solved, reply NO {ref} from the callback number you gave us to reopen it, or call this "
                      "number.")
    assert desk.incident(incident.id).status != "open"
    assert _lines(desk, "incident_reopened") == [] and _lines(desk, "sms_from_unknown_sender") == []
    [line] = _lines(desk, "customer_sms_message")
    assert (line.incident_id, line.detail["text"], line.detail["from"], line.detail["owner_told"]) == (
        incident.id, words, "caller_id", True)
    shown, _tone = TIMELINE_WORDS["customer_sms_message"](line.detail, "")
    assert shown.startswith("Customer texted from the number they called from, not the callback number (unverified)")
    assert alice.unmet == []


def test_words_from_the_caller_id_naming_no_closed_incident_never_learn_its_reference(desk, network, client, smtp):
    incident, alice = _closed_after_a_call_from_mobile(desk, network, client)
    desk.at(minutes=22)
    alice.expect_sms(f"SEV1 {incident.reference} Acme Mail: the customer texted: {MARK} It is failing again")

    [answer] = _text_hotline(desk, "It is failing again", sender=MOBILE)
    desk.settle()

    assert incident.reference not in answer
    assert answer == ("Your incident is closed. We passed your message to the engineer who worked on it. If it is not "
                      "solved, reply NO and its reference from the callback number you gave us to reopen it, or call "
                      "this number.")
    [line] = _lines(desk, "customer_sms_message")
    assert line.incident_id == incident.id and line.detail["from"] == "caller_id"
    assert alice.unmet == []

    # a week after the close, words naming nothing reach nobody, as from the callback number
    desk.clock.set(desk.t0 + timedelta(minutes=21, days=8))
    [stranger] = _text_hotline(desk, "Hello again", sender=MOBILE)
    assert stranger.startswith("Sev-1 hotline: your number matches no open incident")
    assert len(_lines(desk, "customer_sms_message")) == 1
