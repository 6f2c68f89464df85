"""Two active reps never share a phone number: an SMS command from it cannot say which of them sent it.

Both could be saved, and an ACK from the number was credited to whichever rep the database returned first (the
board, the API and the compliance report's per-rep table named a rep who was never paged). Now the import and the
API refuse the number, `hotline check` names a pair stored before, and an SMS from such a number is carried out
for none of them.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.config_check import CheckReport, oncall_problems
from app.event_kind import EventKind
from app.models import IncidentEvent, Rep
from app.services.api_tokens import create_token
from app.services.oncall_yaml import OnCallConfigError, import_yaml
from tests.paging.conftest import ALICE, CUSTOMER
from tests.paging.test_acknowledgement import _sms_from


def test_an_import_giving_an_active_reps_number_to_another_is_refused_and_changes_nothing(desk):
    with pytest.raises(OnCallConfigError) as caught, desk.hotline.db.transaction() as s:
        import_yaml(s, f"reps: [{{name: Dan, phone: '+14155550177'}}, {{name: Dave, phone: '+14155550188', "
                       f"phone_alt: '{ALICE}'}}]", desk.clock.now())
    assert caught.value.path == "reps[1].phone_alt" and "Alice Primary" in str(caught.value)
    with desk.hotline.db.session() as s:
        assert s.scalar(select(Rep.id).where(Rep.name == "Dan")) is None  # the whole import rolled back
    with desk.hotline.db.transaction() as s:  # a deactivated rep's old number may go to a new rep
        import_yaml(s, f"reps: [{{name: Alice Primary, phone: '{ALICE}', active: false}}, "
                       f"{{name: Dan, phone: '{ALICE}'}}]", desk.clock.now())
    with pytest.raises(OnCallConfigError) as caught, desk.hotline.db.transaction() as s:  # not active again
        import_yaml(s, f"reps: [{{name: Alice Primary, phone: '{ALICE}'}}]", desk.clock.now())
    assert caught.value.path == "reps[0].phone" and "Dan" in str(caught.value)


def test_the_api_refuses_a_number_another_active_rep_has(desk):
    with desk.hotline.db.transaction() as s:
        token = create_token(s, "oncall-admin", desk.clock.now(), scopes=("oncall:admin",))
    response = desk.client.post("/api/v1/reps", json={"name": "Dave", "phone": ALICE},
                                headers={"Authorization": f"Bearer {token}"})
    assert response.status_code in (400, 422)
    error = response.get_json()["error"]
    assert error["field"] == "phone" and "Alice Primary" in error["message"]


def test_an_sms_from_a_number_two_reps_share_is_carried_out_for_neither(desk, network):
    with desk.hotline.db.transaction() as s:  # stored before the rule: straight into the table
        s.add(Rep(name="Alice Twin", phone=ALICE))
    report = CheckReport()
    oncall_problems(desk.hotline.settings, report, desk.clock.now(), strict=True)
    [shared] = [p for p in report.warnings if "share the number" in p.message]
    assert "Alice Primary, Alice Twin" in shared.message and ALICE not in shared.message
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    answer = _sms_from(desk, ALICE, f"ACK {incident.reference}").get_data(as_text=True)
    assert "more than one rep" in answer and "Alice Primary, Alice Twin" in answer
    assert desk.incident(incident.id).acknowledged_at is None
    with desk.hotline.db.session() as s:
        kinds = list(s.scalars(select(IncidentEvent.kind).where(IncidentEvent.kind == EventKind.SMS_FROM_SHARED_PHONE)))
    assert kinds == [EventKind.SMS_FROM_SHARED_PHONE]


def test_a_rep_on_the_hotlines_own_number_is_a_check_error(desk):
    hotline_number = "+15005550006"
    with desk.hotline.db.transaction() as s:
        s.add(Rep(name="Hal Loop", phone="+14155550199", phone_alt=hotline_number))
    settings = desk.hotline.settings.with_overrides(twilio_number=hotline_number)
    report = CheckReport()
    oncall_problems(settings, report, desk.clock.now(), strict=True)
    [own] = [p for p in report.errors if "TWILIO_NUMBER" in p.message]
    assert own.where == "reps[Hal Loop].phone" and "call the hotline" in own.message
    relaxed = CheckReport()
    oncall_problems(settings, relaxed, desk.clock.now(), strict=False)
    assert [p.where for p in relaxed.warnings if "TWILIO_NUMBER" in p.message] == ["reps[Hal Loop].phone"]


def test_the_import_and_the_api_refuse_the_hotlines_own_number_for_an_active_rep(desk, monkeypatch):
    """An outside probe's import gave a rep TWILIO_NUMBER with no word: only `hotline check` said so later."""
    hotline_number = "+14155550123"  # a mobile number (the tests' own, +15005550006, is refused as personal)
    monkeypatch.setattr(desk.hotline, "settings", desk.hotline.settings.with_overrides(twilio_number=hotline_number))
    with pytest.raises(OnCallConfigError) as caught, desk.hotline.db.transaction() as s:
        import_yaml(s, f"reps: [{{name: Hal Loop, phone: '+14155550199', phone_alt: '{hotline_number}'}}]",
                    desk.clock.now(), hotline_number=hotline_number)
    assert caught.value.path == "reps[0].phone_alt" and "TWILIO_NUMBER" in str(caught.value)
    with desk.hotline.db.session() as s:
        assert s.scalar(select(Rep.id).where(Rep.name == "Hal Loop")) is None
    with desk.hotline.db.transaction() as s:
        token = create_token(s, "oncall-admin", desk.clock.now(), scopes=("oncall:admin",))
    headers = {"Authorization": f"Bearer {token}"}
    created = desk.client.post("/api/v1/reps", json={"name": "Hal Loop", "phone": hotline_number}, headers=headers)
    assert created.status_code in (400, 422) and created.get_json()["error"]["field"] == "phone"
    with desk.hotline.db.session() as s:
        alice_id = s.scalar(select(Rep.id).where(Rep.phone == ALICE))
    changed = desk.client.put(f"/api/v1/reps/{alice_id}", json={"phone_alt": hotline_number}, headers=headers)
    assert changed.status_code in (400, 422) and "TWILIO_NUMBER" in changed.get_json()["error"]["message"]
    with desk.hotline.db.session() as s:
        assert s.get(Rep, alice_id).phone_alt != hotline_number
    with desk.hotline.db.transaction() as s:  # an inactive rep's old record may keep it (the check reports it)
        import_yaml(s, f"reps: [{{name: Hal Loop, phone: '{hotline_number}', active: false}}]", desk.clock.now(),
                    hotline_number=hotline_number)
