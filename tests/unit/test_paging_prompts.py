"""The catalog of what reps and customers hear or read outside the intake call: en-US and de-DE agree."""

from __future__ import annotations

from string import Formatter

from app.prompts import CATALOGS, text


def _fields(template: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in Formatter().parse(template) if name}


def test_both_languages_have_the_same_keys_and_fields():
    en, de = CATALOGS["en-US"], CATALOGS["de-DE"]
    assert en.keys() == de.keys()
    assert {k: _fields(v) for k, v in en.items()} == {k: _fields(v) for k, v in de.items()}


def test_the_customer_hears_the_key_prompt_in_their_language_and_english_otherwise():
    assert "Press any key to speak with our support team" in text("customer_press_key", "en-US", ref="1, 2")
    assert "Drücken Sie eine beliebige Taste" in text("customer_press_key", "de-DE", ref="1, 2")
    assert text("customer_press_key", "fr-FR", ref="1") == text("customer_press_key", "en-US", ref="1")
