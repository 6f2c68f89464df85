"""A bare ACK from a rep with several open pages lists the incidents still awaiting an acknowledgement first, with
their companies, then the rep's own, bounded, and says how to acknowledge one: an outside probe's rep read 13 bare
reference numbers mixing his own, colleagues' and unowned incidents."""

from __future__ import annotations

from tests.paging.conftest import ALICE
from tests.paging.test_acknowledgement import _sms_from

CALLERS = ["+14155550171", "+14155550172", "+14155550173", "+14155550174", "+14155550175", "+14155550176"]
COMPANIES = ["Hooli", "Vandelay Industries", "Oscorp", "Tyrell Corporation", "Cyberdyne Systems", "Wonka"]


def test_a_bare_ack_lists_the_unacknowledged_pages_with_their_companies_then_the_reps_own(desk, network):
    for caller in CALLERS:
        network.phone(caller).expect_sms("we have your report")
    alice = network.phone(ALICE)
    for _ in CALLERS:
        alice.expect_sms("SEV1").expect_call(answer=False)
    incidents = [desk.intake(caller, company=company)[0] for caller, company in zip(CALLERS, COMPANIES, strict=True)]
    desk.settle()
    network.phone(CALLERS[0]).expect_sms("has taken your incident")
    assert "Acknowledged" in _sms_from(desk, ALICE, f"ACK {incidents[0].reference}").get_data(as_text=True)
    desk.settle()

    answer = _sms_from(desk, ALICE, "ACK").get_data(as_text=True)
    # all due at the same minute here: the most urgent first, then by reference
    waiting = sorted(zip(incidents[1:], COMPANIES[1:], strict=True), key=lambda ic: ic[0].reference)
    unowned = ", ".join(f"{i.reference} {c}" for i, c in waiting[:4])
    assert f"NOT acknowledged, most urgent first: {unowned} and 1 more." in answer
    assert f"Yours: {incidents[0].reference} Hooli." in answer
    assert f"Reply ACK and one reference to acknowledge it, e.g. ACK {waiting[0][0].reference}." in answer
    assert waiting[4][0].reference not in answer  # the fifth waiting is counted, not named
    assert len(answer) <= 3 * 153  # at most three SMS segments
    assert all(desk.incident(i.id).acknowledged_at is None for i in incidents[1:])  # nothing was acknowledged
