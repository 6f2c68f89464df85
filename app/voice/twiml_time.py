"""How long a TwiML document can take to play, at most: read from its verbs, never a number kept beside them.

A bound, not an estimate: speech is counted at half the pace Polly speaks at its default rate (about 15 characters a
second), with a pause at each punctuation mark, so the document can only be shorter than this.
"""

from __future__ import annotations

from xml.etree import ElementTree

SPOKEN_CHARS_PER_SECOND = 7.5  # half Polly's default pace: no prompt is read slower than this
MARK_PAUSE_SECONDS = 0.5  # the longest pause a voice makes at a comma or a full stop
MARKS = ",.;:!?"
DIGIT_SECONDS = 0.5  # <Play digits>: a "w" waits half a second; a DTMF tone is shorter still
GATHER_TIMEOUT_SECONDS = 5  # Twilio's default <Gather timeout>
PAUSE_SECONDS = 1  # Twilio's default <Pause length>


def said_seconds(words: str) -> float:
    """The longest ``words`` can take to be said by a ``<Say>``."""
    return len(words) / SPOKEN_CHARS_PER_SECOND + sum(words.count(mark) for mark in MARKS) * MARK_PAUSE_SECONDS


def _verb_seconds(verb: ElementTree.Element) -> float:
    if verb.tag == "Say":
        return said_seconds(verb.text or "")
    if verb.tag == "Pause":
        return float(verb.get("length", PAUSE_SECONDS))
    if verb.tag == "Play" and verb.get("digits"):
        return len(verb.get("digits", "")) * DIGIT_SECONDS
    if verb.tag == "Gather":
        return sum(_verb_seconds(nested) for nested in verb) + float(verb.get("timeout", GATHER_TIMEOUT_SECONDS))
    raise ValueError(f"no bound for <{verb.tag}>")  # a recording played, a <Dial>: their length is not in the document


def until_gather_ends(twiml: str) -> float:
    """The longest the document takes from its start until its first ``<Gather>`` stops waiting for a key: every verb
    before it, its own verbs and its timeout. A key can be pressed on it only until then."""
    seconds = 0.0
    for verb in ElementTree.fromstring(twiml):
        seconds += _verb_seconds(verb)
        if verb.tag == "Gather":
            return seconds
    raise ValueError("no <Gather> in the document")
