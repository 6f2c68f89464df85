"""Issue 13: the helpdesk is told when a breach it was sent no longer counts.

A breach step that ran on the provisional deadline of an incident opened mid-call (its caller silent for three
minutes, the step's job handed over by RQ's scheduler before the watchdog's next pass settled the call) logged a
breach, and the helpdesk webhooks sent ``incident.breached``. The watchdog's pass then sets the deadline that
counts from the caller's last word and withdraws that breach: the helpdesk must hear it too.
"""

from __future__ import annotations

import json
from datetime import timedelta

from app.services.steps import overdue_steps
from tests.integration.test_helpdesk import Receiver, _configured
from tests.paging.conftest import ALICE, CUSTOMER, MARIA
from tests.paging.test_early_paging import _answer, _api
from tests.paging.test_provisional_breach import between_watchdog_passes, open_mid_call


def test_a_withdrawn_breach_is_posted_to_the_helpdesk_after_the_breach(desk, network):
    """Opened at 0:30 (provisional deadline 15:30); the caller answers until 12:40, then is silent. At 15:40 RQ's
    scheduler hands over the due at-risk and breach steps: the breach is logged and posted. The watchdog's next pass
    takes the call for ended at 12:40 (deadline 27:40) and withdraws the breach: posted as
    ``incident.breach_withdrawn``, with the incident's breach false again and the deadline that counts."""
    network.phone(ALICE).expect_sms("SEV1", reply="ACK").expect_call(answer=False).expect_sms("Acknowledged")
    network.phone(CUSTOMER).expect_sms("has taken your incident")
    with Receiver() as helpdesk:
        _configured(desk.hotline, helpdesk.url)
        call, incident = open_mid_call(desk)
        assert desk.clock.now() == desk.t0 + timedelta(minutes=11, seconds=50)
        _answer(desk, call, 50, lambda c: c.silence())  # the last word, at 12:40
        desk.clock.set(desk.t0 + timedelta(minutes=15, seconds=40))
        network.phone(ALICE).expect_sms("BREACHED")  # the at-risk step, run past the deadline, says so
        network.phone(MARIA).expect_sms("BREACHED").expect_call(answer=False)
        network.phone(CUSTOMER).expect_sms("we have your report")  # the receipt, once the deadline is set
        with desk.hotline.db.session() as s:  # RQ's scheduler, at the steps' times
            desk.hotline.jobs.dispatch(overdue_steps(s, desk.clock.now()), desk.clock.now())
        between_watchdog_passes(desk)
        assert desk.incident(incident.id).breached_at is not None  # on the provisional deadline

        desk.at(minutes=15, seconds=45)  # the watchdog's pass: the call ended at 12:40
        real_due = desk.t0 + timedelta(minutes=27, seconds=40)
        assert desk.incident(incident.id).callback_due_at == real_due
        assert _api(desk, incident.reference)["breach"]["breached"] is False
        posted = [json.loads(body) for _headers, body in helpdesk.received]
    events = [p["event"] for p in posted]
    assert events.index("incident.breached") < events.index("incident.breach_withdrawn")
    [withdrawn] = [p for p in posted if p["event"] == "incident.breach_withdrawn"]
    assert withdrawn["incident"]["breach"] == {"breached": False, "at": None}
    assert withdrawn["incident"]["callback"]["due_at"] == real_due.isoformat().replace("+00:00", "Z")
    assert withdrawn["detail"]["callback_due_at"] == real_due.isoformat()
    network.verify()


def test_the_receipt_of_a_silent_caller_states_the_deadline_that_counts(desk, network):
    """The same silent caller, without a helpdesk: the receipt's step, due at 15:40 with the at-risk and breach
    steps, does not text the provisional deadline (15:30, passed: "sorry we have not called you back"); it waits
    for the watchdog's pass, which sets the deadline from the last word (27:40, 19:27 PST), and states that one."""
    network.phone(ALICE).expect_sms("SEV1", reply="ACK").expect_call(answer=False).expect_sms("Acknowledged")
    customer = network.phone(CUSTOMER).expect_sms("has taken your incident")
    call, _incident = open_mid_call(desk)
    _answer(desk, call, 50, lambda c: c.silence())  # the last word, at 12:40
    desk.clock.set(desk.t0 + timedelta(minutes=15, seconds=40))
    network.phone(ALICE).expect_sms("BREACHED")  # the at-risk step, run past the deadline, says so
    network.phone(MARIA).expect_sms("BREACHED").expect_call(answer=False)
    with desk.hotline.db.session() as s:  # RQ's scheduler, at the steps' times
        desk.hotline.jobs.dispatch(overdue_steps(s, desk.clock.now()), desk.clock.now())
    between_watchdog_passes(desk)
    assert len(customer.sms) == 1  # the acknowledgement notice only: no time stated yet
    customer.expect_sms("we have your report")
    desk.at(minutes=15, seconds=45)  # the watchdog's pass: the call ended at 12:40
    assert "call you back by 19:27" in customer.sms[-1]
    network.verify()
