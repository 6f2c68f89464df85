"""How the breach correction words the answer against the deadline, and what a TAM reads or hears once the deadline
has passed.

An outside reading of the correction SMS: "The customer answered the callback at 08:05 UTC, by the 08:05 UTC
deadline" reads as a contradiction when both fall in the same minute; to the second it does not. A TAM's voice page
rung after the deadline still said the reps were paged "to call the customer back by {due}", as if still in time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.dashboard.timeline import WORDS
from app.models import Incident
from app.services.ownership import Ownership, owned_words
from app.services.page_text import (
    answered_in_time,
    breach_corrected_sms,
    dated,
    hhmm,
    spoken_time,
    tam_sms,
    tam_spoken,
)

DUE = datetime(2026, 12, 5, 8, 5, 30, tzinfo=UTC)


def _incident(answered: datetime | None) -> Incident:
    return Incident(reference="375351", company="Nihon Mail", affected_service="api", callback_phone="+14155550100",
                    email="dana@nihon-mail.example", callback_due_at=DUE, captured_at=DUE - timedelta(minutes=15),
                    callback_answered_at=answered)


def _utc(when: datetime, seconds: bool = False) -> str:
    return hhmm(when, "UTC", seconds)


SUB_SECOND_DUE = DUE.replace(microsecond=900_000)


@pytest.mark.parametrize(("answered", "due", "said"), [
    (DUE - timedelta(seconds=18), DUE, "at 08:05:12 UTC, 18 seconds before the 08:05:30 UTC deadline"),
    (DUE - timedelta(seconds=1), DUE, "at 08:05:29 UTC, 1 second before the 08:05:30 UTC deadline"),
    # counted on the seconds shown: 0.3 s before 08:05:30.0 is shown as 08:05:29
    (DUE - timedelta(milliseconds=300), DUE, "at 08:05:29 UTC, 1 second before the 08:05:30 UTC deadline"),
    (SUB_SECOND_DUE - timedelta(milliseconds=500), SUB_SECOND_DUE,
     "at 08:05:30 UTC, less than a second before the 08:05:30 UTC deadline"),
    (DUE - timedelta(seconds=31), DUE, "at 08:04 UTC, by the 08:05 UTC deadline"),  # another minute: as before
])
def test_an_answer_in_the_deadlines_minute_is_said_to_the_second_and_how_long_before(answered, due, said):
    assert answered_in_time(answered, due, _utc) == said


def test_the_correction_sms_never_reads_answered_at_and_by_the_same_minute():
    sms = breach_corrected_sms(_incident(DUE - timedelta(seconds=18)), "UTC", DUE + timedelta(minutes=1))
    assert sms == ("SEV1 375351 Nihon Mail: NOT breached after all. The customer answered the callback at 08:05:12 "
                   "UTC, 18 seconds before the 08:05:30 UTC deadline; the BREACHED alert came before the answer was "
                   "confirmed.")
    earlier = breach_corrected_sms(_incident(DUE - timedelta(minutes=3)), "Asia/Tokyo", DUE)
    assert "answered the callback at 17:02 JST, by the 17:05 JST deadline;" in earlier  # as before


def test_the_tams_correction_email_and_the_timeline_use_the_same_words():
    incident = _incident(DUE - timedelta(seconds=18))
    mail = breach_corrected_sms(incident, "America/New_York", DUE, clock=dated)
    assert "at 2026-12-05 03:05:12 EST, 18 seconds before the 2026-12-05 03:05:30 EST deadline" in mail
    german = breach_corrected_sms(incident, "Europe/Berlin", DUE, "de-DE", clock=dated)
    assert "um 2026-12-05 09:05:12 CET, 18 Sekunden vor Ablauf der Frist um 2026-12-05 09:05:30 CET, angenommen" in german
    line, _style = WORDS["breach_corrected"]({"answered_at": (DUE - timedelta(seconds=18)).isoformat(),
                                             "due_at": DUE.isoformat(), "alerted": 2}, "")
    assert line == ("The callback was met after all (answered at 08:05:12 UTC, 18 seconds before the 08:05:30 UTC "
                    "deadline): 2 told so who had the breach alert")
    old, _style = WORDS["breach_corrected"]({"answered_at": (DUE - timedelta(seconds=18)).isoformat(),
                                            "alerted": 1}, "")  # a line written before the deadline was kept on it
    assert old == "The callback was met after all (answered at 08:05 UTC): 1 told so who had the breach alert"


def test_a_tams_voice_page_heard_after_the_deadline_says_it_passed_as_the_reps_does():
    incident = _incident(None)
    in_time = tam_spoken(incident, "UTC", at=DUE - timedelta(minutes=1))
    assert "paged to call the customer back by 08:05 U T C." in in_time
    late = tam_spoken(incident, "UTC", at=DUE + timedelta(seconds=1))
    assert "the callback deadline, 08:05 U T C, has passed; the on-call reps are being paged to call the customer " \
           "back now." in late
    assert "back by" not in late
    incident.acknowledged_at = DUE - timedelta(minutes=10)
    owned = owned_words(Ownership("Alice Primary", incident.acknowledged_at), lambda when: spoken_time(when, "UTC"),
                        form="tam_owned")
    taken = tam_spoken(incident, "UTC", owned, at=DUE + timedelta(minutes=2))
    assert ("Alice Primary, an on-call rep, acknowledged it at 07:55 U T C; the callback deadline, 08:05 U T C, has "
            "passed: the customer must be called back now.") in taken and "back by" not in taken


def test_a_tams_page_sms_written_after_the_deadline_says_it_passed():
    sms = tam_sms(_incident(None), "page", DUE + timedelta(minutes=1))
    assert "the callback deadline, 08:05 UTC, has passed; the on-call reps are being paged to call the customer " \
           "back now." in sms and "back by" not in sms
    assert "back by 08:05 UTC." in tam_sms(_incident(None), "page", DUE - timedelta(minutes=1))
