"""Validation of on-call configuration: reps, layers, overrides, escalation policies, business hours."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.oncall.business_hours import is_open, parse_business_hours
from app.oncall.errors import OnCallConfigError
from app.oncall.policy import DEFAULT_POLICY, validate_levels
from app.oncall.records import parse_override, parse_rep, parse_schedule
from app.oncall.rotation import Rotation


def test_rep_defaults_and_normalisation():
    rep = parse_rep({"name": "  Alice   Example ", "phone": "+49 30 901820", "channels": ["voice", "sms", "voice"]})
    assert rep.name == "Alice Example"
    assert rep.phone == "+4930901820"
    assert rep.channels == ("sms", "voice")
    assert (rep.time_zone, rep.is_manager, rep.active, rep.phone_alt, rep.email) == ("UTC", False, True, None, None)


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        ({"phone": "030 901820"}, "reps[0].phone", "E.164"),
        ({"phone": 4930901820}, "reps[0].phone", "quoted"),
        ({"phone": "+1900555"}, "reps[0].phone", "not a valid"),
        ({"phone": "+19005551234"}, "reps[0].phone", "is a premium-rate number: we call only fixed-line, mobile"),
        ({"phone": "+447012345678"}, "reps[0].phone", "is a personal number: we call only fixed-line, mobile"),
        ({"phone_alt": "+447640123456"}, "reps[0].phone_alt", "is a pager number: we call only"),
        # an outside probe's numbers were stored without their extension (or junk): a page would reach the switchboard
        ({"phone": "+14155550111;ext=12"}, "reps[0].phone", r"has an extension \(12\): a page cannot dial an extension"),
        ({"phone": "+14155550111 x12"}, "reps[0].phone", r"has an extension \(12\)"),
        ({"phone": "+14155550111,12"}, "reps[0].phone", r"has an extension \(12\)"),
        ({"phone_alt": "+4930901820 ext. 3"}, "reps[0].phone_alt", r"has an extension \(3\)"),
        ({"phone": "+442079460000x"}, "reps[0].phone", "has 'x' besides the number: write only \\+ and the digits"),
        ({"phone": "+14155550111."}, "reps[0].phone", "has '.' at its end besides the number"),
        ({"phone": "+1 (415) 555-0111 call me"}, "reps[0].phone", "has 'call', 'me' besides the number"),
        ({"phone": "+1-800-FLOWERS"}, "reps[0].phone", "has 'FLOWERS' besides the number"),
        ({"time_zone": "Europe/Atlantis"}, "reps[0].time_zone", "unknown time zone"),
        ({"time_zone": "Europe"}, "reps[0].time_zone", "unknown time zone"),  # a tzdata directory: was OSError
        ({"time_zone": "localtime"}, "reps[0].time_zone", "unknown time zone"),  # the host's zone
        # a probe's import took "EST": UTC-5 all year, an hour off in New York all summer
        ({"time_zone": "EST"}, "reps[0].time_zone", "'EST' is a fixed offset or an old rule, not a place"),
        ({"time_zone": "PST8PDT"}, "reps[0].time_zone", "use the Area/City name of the place"),
        ({"time_zone": "Etc/GMT+5"}, "reps[0].time_zone", "not a place"),  # UTC-5, its sign turned round
        ({"time_zone": "posix/America/Los_Angeles"}, "reps[0].time_zone", "not a place"),  # a copy of the database
        ({"time_zone": "right/Europe/Berlin"}, "reps[0].time_zone", "not a place"),  # counts leap seconds: 27 s off
        ({"name": "Eve\u202e"}, "reps[0].name", "printable"),
        ({"channels": ["pager"]}, "reps[0].channels[0]", "unknown channel"),
        ({"channels": []}, "reps[0].channels", "non-empty"),
        ({"nickname": "Al"}, "reps[0].nickname", "unknown field"),
        ({"is_manager": "yes"}, "reps[0].is_manager", "true or false"),
        ({"name": ""}, "reps[0].name", "required"),
        ({"name": "1"}, "reps[0].name", "all digits, which reads as a rep's id"),  # members name reps or ids
    ],
)
def test_rep_errors_name_their_path(change, path, message):
    with pytest.raises(OnCallConfigError, match=message) as caught:
        parse_rep({"name": "Alice", "phone": "+4930901820"} | change, "reps[0]")
    assert caught.value.path == path


@pytest.mark.parametrize("phone", ["+14155550111", "+1 415 555 0111", "+1 (415) 555-0111", "+1.415.555.0111",
                                   "+1-415-555-0111", "+1 415/555 0111"])
def test_a_reps_number_may_be_written_with_separators(phone):
    assert parse_rep({"name": "Alice", "phone": phone}, "reps[0]").phone == "+14155550111"


@pytest.mark.parametrize("name", ["UTC", "Etc/UTC", "America/New_York", "Asia/Kolkata", "Japan"])
def test_places_and_utc_are_time_zones(name):
    assert parse_rep({"name": "Alice", "phone": "+4930901820", "time_zone": name}, "reps[0]").time_zone == name


def test_schedule_layers():
    data = parse_schedule(
        {
            "name": "primary",
            "time_zone": "Europe/Berlin",
            "layers": [
                {
                    "rotation": "weekly",
                    "handoff_time": "09:00",
                    "handoff_weekday": "Mon",
                    "starts_on": "2026-01-05",
                    "members": ["Alice", 2],
                },
                {"rotation": "custom", "handoff_time": "20:00", "shift_hours": 12, "starts_on": date(2026, 1, 5)},
            ],
        }
    )
    weekly, night = data.layers
    assert (weekly.position, weekly.rotation, weekly.handoff_weekday, weekly.members) == (
        0,
        Rotation.WEEKLY,
        0,
        ("Alice", 2),
    )
    assert (night.position, night.shift_hours, night.starts_on) == (1, 12, date(2026, 1, 5))


@pytest.mark.parametrize(
    ("layer", "path"),
    [
        ({"rotation": "weekly"}, "layers[0].handoff_weekday"),
        ({"rotation": "daily", "handoff_weekday": 0}, "layers[0].handoff_weekday"),
        ({"rotation": "custom"}, "layers[0].shift_hours"),
        ({"rotation": "custom", "shift_hours": 0}, "layers[0].shift_hours"),
        ({"rotation": "daily", "shift_hours": 8}, "layers[0].shift_hours"),
        ({"rotation": "monthly"}, "layers[0].rotation"),
        ({"rotation": "daily", "handoff_time": 540}, "layers[0].handoff_time"),
        ({"rotation": "daily", "handoff_time": "24:00"}, "layers[0].handoff_time"),
        ({"rotation": "daily", "starts_on": "2026-02-30"}, "layers[0].starts_on"),
        ({"rotation": "daily", "members": [None]}, "layers[0].members[0]"),
    ],
)
def test_layer_errors_name_their_path(layer, path):
    base = {"handoff_time": "09:00", "starts_on": "2026-01-05"}
    with pytest.raises(OnCallConfigError) as caught:
        parse_schedule({"name": "p", "time_zone": "UTC", "layers": [base | layer]})
    assert caught.value.path == path


def test_layer_positions_are_unique():
    layer = {"rotation": "daily", "handoff_time": "09:00", "starts_on": "2026-01-05", "position": 1}
    with pytest.raises(OnCallConfigError, match="twice") as caught:
        parse_schedule({"name": "p", "time_zone": "UTC", "layers": [layer, layer]})
    assert caught.value.path == "layers[1].position"


def test_override_times():
    o = parse_override({"rep": "Bob", "starts_at": "2026-12-24T09:00:00+01:00", "ends_at": "2026-12-25T09:00:00Z"})
    assert o.starts_at == datetime(2026, 12, 24, 8, tzinfo=UTC)
    with pytest.raises(OnCallConfigError, match="later than") as caught:
        parse_override({"rep": "Bob", "starts_at": "2026-12-24T09:00:00Z", "ends_at": "2026-12-24T09:00:00Z"})
    assert caught.value.path == "ends_at"
    with pytest.raises(OnCallConfigError, match="UTC offset"):
        parse_override({"rep": "Bob", "starts_at": "2026-12-24T09:00:00", "ends_at": "2026-12-25T09:00:00Z"})


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "path"),
    [
        ("0001-01-01T00:00:00+01:00", "0001-01-02T00:00:00Z", "starts_at"),  # overflowed converting to UTC
        ("1999-12-31T23:00:00Z", "2000-01-01T01:00:00Z", "starts_at"),
        ("2099-12-31T00:00:00Z", "9999-12-31T23:59:59-01:00", "ends_at"),
        ("2099-12-31T00:00:00Z", "2100-01-01T00:00:00Z", "ends_at"),
    ],
)
def test_override_times_lie_in_the_years_2000_to_2099(starts_at, ends_at, path):
    with pytest.raises(OnCallConfigError, match="must lie in the years 2000 to 2099") as caught:
        parse_override({"rep": "Bob", "starts_at": starts_at, "ends_at": ends_at})
    assert caught.value.path == path


@pytest.mark.parametrize("starts_on", ["0001-01-01", "1999-12-31", "2100-01-01", "9999-12-31", date(1, 1, 1)])
def test_a_layer_starts_in_the_years_2000_to_2099(starts_on):
    layer = {"rotation": "custom", "shift_hours": 24, "handoff_time": "00:00", "starts_on": starts_on}
    with pytest.raises(OnCallConfigError, match="must lie in the years 2000 to 2099") as caught:
        parse_schedule({"name": "p", "time_zone": "Asia/Tokyo", "layers": [layer]})
    assert caught.value.path == "layers[0].starts_on"
    for day in (date(2000, 1, 1), date(2099, 12, 31)):
        edge = parse_schedule({"name": "p", "time_zone": "Asia/Tokyo", "layers": [layer | {"starts_on": str(day)}]})
        assert edge.layers[0].starts_on == day


@pytest.mark.parametrize("reason", ["a\x00b", "\x1b[2J", "\u202eevil", "zero\u200bwidth", "tag\U000e0041"])
def test_an_override_reason_is_printable_text(reason):
    with pytest.raises(OnCallConfigError, match="printable") as caught:
        parse_override({"rep": "Bob", "starts_at": "2026-12-24T09:00:00Z", "ends_at": "2026-12-25T09:00:00Z",
                        "reason": reason})
    assert caught.value.path == "reason"


def test_a_list_where_a_rotation_name_belongs_is_refused():
    layer = {"rotation": ["daily"], "handoff_time": "09:00", "starts_on": "2026-01-01"}
    with pytest.raises(OnCallConfigError, match="must be one of") as caught:
        parse_schedule({"name": "p", "time_zone": "UTC", "layers": [layer]})
    assert caught.value.path == "layers[0].rotation"


def test_default_policy_is_valid_and_canonical():
    assert validate_levels(DEFAULT_POLICY) == DEFAULT_POLICY


@pytest.mark.parametrize(
    ("levels", "path"),
    [
        ([], "levels"),
        ([{"delay_minutes": 0}], "levels[0].targets"),
        ([{"delay_minutes": -1, "targets": [{"type": "managers"}]}], "levels[0].delay_minutes"),
        ([{"delay_minutes": 0, "targets": [{"type": "pager"}]}], "levels[0].targets[0].type"),
        ([{"delay_minutes": 0, "targets": [{"type": []}]}], "levels[0].targets[0].type"),  # unhashable: was a TypeError
        ([{"delay_minutes": 0, "targets": [{"type": {"a": 1}}]}], "levels[0].targets[0].type"),
        ([{"delay_minutes": 0, "targets": [{"type": "schedule"}]}], "levels[0].targets[0].schedule"),
        ([{"delay_minutes": 0, "targets": [{"type": "rep", "rep": True}]}], "levels[0].targets[0].rep"),
        ([{"delay_minutes": 0, "targets": [{"type": "tam", "channels": ["fax"]}]}], "levels[0].targets[0].channels[0]"),
        ([{"delay_minutes": 0, "targets": [{"type": "managers", "who": "all"}]}], "levels[0].targets[0].who"),
        (
            [
                {"delay_minutes": 5, "targets": [{"type": "managers"}]},
                {"delay_minutes": 3, "targets": [{"type": "tam"}]},
            ],
            "levels[1].delay_minutes",
        ),
    ],
)
def test_policy_errors_name_their_path(levels, path):
    with pytest.raises(OnCallConfigError) as caught:
        validate_levels(levels)
    assert caught.value.path == path


def test_business_hours_in_the_tams_time_zone():
    hours = "mon-fri 09:00-17:00"
    # 2026-11-26 is a Thursday; 08:00Z is 09:00 in Berlin, 03:00 in New York.
    assert is_open(hours, "Europe/Berlin", datetime(2026, 11, 26, 8, tzinfo=UTC))
    assert not is_open(hours, "Europe/Berlin", datetime(2026, 11, 26, 16, tzinfo=UTC))  # 17:00: closed
    assert not is_open(hours, "America/New_York", datetime(2026, 11, 26, 8, tzinfo=UTC))
    assert not is_open(hours, "Europe/Berlin", datetime(2026, 11, 28, 10, tzinfo=UTC))  # Saturday
    assert is_open("sat-sun 10:00-24:00, fri 12:00-13:00", "UTC", datetime(2026, 11, 29, 23, 59, tzinfo=UTC))


@pytest.mark.parametrize("text", ["weekdays 9-5", "mon-fri 17:00-09:00", "mon-xyz 09:00-17:00", "mon 24:00-24:00"])
def test_malformed_business_hours(text):
    with pytest.raises(OnCallConfigError):
        parse_business_hours(text)


@pytest.mark.parametrize(("levels", "sla", "first"), [
    ([{"delay_minutes": 0, "targets": [{"type": "tam"}]}], 15, None),  # probe G F1: told, never asked
    ([{"delay_minutes": 0, "targets": [{"type": "tam"}]}, {"delay_minutes": 3, "targets": [{"type": "managers"}]}],
     15, None),
    ([{"delay_minutes": 12, "targets": [{"type": "schedule", "schedule": "primary"}]}], 15, (0, 12)),  # after T+10
    ([{"delay_minutes": 10, "targets": [{"type": "rep", "rep": "Alice"}]}], 15, (0, 10)),  # at the alert: too late
])
def test_a_policy_must_page_the_rota_before_the_at_risk_alert(levels, sla, first):
    from app.services.oncall_coverage import unanswered

    found = unanswered("p", levels, False, sla)
    assert found is not None and found.first == first and found.answer_by == 10


@pytest.mark.parametrize(("levels", "sla"), [
    ([{"delay_minutes": 9, "targets": [{"type": "tam"}, {"type": "schedule", "schedule": "primary"}]}], 15),
    ([{"delay_minutes": 0, "targets": [{"type": "tam"}]}, {"delay_minutes": 3, "targets": [{"type": "rep", "rep": 7}]}],
     15),
    ([{"delay_minutes": 0, "targets": [{"type": "schedule", "schedule": "primary"}]}], 5),  # no room before the alert
])
def test_a_policy_paging_the_rota_before_the_at_risk_alert_passes(levels, sla):
    from app.services.oncall_coverage import unanswered

    assert unanswered("p", levels, False, sla) is None
