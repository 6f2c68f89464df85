"""/missed-calls beyond the last 24 hours: a manager finds last week's missed calls by a date range, page by page,
and the board's warning leads to the calls it counts (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from app.auth import Role
from app.models import MissedCall
from tests.integration.board_support import login_as, parse


def _missed(hotline, ago: timedelta, n: int, caller: str, stage: str = "company") -> None:
    ended = hotline.clock.now() - ago
    with hotline.db.transaction() as s:
        s.add(MissedCall(call_sid=f"CA{n:032d}", caller_id=caller, stage=stage, received_at=ended - timedelta(minutes=1),
                         ended_at=ended, said={"company": f"Company {n}"}))



def _said(client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200
    return [row.find_all("td")[3].text() for row in parse(response).find("table", id="missed-calls").find("tbody")
            .find_all("tr")]


def test_last_weeks_missed_calls_are_found_by_a_date_range_and_the_default_stays_24_hours(hotline, client):
    _missed(hotline, timedelta(hours=2), 1, "+14155550101")
    _missed(hotline, timedelta(days=3), 2, "+14155550102")
    _missed(hotline, timedelta(days=9), 3, "+14155550103")
    login_as(client, hotline, Role.MANAGER, name="Maria Manager")
    today = hotline.clock.now().date()
    assert _said(client, "/missed-calls") == ["Company: Company 1"]  # the default: the last 24 hours
    week = f"/missed-calls?start={(today - timedelta(days=6)).isoformat()}&end={(today + timedelta(days=1)).isoformat()}"
    assert _said(client, week) == ["Company: Company 1", "Company: Company 2"]  # newest first
    older = f"/missed-calls?start={(today - timedelta(days=10)).isoformat()}&end={(today - timedelta(days=6)).isoformat()}"
    assert _said(client, older) == ["Company: Company 3"]
    page = parse(client.get(week))
    form = page.find("form", id="missed-calls-range")
    assert {i.attrs["name"] for i in form.find_all("input")} >= {"start", "end"}
    bad = client.get("/missed-calls?start=last-week")
    assert bad.status_code == 400 and "not a date" in bad.get_data(as_text=True)
    instants = client.get(f"/missed-calls?from={today - timedelta(days=10)}")  # the updates report's form: refused, not the last 24 hours
    assert instants.status_code == 400 and "takes its range as start and end" in instants.get_data(as_text=True)


def test_a_range_with_more_calls_than_a_page_goes_on_to_the_older_ones(hotline, client):
    for n in range(105):
        _missed(hotline, timedelta(hours=1, minutes=n), n, f"+1415555{n:04d}")
    login_as(client, hotline, Role.REP, name="Rita Rep")
    first = parse(client.get("/missed-calls"))
    rows = first.find("table", id="missed-calls").find("tbody").find_all("tr")
    assert len(rows) == 100
    older = first.find("a", id="older-missed-calls").attrs["href"]
    rest = _said(client, older)
    assert rest == [f"Company: Company {n}" for n in range(100, 105)]  # the five oldest, none twice, none lost
    assert parse(client.get(older)).find_all("a", id="older-missed-calls") == []
