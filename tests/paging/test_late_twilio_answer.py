"""Twilio answering a page's request only after the hotline's client gave up (probe A F4): Twilio makes the SMS or
call when it answers, seconds later. The retry looks Twilio up only once that try can no longer be under way."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.telephony.protocol import OutcomeUnknown
from tests.paging.conftest import ALICE
from tests.paging.test_twilio_failures import LANDLINE, _calls, _events, _messages, _page, _policy

ANSWERED_AFTER = timedelta(seconds=7)  # as the probe's stand-in: Calls.json answered (the call made) after 7 s


class AnswersLate:
    """The real Twilio client, but its first send times out here while Twilio still works on it: the SMS or call is
    made ``ANSWERED_AFTER`` later (``catch_up``), as a request Twilio was still processing would be."""

    def __init__(self, telephony, clock) -> None:
        self.telephony, self.clock = telephony, clock
        self.in_flight: list[tuple] = []
        self.timed_out = 0

    def send_sms(self, **kwargs):
        return self._late_once(self.telephony.send_sms, kwargs)

    def place_call(self, **kwargs):
        return self._late_once(self.telephony.place_call, kwargs)

    def find_sms(self, **kwargs):
        self.catch_up()
        return self.telephony.find_sms(**kwargs)

    def find_call(self, **kwargs):
        self.catch_up()
        return self.telephony.find_call(**kwargs)

    def catch_up(self) -> None:
        """Twilio finishes the requests whose time has come."""
        due = [r for r in self.in_flight if r[0] <= self.clock.now()]
        self.in_flight = [r for r in self.in_flight if r[0] > self.clock.now()]
        for _at, send, kwargs in due:
            send(**kwargs)

    def _late_once(self, send, kwargs):
        self.catch_up()
        if self.timed_out:
            return send(**kwargs)
        self.timed_out += 1
        self.in_flight.append((self.clock.now() + ANSWERED_AFTER, send, kwargs))
        raise OutcomeUnknown("Twilio did not answer: TimeoutError: timed out")  # as app.telephony.twilio_rest says


@pytest.mark.parametrize("channel", ["sms", "voice"])
def test_a_page_twilio_makes_after_the_time_out_rings_its_person_once(desk, network, twilio, channel):
    _policy(desk, channel)
    alice = network.phone(ALICE)
    alice.expect_sms("SEV1") if channel == "sms" else alice.expect_call(answer=False)
    late = AnswersLate(desk.hotline.telephony, desk.clock)
    desk.hotline.telephony = late
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()
    assert late.timed_out == 1 and _page(desk, incident.id, ALICE, channel).last_error.startswith("OutcomeUnknown")
    for second in range(1, 21):  # Twilio makes the first try's page at 7 s; the retry waits until it could have
        desk.at(seconds=second)
        late.catch_up()
        desk.settle()
    made = _messages(twilio, ALICE, incident.reference) if channel == "sms" else _calls(twilio, ALICE)
    assert len(made) == 1  # one page, one SMS or call: before, the retry at 2 s found nothing and sent a second
    page = _page(desk, incident.id, ALICE, channel)
    assert page.twilio_sid == made[0].sid and page.attempts <= 2
    sent = _events(desk, incident.id, "page_sent")
    assert [e.detail["possible_duplicate"] for e in sent] == [False] and sent[0].detail["adopted"] is True
    failed = _events(desk, incident.id, "page_send_failed")
    assert [e.at for e in failed] == [desk.t0]
    assert sent[0].at >= desk.t0 + ANSWERED_AFTER  # adopted once Twilio made it: its callback, or the retry's lookup
