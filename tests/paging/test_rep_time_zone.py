"""A rep reads and hears the callback deadline on their own clock (the rep's ``time_zone``), named by its zone:
Alice in Los Angeles is paged at 19:00 on her evening, not told "by 03:15 UTC" (tomorrow, in UTC)."""

from __future__ import annotations

from tests.paging.conftest import ALICE, BOB, CUSTOMER, MARIA
from tests.paging.test_acknowledgement import _sms_from


def test_each_rep_reads_the_deadline_on_their_own_clock(desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call()
    incident = desk.open_incident()
    desk.settle()
    [page] = alice.sms
    assert "by 19:15 PST." in page and "UTC" not in page  # the incident is due at 03:15 UTC
    assert "called back by 19:15 P S T" in alice.calls[0].heard  # the voice page says it on her clock too
    bob = network.phone(BOB).expect_sms("SEV1").expect_call(answer=False)
    alice.expect_call(answer=False)
    desk.at(minutes=3)
    assert "by 03:15 UTC." in bob.sms[0]  # Bob keeps UTC, his zone
    network.phone(CUSTOMER).expect_sms("has taken your incident")
    answer = _sms_from(desk, ALICE, f"ACK {incident.reference}").get_data(as_text=True)
    assert "by 19:15 PST" in answer
    alice.expect_sms("AT RISK")
    bob.expect_sms("AT RISK")
    network.phone(MARIA).expect_sms("AT RISK")
    desk.at(minutes=10)
    network.phone(MARIA).expect_sms("BREACHED").expect_call(answer=False)
    desk.at(minutes=15)
    alice.expect_sms("deadline 19:15 PST BREACHED").expect_call(answer=False)
    network.phone(MARIA).expect_sms("deadline 03:15 UTC BREACHED").expect_call(answer=False)
    desk.at(minutes=20)
