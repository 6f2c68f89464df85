"""A small on-call setup shared by the on-call integration tests."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from app.oncall.records import parse_override, parse_rep, parse_schedule
from app.services.oncall_admin import add_override, create_rep, create_schedule

REPS = [
    {"name": "Alice", "phone": "+4930901820", "time_zone": "Europe/Berlin", "email": "alice@hotline.example"},
    {"name": "Bob", "phone": "+4930901821", "channels": ["sms"], "phone_alt": "+4915123456789"},
    {"name": "Carol", "phone": "+14155552671", "time_zone": "America/New_York", "is_manager": True},
    {"name": "Dave", "phone": "+14155552672", "is_manager": True, "active": False},
    {"name": "Erin", "phone": "+4930901822"},
]

SEEDED_AT = datetime(2026, 11, 26, 3, tzinfo=UTC)  # the fake clock's start

# Daily hand-off at 09:00 Berlin from Monday 2026-11-23: Alice, Bob, Alice, Bob...
# On Thursday 2026-11-26 (the fake clock's day) Bob is on from 08:00Z.
PRIMARY = {
    "name": "primary",
    "time_zone": "Europe/Berlin",
    "layers": [{"rotation": "daily", "handoff_time": "09:00", "starts_on": "2026-11-23", "members": ["Alice", "Bob"]}],
}
SECONDARY = {
    "name": "secondary",
    "time_zone": "America/New_York",
    "layers": [
        {
            "rotation": "weekly",
            "handoff_time": "10:00",
            "handoff_weekday": "mon",
            "starts_on": "2026-11-23",
            "members": ["Erin"],
        },
    ],
}


def seed(session: Session) -> dict[str, int]:
    """Create REPS, PRIMARY and SECONDARY; return rep ids by name."""
    ids = {r["name"]: create_rep(session, parse_rep(r)).id for r in REPS}
    create_schedule(session, parse_schedule(PRIMARY), SEEDED_AT)
    create_schedule(session, parse_schedule(SECONDARY), SEEDED_AT)
    return ids


def override(session: Session, schedule, rep: str, starts_at: str, ends_at: str, now) -> None:
    """Add an override of ``rep`` to ``schedule``."""
    add_override(session, schedule, parse_override({"rep": rep, "starts_at": starts_at, "ends_at": ends_at}), now)
