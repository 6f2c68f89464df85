"""The longest a TwiML document takes until its ``<Gather>`` stops waiting: read from its verbs (probe BW1)."""

from __future__ import annotations

import pytest
from twilio.twiml.voice_response import VoiceResponse

from app.voice.bridge import EXTENSION_PAUSE_SECONDS, whisper_twiml
from app.voice.twiml_time import (
    DIGIT_SECONDS,
    MARK_PAUSE_SECONDS,
    SPOKEN_CHARS_PER_SECOND,
    said_seconds,
    until_gather_ends,
)


def test_every_verb_before_the_gather_ends_counts_and_none_after_it():
    response = VoiceResponse()
    response.play(digits="ww12")  # 4 x 0.5 s
    gather = response.gather(input="dtmf", timeout=10)
    gather.say("abc, def.")  # 9 characters, 2 marks
    gather.pause(length=5)
    response.say("Goodbye, and a long tail no key can be pressed on.")
    said = 9 / SPOKEN_CHARS_PER_SECOND + 2 * MARK_PAUSE_SECONDS
    assert until_gather_ends(str(response)) == pytest.approx(2 + said + 5 + 10)


@pytest.mark.parametrize("verb", ["recording", "dial", "none"])
def test_a_document_whose_length_it_cannot_read_is_refused(verb):
    response = VoiceResponse()
    if verb == "recording":
        response.play("https://example.com/hold.mp3")
        response.gather(timeout=5)
    elif verb == "dial":
        response.dial("+14155550100")
        response.gather(timeout=5)
    else:
        response.say("No key is asked for.")
    with pytest.raises(ValueError):
        until_gather_ends(str(response))


def test_the_whisper_bound_follows_its_prompt_and_the_extensions_rounds():
    """A longer prompt, or an extension's three rounds, move the bound: nothing is kept beside the TwiML."""
    short, long = "Press any key.", "Press any key. " * 4
    assert until_gather_ends(whisper_twiml(1, False, "", long, "")) > until_gather_ends(
        whisper_twiml(1, False, "", short, ""))
    alone, behind_a_switchboard = (until_gather_ends(whisper_twiml(1, False, "", short, extension))
                                   for extension in ("", "1234"))
    # the digits keyed in ("ww" first), then the prompt three times, 5 s apart; one timeout
    assert behind_a_switchboard == pytest.approx(
        alone + 6 * DIGIT_SECONDS + 2 * said_seconds(short) + 2 * EXTENSION_PAUSE_SECONDS)
