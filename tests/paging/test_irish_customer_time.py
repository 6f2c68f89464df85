"""An Irish customer hears and reads the deadline on Ireland's clock and label (IST / GMT), never BST.

libphonenumber maps +353 to London's zones; every place that writes the customer's deadline
(the call's closing words, the receipt, the acknowledgement notice) uses the number's own country.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.models import Incident
from hotline_sim.phone import SimulatedCall, flask_transport
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.paging.conftest import ALICE

IRISH = "+353871234567"  # an Irish mobile: the receipt goes by SMS


def _said(prompt) -> str:
    return " ".join(prompt.said)


@pytest.mark.parametrize(("at", "spoken", "written"), [
    (datetime(2027, 7, 1, 11, 0, tzinfo=UTC), "by 12:15 p.m. IST", "12:15 IST"),  # Irish Summer Time
    (datetime(2027, 1, 14, 11, 0, tzinfo=UTC), "by 11:15 a.m. GMT", "11:15 GMT"),
])
def test_an_irish_caller_hears_and_reads_the_deadline_in_irish_time(desk, network, clock, at, spoken, written):
    clock.set(at)
    customer = network.phone(IRISH).expect_sms("we have your report").expect_sms("has taken your incident")
    network.phone(ALICE).expect_sms("SEV1", reply="ACK").expect_call(answer=False)
    network.phone(ALICE).expect_sms("Acknowledged")
    call = SimulatedCall(transport=flask_transport(desk.client), base_url=PUBLIC_BASE_URL,
                         auth_token=TEST_AUTH_TOKEN, caller=IRISH)
    call.dial()
    for action, arg in [("press", "1"), ("press", "1"), ("press", "#"), ("say", "Acme Mail"), ("say", "Dana"),
                        ("press", "1"), ("say", "dana at acme dot example"), ("press", "1"),
                        ("say", "Every API call returns 500.")]:
        getattr(call, action)(arg)
    call.record(seconds=5)
    closing = _said(call.press("1"))
    call.hang_up()
    desk.settle()
    with desk.hotline.db.session() as session:
        incident = session.scalars(select(Incident)).one()
    assert incident.callback_due_at == at.replace(minute=15)
    assert spoken in closing and "BST" not in closing
    receipt, notice = customer.sms
    assert f"by {written}." in receipt and f"no later than {written}." in notice
