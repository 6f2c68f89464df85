"""A time the call speaks names its day when that is not today on the clock it is spoken in, and an incident's times
are spoken on its own clock to a caller who proved who they are, whatever number they call from now.

Outside probe: a customer heard "Your next update will come by 5:08 p.m. EST" at 5:08 p.m. EST for an update due a
day later, a callback deadline just after midnight as "by 1:13 a.m." with no "tomorrow", and a repeat caller from a
+7 phone heard their incident's deadline in MSK after hearing it in EST at its intake.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ivr_flows import IncidentInfo, Stage
from ivr_flows.model import Lang
from ivr_flows.prompts import say_time

from .flow_driver import Call, run

NY = "+12125550142"  # New York: EST in winter
BERLIN = "+4930123456"  # MEZ in winter
MOSCOW = "+74951234567"  # MSK all year
FIVE_PM_EST = datetime(2026, 12, 7, 22, 8, tzinfo=UTC)  # Monday 5:08 p.m. EST, 11:08 p.m. MEZ


@pytest.mark.parametrize(("lang", "phone", "ahead", "spoken"), [
    ("en-US", NY, timedelta(hours=3), "8:08 p.m. EST"),  # today: as before
    ("en-US", NY, timedelta(hours=24), "tomorrow at 5:08 p.m. EST"),
    ("en-US", NY, timedelta(hours=-24), "yesterday at 5:08 p.m. EST"),
    ("en-US", NY, timedelta(days=2), "Wednesday, December 9 at 5:08 p.m. EST"),
    ("en-US", BERLIN, timedelta(hours=1), "tomorrow at 12:08 a.m. CET"),  # an hour on, past midnight in Berlin
    ("de-DE", BERLIN, timedelta(minutes=30), "23:38 Uhr (MEZ)"),
    ("de-DE", BERLIN, timedelta(hours=2), "morgen um 1:08 Uhr (MEZ)"),
    ("de-DE", BERLIN, timedelta(hours=-24), "gestern um 23:08 Uhr (MEZ)"),
    ("de-DE", BERLIN, timedelta(days=8), "Dienstag, 15. Dezember, um 23:08 Uhr (MEZ)"),
])
def test_a_spoken_time_names_its_day_on_its_own_clock(lang, phone, ahead, spoken):
    assert say_time(lang, FIVE_PM_EST + ahead, phone, now=FIVE_PM_EST) == spoken


@pytest.mark.parametrize(("lang", "ahead", "spoken"), [
    ("en-US", timedelta(minutes=30), "11:38 p.m. CET"),
    ("en-US", timedelta(days=8), "Tuesday, December 15 at 11:08 p.m. CET"),
    ("de-DE", timedelta(minutes=30), "um 23:38 Uhr (MEZ)"),  # where a German prompt said "spätestens um {time}"
    ("de-DE", timedelta(hours=2), "morgen um 1:08 Uhr (MEZ)"),
    ("de-DE", timedelta(days=8), "am Dienstag, 15. Dezember, um 23:08 Uhr (MEZ)"),
])
def test_the_at_form_carries_the_german_um_and_am(lang, ahead, spoken):
    assert say_time(lang, FIVE_PM_EST + ahead, BERLIN, now=FIVE_PM_EST, at=True) == spoken


def test_without_now_a_time_is_its_clock_alone():
    assert say_time(Lang.EN, FIVE_PM_EST + timedelta(days=1), NY) == "5:08 p.m. EST"
    assert say_time(Lang.DE, FIVE_PM_EST + timedelta(days=1), BERLIN) == "23:08 Uhr (MEZ)"


# intake end: the 15-minute deadline of a call at 11:58 p.m. on the caller's clock falls after midnight
_EN_INTAKE = [("press", "1"), ("press", "1"), ("press", "#"), ("say", "Globex Corporation"), ("say", "Jane Doe"),
              ("press", "1"), ("say", "jane dot doe at globex dot com"), ("press", "1"),
              ("say", "Every API call returns 500"), ("record",), ("press", "1")]
_DE_INTAKE = [("press", "2"), ("press", "2"), ("press", "#"), ("say", "Müller GmbH"), ("say", "Erika Mustermann"),
              ("press", "1"), ("say", "erika at mueller punkt de"), ("press", "1"),
              ("say", "Jede SMTP-Einlieferung schlägt fehl"), ("record",), ("press", "1")]


@pytest.mark.parametrize(("caller", "script", "now", "heard"), [
    (NY, _EN_INTAKE, datetime(2026, 12, 8, 4, 58, tzinfo=UTC),  # 11:58 p.m. EST
     "within 15 minutes, by tomorrow at 12:13 a.m. EST."),
    (NY, _EN_INTAKE, datetime(2026, 12, 8, 3, 58, tzinfo=UTC),  # 10:58 p.m. EST: today, worded as before
     "within 15 minutes, by 11:13 p.m. EST."),
    (BERLIN, _DE_INTAKE, datetime(2026, 12, 7, 22, 58, tzinfo=UTC),  # 23:58 MEZ
     "innerhalb von 15 Minuten, spätestens morgen um 0:13 Uhr (MEZ), unter der Nummer"),
    (BERLIN, _DE_INTAKE, datetime(2026, 12, 7, 21, 58, tzinfo=UTC),  # 22:58 MEZ: today, worded as before
     "innerhalb von 15 Minuten, spätestens um 23:13 Uhr (MEZ), unter der Nummer"),
])
def test_the_intakes_deadline_after_midnight_is_said_as_tomorrow(caller, script, now, heard):
    call = run(Call(caller_id=caller, now=now), script)
    assert call.stage is Stage.SAVING
    call.saved("123456")
    assert call.stage is Stage.DONE and heard in call.said


def _verified_repeat(caller: str, incident: IncidentInfo, now: datetime, lang_key: str = "1") -> Call:
    call = Call(caller_id=caller, open_incident=incident, now=now)
    return run(call, [("press", lang_key), ("press", "1"), ("press", f"{incident.reference}#")])


@pytest.mark.parametrize(("lang_key", "ahead", "heard"), [
    ("1", timedelta(minutes=10), "An engineer will call you back by 5:18 p.m. EST."),
    ("1", timedelta(hours=8, minutes=5), "An engineer will call you back by tomorrow at 1:13 a.m. EST."),
    ("1", timedelta(days=3), "An engineer will call you back by Thursday, December 10 at 5:08 p.m. EST."),
    ("2", timedelta(minutes=10), "Ein Techniker ruft Sie spätestens um 17:18 Uhr (EST) zurück."),
    ("2", timedelta(hours=8, minutes=5), "Ein Techniker ruft Sie spätestens morgen um 1:13 Uhr (EST) zurück."),
    ("2", timedelta(days=3),
     "Ein Techniker ruft Sie spätestens am Donnerstag, 10. Dezember, um 17:08 Uhr (EST) zurück."),
])
def test_a_proven_repeat_caller_hears_the_deadline_with_its_day(lang_key, ahead, heard):
    incident = IncidentInfo("252603", FIVE_PM_EST + ahead, clock="America/New_York")
    call = _verified_repeat(NY, incident, FIVE_PM_EST, lang_key)
    assert call.stage is Stage.ADD_INFO and call.state.verified == "reference"
    assert heard in call.said


def test_a_proven_repeat_caller_from_another_countrys_phone_hears_the_incidents_clock():
    """Intake and receipt said EST (the callback number's); the caller now calls from +7 and keys the reference."""
    due = datetime(2026, 12, 7, 22, 13, tzinfo=UTC)  # 5:13 p.m. EST, 1:13 a.m. MSK
    incident = IncidentInfo("252603", due, clock="America/New_York")
    call = _verified_repeat(MOSCOW, incident, due - timedelta(minutes=9))
    assert "An engineer will call you back by 5:13 p.m. EST." in call.said and "MSK" not in call.said
    call.speak("The 500s now come with a retry-after header")
    call.record()
    call.saved("252603", due)  # appended: the closing words keep the incident's clock
    assert "5:13 p.m. EST" in call.said and "MSK" not in call.said


def test_a_state_saved_before_the_incidents_clock_was_known_speaks_on_the_callers():
    due = datetime(2026, 12, 7, 22, 13, tzinfo=UTC)
    call = _verified_repeat(MOSCOW, IncidentInfo("252603", due), due - timedelta(minutes=9))
    assert "by 1:13 a.m. MSK" in call.said  # the caller's clock (1:04 a.m. there: today)
