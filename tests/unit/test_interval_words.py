"""An update interval in the words of the text it is set into: one table (``update_text.every``) for the customer's
texts and the reps' (the German owner's SMS on an interval another rep agreed read "Updates every 30 minutes
vereinbart": the interval came pre-worded in English)."""

from __future__ import annotations

import pytest

from app.models import Incident
from app.prompts import CATALOGS, text
from app.services.update_rights import acted_sms
from app.services.update_text import every

EVERY_KEYS = sorted(key for key, template in CATALOGS["en-US"].items() if "{every}" in template)


@pytest.mark.parametrize(("minutes", "german", "english"), [
    (30, "Updates alle 30 Minuten vereinbart", "agreed updates every 30 minutes with"),
    (60, "Updates jede Stunde vereinbart", "agreed updates every hour with"),
    (240, "Updates alle 4 Stunden vereinbart", "agreed updates every 4 hours with"),
])
def test_the_owners_sms_on_an_interval_someone_else_agreed_words_it_in_its_own_language(minutes, german, english):
    incident = Incident(reference="123456", company="Acme Mail")
    de = acted_sms(incident, "Maria Manager", "EVERY", minutes=minutes, lang="de-DE")
    assert german in de and "every" not in de and "minutes" not in de and "hour" not in de
    assert english in acted_sms(incident, "Maria Manager", "EVERY", minutes=minutes)


@pytest.mark.parametrize("key", EVERY_KEYS)
def test_every_text_with_an_interval_reads_whole_in_both_languages(key):
    params = {"ref": "123456", "company": "Acme Mail", "who": "Maria", "text": "", "every": every(30, "de-DE")}
    de = text(key, "de-DE", **params)
    assert "alle 30 Minuten" in de and "alle alle" not in de and "every" not in de.replace("EVERY", "")
    english = text(key, "en-US", **{**params, "every": every(30)})
    assert "every 30 minutes" in english and "every every" not in english
