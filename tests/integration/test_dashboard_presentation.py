"""How the dashboard presents itself: no inline script or style (for the CSP), names and labels for assistive
technology, the board's live fragment, and a report whose summary adds up and whose tables fit a phone."""

from __future__ import annotations

import re
from datetime import timedelta

from app.models import Role
from tests.integration.board_support import CSRF, login_as, make_incident, make_rep, paged, parse

RANGE = {"start": "2026-11-25", "end": "2026-11-27", "tz": "UTC"}
PAGES = ["/board", "/board/rows", "/incidents/111111", "/incidents/222222", "/oncall", "/admin/users",
         "/admin/users/new", "/reports/compliance?start=2026-11-25&end=2026-11-27&tz=UTC",
         "/reports/compliance?start=bad"]


def _two_incidents(hotline, clock) -> None:
    now = clock.now()
    make_incident(hotline, "111111", captured_at=now - timedelta(minutes=40), company="Globex",
                  breached_at=now - timedelta(minutes=25))
    make_incident(hotline, "222222", captured_at=now - timedelta(minutes=2))


def test_no_page_has_inline_script_style_or_event_handlers(client, hotline, clock):
    html = {"/login": client.get("/login").get_data(as_text=True)}
    login_as(client, hotline, role=Role.ADMIN)
    _two_incidents(hotline, clock)
    for path in PAGES:
        response = client.get(path)
        assert response.status_code in (200, 400), path
        html[path] = response.get_data(as_text=True)
    for path, body in html.items():
        assert "<style" not in body, path
        assert not re.search(r"\sstyle=", body), path
        assert not re.search(r"<script(?![^>]*\ssrc=)", body), path  # only scripts from files
        assert not re.search(r"<[^>]+\son[a-z]+=", body), path  # no onclick= and the like
    assert '<link rel="stylesheet" href="/static/dashboard/dashboard.css">' in html["/board"]
    css = client.get("/static/dashboard/dashboard.css")
    assert css.status_code == 200 and b"prefers-color-scheme: dark" in css.data and b":focus-visible" in css.data
    assert client.get("/static/dashboard/dashboard.js").status_code == 200


def test_board_rows_fragment_is_the_boards_warnings_and_rows_and_needs_a_login(client, hotline, clock):
    _two_incidents(hotline, clock)
    assert client.get("/board/rows").status_code == 302
    login_as(client, hotline)

    fragment = client.get("/board/rows")
    board = parse(client.get("/board"))

    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body and 'id="board-asof"' in body
    # the warnings come with it (no worker runs here), each with the key dashboard.js keeps it by
    [warning] = parse(fragment).find(id="board-alerts").find_all("p")
    assert (warning.attrs["id"], warning.attrs["data-key"]) == ("no-worker", "no-worker")
    assert [p.attrs["id"] for p in board.find(id="board-alerts").find_all("p")] == ["no-worker"]
    rows = parse(fragment).find_all("tr", cls="incident")
    assert [r.attrs["id"] for r in rows] == [r.attrs["id"] for r in board.find_all("tr", cls="incident")]
    assert rows[0].attrs["data-state"] == "Breached at 02:35 UTC"
    container = board.find(id="board-rows")
    assert container.attrs["data-board-rows"] == "/board/rows" and container.attrs["data-refresh"] == "30"
    announcer = board.find(id="announcer")
    assert (announcer.attrs["role"], announcer.attrs["aria-live"]) == ("status", "polite")
    assert board.find(id="live-toggle").attrs["aria-pressed"] == "false"


def test_deadline_states_are_in_words_and_every_control_names_its_incident(client, hotline, clock):
    login_as(client, hotline)
    now = clock.now()
    make_incident(hotline, "111111", captured_at=now - timedelta(minutes=12), company="Globex")
    make_incident(hotline, "222222", captured_at=now - timedelta(minutes=1))

    rows = parse(client.get("/board")).find_all("tr", cls="incident")

    assert rows[0].find(cls="deadline").text() == "At risk — 3:00 left"
    assert rows[1].find(cls="deadline").text() == "On track — 14:00 left"
    for row in rows:
        reference = row.attrs["data-reference"]
        named = [b for b in row.find_all("button") + row.find_all("summary") + row.find_all("a", cls="button")]
        assert len(named) >= 4
        for control in named:
            assert reference in control.attrs.get("aria-label", ""), control.attrs
            assert control.text() in control.attrs["aria-label"]  # the visible words are part of the name
        assert row.find(cls="row-status").attrs["role"] == "status"


def test_a_confirmation_is_a_status_and_an_error_an_alert(client, hotline):
    alice = make_rep(hotline, "Alice")
    login_as(client, hotline, rep_id=alice)
    paged(hotline, make_incident(hotline), alice)

    client.post("/incidents/123456/acknowledge", data={"csrf_token": CSRF, "back": "board"})
    client.post("/incidents/123456/notes", data={"csrf_token": CSRF, "text": " "})
    flashes = parse(client.get("/board")).find(id="flashes").find_all("p")

    assert [(p.attrs["role"], p.text()[:15]) for p in flashes] == [("status", "Acknowledged 12"),
                                                                  ("alert", "The note is emp")]


def test_a_resolved_incident_stops_ticking(client, hotline, clock):
    login_as(client, hotline)
    make_incident(hotline, "123456", captured_at=clock.now() - timedelta(minutes=30), status="resolved")

    deadline = parse(client.get("/incidents/123456")).find(cls="deadline")

    assert deadline.text() == "Breached — resolved without a met callback"  # past its deadline: the report's rule
    assert "data-ticking" not in deadline.attrs
    assert "data-connected" in deadline.find(cls="countdown").attrs


def test_the_policy_textarea_has_a_label(client, hotline):
    login_as(client, hotline, role=Role.ADMIN)
    section = parse(client.get("/oncall")).find("section", id="edit-policy")
    textarea = section.find("textarea")
    label = section.find("label")
    assert label.attrs["for"] == textarea.attrs["id"] == "policy-levels"
    assert label.text() == "Escalation levels"


def test_report_summary_adds_up_and_its_tables_fit_a_phone(client, hotline, clock):
    login_as(client, hotline, role=Role.MANAGER)
    _two_incidents(hotline, clock)

    doc = parse(client.get("/reports/compliance", query_string=RANGE))

    groups = doc.find("table", id="summary").find_all("tbody")
    assert len(groups) == 2
    for group in groups:
        rows = [r for r in group.find_all("tr") if "group" not in r.attrs.get("class", "")]
        counts = [int(r.find_all("td")[0].text()) for r in rows]
        assert "total" in rows[-1].attrs["class"]
        assert sum(counts[:-1]) == counts[-1] == 2, [r.text() for r in rows]
    for box in doc.find_all("div", cls="scroll"):  # a sideways scroll box a keyboard can reach
        assert box.attrs["tabindex"] == "0" and box.attrs["role"] == "region" and box.attrs["aria-label"]
    for table_id in ("time-to-callback", "breaches"):  # reflowed on a phone, each cell names its column
        table = doc.find("table", id=table_id)
        assert "reflow" in table.attrs["class"]
        assert all("data-label" in td.attrs or "data-reason" in td.attrs for td in table.find_all("td"))
    for key in ("outcomes", "times", "hours"):
        figure = doc.find("figure", id=f"chart-{key}")
        assert figure.find("svg").attrs["role"] == "img"
        assert figure.find(id=f"chart-{key}-text").text()
    assert doc.find(id="chart-outcomes-text").text() == (
        "Of 2 incidents: Met 0 (0.0%), Late 0 (0.0%), Self-reported 0 (0.0%), By e-mail 0 (0.0%), Under way 0 (0.0%), "
        "Attempted 0 (0.0%), No callback 2 (100.0%).")
