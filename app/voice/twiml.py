"""Rendering a flow ``Reply`` as TwiML."""

from __future__ import annotations

import functools
import re
from dataclasses import replace

from twilio.twiml.voice_response import Hangup, VoiceResponse

from ivr_flows.model import Lang, Reply

VOICES = {Lang.EN: "Polly.Joanna", Lang.DE: "Polly.Vicki"}
REP_VOICE = {"language": Lang.EN.value, "voice": VOICES[Lang.EN]}  # pages and bridges speak to reps in English


HANG_UP = str(VoiceResponse().append(Hangup()))  # <Response><Hangup/></Response>


def say_and_hang_up(text: str) -> str:
    """TwiML that says ``text`` to a rep and ends the call."""
    response = VoiceResponse()
    response.say(text, **REP_VOICE)
    response.hangup()
    return str(response)


HAND_OVERS = {"resolution_proposal": "/twilio/updates/proposal?ref={ref}",  # issue 11
              "live_connect": "/twilio/live/offer?ref={ref}"}  # issue 13


def render(reply: Reply, step_url: str, recording_url: str) -> str:
    """TwiML for ``reply``; input goes to ``step_url``, recordings to ``recording_url``.

    The same bytes as ``build``, without building an element tree each time (issue 12): the
    TwiML of the reply's shape (every spoken line a placeholder) is built once and cached, and
    the lines, XML-escaped as ElementTree escapes text, go into its gaps.
    """
    if len(reply.say) > len(_SLOTS):
        return build(reply, step_url, recording_url)
    gaps = _shape(replace(reply, say=_SLOTS[:len(reply.say)]) if reply.say else reply, step_url, recording_url)
    out = [gaps[0]]
    for line, gap in zip(reply.say, gaps[1:], strict=True):
        out += (escape(line), gap)
    return "".join(out)


def escape(text: str) -> str:
    """``xml.sax.saxutils.escape``, the same three replacements in its order: ``&``, ``>`` and ``<``, as ElementTree
    escapes text. Not imported from there: ``xml.sax.saxutils`` imports ``urllib.request``, 0.3 MB in every web
    worker that nothing else in it needs (issue 12)."""
    return text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


_SLOTS = tuple(f"\ue000{i}\ue000" for i in range(24))  # private-use characters: no URL, hint or voice name holds them
_SLOT = re.compile("\ue000\\d+\ue000")


@functools.lru_cache(maxsize=512)
def _shape(reply: Reply, step_url: str, recording_url: str) -> tuple[str, ...]:
    return tuple(_SLOT.split(build(reply, step_url, recording_url)))


def build(reply: Reply, step_url: str, recording_url: str) -> str:
    """TwiML for ``reply`` built with twilio's VoiceResponse (``render`` caches its shapes).

    A <Gather> or <Record> that gets nothing falls through to the next verb, so a
    <Redirect> follows each with ``noinput=1``: the flow always hears about silence.
    """
    response = VoiceResponse()
    target = response
    if reply.gather is not None:
        g = reply.gather
        gather_kwargs = {
            "input": g.input,
            "action": step_url,
            "method": "POST",
            "timeout": g.timeout,
            "finish_on_key": g.finish_on_key,
            # a bare finish key (an empty result) reaches the action only when the flow reads it as an answer
            "action_on_empty_result": g.empty_is_answer,
        }
        if g.num_digits:
            gather_kwargs["num_digits"] = g.num_digits
        if "speech" in g.input:
            gather_kwargs["language"] = reply.lang.value
            gather_kwargs["speech_timeout"] = g.speech_timeout
            if g.hints:
                gather_kwargs["hints"] = ", ".join(g.hints)
        target = response.gather(**gather_kwargs)
    langs = reply.say_langs if len(reply.say_langs) == len(reply.say) else (reply.lang,) * len(reply.say)
    for line, lang in zip(reply.say, langs, strict=True):
        target.say(line, language=lang.value, voice=VOICES[lang])
    if reply.hand_over is not None:  # issue 11: another webhook takes the call on (the proposal prompt)
        what, reference = reply.hand_over
        response.redirect(HAND_OVERS[what].format(ref=reference), method="POST")
    elif reply.gather is not None:
        response.redirect(_with_noinput(step_url), method="POST")
    elif reply.record is not None:
        r = reply.record
        response.record(
            action=recording_url,
            method="POST",
            max_length=r.max_seconds,
            timeout=r.timeout,
            finish_on_key="#",
            play_beep=True,
            trim="trim-silence",
        )
        response.redirect(_with_noinput(recording_url), method="POST")
    elif reply.hangup:
        response.hangup()
    else:  # a reply that asks nothing and does not end: come back for the next step
        response.redirect(_with_noinput(step_url), method="POST")
    return str(response)


def _with_noinput(url: str) -> str:
    return url + ("&" if "?" in url else "?") + "noinput=1"
