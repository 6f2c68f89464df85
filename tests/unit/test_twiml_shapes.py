"""Issue 12: TwiML from cached shapes is byte for byte what twilio's VoiceResponse builds."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from app.voice.twiml import build, render
from ivr_flows.model import Gather, Lang, Record, Reply

LINES = ("Thank you.", "Tom & Jerry <ops> said \"5 > 3\" 'quoted'", "Grüße aus Köln: ß, é, 中文", "  spaced \t tab ",
         "]]> &amp; already escaped")
REPLIES = [
    Reply(lang=Lang.EN, say=LINES[:2], gather=Gather(input="speech", hints=("e-mail", "SMTP & API"))),
    Reply(lang=Lang.DE, say=LINES[2:], gather=Gather(input="dtmf", num_digits=1, timeout=8)),
    Reply(lang=Lang.EN, say=LINES, say_langs=(Lang.EN, Lang.DE, Lang.EN, Lang.DE, Lang.EN), gather=Gather()),
    Reply(lang=Lang.EN, say=LINES[1:3], record=Record(max_seconds=90)),
    Reply(lang=Lang.DE, say=LINES[:1], hangup=True),
    Reply(lang=Lang.EN, say=(), gather=Gather(input="dtmf speech")),
    Reply(lang=Lang.EN, say=LINES[3:], hand_over=("resolution_proposal", "123456")),
    Reply(lang=Lang.EN, say=LINES[:1]),
]


@pytest.mark.parametrize("reply", REPLIES)
def test_render_is_the_tree_built_twice_over(reply):
    for seq in (3, 4, 3):  # the second 3 comes from the cache
        step, rec = f"/twilio/voice/step?seq={seq}", f"/twilio/voice/recording?seq={seq}"
        twiml = render(reply, step, rec)
        assert twiml == build(reply, step, rec)
        said = [el.text or "" for el in ET.fromstring(twiml).iter("Say")]
        assert said == list(reply.say)


def test_a_reply_with_more_lines_than_slots_is_built_directly():
    reply = Reply(lang=Lang.EN, say=tuple(f"line {i} &" for i in range(30)), gather=Gather())
    assert render(reply, "/s?seq=1", "/r?seq=1") == build(reply, "/s?seq=1", "/r?seq=1")
