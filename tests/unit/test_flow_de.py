"""The German intake flow: same paths, German words, German spoken formats."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ivr_flows import (
    AffectedService,
    AppendToIncident,
    FlowPolicy,
    IncidentInfo,
    Lang,
    SaveIncident,
    Stage,
    TicketInfo,
    TicketMatch,
)

from .flow_driver import DE_CALLER, NOW, Call, run, silent_until

DE_TICKET = TicketInfo(
    number="8812",
    company="Müller & Söhne GmbH",
    contact_name="Jürgen Weiß",
    email="j.weiss@mueller-soehne.de",
    phone=DE_CALLER,
)
TO_CAPTURE = [("press", "2"), ("press", "2"), ("press", "#")]  # Deutsch, SMTP down, no ticket


def test_german_happy_path_with_keyed_ticket_and_pin():
    call = Call(caller_id=DE_CALLER, ticket=DE_TICKET)
    call.press("2")
    assert call.state.lang is Lang.DE and call.steps[-1].reply.lang is Lang.DE
    assert call.stage is Stage.TRIAGE and "drücken Sie die 1" in call.said
    call.speak("beide")
    assert call.stage is Stage.TICKET_ENTRY and "8, 8, 1, 2" not in call.said
    call.press("8812#")
    call.lookup_answer(TicketInfo(number="8812", has_pin=True))
    assert call.stage is Stage.PIN_ENTRY and "Support-PIN" in call.said
    call.press("1357#")
    call.pin_answer(True, DE_TICKET)
    assert "Geht es um die Firma Müller & Söhne GmbH?" in call.said
    run(call, [("say", "ja, genau")])
    assert "Spreche ich mit Jürgen Weiß?" in call.said
    run(call, [("press", "1")])
    assert "zurückrufen" in call.said and "plus 4 9, 3 0, 1 2 3 4 5 6" in call.said
    run(call, [("press", "1")])
    assert "j punkt weiss ät mueller Bindestrich soehne punkt de" in call.said
    run(call, [("press", "1"), ("say", "Seit drei Uhr schlägt jede SMTP-Einlieferung mit 451 fehl.")])
    assert "Signalton" in call.said and "2 Minuten" in call.said
    call.record()
    assert call.stage is Stage.READBACK
    # Issue 13: confirmed values are not read back again; what the caller said is
    assert "Ich habe notiert:" in call.said and "Müller & Söhne GmbH" not in call.said
    assert "Rückrufnummer" not in call.said.split("Zum Korrigieren")[0]
    assert "Ihre Beschreibung: Seit drei Uhr" in call.said and "Wenn alles stimmt, drücken Sie die 1." in call.said
    call.press("1")
    (save,) = call.effects(SaveIncident)
    assert save.lang is Lang.DE
    c = save.captured
    assert (c.affected_service, c.ticket_match, c.email) == (
        AffectedService.BOTH,
        TicketMatch.KEYPAD,
        "j.weiss@mueller-soehne.de",
    )
    call.saved("123456")
    assert call.stage is Stage.DONE and call.steps[-1].reply.hangup
    assert "Referenznummer" in call.said and "1, 2, 3, 4, 5, 6" in call.said
    # issue 10's wording, in Berlin's winter time
    assert ("Ein Techniker ruft Sie innerhalb von 15 Minuten, spätestens um 4:27 Uhr (MEZ), "
            "unter der Nummer plus 4 9, 3 0, 1 2 3 4 5 6 zurück.") in call.said
    assert call.said.endswith("Auf Wiederhören.")


@pytest.mark.parametrize(
    ("spoken", "email"),
    [
        ("max punkt mustermann ät beispiel punkt de", "max.mustermann@beispiel.de"),
        ("Erika Unterstrich Muster at Firma Bindestrich Eins Punkt at", "erika_muster@firma-eins.at"),
        ("ops minus team @ example punkt com", "ops-team@example.com"),
    ],
)
def test_german_spoken_email(spoken, email):
    call = run(Call(caller_id=DE_CALLER), TO_CAPTURE + [("say", "Firma"), ("say", "Max"), ("press", "1")])
    assert call.stage is Stage.EMAIL and "punkt" in call.said
    call.speak(spoken)
    assert call.stage is Stage.EMAIL_CONFIRM and "Ich habe" in call.said and "verstanden" in call.said
    call.speak("ja")
    assert call.state.captured.email == email


def test_an_address_heard_with_umlauts_is_spelled_back_as_written_and_kept_once_confirmed():
    call = run(Call(caller_id=DE_CALLER), TO_CAPTURE + [("say", "Firma"), ("say", "Max"), ("press", "1")])
    call.speak("Jürgen Punkt Müller ät Bäckerei Weiß Punkt de")
    assert call.stage is Stage.EMAIL_CONFIRM  # before, "jürgen.müller@..." was refused and asked for again
    # the local part as German addresses write it; the domain is the one said (an IDN), spelled in its letters
    assert "J U E R G E N" in call.said and "M U E L L E R" in call.said and "B Ä C K E R E I W E I ß" in call.said
    assert "juergen punkt mueller ät bäckereiweiß punkt de" in call.said
    call.speak("ja")
    assert call.state.captured.email == "juergen.mueller@xn--bckereiwei-f4a4c.de"  # as SMTP takes bäckereiweiß.de


def test_an_umlaut_domain_is_read_back_as_said_not_as_another_domain():
    """An outside probe's German caller said ``info at bäckerei-schmidt punkt de`` and heard
    info@baeckerei-schmidt.de read back (another registrable domain), and the same when they said it again."""
    call = run(Call(caller_id=DE_CALLER), TO_CAPTURE + [("say", "Firma"), ("say", "Max"), ("press", "1")])
    call.speak("info at bäckerei-schmidt punkt de")
    assert call.stage is Stage.EMAIL_CONFIRM
    assert "info ät bäckerei Bindestrich schmidt punkt de" in call.said and "baeckerei" not in call.said
    assert "B Ä C K E R E I, Bindestrich, S C H M I D T" in call.said and "xn--" not in call.said
    call.speak("nein")  # and said again: the same
    call.speak("info at bäckerei-schmidt punkt de")
    assert "info ät bäckerei Bindestrich schmidt punkt de" in call.said
    call.speak("ja")
    assert call.state.captured.email == "info@xn--bckerei-schmidt-0kb.de"


def test_german_reprompts_are_german():
    call = run(Call(caller_id=DE_CALLER), [("press", "2"), ("silence",)])
    assert call.said.startswith("Entschuldigung, ich habe nichts gehört.")
    call.press("7")
    assert call.said.startswith("Entschuldigung, das habe ich nicht verstanden.")
    call.speak("nicht kritisch")
    assert call.stage is Stage.NON_CRITICAL and "Geschäftszeiten" in call.said


def test_german_non_critical_then_continue_and_then_hang_up():
    call = run(Call(caller_id=DE_CALLER), [("press", "2"), ("press", "9"), ("say", "weiter")])
    assert call.stage is Stage.TRIAGE
    run(call, [("press", "9"), ("say", "nein danke")])
    assert call.stage is Stage.DONE and "Auf Wiederhören" in call.said
    assert not call.effects(SaveIncident)


def test_german_silence_everywhere_still_saves():
    call = Call(caller_id="anonymous")
    call.press("2")
    silent_until(call, {Stage.SAVING})
    (save,) = call.effects(SaveIncident)
    assert save.lang is Lang.DE
    assert {"company", "contact_name", "callback_phone", "email", "problem"} <= set(save.captured.missing)
    call.saved("424242")
    assert "4, 2, 4, 2, 4, 2" in call.said and "weder eine Telefonnummer noch eine E-Mail-Adresse" in call.said


def test_german_withheld_number_then_keypad_entry():
    call = run(Call(caller_id="+266696687"), TO_CAPTURE + [("say", "Firma"), ("say", "Max")])
    assert call.stage is Stage.CALLBACK_ENTRY and "Ländervorwahl" in call.said
    assert "Ihre Rufnummer ist unterdrückt" in call.said
    assert "Bitte geben Sie Ihre Rückrufnummer mit Ländervorwahl ein und drücken Sie danach die Rautetaste." in call.said
    call.press("00499001234567#")  # German premium-rate (0900) is refused, saying why
    assert call.said.startswith("Diese Nummer können wir für den Rückruf leider nicht verwenden: Wir rufen keine "
                                "Mehrwert")
    run(call, [("press", "00491701234567#"), ("press", "1")])
    assert call.state.captured.callback_phone == "+491701234567"


def test_german_personal_number_and_the_hotline_number_are_refused_saying_why():
    policy = FlowPolicy(default_region="DE", hotline_number="+4930901820")
    call = run(Call(caller_id="+4930901820", policy=policy), TO_CAPTURE + [("say", "Firma"), ("say", "Max")])
    assert call.stage is Stage.CALLBACK_ENTRY and "4 9, 3 0, 9 0 1 8 2 0" not in call.said  # not offered
    call.press("070012345678#")  # a 0700 personal number: revenue share
    assert call.said.startswith("Diese Nummer können wir für den Rückruf leider nicht verwenden: Wir rufen keine "
                                "Mehrwert- oder Sonderrufnummern an.")
    call.press("030901820#")  # the hotline itself
    assert call.said.startswith("Diese Nummer können wir für den Rückruf leider nicht verwenden: "
                                "Es ist die Nummer dieser Hotline.")
    assert call.stage is Stage.CALLBACK_ENTRY


def test_german_no_callback_number_is_said_honestly():
    call = run(Call(caller_id="anonymous"), TO_CAPTURE + [("say", "Firma"), ("say", "Max")] + [("silence",)] * 3)
    run(call, [("say", "max at firma punkt de"), ("press", "1"), ("say", "Alles kaputt"), ("record",), ("press", "1")])
    call.saved("101010")
    assert "Wir haben keine Rückrufnummer" in call.said and "per E-Mail" in call.said


def test_german_readback_correction():
    script = TO_CAPTURE + [
        ("say", "Firma A"),
        ("say", "Max Mustermann"),
        ("press", "1"),
        ("say", "max ät firma punkt de"),
        ("press", "1"),
        ("say", "SMTP antwortet nicht"),
        ("record",),
    ]
    call = run(Call(caller_id=DE_CALLER), script)
    call.press("3")
    assert "vollständigen Namen" in call.said
    call.speak("Erika Mustermann")
    assert call.stage is Stage.READBACK and "Name: Erika Mustermann." in call.said
    call.speak("stimmt")
    (save,) = call.effects(SaveIncident)
    assert save.captured.contact_name == "Erika Mustermann"


def test_german_repeat_caller_adds_information():
    incident = IncidentInfo(reference="765432", callback_due_at=NOW + timedelta(minutes=10))
    call = Call(caller_id=DE_CALLER, open_incident=incident)
    call.press("2")
    assert call.stage is Stage.REPEAT_CALLER
    assert "offenen Vorfall" in call.said and "7, 6, 5, 4, 3, 2" not in call.said
    assert "spätestens" not in call.said  # its status only after proof
    run(call, [("press", "1"), ("press", "765432#")])
    assert "7, 6, 5, 4, 3, 2" in call.said and "spätestens um 4:22 Uhr (MEZ)" in call.said
    run(call, [("say", "Jetzt ist auch die API betroffen"), ("record", "", 0)])
    assert call.effects(AppendToIncident) == [AppendToIncident("765432", "Jetzt ist auch die API betroffen", "")]
    call.saved("765432", incident.callback_due_at)
    assert "hinzugefügt" in call.said and call.steps[-1].reply.hangup
    assert not call.effects(SaveIncident)
