"""The on-call YAML the dashboard shows, written without PyYAML (app/oncall/yaml_text.py), reads back as written."""

from __future__ import annotations

import pytest
import yaml

from app.oncall.yaml_text import dump, scalar

AWKWARD = [
    "", " ", "Alice", "Jürgen Groß", "O'Brien", "yes", "No", "on", "OFF", "y", "n", "null", "Null", "~", "true",
    "09:00", "2026-11-23", "2026-12-24T08:00:00Z", "+4930901821", "0x1F", "1e3", "1_000", ".inf", ".nan", "-",
    "- item", "a: b", "a #b", "#tag", "&anchor", "*alias", "!tag", "%dir", "@at", "`tick", "|", ">", "[x]", "{x}",
    "a, b", "?", "<<", "=", "trailing ", " leading", "two\nlines", "tab\there", "quote\"double", "back\\slash",
    "\x00nul", "\x85nel", "line\u2028sep", "bom\ufeff", "emoji 😀", "Europe/Berlin", "alice@hotline.example",
    "Christmas swap",
]


@pytest.mark.parametrize("text", AWKWARD)
def test_a_string_reads_back_as_that_string_alone_and_in_a_list(text):
    doc = {"name": text, "members": [text, "Bob"], "rows": [{"reason": text, "channels": [text]}]}
    assert yaml.safe_load(dump(doc)) == doc
    assert yaml.safe_load(dump({text: 1})) == {text: 1}


@pytest.mark.parametrize("value", [None, True, False, 0, -7, 12, 1.5, 1e-05, 2.5e20, float("inf"), float("-inf")])
def test_other_values_read_back_as_themselves(value):
    assert yaml.safe_load(dump({"value": value, "values": [value]})) == {"value": value, "values": [value]}


def test_block_style_as_people_write_it():
    doc = {"reps": [{"name": "Bob", "phone": "+4930901821", "channels": ["sms"], "active": True}],
           "schedules": [], "escalation_policies": [{"name": "sev1", "levels": [
               {"delay_minutes": 0, "targets": [{"type": "rep", "rep": "Mia"}, {"type": "tam"}]}]}]}
    assert dump(doc) == (
        "reps:\n  - name: Bob\n    phone: '+4930901821'\n    channels: [sms]\n    active: true\n"
        "schedules: []\n"
        "escalation_policies:\n  - name: sev1\n    levels:\n      - delay_minutes: 0\n        targets:\n"
        "          - type: rep\n            rep: Mia\n          - type: tam\n")
    assert dump({}) == "{}\n"
    assert scalar(float("nan")) == ".nan"


def test_a_value_yaml_has_no_plain_form_for_is_refused():
    with pytest.raises(TypeError):
        dump({"when": object()})
