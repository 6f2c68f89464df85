"""Reps' UPDATE / WORKAROUND / PROPOSE by SMS as phones and people type them: what reaches the customer, and what
the rep is told when nothing was sent."""

from __future__ import annotations

import pytest

from app.models import Delivery, ResolutionProposal
from app.services.acks import lock_incident
from tests.paging.conftest import ALICE
from tests.updates.test_customer_sms import _called_back, _rows, _text_hotline


@pytest.mark.parametrize("body", ["UPDATE {ref}: DB failover done", "Update {ref} - DB failover done",
                                  "update #{ref} – DB failover done", "UPDATE {ref}, DB failover done",
                                  # a probe's ``UPDATE 185685 working on it\0`` was a 500 on PostgreSQL: nothing
                                  # stored or sent, and the rep had no answer
                                  "UPDATE {ref} DB failover done\x00\x07"])
def test_the_separator_after_the_reference_never_reaches_the_customer(desk, network, smtp, body):
    incident, customer = _called_back(desk, network)
    ref = incident.reference
    customer.expect_sms(f"Sev-1 {ref} update: DB failover done.")
    [reply] = _text_hotline(desk, body.format(ref=ref), sender=ALICE)
    assert reply == f"Update 1 for {ref} sent (on time)."
    desk.settle()
    [sms] = _rows(desk, Delivery, incident_id=incident.id, channel="sms", purpose="update")
    [mail] = _rows(desk, Delivery, incident_id=incident.id, channel="email", purpose="update")
    assert sms.body.startswith(f"Sev-1 {ref} update: DB failover done.")
    assert "What is wrong: DB failover done\n" in mail.body


@pytest.mark.parametrize("language, what, left_out", [
    ("en-US", "What is wrong", ("Expected resolution", "Workaround", "not known yet", "none")),
    ("de-DE", "Was ist gestört", ("Erwartete Behebung", "Umgehung", "noch offen", "keine"))])
def test_an_update_by_sms_is_mailed_with_no_field_the_rep_did_not_fill(desk, network, smtp, language, what, left_out):
    # a probe's "…fix deploying, expected resolution 16:30 PST." was mailed with "Expected resolution: not known yet"
    # and "Workaround: none" under it: an SMS update is one free text, so nothing else is said for the rep
    incident, customer = _called_back(desk, network)
    ref = incident.reference
    with desk.hotline.db.transaction() as s:
        lock_incident(s, ref).language = language
    said = "Root cause found; fix deploying, expected resolution 16:30 PST."
    customer.expect_sms(said)
    _text_hotline(desk, f"UPDATE {ref} {said}", sender=ALICE)
    desk.settle()
    [mail] = _rows(desk, Delivery, incident_id=incident.id, channel="email", purpose="update")
    lines = mail.body.splitlines()
    assert f"{what}: {said}" in lines
    assert [line for line in lines if line.startswith(left_out[:2]) or line.endswith(left_out[2:])] == []


def test_a_workaround_summary_after_a_colon_reads_as_written(desk, network, smtp):
    incident, customer = _called_back(desk, network)
    ref = incident.reference
    customer.expect_sms(f"A workaround is in place: use port 2525. Reply YES {ref}")
    [reply] = _text_hotline(desk, f"WORKAROUND {ref}: use port 2525", sender=ALICE)
    assert reply == f"Proposed to the customer of {ref}; waiting for their answer."
    desk.settle()
    assert [p.summary for p in _rows(desk, ResolutionProposal, incident_id=incident.id)] == ["use port 2525"]
    # the owner is told it was the workaround the customer confirmed (a probe's was told "confirmed it is resolved")
    alice = network.phone(ALICE).expect_sms(f"SEV1 {ref} Acme Mail: the customer confirmed the workaround works.")
    _text_hotline(desk, f"YES {ref}")
    desk.settle()
    assert alice.unmet == []


@pytest.mark.parametrize("command", ["PROPOSE", "WORKAROUND"])
def test_a_proposal_without_words_is_not_sent(desk, network, smtp, command):
    # a probe's bare "PROPOSE 883158" went out: the customer read "We believe your problem is resolved." and nothing
    # of what was done
    incident, _customer = _called_back(desk, network)
    ref = incident.reference
    [reply] = _text_hotline(desk, f"{command} {ref}", sender=ALICE)
    assert reply == f"Say what fixed it: {command} {ref} <what was done>. Nothing was sent."
    desk.settle()
    assert _rows(desk, ResolutionProposal, incident_id=incident.id) == []


@pytest.mark.parametrize("body", ["UPDATE {a} {b} DB failover done", "UPDATE DB failover done", "PROPOSE fixed"])
def test_an_update_command_without_a_reference_says_nothing_was_sent(desk, network, smtp, body):
    incident, _customer = _called_back(desk, network)
    ref = incident.reference
    [reply] = _text_hotline(desk, body.format(a=ref[:3], b=ref[3:]), sender=ALICE)
    assert reply.startswith("No incident reference (6 digits) in your SMS. Nothing was changed or sent.")
    assert "UPDATE <ref> <text>" in reply
    desk.settle()
    assert _rows(desk, Delivery, incident_id=incident.id, purpose="update") == []
    assert _rows(desk, ResolutionProposal, incident_id=incident.id) == []


@pytest.mark.parametrize(("body", "minutes"), [
    ("EVERY 24 hours {ref}", 1440), ("EVERY 2h {ref}", 120), ("every 4 Stunden {ref}", 240), ("EVERY 1 hour {ref}", 60),
    ("EVERY 30m {ref}", 30), ("EVERY 45 min {ref}", 45), ("EVERY 1.5 hours {ref}", 90), ("EVERY {ref} 90", 90),
    ("EVERY 1h30 {ref}", 90), ("EVERY 1h 30m {ref}", 90), ("EVERY 2 hours 15 minutes {ref}", 135)])
def test_an_interval_in_hours_is_that_many_hours_never_as_many_minutes(desk, network, smtp, body, minutes):
    from app.models import FollowUp
    from app.services.updates import say_minutes

    incident, _customer = _called_back(desk, network)
    ref = incident.reference
    [reply] = _text_hotline(desk, body.format(ref=ref), sender=ALICE)
    assert reply.startswith(f"Updates for {ref} every {say_minutes(minutes)}.")
    [follow_up] = _rows(desk, FollowUp, incident_id=incident.id)
    assert follow_up.interval_minutes == minutes and follow_up.agreed_via == "sms"


@pytest.mark.parametrize("body", ["EVERY 2 days {ref}", "EVERY half hour {ref}", "EVERY 20 seconds {ref}"])
def test_an_interval_the_hotline_cannot_read_changes_nothing_and_says_how(desk, network, smtp, body):
    from app.models import FollowUp

    incident, _customer = _called_back(desk, network)
    ref = incident.reference
    before = [(f.interval_minutes, f.agreed_via) for f in _rows(desk, FollowUp, incident_id=incident.id)]
    [reply] = _text_hotline(desk, body.format(ref=ref), sender=ALICE)
    assert reply.startswith("Reply EVERY <minutes> <ref>") or "Nothing was changed" in reply
    assert [(f.interval_minutes, f.agreed_via) for f in _rows(desk, FollowUp, incident_id=incident.id)] == before


def test_a_word_after_the_minutes_that_is_no_unit_leaves_them_minutes():
    from app.services.update_sms import interval_minutes

    assert interval_minutes("EVERY 30 please ") == 30 and interval_minutes("EVERY 30") == 30
    assert interval_minutes("EVERY 20 seconds") is None and interval_minutes("EVERY 1,5 Std") == 90


def test_a_long_update_or_proposal_keeps_the_next_update_time_and_how_to_answer_in_the_sms(desk, network, smtp):
    """The SMS is cut to SMS_LIMIT: the rep's long text is what gets shorter (the e-mail has all of it), never the
    next update time or the YES/NO the customer must reply."""
    from app.services.update_text import SMS_LIMIT
    from tests.updates.test_customer_sms import _propose, _update

    incident, customer = _called_back(desk, network)
    ref = incident.reference
    long_text = "The EU mail relay pool rejects connections under load; " * 40  # ~2,200 characters
    customer.expect_sms(f"Sev-1 {ref} update: The EU mail relay")
    assert _update(desk, ref, long_text).ok
    [sms] = _rows(desk, Delivery, incident_id=incident.id, channel="sms", purpose="update")
    [mail] = _rows(desk, Delivery, incident_id=incident.id, channel="email", purpose="update")
    assert len(sms.body) <= SMS_LIMIT and "Next update by " in sms.body and sms.body.startswith(f"Sev-1 {ref} update:")
    assert long_text.strip() in mail.body  # the whole text by e-mail
    customer.expect_sms(f"Sev-1 {ref}: We believe your problem is resolved")
    assert _propose(desk, ref, long_text).ok
    [ask] = _rows(desk, Delivery, incident_id=incident.id, channel="sms", purpose="proposal")
    assert len(ask.body) <= SMS_LIMIT and ask.body.endswith("we close it as resolved, not confirmed.")
    assert f"Reply YES {ref} to confirm, or NO {ref} if the problem goes on." in ask.body


def test_every_while_a_proposal_awaits_the_customer_says_updates_are_paused_and_the_customer_not_told(
        desk, network, smtp):
    incident, customer = _called_back(desk, network)
    ref = incident.reference
    customer.expect_sms("Reply YES")
    _text_hotline(desk, f"PROPOSE {ref} DB failover done", sender=ALICE)
    desk.settle()
    [reply] = _text_hotline(desk, f"EVERY 2h {ref}", sender=ALICE)
    assert reply.startswith(f"Updates for {ref} every 2 hours.")
    assert "paused while the customer's answer to the resolution proposal is awaited" in reply
    assert "the customer was not told" in reply
    desk.settle()  # only the hour agreed on the callback was told them
    assert ["every hour" in d.body for d in _rows(desk, Delivery, incident_id=incident.id, purpose="interval")] == [
        True]
