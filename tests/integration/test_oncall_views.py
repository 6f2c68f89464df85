"""The on-call page: who is on call, the next two weeks, overrides, the policy; admin edits with errors by path."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from sqlalchemy import func, select

from app.models import EscalationPolicy, Override, Rep, Role, Schedule
from app.services.oncall import find_schedule
from app.services.oncall_yaml import export_yaml
from tests.integration import oncall_support
from tests.integration.board_support import CSRF, login_as, parse


def _seed(hotline) -> dict[str, int]:
    with hotline.db.transaction() as session:
        return oncall_support.seed(session)


def _count(hotline, model) -> int:
    with hotline.db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_rep_sees_who_is_on_call_the_next_two_weeks_and_the_policy(client, hotline):
    _seed(hotline)
    login_as(client, hotline)

    doc = parse(client.get("/oncall"))

    primary = doc.find("section", id="schedule-primary")
    # Daily 09:00 Berlin hand-offs from Monday: Alice Wednesday, until Thursday 09:00 (08:00Z); now is Thu 03:00Z.
    assert primary.find(cls="now-on-call").text() == "On call now: Alice ( +4930901820 )"
    shifts = [[td.text() for td in tr.find_all("td")] for tr in primary.find("tbody").find_all("tr")]
    assert shifts[0] == ["Thu 26 Nov 04:00 CET", "Thu 26 Nov 09:00 CET", "Alice", "layer 0"]  # from now
    assert shifts[1] == ["Thu 26 Nov 09:00 CET", "Fri 27 Nov 09:00 CET", "Bob", "layer 0"]
    assert shifts[-1][1] == "Thu 10 Dec 04:00 CET"  # 14 days ahead
    secondary = doc.find("section", id="schedule-secondary")
    assert secondary.find(cls="now-on-call").text() == "On call now: Erin ( +4930901822 )"
    assert secondary.find("tbody").find("td").text() == "Wed 25 Nov 22:00 EST"
    levels = [li.text() for li in doc.find("ol", cls="levels").find_all("li")]
    assert levels[0] == ("At once: whoever is on call for primary (SMS, voice call); "
                         "the account's TAM (SMS) in their business hours, else by e-mail (outside them, or with "
                         "no TAM phone; by SMS alone outside them when no e-mail address is on file)")
    assert levels[2] == "After 6 min: every manager (SMS, voice call)"
    assert doc.find_all(id="add-override") == [] and doc.find_all(id="import-yaml") == []
    assert not [f for f in doc.find_all("form") if f.attrs["action"].startswith("/oncall")]
    assert _count(hotline, EscalationPolicy) == 0  # looking stores nothing


def test_overrides_show_and_win_now(client, hotline, clock):
    _seed(hotline)
    with hotline.db.transaction() as session:
        oncall_support.override(session, find_schedule(session, "primary"), "Erin", "2026-11-26T02:00:00Z",
                                "2026-11-26T06:00:00Z", clock.now())
    login_as(client, hotline)

    primary = parse(client.get("/oncall")).find("section", id="schedule-primary")

    assert primary.find(cls="now-on-call").text() == "On call now: Erin ( +4930901822 )"
    assert primary.find(cls="overrides").text() == "Erin: Thu 26 Nov 03:00 CET – Thu 26 Nov 07:00 CET"
    assert ["Thu 26 Nov 04:00 CET", "Thu 26 Nov 07:00 CET", "Erin", "override"] in [
        [td.text() for td in tr.find_all("td")] for tr in primary.find("tbody").find_all("tr")]


def test_an_admin_adds_an_override_in_the_schedules_local_time(client, hotline):
    ids = _seed(hotline)
    login_as(client, hotline, role=Role.ADMIN)
    assert parse(client.get("/oncall")).find("section", id="add-override")

    response = client.post("/oncall/overrides", data={
        "csrf_token": CSRF, "schedule": "primary", "rep": str(ids["Erin"]),
        "starts_at": "2026-11-27T10:00", "ends_at": "2026-11-27T18:00", "reason": "swap <with> Bob"})

    assert response.status_code == 302
    with hotline.db.session() as session:
        [override] = session.scalars(select(Override))
        assert (override.rep_id, override.starts_at, override.ends_at, override.reason) == (
            ids["Erin"], datetime(2026, 11, 27, 9, tzinfo=UTC), datetime(2026, 11, 27, 17, tzinfo=UTC), "swap <with> Bob")
    primary = parse(client.get("/oncall")).find("section", id="schedule-primary")
    assert primary.find(cls="overrides").find("li").text().startswith(
        "Erin: Fri 27 Nov 10:00 CET – Fri 27 Nov 18:00 CET (swap <with> Bob)")


def test_a_bad_override_shows_its_field_and_changes_nothing(client, hotline):
    ids = _seed(hotline)
    login_as(client, hotline, role=Role.ADMIN)

    response = client.post("/oncall/overrides", data={
        "csrf_token": CSRF, "schedule": "primary", "rep": str(ids["Erin"]),
        "starts_at": "2026-11-27T10:00", "ends_at": "2026-11-27T09:00"})

    assert response.status_code == 422
    error = parse(response).find(id="error-override")
    assert error.find("code", cls="path").text() == "ends_at"
    assert "must be later than starts_at" in error.text() and "Nothing was changed" in error.text()
    assert _count(hotline, Override) == 0


def test_an_admin_deletes_an_override(client, hotline, clock):
    _seed(hotline)
    with hotline.db.transaction() as session:
        oncall_support.override(session, find_schedule(session, "primary"), "Erin", "2026-11-27T00:00:00Z",
                                "2026-11-28T00:00:00Z", clock.now())
        override_id = session.scalar(select(Override.id))
    login_as(client, hotline, role=Role.ADMIN)
    form = parse(client.get("/oncall")).find(cls="overrides").find("form")
    assert form.attrs["action"] == f"/oncall/overrides/{override_id}/delete"

    client.post(form.attrs["action"], data={"csrf_token": CSRF})

    assert _count(hotline, Override) == 0


def test_an_admin_edits_the_policy_as_yaml_or_json(client, hotline):
    _seed(hotline)
    login_as(client, hotline, role=Role.ADMIN)
    text = parse(client.get("/oncall")).find("section", id="edit-policy").find("textarea").text()
    assert text.startswith("levels:")

    client.post("/oncall/policy", data={"csrf_token": CSRF, "levels": (
        '[{"delay_minutes": 0, "targets": [{"type": "schedule", "schedule": "secondary"}]},'
        ' {"delay_minutes": 5, "targets": [{"type": "rep", "rep": "Carol", "channels": ["voice"]}]}]')})

    with hotline.db.session() as session:
        [policy] = session.scalars(select(EscalationPolicy))
        assert (policy.name, policy.is_default) == ("default", True)
        assert [level["delay_minutes"] for level in policy.levels] == [0, 5]
    levels = [li.text() for li in parse(client.get("/oncall")).find("ol", cls="levels").find_all("li")]
    assert levels == ["At once: whoever is on call for secondary", "After 5 min: Carol (voice call)"]


def test_a_bad_policy_shows_the_path_keeps_the_text_and_changes_nothing(client, hotline):
    _seed(hotline)
    login_as(client, hotline, role=Role.ADMIN)
    bad = "levels:\n  - delay_minutes: 0\n    targets:\n      - {type: schedule, schedule: nights}\n"

    response = client.post("/oncall/policy", data={"csrf_token": CSRF, "levels": bad})

    assert response.status_code == 422
    doc = parse(response)
    assert doc.find(id="error-policy").find("code").text() == "levels[0].targets[0].schedule"
    assert "unknown schedule 'nights'" in doc.find(id="error-policy").text()
    assert doc.find("section", id="edit-policy").find("textarea").text() == " ".join(bad.split())
    assert _count(hotline, EscalationPolicy) == 0
    broken = client.post("/oncall/policy", data={"csrf_token": CSRF, "levels": "levels: [unclosed"})
    assert broken.status_code == 422
    assert "not valid YAML or JSON" in parse(broken).find(id="error-policy").text()


def test_an_admin_imports_the_whole_yaml_pasted_or_uploaded(client, hotline):
    _seed(hotline)
    login_as(client, hotline, role=Role.ADMIN)
    exported = parse(client.get("/oncall")).find("section", id="import-yaml").find("textarea")
    assert "name: primary" in exported.text()

    client.post("/oncall/yaml", data={"csrf_token": CSRF, "yaml": "reps:\n  - {name: Frank, phone: '+4930901823'}\n"})
    upload = b"schedules:\n  - name: weekend\n    time_zone: UTC\n    layers: []\n"
    client.post("/oncall/yaml", data={"csrf_token": CSRF, "yaml": "", "file": (io.BytesIO(upload), "oncall.yaml")},
                content_type="multipart/form-data")

    with hotline.db.session() as session:
        assert session.scalar(select(Rep.phone).where(Rep.name == "Frank")) == "+4930901823"
        assert session.scalar(select(Schedule.time_zone).where(Schedule.name == "weekend")) == "UTC"
    assert "reps: 1 created" in parse(client.get("/oncall")).find("p", cls="flash").text()

    with hotline.db.session() as session:
        exported = export_yaml(session)  # what the page shows (its text() runs whitespace together)
    client.post("/oncall/yaml", data={"csrf_token": CSRF, "yaml": exported})  # unchanged
    flash = parse(client.get("/oncall")).find("p", cls="flash").text()
    assert "reps: 0 created, 0 updated," in flash and "escalation policies: 0 created, 0 updated," in flash


def test_a_bad_yaml_import_names_the_path_and_changes_nothing(client, hotline):
    _seed(hotline)
    login_as(client, hotline, role=Role.ADMIN)
    text = ("reps:\n  - {name: Frank, phone: '+4930901823'}\n"
            "schedules:\n  - name: primary\n    time_zone: Europe/Berlin\n    layers:\n"
            "      - {rotation: daily, handoff_time: '09:00', starts_on: 2026-11-23, members: [Alice, Zed]}\n")

    response = client.post("/oncall/yaml", data={"csrf_token": CSRF, "yaml": text})

    assert response.status_code == 422
    error = parse(response).find(id="error-yaml")
    assert error.find("code").text() == "schedules[0].layers[0].members[1]"
    assert "unknown rep 'Zed'" in error.text()
    with hotline.db.session() as session:
        assert session.scalar(select(Rep.id).where(Rep.name == "Frank")) is None
        assert find_schedule(session, "primary").layers[0].members == [1, 2]


def test_a_yaml_import_of_a_reps_number_with_an_extension_names_the_path_and_why(client, hotline):
    _seed(hotline)
    login_as(client, hotline, role=Role.ADMIN)
    response = client.post("/oncall/yaml", data={"csrf_token": CSRF,
                                                 "yaml": "reps:\n  - {name: Frank, phone: '+14155550111;ext=12'}\n"})
    assert response.status_code == 422
    error = parse(response).find(id="error-yaml")
    assert error.find("code").text() == "reps[0].phone"
    assert "has an extension (12): a page cannot dial an extension" in error.text()
    with hotline.db.session() as session:
        assert session.scalar(select(Rep.id).where(Rep.name == "Frank")) is None


def test_reps_may_not_change_anything(client, hotline, clock):
    ids = _seed(hotline)
    with hotline.db.transaction() as session:
        oncall_support.override(session, find_schedule(session, "primary"), "Erin", "2026-11-27T00:00:00Z",
                                "2026-11-28T00:00:00Z", clock.now())
        override_id = session.scalar(select(Override.id))
    login_as(client, hotline, role=Role.MANAGER)

    statuses = [
        client.post("/oncall/overrides", data={"csrf_token": CSRF, "schedule": "primary", "rep": str(ids["Bob"]),
                                               "starts_at": "2026-11-27T10:00", "ends_at": "2026-11-27T18:00"}),
        client.post(f"/oncall/overrides/{override_id}/delete", data={"csrf_token": CSRF}),
        client.post("/oncall/policy", data={"csrf_token": CSRF, "levels": "[]"}),
        client.post("/oncall/yaml", data={"csrf_token": CSRF, "yaml": "reps: [{name: Frank, phone: '+4930901823'}]"}),
    ]

    assert [r.status_code for r in statuses] == [403, 403, 403, 403]
    assert _count(hotline, Override) == 1 and _count(hotline, EscalationPolicy) == 0
    assert _count(hotline, Rep) == len(oncall_support.REPS)


def test_an_admin_post_without_csrf_is_refused(client, hotline):
    _seed(hotline)
    login_as(client, hotline, role=Role.ADMIN)
    response = client.post("/oncall/yaml", data={"yaml": "reps: [{name: Frank, phone: '+4930901823'}]"})
    assert response.status_code == 400
    assert _count(hotline, Rep) == len(oncall_support.REPS)


def test_an_override_form_outside_the_years_or_with_a_huge_rep_id_is_refused(client, hotline):
    # audit F2/F5: year 1 overflowed converting to UTC, and a rep id beyond 64 bits overflowed the driver (500)
    ids = _seed(hotline)
    login_as(client, hotline, role=Role.ADMIN)
    good = {"csrf_token": CSRF, "schedule": "primary", "rep": str(ids["Erin"]),
            "starts_at": "2026-11-27T09:00", "ends_at": "2026-11-27T10:00"}
    for change, path in (({"starts_at": "0001-01-01T00:00"}, "starts_at"), ({"ends_at": "9999-12-31T23:59"}, "ends_at"),
                         ({"starts_at": "0001-01-01T00:00:00+01:00"}, "starts_at"),
                         ({"rep": "99999999999999999999999"}, "rep")):
        response = client.post("/oncall/overrides", data=good | change)
        assert response.status_code == 422, change
        assert parse(response).find(id="error-override").find("code", cls="path").text() == path
    assert _count(hotline, Override) == 0
    assert client.post("/oncall/overrides", data=good).status_code == 302
    assert _count(hotline, Override) == 1
