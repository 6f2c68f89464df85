"""Who is on call, managers, the default policy and escalation targets, on a real database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.db import Database
from app.models import Account, EscalationPolicy, Rep
from app.oncall.contactable import TEXTED_NO_EMAIL, Contactable
from app.oncall.errors import OnCallConfigError, UnknownRep, UnknownSchedule
from app.oncall.policy import DEFAULT_POLICY
from app.services.oncall import (
    default_policy,
    find_schedule,
    format_now,
    managers,
    resolve_target,
    schedule_shifts,
    who_is_on_call,
)
from app.services.oncall_admin import deactivate_rep, delete_override, save_policy
from tests.integration.oncall_support import override, seed

THURSDAY_0300 = datetime(2026, 11, 26, 3, tzinfo=UTC)  # 04:00 in Berlin, 22:00 Wednesday in New York
THURSDAY_1000 = datetime(2026, 11, 26, 10, tzinfo=UTC)  # 11:00 in Berlin, 05:00 in New York


@pytest.fixture
def db(database_url) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def ids(db) -> dict[str, int]:
    with db.transaction() as session:
        return seed(session)


def _names(reps) -> list[str]:
    return [r.name for r in reps]


def test_who_is_on_call_follows_the_rotation(db, ids):
    with db.transaction() as session:
        assert _names(who_is_on_call(session, "primary", THURSDAY_0300)) == ["Alice"]  # Wednesday's shift
        assert _names(who_is_on_call(session, "primary", datetime(2026, 11, 26, 8, tzinfo=UTC))) == ["Bob"]
        assert _names(who_is_on_call(session, "secondary", THURSDAY_0300)) == ["Erin"]
        assert who_is_on_call(session, "primary", datetime(2026, 11, 23, 7, tzinfo=UTC)) == []  # before the start


def test_unknown_schedule(db, ids):
    with db.transaction() as session, pytest.raises(UnknownSchedule):
        who_is_on_call(session, "tertiary", THURSDAY_0300)


def test_override_wins_and_can_be_deleted(db, ids):
    with db.transaction() as session:
        primary = find_schedule(session, "primary")
        override(session, primary, "Erin", "2026-11-26T02:00:00Z", "2026-11-26T04:00:00Z", THURSDAY_0300)
    with db.transaction() as session:
        assert _names(who_is_on_call(session, "primary", THURSDAY_0300)) == ["Erin"]
        assert _names(who_is_on_call(session, "primary", datetime(2026, 11, 26, 4, tzinfo=UTC))) == ["Alice"]
        override_id = schedule_shifts(session, find_schedule(session, "primary"), THURSDAY_0300, THURSDAY_1000)[
            0
        ].override_id
        assert delete_override(session, override_id)
        assert not delete_override(session, override_id)
    with db.transaction() as session:
        assert _names(who_is_on_call(session, "primary", THURSDAY_0300)) == ["Alice"]


def test_deactivated_reps_are_skipped_in_rotations_and_overrides(db, ids):
    with db.transaction() as session:
        override(
            session,
            find_schedule(session, "primary"),
            "Erin",
            "2026-11-26T02:00:00Z",
            "2026-11-26T04:00:00Z",
            THURSDAY_0300,
        )
        deactivate_rep(session, session.get_one(Rep, ids["Erin"]))
        deactivate_rep(session, session.get_one(Rep, ids["Alice"]))
    with db.transaction() as session:
        assert _names(who_is_on_call(session, "primary", THURSDAY_0300)) == ["Bob"]
        assert who_is_on_call(session, "secondary", THURSDAY_0300) == []


def test_managers_are_the_active_ones_by_name(db, ids):
    with db.transaction() as session:
        assert _names(managers(session)) == ["Carol"]


def test_default_policy_is_created_once(db, ids):
    with db.transaction() as session:
        first = default_policy(session)
    with db.transaction() as session:
        second = default_policy(session)
        count = session.scalar(select(func.count()).select_from(EscalationPolicy))
    assert first == second == {"name": "default", "is_default": True, "levels": DEFAULT_POLICY}
    assert count == 1


def test_a_saved_default_policy_replaces_the_built_in_one(db, ids):
    levels = [{"delay_minutes": 0, "targets": [{"type": "rep", "rep": "Carol"}]}]
    with db.transaction() as session:
        default_policy(session)
        save_policy(session, "nights", levels, is_default=True)
    with db.transaction() as session:
        assert default_policy(session)["name"] == "nights"
        defaults = session.scalars(select(EscalationPolicy.name).where(EscalationPolicy.is_default.is_(True))).all()
    assert defaults == ["nights"]


def test_policies_are_checked_against_schedules_and_reps(db, ids):
    levels = [
        {"delay_minutes": 0, "targets": [{"type": "schedule", "schedule": "primary"}]},
        {"delay_minutes": 3, "targets": [{"type": "schedule", "schedule": "tertiary"}]},
    ]
    with db.transaction() as session, pytest.raises(OnCallConfigError) as caught:
        save_policy(session, "broken", levels)
    assert str(caught.value) == "levels[1].targets[0].schedule: unknown schedule 'tertiary'"
    with db.transaction() as session, pytest.raises(OnCallConfigError, match="unknown rep 'Zed'"):
        save_policy(session, "broken", [{"delay_minutes": 0, "targets": [{"type": "rep", "rep": "Zed"}]}])
    with pytest.raises(OnCallConfigError):
        EscalationPolicy(name="x", levels=[])  # the model validates on assignment too


def test_resolve_schedule_target_uses_the_targets_channels(db, ids):
    with db.transaction() as session:
        found = resolve_target(
            session, {"type": "schedule", "schedule": "primary", "channels": ["voice"]}, THURSDAY_1000
        )
        plain = resolve_target(session, {"type": "schedule", "schedule": "primary"}, THURSDAY_1000)
    assert found == [Contactable(ids["Bob"], "Bob", "+4930901821", ("voice",), "oncall:primary", "+4915123456789")]
    assert plain[0].channels == ("sms",)  # Bob's own preference


def test_resolve_rep_and_managers_targets(db, ids):
    with db.transaction() as session:
        by_name = resolve_target(session, {"type": "rep", "rep": "Carol"}, THURSDAY_0300)
        by_id = resolve_target(session, {"type": "rep", "rep": ids["Carol"]}, THURSDAY_0300)
        inactive = resolve_target(session, {"type": "rep", "rep": "Dave"}, THURSDAY_0300)
        bosses = resolve_target(session, {"type": "managers", "channels": ["sms", "voice"]}, THURSDAY_0300)
        with pytest.raises(UnknownRep):
            resolve_target(session, {"type": "rep", "rep": "Zed"}, THURSDAY_0300)
        with pytest.raises(UnknownSchedule):
            resolve_target(session, {"type": "schedule", "schedule": "tertiary"}, THURSDAY_0300)
    assert by_name == by_id
    assert (by_name[0].name, by_name[0].role, by_name[0].channels) == ("Carol", "rep", ("sms", "voice"))
    assert inactive == []
    assert [(c.name, c.role) for c in bosses] == [("Carol", "manager")]


def test_tam_is_rung_only_in_their_business_hours_and_texted_outside_them_without_an_address(db, ids):
    with db.transaction() as session:
        account = Account(name="Acme", tam_name="Tom", tam_phone="+4930901899", tam_time_zone="Europe/Berlin")
        session.add(account)
        session.flush()
        tam = {"type": "tam"}
        open_ = resolve_target(session, tam, THURSDAY_1000, account=account)  # 11:00 Berlin, Thursday
        closed = resolve_target(session, tam, THURSDAY_0300, account=account)  # 04:00 Berlin
        weekend = resolve_target(session, tam, THURSDAY_1000 + timedelta(days=2), account=account)
        none = resolve_target(session, tam, THURSDAY_1000)
        account.tam_time_zone = "America/New_York"  # 05:00 there
        new_york = resolve_target(session, tam, THURSDAY_1000, account=account)
        account.tam_business_hours = "mon-sun 00:00-24:00"
        always = resolve_target(session, {"type": "tam", "channels": ["sms"]}, THURSDAY_1000, account=account)
    assert open_ == [Contactable(None, "Tom", "+4930901899", ("sms", "voice"), "tam")]
    texted = [Contactable(None, "Tom", "+4930901899", ("sms",), "tam", why=TEXTED_NO_EMAIL)]  # no tam_email
    assert closed == weekend == new_york == texted and none == []
    assert always[0].channels == ("sms",)


def test_new_accounts_default_to_utc_office_hours(db):
    with db.transaction() as session:
        account = Account(name="Beta", tam_phone="+4930901899")
        session.add(account)
        session.flush()
        assert (account.tam_time_zone, account.tam_business_hours) == ("UTC", "mon-fri 09:00-17:00")
        assert resolve_target(session, {"type": "tam"}, THURSDAY_1000, account=account)[0].name == "TAM of Beta"


def test_format_now_lists_schedules_and_managers(db, ids):
    with db.transaction() as session:
        text = format_now(session, THURSDAY_0300)
    assert text.splitlines() == [
        "On call at 2026-11-26T03:00:00Z",
        "  primary [Europe/Berlin, Thu 04:00 CET]: Alice (+4930901820)",
        "  secondary [America/New_York, Wed 22:00 EST]: Erin (+4930901822)",
        "Managers: Carol (+14155552671)",
    ]


def test_schedule_shifts_for_the_next_days(db, ids):
    with db.transaction() as session:
        found = schedule_shifts(
            session, find_schedule(session, "primary"), THURSDAY_0300, THURSDAY_0300 + timedelta(days=3)
        )
    assert [(s.rep_id, s.starts_at.isoformat()) for s in found] == [
        (ids["Alice"], "2026-11-26T03:00:00+00:00"),
        (ids["Bob"], "2026-11-26T08:00:00+00:00"),
        (ids["Alice"], "2026-11-27T08:00:00+00:00"),
        (ids["Bob"], "2026-11-28T08:00:00+00:00"),
    ]


def test_a_layer_stored_before_the_year_rule_makes_its_target_unresolvable_not_fatal(db, ids):
    # audit F1: a year-1 custom layer in Tokyo (stored before starts_on was limited) crashed every lookup; since
    # custom rotations count on the wall clock (session 43) it resolves. A weekly layer at the calendar's end still
    # raises out of range at its end, and its target is logged unresolvable while the other schedules resolve.
    from app.models import IncidentEvent, Schedule, ScheduleLayer
    from app.services.decisions import resolve

    with db.transaction() as session:
        for name, zone, layer in (
                ("year1", "Asia/Tokyo", dict(rotation="custom", handoff_time="00:00", shift_hours=24,
                                            starts_on=date(1, 1, 1))),
                ("last", "Pacific/Kiritimati", dict(rotation="weekly", handoff_time="00:00", handoff_weekday=6,
                                                   starts_on=date(9999, 12, 30)))):
            schedule = Schedule(name=name, time_zone=zone)
            session.add(schedule)
            session.flush()
            session.add(ScheduleLayer(schedule_id=schedule.id, position=0, members=[ids["Alice"]], **layer))
    end = datetime(9999, 12, 31, 20, tzinfo=UTC)
    with db.transaction() as session:
        assert [c.name for c in resolve(session, None, {"type": "schedule", "schedule": "year1"}, THURSDAY_0300)] == [
            "Alice"]
        with pytest.raises(ValueError, match="out of range"):  # a ValueError the callers handle, not an overflow
            who_is_on_call(session, "last", end)
        assert resolve(session, None, {"type": "schedule", "schedule": "last"}, end) == []
        primary = resolve(session, None, {"type": "schedule", "schedule": "primary"}, THURSDAY_0300)
        assert [c.name for c in primary] == ["Alice"]  # the other schedules still resolve
        logged = session.scalars(select(IncidentEvent).where(IncidentEvent.kind == "target_unresolvable")).all()
        assert [(e.detail["target"]["schedule"], "out of range" in e.detail["error"]) for e in logged] == [
            ("last", True)]
