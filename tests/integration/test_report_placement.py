"""Where a report from a number over its limit goes (``caller_limits.place_report``), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from app.services.caller_limits import CallerLimits, Placement, place_report
from ivr_flows.model import Captured
from tests.integration.board_support import make_incident

CALLER = "+14155552671"
CONTACTS = ("+14155550101", "+14155550102", "+14155550103")  # the three open incidents' callback numbers, oldest first


def _three_open_incidents(hotline) -> list[int]:
    now = hotline.clock.now()
    return [make_incident(hotline, reference=f"80000{n}", caller_id=CALLER, callback_phone=phone,
                          email=f"ops{n}@example.com", captured_at=now - timedelta(minutes=9 - n))
            for n, phone in enumerate(CONTACTS)]


def test_a_caller_whose_contact_is_an_open_incidents_joins_that_one_not_the_newest(hotline):
    oldest, _middle, newest = _three_open_incidents(hotline)
    with hotline.db.session() as s:
        placed = place_report(s, CALLER, Captured(callback_phone=CONTACTS[0]), hotline.clock.now(), CallerLimits())
        assert (placed.join.id, placed.apart_from) == (oldest, None)
        by_mail = place_report(s, CALLER, Captured(email="OPS2@example.com"), hotline.clock.now(), CallerLimits())
        assert by_mail.join.id == newest  # no number given: the e-mail address is the contact


def test_a_caller_whose_contact_is_none_of_theirs_opens_apart_until_the_bound_then_joins_the_newest(hotline):
    *_, newest = _three_open_incidents(hotline)
    stranger = Captured(callback_phone="+14155550199")
    now = hotline.clock.now()
    with hotline.db.session() as s:
        apart = place_report(s, CALLER, stranger, now, CallerLimits(max_new_incidents=3, max_other_contact_incidents=1))
        assert (apart.join, apart.apart_from.id) == (None, newest)
        full = place_report(s, CALLER, stranger, now, CallerLimits(max_new_incidents=2, max_other_contact_incidents=1))
        assert (full.join.id, full.apart_from) == (newest, None)  # 3 opened = 2 + 1: the bound is reached
        later = place_report(s, CALLER, stranger, now + timedelta(minutes=61),
                             CallerLimits(max_new_incidents=2, max_other_contact_incidents=1))
        assert later == Placement()  # a new window: under the limit, an ordinary new incident
        withheld = place_report(s, "+266696687", stranger, now, CallerLimits(max_new_incidents=1))
        assert withheld == Placement()  # a withheld number is not counted: it could be anyone


def test_beyond_the_bound_a_caller_who_asks_to_be_called_back_on_the_number_they_call_from_opens_apart(hotline):
    """A spoofer cannot take a callback to the number that called (it rings its owner), and the next such caller
    has that contact and joins: so however many calls came before, the number's owner gets a tracked callback."""
    *_, newest = _three_open_incidents(hotline)
    now, full = hotline.clock.now(), CallerLimits(max_new_incidents=2, max_other_contact_incidents=1)
    with hotline.db.session() as s:
        owner = place_report(s, CALLER, Captured(callback_phone=CALLER), now, full)
        assert (owner.join, owner.apart_from.id) == (None, newest)
        stranger = place_report(s, CALLER, Captured(callback_phone="+14155550199"), now, full)
        assert (stranger.join.id, stranger.apart_from) == (newest, None)  # any other number: the bound holds
    theirs = make_incident(hotline, reference="800009", caller_id=CALLER, callback_phone=CALLER, captured_at=now)
    with hotline.db.session() as s:
        again = place_report(s, CALLER, Captured(callback_phone=CALLER), now, full)
        assert (again.join.id, again.apart_from) == (theirs, None)  # one incident at most: the next such caller joins

