"""The language chosen by speech at the first question: a language named after a negation is not the one chosen.

Outside probe (session 43): a German caller said "ich spreche kein Englisch" and the whole call, and the missed-call
SMS after it, went on in English; "no German" chose German."""

from __future__ import annotations

import pytest

from ivr_flows import Gathered, Lang
from ivr_flows.answers import language


@pytest.mark.parametrize(("said", "chosen"), [
    ("ich spreche kein Englisch", Lang.DE),
    ("ich spreche keinen Englisch", Lang.DE),
    ("nicht Englisch", Lang.DE),
    ("not English please", Lang.DE),
    ("kein Deutsch, English", Lang.EN),
    ("no German", Lang.EN),
    ("I don't speak German", Lang.EN),
    # as before: a language named, "no" followed by a comma is a no to the question, not to the language
    ("No, German please", Lang.DE),
    ("nein, Deutsch", Lang.DE),
    ("Deutsch bitte", Lang.DE),
    ("English", Lang.EN),
    ("two", Lang.DE),
    ("Englisch und Deutsch", None),  # both: asked again
    ("kein Problem", None),
])
def test_a_negated_language_is_not_the_one_chosen(said, chosen):
    assert language(Gathered("", said)) is chosen


def test_the_keys_still_choose():
    assert (language(Gathered("1", "")), language(Gathered("2", ""))) == (Lang.EN, Lang.DE)
