"""The outage statement callers hear never promises the next update at a time already past (outside probe, F11)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.models import Outage
from app.services.update_text import outage_statement

NOW = datetime(2026, 12, 7, 7, 7, tzinfo=UTC)  # 11:07 p.m. PST, 8:07 MEZ


def _outage(next_update_at: datetime) -> Outage:
    return Outage(what_fails="API in the US region", what_fails_de="API in der US-Region",
                  since=NOW - timedelta(minutes=17), next_update_at=next_update_at)


@pytest.mark.parametrize(("language", "phone", "promised", "overdue"), [
    ("en-US", "+14155550162", "Our next update is due by", "our next update is overdue: it follows as soon as possible"),
    ("de-DE", "+4915100000007", "Das nächste Update folgt bis",
     "unser nächstes Update überfällig: Es folgt so bald wie möglich"),
])
def test_a_next_update_due_in_the_past_is_said_to_be_overdue(language, phone, promised, overdue):
    for past in (NOW - timedelta(minutes=1), NOW):
        said = outage_statement(_outage(past), language, phone, NOW)
        assert promised not in said and overdue in said
    coming = outage_statement(_outage(NOW + timedelta(minutes=23)), language, phone, NOW)
    assert promised in coming and overdue not in coming
    assert ("11:30 p.m. PST" if language == "en-US" else "8:30 Uhr (MEZ)") in coming
