"""TwiML for when the intake cannot go on: built without the database or the flow."""

from __future__ import annotations

from twilio.twiml.voice_response import VoiceResponse

from app.carried_answers import PARAM, Carried
from ivr_flows.model import Lang

RECORDING_URL = "/twilio/voice/fallback/recording"

# the request, in each language: the opening, what to say after the tone (``ASKED``: what is missing), the line for
# a caller whose earlier answers are kept (``Carried``), the request when nothing is missing, and the promise (said
# only once the caller is kept: in SQL or the spool)
APOLOGY = (
    ("en-US", "Polly.Joanna",
     "This is the Severity-1 hotline. We're sorry, we have a technical problem taking your details.",
     "After the tone, please say {items}.", "We have what you told us so far.",
     "We have your details. After the tone, you may add anything else, or simply hang up.",
     "An engineer will call you back within {minutes} minutes."),
    ("de-DE", "Polly.Vicki",
     "Hier ist die Severity-1-Hotline. Leider haben wir ein technisches Problem.",
     "Bitte nennen Sie nach dem Ton {items}.", "Was Sie uns bisher gesagt haben, liegt uns vor.",
     "Ihre Angaben liegen uns vor. Nach dem Ton können Sie noch etwas ergänzen oder einfach auflegen.",
     "Ein Techniker ruft Sie innerhalb von {minutes} Minuten zurück."),
)
# what the voicemail asks for, in its order: the ``Captured`` field that answers it, its words in English, in German
ASKED = (("company", "your company", "Ihre Firma"), ("contact_name", "your name", "Ihren Namen"),
         ("callback_phone", "the number we should call back", "Ihre Rückrufnummer"),
         ("problem_text", "what is failing", "was ausfällt"))
GOODBYE = (
    ("en-US", "Polly.Joanna", "Thank you. Your message is recorded. An engineer will call you back within {minutes} minutes. "
     "Goodbye."),
    ("de-DE", "Polly.Vicki", "Vielen Dank. Ihre Nachricht ist aufgenommen. Ein Techniker ruft Sie innerhalb von {minutes} "
     "Minuten zurück. Auf Wiederhören."),
)

# the voicemail ended with nothing recorded: no "your message is recorded" (an outside probe's caller heard it of
# silence); the callback still goes to the number they call from, and a withheld one is asked to call again
NO_MESSAGE = (
    ("en-US", "Polly.Joanna", "We did not hear a message. An engineer will call you back on the number you are calling "
     "from within {minutes} minutes. Goodbye."),
    ("de-DE", "Polly.Vicki", "Wir haben keine Nachricht gehört. Ein Techniker ruft Sie innerhalb von {minutes} Minuten "
     "unter der Nummer zurück, von der Sie anrufen. Auf Wiederhören."),
)
NO_MESSAGE_WITHHELD = (
    ("en-US", "Polly.Joanna", "We did not hear a message, and your number is withheld, so we cannot call you back. "
     "Please call us again, and say the number we should call. Goodbye."),
    ("de-DE", "Polly.Vicki", "Wir haben keine Nachricht gehört, und Ihre Nummer ist unterdrückt, daher können wir Sie "
     "nicht zurückrufen. Bitte rufen Sie erneut an und nennen Sie uns Ihre Rückrufnummer. Auf Wiederhören."),
)

# nothing of the call could be kept (the database down and the spool unwritable: an outside probe's caller heard
# "Your message is recorded" of a call the hotline had just lost): no promise, and what to do instead
LOST = (
    ("en-US", "Polly.Joanna", "We're sorry: because of a technical problem we could not keep your call, so we cannot "
     "promise you a call back. Please call us again in a few minutes. If you cannot get through, open a ticket on the "
     "dashboard or write to our support e-mail address. Goodbye."),
    ("de-DE", "Polly.Vicki", "Es tut uns leid: Wegen eines technischen Problems konnten wir Ihren Anruf nicht "
     "speichern, daher können wir Ihnen keinen Rückruf zusagen. Bitte rufen Sie in einigen Minuten erneut an. Wenn "
     "Sie nicht durchkommen, eröffnen Sie bitte ein Ticket im Dashboard oder schreiben Sie an unsere "
     "Support-E-Mail-Adresse. Auf Wiederhören."),
)
# the caller is kept but their voicemail is not: the callback goes to the number they call from
MESSAGE_LOST = (
    ("en-US", "Polly.Joanna", "We're sorry, because of a technical problem we could not keep your message. An engineer "
     "will call you back on the number you are calling from within {minutes} minutes. Goodbye."),
    ("de-DE", "Polly.Vicki", "Es tut uns leid, wegen eines technischen Problems konnten wir Ihre Nachricht nicht "
     "speichern. Ein Techniker ruft Sie innerhalb von {minutes} Minuten unter der Nummer zurück, von der Sie "
     "anrufen. Auf Wiederhören."),
)

# a call whose flow cannot go on (its stored state cannot be read) but which has its incident: nothing is asked again
KEPT = (
    ("en-US", "Polly.Joanna", "This is the Severity-1 hotline. We have your incident and the details you gave us, "
     "and the support team has them. To add anything, please call again. Goodbye."),
    ("de-DE", "Polly.Vicki", "Hier ist die Severity-1-Hotline. Ihr Vorfall und Ihre Angaben liegen uns vor, und das "
     "Support-Team hat sie. Wenn Sie etwas ergänzen möchten, rufen Sie bitte erneut an. Auf Wiederhören."),
)


def voicemail_twiml(minutes: int, kept: bool = True, carried: Carried | None = None, token: str = "") -> str:
    """Apologise and record a voicemail (up to two minutes); ``minutes``: the promise (CALLBACK_SLA_MINUTES: an
    outside probe's rescued caller heard "15 minutes" of a 7-minute deadline, which their receipt SMS gave), made
    only when the caller is ``kept``; else the recording's end is told so (``unkept=1``: Twilio signs the URL with
    its query) and tries to keep them again. In both languages, asking for everything, unless the call's URL
    ``carried`` its language and answers (probe Z2): then in that language, asking only for what is missing (the
    answers are kept with the caller), and ``token`` goes on to the recording's end, which speaks that language."""
    response = VoiceResponse()
    for lang, voice, text in _apology(minutes, kept, carried):
        response.say(text, language=lang, voice=voice)
    query = "&".join(part for part in (f"{PARAM}={token}" if carried and token else "",
                                       "" if kept else "unkept=1") if part)
    response.record(action=RECORDING_URL + (f"?{query}" if query else ""), method="POST", max_length=120,
                    timeout=5, finish_on_key="#", play_beep=True)
    response.redirect(RECORDING_URL + "?noinput=1" + (f"&{query}" if query else ""), method="POST")
    return str(response)


def _apology(minutes: int, kept: bool, carried: Carried | None) -> list[tuple[str, str, str]]:
    """The voicemail's words: per language, the opening and the request (what is missing, with the promise when
    ``kept``). Answers count as known only when the caller is kept: a call nothing kept is asked for everything."""
    known = {name for name, _en, _de in ASKED if carried is not None and kept and carried.known(name)}
    lines = []
    for lang, voice, opening, ask, have, complete, promise in APOLOGY:
        if carried is not None and carried.lang.value != lang:
            continue
        items = [words[lang == "de-DE"] for name, *words in ASKED if name not in known]
        request = ask.format(items=_listed(items, lang)) if items else complete
        text = " ".join(part for part in (opening, have if known and items else "", request,
                                          promise.format(minutes=minutes) if kept else "") if part)
        lines.append((lang, voice, text))
    return lines


def _listed(items: list[str], lang: str) -> str:
    """"a, b, and c" in English, "a, b und c" in German."""
    if len(items) < 2:
        return "".join(items)
    if lang == "de-DE":
        return ", ".join(items[:-1]) + " und " + items[-1]
    return " and ".join(items) if len(items) == 2 else ", ".join(items[:-1]) + ", and " + items[-1]


def incident_kept_twiml() -> str:
    """Tell the caller, in both languages, that their incident stands and how to add to it, and hang up."""
    return _say_and_hang_up(KEPT)


def goodbye_twiml(minutes: int, lang: Lang | None = None) -> str:
    """Thank the caller, with the promise's ``minutes``, and hang up; in ``lang`` when known, else in both."""
    return _say_and_hang_up(_formatted(GOODBYE, minutes), lang)


def lost_twiml(lang: Lang | None = None) -> str:
    """Tell the caller that nothing of their call could be kept and what to do, and hang up (``lang``: as above)."""
    return _say_and_hang_up(LOST, lang)


def message_lost_twiml(minutes: int, lang: Lang | None = None) -> str:
    """The caller is kept but their voicemail is not: say so, with the callback to their number, and hang up."""
    return _say_and_hang_up(_formatted(MESSAGE_LOST, minutes), lang)


def no_message_twiml(minutes: int, reachable: bool, lang: Lang | None = None) -> str:
    """The voicemail recorded nothing: the callback to the caller's number (``reachable``), else a call again."""
    return _say_and_hang_up(_formatted(NO_MESSAGE if reachable else NO_MESSAGE_WITHHELD, minutes), lang)


def _formatted(lines, minutes: int) -> tuple[tuple[str, str, str], ...]:
    return tuple((lang, voice, text.format(minutes=minutes)) for lang, voice, text in lines)


def _say_and_hang_up(lines, lang: Lang | None = None) -> str:
    """Say ``lines`` (those in ``lang`` when it is given) and hang up."""
    response = VoiceResponse()
    for code, voice, text in lines:
        if lang is None or code == lang.value:
            response.say(text, language=code, voice=voice)
    response.hangup()
    return str(response)
