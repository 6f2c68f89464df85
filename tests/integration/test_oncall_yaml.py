"""On-call configuration as YAML: import, export, round trips, and errors that name their path."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import yaml
from sqlalchemy import func, select

from app.db import Database
from app.models import Base, EscalationPolicy, Override, Rep, Schedule
from app.oncall.policy import default_levels
from app.services.oncall import default_policy, who_is_on_call
from app.services.oncall_yaml import OnCallConfigError, export_yaml, import_yaml

NOW = datetime(2026, 11, 26, 3, tzinfo=UTC)

CONFIG = """
reps:
  - name: Alice
    phone: "+4930901820"
    email: alice@hotline.example
    time_zone: Europe/Berlin
  - name: Bob
    phone: "+4930901821"
    phone_alt: "+4915123456789"
    channels: [sms]
  - name: Mia
    phone: "+14155552671"
    time_zone: America/New_York
    is_manager: true
schedules:
  - name: primary
    time_zone: Europe/Berlin
    layers:
      - rotation: weekly
        handoff_time: "09:00"
        handoff_weekday: mon
        starts_on: 2026-11-23
        members: [Alice, Bob]
      - position: 5
        rotation: custom
        handoff_time: "20:00"
        shift_hours: 12
        starts_on: 2026-11-28
        members: [Mia]
    overrides:
      - rep: Bob
        starts_at: 2026-12-24T09:00:00+01:00
        ends_at: 2026-12-27T09:00:00+01:00
        reason: Christmas swap
      - rep: Alice
        starts_at: 2026-01-01T00:00:00Z
        ends_at: 2026-01-02T00:00:00Z
  - name: secondary
    time_zone: Europe/Berlin
    layers:
      - {rotation: daily, handoff_time: "09:00", starts_on: 2026-11-01, members: [Bob, Alice]}
escalation_policies:
  - name: sev1
    is_default: true
    levels:
      - delay_minutes: 0
        targets: [{type: schedule, schedule: primary, channels: [sms, voice]}]
      - delay_minutes: 5
        targets: [{type: rep, rep: Mia}, {type: tam}]
"""


@pytest.fixture
def db(database_url) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def other_db(tmp_path) -> Iterator[Database]:
    """A second, empty SQLite database."""
    database = Database(f"sqlite:///{tmp_path / 'other.db'}")
    Base.metadata.create_all(database.engine)
    yield database
    database.dispose()


def _import(db: Database, text: str = CONFIG):
    with db.transaction() as session:
        return import_yaml(session, text, NOW)


def _export(db: Database) -> str:
    with db.transaction() as session:
        return export_yaml(session)


def _count(db: Database, model) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_import_creates_everything(db):
    summary = _import(db)
    assert (summary.reps_created, summary.schedules_created, summary.policies_created) == (3, 2, 1)
    assert (summary.overrides_added, summary.overrides_expired) == (1, 1)
    assert "reps: 3 created" in str(summary)
    with db.transaction() as session:
        assert [r.name for r in who_is_on_call(session, "primary", NOW)] == ["Alice"]
        assert [r.name for r in who_is_on_call(session, "primary", datetime(2026, 11, 28, 19, tzinfo=UTC))] == ["Mia"]
        assert [r.name for r in who_is_on_call(session, "primary", datetime(2026, 12, 25, tzinfo=UTC))] == ["Bob"]
        assert default_policy(session)["name"] == "sev1"
        bob = session.scalar(select(Rep).where(Rep.name == "Bob"))
        assert (bob.channels, bob.phone_alt, bob.time_zone) == (["sms"], "+4915123456789", "UTC")


def test_importing_twice_changes_nothing_says_so_and_adds_no_duplicate_overrides(db):
    _import(db)
    summary = _import(db)
    assert (summary.reps_created, summary.reps_updated, summary.reps_unchanged) == (0, 0, 3)
    assert (summary.schedules_updated, summary.schedules_unchanged) == (0, 2)
    assert (summary.overrides_added, summary.overrides_unchanged) == (0, 1)
    assert _count(db, Override) == 1


def _without_overrides(text: str) -> str:
    """CONFIG with primary's overrides taken out (``overrides: []``)."""
    start, end = text.index("    overrides:\n"), text.index("  - name: secondary")
    return text[:start] + "    overrides: []\n" + text[end:]


def test_an_import_without_a_stored_override_keeps_it_and_says_so(db):
    """An outside probe imported primary with Alice's override, then the same file with ``overrides: []``: "0 added,
    0 already there", and Alice stayed on call with nothing said. It is kept (an import never deletes one: a rota
    emptied by mistake could page nobody), and each current or future one is named with how to delete it."""
    now_text = "2026-11-26T02:59:00Z"  # Alice's override began a minute before NOW: she is on call now
    current = CONFIG.replace("    overrides:\n", "    overrides:\n      - {rep: Alice, starts_at: '" + now_text +
                             "', ends_at: '2026-11-26T06:00:00Z'}\n", 1)
    assert _import(db, current).overrides_added == 2
    with db.transaction() as session:
        alice, bob = (session.scalar(select(Override.id).where(Override.rep_id == select(Rep.id).where(
            Rep.name == name).scalar_subquery())) for name in ("Alice", "Bob"))

    summary = _import(db, _without_overrides(CONFIG))

    assert (summary.overrides_added, summary.overrides_unchanged) == (0, 0)
    assert summary.warnings == [
        f"schedule 'primary': 2 stored overrides not in the file were kept (Alice from {now_text} to "
        f"2026-11-26T06:00:00Z, id {alice}; Bob from 2026-12-24T08:00:00Z to 2026-12-27T08:00:00Z, id {bob}): an "
        "import adds overrides but never deletes one; delete them on the on-call page (admin) or with "
        "DELETE /api/v1/overrides/{id}"]
    assert _count(db, Override) == 2
    with db.transaction() as session:
        assert [r.name for r in who_is_on_call(session, "primary", NOW)] == ["Alice"]
    # one left, and only the one not over at the time of the import: Alice's is past by then
    with db.transaction() as session:
        later = import_yaml(session, _without_overrides(CONFIG), datetime(2026, 11, 26, 7, tzinfo=UTC))
    assert later.warnings == [
        "schedule 'primary': 1 stored override not in the file was kept (Bob from 2026-12-24T08:00:00Z to "
        f"2026-12-27T08:00:00Z, id {bob}): an import adds overrides but never deletes one; delete it on the on-call "
        f"page (admin) or with DELETE /api/v1/overrides/{bob}"]
    assert _import(db, current).warnings == []  # every stored one in the file: nothing to say


def _counts(summary) -> dict[str, tuple[int, int, int]]:
    return {kind: tuple(getattr(summary, f"{kind}_{outcome}") for outcome in ("created", "updated", "unchanged"))
            for kind in ("reps", "schedules", "policies")}


def test_importing_an_unchanged_export_counts_everything_unchanged(db):
    _import(db)
    summary = _import(db, _export(db))
    assert _counts(summary) == {"reps": (0, 0, 3), "schedules": (0, 0, 2), "policies": (0, 0, 1)}
    assert str(summary).startswith("reps: 0 created, 0 updated, 3 unchanged; schedules: 0 created, 0 updated, "
                                   "2 unchanged; overrides: 0 added, 1 already there, 0 skipped as over; "
                                   "escalation policies: 0 created, 0 updated, 1 unchanged")


def test_only_what_differs_from_what_is_stored_counts_as_updated(db):
    _import(db)
    exported = _export(db)
    bob = "phone: '+4930901821'"
    assert exported.count(bob) == 1
    summary = _import(db, exported.replace(bob, "phone: '+4930901829'"))
    assert _counts(summary) == {"reps": (0, 1, 2), "schedules": (0, 0, 2), "policies": (0, 0, 1)}
    assert "reps: 0 created, 1 updated, 2 unchanged;" in str(summary)
    assert exported.count("starts_on: '2026-11-01'") == 1  # secondary's layer
    summary = _import(db, exported.replace("starts_on: '2026-11-01'", "starts_on: '2026-11-02'")
                      .replace("delay_minutes: 5", "delay_minutes: 4"))
    assert _counts(summary) == {"reps": (0, 1, 2), "schedules": (0, 1, 1), "policies": (0, 1, 0)}  # Bob's phone back
    with db.transaction() as session:
        assert session.scalar(select(Rep.phone).where(Rep.name == "Bob")) == "+4930901821"


def test_export_import_export_is_identical(db, other_db):
    _import(db)
    first = _export(db)
    _import(db, first)
    assert _export(db) == first
    _import(other_db, first)
    assert _export(other_db) == first


def test_export_format(db):
    _import(db)
    text = _export(db)
    assert "  - name: Bob\n    phone: '+4930901821'\n    phone_alt: '+4915123456789'\n    channels: [sms]\n" in text
    assert "        handoff_weekday: mon\n        starts_on: '2026-11-23'\n        members: [Alice, Bob]\n" in text
    assert (
        "      - rep: Bob\n        starts_at: '2026-12-24T08:00:00Z'\n        ends_at: '2026-12-27T08:00:00Z'\n" in text
    )
    assert "          - type: rep\n            rep: Mia\n          - type: tam\n" in text


def test_export_of_an_empty_database_shows_the_built_in_default_policy_and_stores_nothing(db):
    text = _export(db)
    assert text.startswith("reps: []\nschedules: []\nescalation_policies:\n  - name: default\n    is_default: true\n")
    assert yaml.safe_load(text)["escalation_policies"] == [
        {"name": "default", "is_default": True, "levels": default_levels()}]  # what the first incident will use
    assert _count(db, EscalationPolicy) == 0  # an export writes nothing: the first incident stores it


def test_the_export_of_an_empty_database_imports_and_leaves_the_default_built_in(db):
    text = _export(db)
    summary = _import(db, text)
    assert (summary.policies_built_in, summary.policies_stored) == (1, 0)
    assert str(summary).endswith("escalation policies: 0 created, 0 updated, 0 unchanged, 1 built-in default, "
                                 "not stored")
    assert summary.warnings == ["the built-in default escalation policy pages schedules 'primary', 'secondary', "
                                "which do not exist yet: add them under schedules before the first incident"]
    assert _count(db, EscalationPolicy) == 0  # as before: the first incident stores it
    assert _export(db) == text


def test_a_policy_naming_a_missing_schedule_is_still_refused_beside_the_built_in_default(db):
    empty = _export(db)
    weekend = "schedules:\n  - {name: weekend, time_zone: UTC}\n"
    with pytest.raises(OnCallConfigError) as caught:  # a schedule stored: the default would page nobody
        _import(db, empty.replace("schedules: []\n", weekend))
    assert "Add a schedule named 'primary' under schedules" in str(caught.value)
    changed = empty.replace("schedule: secondary", "schedule: tertiary")  # no longer the built-in default
    with pytest.raises(OnCallConfigError) as caught:
        _import(db, changed)
    assert str(caught.value) == "escalation_policies[0].levels[0].targets[0].schedule: unknown schedule 'primary'"
    assert (_count(db, EscalationPolicy), _count(db, Schedule)) == (0, 0)


def test_export_marks_the_policy_the_next_incident_uses_as_the_default(db):
    _import(db, "escalation_policies: [{name: default, is_default: false, levels: [{delay_minutes: 0, "
                "targets: [{type: tam}]}]}]")
    [policy] = yaml.safe_load(_export(db))["escalation_policies"]
    assert (policy["name"], policy["is_default"]) == ("default", True)  # stored unmarked, used all the same
    with db.transaction() as session:
        assert default_policy(session)["levels"] == policy["levels"]


def test_rep_targets_given_by_id_are_exported_by_name(db):
    _import(db)
    with db.transaction() as session:
        mia = session.scalar(select(Rep.id).where(Rep.name == "Mia"))
    _import(
        db,
        f"escalation_policies: [{{name: mia, levels: [{{delay_minutes: 0, targets: [{{type: rep, rep: {mia}}}]}}]}}]",
    )
    assert (
        "  - name: mia\n    is_default: false\n    levels:\n      - delay_minutes: 0\n        targets:\n          - type: rep\n            rep: Mia\n"
        in _export(db)
    )


ERRORS = [
    (
        "schedules: [{name: p, time_zone: UTC, layers: [{rotation: daily, handoff_time: '09:00', starts_on: 2026-01-01},"
        " {rotation: daily, handoff_time: '09:00', starts_on: 2026-01-01, members: [Alice, Mia, Bob]}]}]",
        "schedules[0].layers[1].members[2]: unknown rep 'Bob'",
    ),
    ("reps: [{name: Zed, phone: +4930901820}]", 'reps[0].phone: must be a quoted E.164 string such as "+4930901820"'),
    (
        "reps: [{name: Zed, phone: '+31842123456'}]",
        "reps[0].phone: '+31842123456' is a UAN (universal access) number: "
        "we call only fixed-line, mobile, toll-free and VoIP numbers",
    ),
    (  # an outside probe's import stored +14155550111: the rep would be paged at the switchboard
        "reps: [{name: Zed, phone: '+14155550111;ext=12'}]",
        "reps[0].phone: '+14155550111;ext=12' has an extension (12): a page cannot dial an extension, give the rep's "
        "direct number",
    ),
    (
        "reps: [{name: Zed, phone: '+4930901820', phone_alt: '+442079460000x'}]",
        "reps[0].phone_alt: '+442079460000x' has 'x' besides the number: write only + and the digits (a page cannot "
        "dial an extension)",
    ),
    (
        "reps: [{name: Zed, phone: '+4930901820', time_zone: Mars/Base}]",
        "reps[0].time_zone: unknown time zone 'Mars/Base'",
    ),
    (
        "schedules: [{name: p, time_zone: UTC, layers: [{rotation: daily, handoff_time: 9:00, starts_on: 2026-01-01}]}]",
        'schedules[0].layers[0].handoff_time: must be a quoted "HH:MM" time such as "09:00"',
    ),
    (
        "schedules: [{name: p, time_zone: UTC, overrides: [{rep: Nobody, starts_at: 2027-01-01T00:00:00Z,"
        " ends_at: 2027-01-02T00:00:00Z}]}]",
        "schedules[0].overrides[0].rep: unknown rep 'Nobody'",
    ),
    (  # an override already over is skipped, but a rep it names that does not exist is still an error
        "schedules: [{name: p, time_zone: UTC, overrides: [{rep: Nobody, starts_at: 2020-01-01T00:00:00Z,"
        " ends_at: 2020-01-02T00:00:00Z}]}]",
        "schedules[0].overrides[0].rep: unknown rep 'Nobody'",
    ),
    (
        "escalation_policies: [{name: x, levels: [{delay_minutes: 0, targets: [{type: schedule, schedule: nope}]}]}]",
        "escalation_policies[0].levels[0].targets[0].schedule: unknown schedule 'nope'",
    ),
    (
        "escalation_policies: [{name: a, is_default: true, levels: [{delay_minutes: 0, targets: [{type: tam}]}]},"
        " {name: b, is_default: true, levels: [{delay_minutes: 0, targets: [{type: tam}]}]}]",
        "escalation_policies[1].is_default: only one escalation policy can be the default",
    ),
    (
        "reps: [{name: Zed, phone: '+4930901820'}, {name: Zed, phone: '+4930901821'}]",
        "reps[1].name: 'Zed' is already given at reps[0]",
    ),
    ("pagers: []", "pagers: unknown field"),
    ("- just a list", "must be a mapping"),
]


@pytest.mark.parametrize(("text", "message"), ERRORS)
def test_errors_name_their_path_and_change_nothing(db, text, message):
    _import(db, "reps: [{name: Alice, phone: '+4930901820'}, {name: Mia, phone: '+14155552671'}]")
    before = _export(db)
    with pytest.raises(OnCallConfigError) as caught:
        _import(db, "reps: [{name: New, phone: '+4930901888'}]\n" + text if text.startswith("sch") else text)
    assert str(caught.value) == message
    assert _export(db) == before  # the transaction rolled back: not even "New" was added


def test_malformed_yaml_names_the_line(db):
    with pytest.raises(OnCallConfigError, match=r"not valid YAML at line \d+, column \d+: expected ',' or ']'"):
        _import(db, "reps:\n  - name: [unclosed\n")
    assert _count(db, Schedule) == 0
