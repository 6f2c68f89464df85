"""A rep who pressed 1 to try again and hung up before the customer was dialled again is told just that: an outside
probe's rep was texted "the hotline could not reach you ... so the customer was NOT called" though she had answered
and the customer's line had been dialled (busy) a second before."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.models import Page
from tests.paging.conftest import ALICE
from tests.paging.test_at_risk_unproven_callback import _callback_by_sms
from tests.paging.test_retry_on_the_rep_call import _busy_then_retry, _lines, _rep_hangs_up, _rows
from tests.paging.test_twilio_failures import _work


def _texted(desk, incident_id: int, purpose: str) -> list[str]:
    with desk.hotline.db.session() as s:
        sids = set(s.scalars(select(Page.twilio_sid).where(Page.incident_id == incident_id, Page.purpose == purpose,
                                                           Page.to_number == ALICE)))
    return [m.body for m in desk.network.twilio.messages if m.sid in sids]


def test_a_rep_who_hangs_up_on_a_try_again_before_the_redial_is_told_the_customer_was_called_once(desk, network):
    first = _callback_by_sms(desk, network)
    second = _busy_then_retry(desk, first)
    desk.clock.set(desk.t0 + timedelta(minutes=2, seconds=31))  # before the retry's customer leg is dialled
    _rep_hangs_up(desk, first, page_call=False)
    _work(desk)

    assert [c.outcome for c in _rows(desk, first.incident_id)] == ["attempted", "rep_not_reached"]
    [line] = _lines(desk, first.incident_id, "callback_rep_not_reached")
    assert (line["callback_id"], line["why"]) == (second.id, "rep_hung_up_before_redial")
    [body] = _texted(desk, first.incident_id, "rep_not_reached")
    ref = desk.incident(first.incident_id).reference
    assert body.startswith(f"SEV1 {ref}: your call ended before the hotline dialled the customer again: the customer "
                           "was called once, not again.")
    assert "NOT called" not in body and "could not reach you" not in body
