"""On-call changes that are allowed but worth a look say so (the API's ``warnings``, the on-call import's): a rep
deactivated while they still own open incidents (nobody pages or texts them about those any more), and a policy
level that pages at or after the callback deadline (``hotline check`` calls it an error)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from app.models import FollowUp, Incident, IncidentStatus
from app.services.api_tokens import create_token
from app.services.oncall_yaml import import_yaml
from tests.integration.board_support import make_incident

ALICE = {"name": "Alice", "phone": "+4930901820"}
BOB = {"name": "Bob", "phone": "+4930901821"}


@pytest.fixture
def auth(hotline, clock) -> dict[str, str]:
    with hotline.db.transaction() as session:
        token = create_token(session, "oncall-admin", clock.now(), scopes=("oncall:admin",))
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def reps(client, auth) -> dict[str, int]:
    return {r["name"]: client.post("/api/v1/reps", json=r, headers=auth).get_json()["id"] for r in (ALICE, BOB)}


def _owned_by(hotline, rep_id: int, *references: str, resolved: str = "") -> None:
    """Open incidents acknowledged by ``rep_id`` (and one resolved, which needs no hand-over)."""
    for reference in (*references, *([resolved] if resolved else [])):
        incident_id = make_incident(hotline, reference)
        with hotline.db.transaction() as session:
            status = IncidentStatus.RESOLVED if reference == resolved else IncidentStatus.OPEN
            session.execute(update(Incident).where(Incident.id == incident_id).values(
                acknowledged_by=rep_id, acknowledged_at=hotline.clock.now(), status=status))


def test_deleting_a_rep_who_owns_open_incidents_names_them(client, auth, reps, hotline):
    _owned_by(hotline, reps["Alice"], "111111", "222222", resolved="333333")
    body = client.delete(f"/api/v1/reps/{reps['Alice']}", headers=auth).get_json()
    assert body["active"] is False
    [warning] = body["warnings"]
    assert warning.startswith("rep 'Alice' is deactivated but still owns 2 open incidents: 111111, 222222.")
    assert "333333" not in warning and "go to the managers" in warning and "takes each over" in warning


def test_a_rep_who_owns_the_updates_is_the_owner_not_the_one_who_acknowledged(client, auth, reps, hotline):
    _owned_by(hotline, reps["Alice"], "444444")
    with hotline.db.transaction() as session:  # Bob took over the updates: Alice owns nothing any more
        incident_id = session.scalar(select(Incident.id).where(Incident.reference == "444444"))
        session.add(FollowUp(incident_id=incident_id, owner_rep_id=reps["Bob"], interval_minutes=60, agreed_at=hotline.clock.now(),
                             next_due_at=hotline.clock.now()))
    assert "warnings" not in client.put(f"/api/v1/reps/{reps['Alice']}", json={"active": False},
                                        headers=auth).get_json()
    [warning] = client.put(f"/api/v1/reps/{reps['Bob']}", json={"active": False}, headers=auth).get_json()["warnings"]
    assert warning.startswith("rep 'Bob' is deactivated but still owns incident 444444.")
    assert "takes it over" in warning


def test_an_active_rep_or_one_who_owns_nothing_gets_no_such_warning(client, auth, reps, hotline):
    _owned_by(hotline, reps["Alice"], "555555")
    assert "warnings" not in client.put(f"/api/v1/reps/{reps['Alice']}", json={"channels": ["sms"]},
                                        headers=auth).get_json()
    assert "warnings" not in client.delete(f"/api/v1/reps/{reps['Bob']}", headers=auth).get_json()


def test_the_on_call_import_that_deactivates_an_owner_warns(client, auth, reps, hotline):
    _owned_by(hotline, reps["Alice"], "666666")
    with hotline.db.transaction() as session:
        summary = import_yaml(session, "reps:\n  - {name: Alice, phone: '+4930901820', active: false}\n",
                              hotline.clock.now())
    assert any(w.startswith("rep 'Alice' is deactivated but still owns incident 666666.") for w in summary.warnings)


def test_a_policy_level_paging_at_or_after_the_deadline_is_warned_of_wherever_it_is_saved(client, auth, reps, hotline):
    """``hotline check`` calls such a level an error: the API and the import that take it say so."""
    levels = [{"delay_minutes": 0, "targets": [{"type": "rep", "rep": "Alice"}]},
              {"delay_minutes": 15, "targets": [{"type": "managers"}]}]
    body = client.put("/api/v1/escalation-policies/night", json={"levels": levels}, headers=auth).get_json()
    [warning] = body["warnings"]
    assert warning.startswith("levels[1].delay_minutes: 15 minutes after the details are captured is at or after "
                              "the callback deadline (CALLBACK_SLA_MINUTES=15)")
    with hotline.db.transaction() as session:
        summary = import_yaml(session, "escalation_policies:\n  - name: late\n    is_default: true\n    levels:\n"
                                       "      - {delay_minutes: 20, targets: [{type: managers}]}\n",
                              hotline.clock.now(), 15)
    assert any(w.startswith("escalation policy 'late': levels[0].delay_minutes: 20 minutes") for w in summary.warnings)
    levels[1]["delay_minutes"] = 10
    assert "warnings" not in client.put("/api/v1/escalation-policies/night", json={"levels": levels},
                                        headers=auth).get_json()


def test_a_policy_paging_no_schedule_or_rep_before_the_at_risk_alert_is_warned_of_by_the_api(client, auth, reps):
    """Probe G F1: a TAM-only policy was saved in silence; its incidents paged the managers alone."""
    levels = [{"delay_minutes": 0, "targets": [{"type": "tam", "channels": ["sms", "voice"]}]},
              {"delay_minutes": 12, "targets": [{"type": "rep", "rep": "Alice"}]}]
    body = client.put("/api/v1/escalation-policies/tam-first", json={"levels": levels}, headers=auth).get_json()
    assert body["warnings"] == [
        "levels: no level before the at-risk alert (10 minutes after the details are captured, CALLBACK_SLA_MINUTES=15 "
        "less 5) pages a schedule or a rep: the first that does, levels[1], pages 12 minutes after the details are "
        "captured. A TAM is told, never asked, and the managers are the last resort: no on-call rep would be paged in "
        "time to acknowledge; `hotline check` reports it as an error"]
    levels[1]["delay_minutes"] = 3
    assert "warnings" not in client.put("/api/v1/escalation-policies/tam-first", json={"levels": levels},
                                        headers=auth).get_json()
