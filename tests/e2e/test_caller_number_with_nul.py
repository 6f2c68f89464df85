"""A caller's number holding a NUL (a signed ``From``) is taken without it, never a technical problem.

An outside probe posted a signed voice webhook whose ``From`` was "+1415555\\x000177": the call's start failed on
PostgreSQL (a NUL in its ``call_received`` line), its rescue failed the same way, the caller heard "we have a
technical problem", and the rescue kept in the spool failed at every replay, logging an ERROR every 10 seconds for
ever. Only the holder of the auth token can sign it, but nothing a caller's request holds may lose the caller.
"""

from __future__ import annotations

from sqlalchemy import select

from app.models import CallSession, Incident
from app.services.spool import SPOOL_NAME, spool
from workers import watchdog

CALLER = "+14155550177"
WITH_NUL = "+1415555\x000177"


def test_a_call_from_a_number_holding_a_nul_is_taken_as_the_number_without_it(phone, hotline):
    call = phone(WITH_NUL)
    said = " ".join(call.dial().said)
    assert "technical problem" not in said and "press 1" in said.lower()
    call.press("1")
    call.press("1")
    call.press("#")
    call.say("Acme Mail")
    assert "call you back on" in " ".join(call.say("Dana Smith").said)
    call.press("1")  # the number read back is the one they call from
    with hotline.db.session() as session:
        assert session.scalars(select(CallSession.from_number)).all() == [CALLER]
        assert session.execute(select(Incident.caller_id, Incident.callback_phone)).all() == [(CALLER, CALLER)]


def test_a_spooled_rescue_of_a_number_holding_a_nul_is_replayed(hotline):
    spool(hotline.settings.data_dir, "rescue", {"call_sid": "CA" + "7" * 32, "from": WITH_NUL, "reason": "db down",
                                                "at": hotline.clock.now().isoformat(), "source": "fallback"})
    watchdog.tick(hotline, "leader")
    with hotline.db.session() as session:
        assert session.execute(select(Incident.call_sid, Incident.caller_id)).all() == [("CA" + "7" * 32, CALLER)]
    assert not (hotline.settings.data_dir / SPOOL_NAME).exists()  # nothing left to fail again
