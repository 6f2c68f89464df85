"""TwiML for when the intake cannot go on: built without the database or the flow."""

from __future__ import annotations

from twilio.twiml.voice_response import VoiceResponse

RECORDING_URL = "/twilio/voice/fallback/recording"

APOLOGY = (
    ("en-US", "Polly.Joanna",
     "This is the Severity-1 hotline. We're sorry, we have a technical problem taking your details. "
     "After the tone, please say your company, your name, the number we should call back, "
     "and what is failing.", "An engineer will call you back within {minutes} minutes."),
    ("de-DE", "Polly.Vicki",
     "Hier ist die Severity-1-Hotline. Leider haben wir ein technisches Problem. "
     "Bitte nennen Sie nach dem Ton Ihre Firma, Ihren Namen, Ihre Rückrufnummer "
     "und was ausfällt.", "Ein Techniker ruft Sie innerhalb von {minutes} Minuten zurück."),
)  # each: the request, then the promise (said only once the caller is kept: in SQL or the spool)
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


def voicemail_twiml(minutes: int, kept: bool = True) -> str:
    """Apologise in both languages and record a voicemail (up to two minutes); ``minutes``: the promise
    (CALLBACK_SLA_MINUTES: an outside probe's rescued caller heard "15 minutes" of a 7-minute deadline, which their
    receipt SMS gave), made only when the caller is ``kept``; else the recording's end is told so (``unkept=1``:
    Twilio signs the URL with its query) and tries to keep them again."""
    response = VoiceResponse()
    for lang, voice, ask, promise in APOLOGY:
        response.say(f"{ask} {promise.format(minutes=minutes)}" if kept else ask, language=lang, voice=voice)
    unkept = "" if kept else "unkept=1"
    response.record(action=RECORDING_URL + (f"?{unkept}" if unkept else ""), method="POST", max_length=120,
                    timeout=5, finish_on_key="#", play_beep=True)
    response.redirect(RECORDING_URL + "?noinput=1" + (f"&{unkept}" if unkept else ""), method="POST")
    return str(response)


def incident_kept_twiml() -> str:
    """Tell the caller, in both languages, that their incident stands and how to add to it, and hang up."""
    return _say_and_hang_up(KEPT)


def goodbye_twiml(minutes: int) -> str:
    """Thank the caller in both languages, with the promise's ``minutes``, and hang up."""
    return _say_and_hang_up(tuple((lang, voice, text.format(minutes=minutes)) for lang, voice, text in GOODBYE))


def lost_twiml() -> str:
    """Tell the caller, in both languages, that nothing of their call could be kept and what to do, and hang up."""
    return _say_and_hang_up(LOST)


def message_lost_twiml(minutes: int) -> str:
    """The caller is kept but their voicemail is not: say so, with the callback to their number, and hang up."""
    return _say_and_hang_up(tuple((lang, voice, text.format(minutes=minutes)) for lang, voice, text in MESSAGE_LOST))


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
