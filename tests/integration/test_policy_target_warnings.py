"""An escalation policy whose rep target names a deactivated rep pages nobody there: the API and the on-call page
say so when the policy is saved (``oncall_coverage.policy_warnings``); the YAML import (CLI and on-call page) and
`hotline check` must say it too, by the same rule, whichever of the two (rep or policy) changed last."""

from __future__ import annotations

from app.config_check import oncall_problems
from app.config_report import CheckReport
from app.models import Role
from app.services.oncall_yaml import import_yaml
from tests.integration.dashboard_support import login_as, post_form

TEAM = """
reps:
  - {name: Alice, phone: '+14155550111'}
  - {name: Bob, phone: '+14155550122', active: false}
  - {name: Maria, phone: '+14155550133', is_manager: true}
schedules:
  - {name: primary, time_zone: UTC, layers: [{rotation: daily, handoff_time: '09:00', starts_on: '2026-10-20',
     members: [Alice]}]}
  - {name: secondary, time_zone: UTC, layers: [{rotation: daily, handoff_time: '09:00', starts_on: '2026-10-20',
     members: [Alice]}]}
"""
POLICY = """
escalation_policies:
  - name: sev1
    is_default: true
    levels:
      - {delay_minutes: 0, targets: [{type: schedule, schedule: primary}]}
      - {delay_minutes: 3, targets: [{type: managers}, {type: rep, rep: Bob}]}
"""
WARNING = "escalation policy 'sev1': levels[1].targets[1].rep: Bob is deactivated: this target pages nobody"


def _import(hotline, text: str):
    with hotline.db.transaction() as session:
        return import_yaml(session, text, hotline.clock.now())


def test_the_import_warns_about_a_policy_target_naming_a_deactivated_rep(hotline):
    assert WARNING in _import(hotline, TEAM + POLICY).warnings
    assert WARNING in _import(hotline, "reps: [{name: Bob, phone: '+14155550122', active: false}]").warnings
    assert not [w for w in _import(hotline, "reps: [{name: Bob, phone: '+14155550122'}]").warnings if "Bob" in w]


def test_check_warns_about_a_policy_target_naming_a_deactivated_rep(hotline):
    _import(hotline, TEAM + POLICY)
    report = CheckReport()
    oncall_problems(hotline.settings, report, hotline.clock.now(), strict=True)
    [warned] = [p for p in report.warnings if "Bob" in p.message]
    assert warned.where == "escalation_policies[sev1].levels[1].targets[1].rep"
    assert "Bob is deactivated: this target pages nobody" in warned.message
    assert not [p for p in report.errors if "Bob" in p.message]  # the level still alerts the managers


def test_the_import_on_the_oncall_page_shows_its_warnings(client, hotline):
    login_as(client, hotline, Role.ADMIN)
    response = post_form(client, "/oncall/yaml", {"yaml": TEAM + POLICY}, follow_redirects=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "On-call configuration imported" in page
    assert "Bob is deactivated: this target pages nobody" in page
