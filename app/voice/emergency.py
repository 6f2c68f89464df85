"""TwiML for when the intake cannot go on: built without the database or the flow."""

from __future__ import annotations

from twilio.twiml.voice_response import VoiceResponse

RECORDING_URL = "/twilio/voice/fallback/recording"

APOLOGY = (
    ("en-US", "Polly.Joanna",
     "This is the Severity-1 hotline. We're sorry, we have a technical problem taking your details. "
     "After the tone, please say your company, your name, the number we should call back, "
     "and what is failing. An engineer will call you back within {minutes} minutes."),
    ("de-DE", "Polly.Vicki",
     "Hier ist die Severity-1-Hotline. Leider haben wir ein technisches Problem. "
     "Bitte nennen Sie nach dem Ton Ihre Firma, Ihren Namen, Ihre Rückrufnummer "
     "und was ausfällt. Ein Techniker ruft Sie innerhalb von {minutes} Minuten zurück."),
)
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

# a call whose flow cannot go on (its stored state cannot be read) but which has its incident: nothing is asked again
KEPT = (
    ("en-US", "Polly.Joanna", "This is the Severity-1 hotline. We have your incident and the details you gave us, "
     "and the support team has them. To add anything, please call again. Goodbye."),
    ("de-DE", "Polly.Vicki", "Hier ist die Severity-1-Hotline. Ihr Vorfall und Ihre Angaben liegen uns vor, und das "
     "Support-Team hat sie. Wenn Sie etwas ergänzen möchten, rufen Sie bitte erneut an. Auf Wiederhören."),
)


def voicemail_twiml(minutes: int) -> str:
    """Apologise in both languages and record a voicemail (up to two minutes); ``minutes``: the promise
    (CALLBACK_SLA_MINUTES: an outside probe's rescued caller heard "15 minutes" of a 7-minute deadline, which their
    receipt SMS gave)."""
    response = VoiceResponse()
    for lang, voice, text in APOLOGY:
        response.say(text.format(minutes=minutes), language=lang, voice=voice)
    response.record(action=RECORDING_URL, method="POST", max_length=120, timeout=5,
                    finish_on_key="#", play_beep=True)
    response.redirect(RECORDING_URL + "?noinput=1", method="POST")
    return str(response)


def incident_kept_twiml() -> str:
    """Tell the caller, in both languages, that their incident stands and how to add to it, and hang up."""
    return _say_and_hang_up(KEPT)


def goodbye_twiml(minutes: int) -> str:
    """Thank the caller in both languages, with the promise's ``minutes``, and hang up."""
    return _say_and_hang_up(tuple((lang, voice, text.format(minutes=minutes)) for lang, voice, text in GOODBYE))


def no_message_twiml(minutes: int, reachable: bool) -> str:
    """The voicemail recorded nothing: the callback to the caller's number (``reachable``), else a call again."""
    lines = NO_MESSAGE if reachable else NO_MESSAGE_WITHHELD
    return _say_and_hang_up(tuple((lang, voice, text.format(minutes=minutes)) for lang, voice, text in lines))


def _say_and_hang_up(lines) -> str:
    response = VoiceResponse()
    for lang, voice, text in lines:
        response.say(text, language=lang, voice=voice)
    response.hangup()
    return str(response)
