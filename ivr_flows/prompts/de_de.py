"""German (de-DE) prompts, polite "Sie" form. Same keys and fields as en_us."""

PROMPTS: dict[str, str] = {
    # call opening
    "greeting": (
        "Hier ist die Severity-1-Hotline für Ausfälle beim E-Mail-Versand. "
        "Anrufe werden zur Bearbeitung Ihres Vorfalls aufgezeichnet."
    ),
    "language_choice": "Für Deutsch drücken Sie die 2.",
    "language_default": "Ich fahre auf Englisch fort.",
    # re-prompts
    "sorry_silence": "Entschuldigung, ich habe nichts gehört.",
    "sorry_nonsense": "Entschuldigung, das habe ich nicht verstanden.",
    "thanks": "Vielen Dank.",
    "goodbye": "Auf Wiederhören.",
    # triage
    "triage": (
        "Ist Ihr E-Mail-Versand ausgefallen? Wenn API-Aufrufe fehlschlagen, drücken Sie die 1. "
        "SMTP-Einlieferung: die 2. Beides: die 3. Ein anderes kritisches Problem: die 4. Nicht kritisch: die 9."
    ),
    "triage_default": "Ich nehme das als kritisches Problem auf, und wir machen weiter.",
    "triage_non_critical_kept": (
        "Ihre Meldung ist bereits als kritischer Ausfall aufgenommen, und ein Techniker ruft Sie wie zugesagt "
        "zurück. Falls es doch nicht kritisch ist, sagen Sie es bitte dem Techniker, wenn er anruft."
    ),
    "non_critical": (
        "Nicht kritische Probleme, etwa Fragen oder Konfigurationswünsche, bearbeiten wir "
        "per E-Mail während der Geschäftszeiten. Bitte eröffnen Sie dafür ein Ticket im "
        "Dashboard oder schreiben Sie an unsere Support-E-Mail-Adresse."
    ),
    "non_critical_menu": (
        "Falls Ihr E-Mail-Versand doch ausgefallen ist, drücken Sie die 1, um als "
        "kritischer Ausfall fortzufahren. Für eine SMS, wie Sie ein Ticket eröffnen, drücken Sie die 2. "
        "Andernfalls können Sie jetzt auflegen."
    ),
    "non_critical_menu_no_sms": (
        "Falls Ihr E-Mail-Versand doch ausgefallen ist, drücken Sie die 1, um als kritischer Ausfall fortzufahren. "
        "Andernfalls können Sie jetzt auflegen."
    ),
    "non_critical_sms_sent": "Wir schicken Ihnen eine SMS, wie Sie ein Ticket eröffnen.",
    "non_critical_goodbye": "Vielen Dank für Ihren Anruf. Auf Wiederhören.",
    # repeat caller
    "repeat_caller": "Sie haben bereits einen offenen Vorfall mit der Referenznummer {reference}.",
    "callback_by": "Ein Techniker ruft Sie spätestens {time} zurück.",
    "callback_overdue": (
        "Es tut uns leid, dass wir Sie noch nicht zurückgerufen haben. "
        "Ein Techniker ruft Sie so schnell wie möglich an."
    ),
    "callback_done": "Wir haben Sie bereits zurückgerufen, und unser Team arbeitet daran.",
    "contact_done": "Wir haben uns bereits bei Ihnen gemeldet, und unser Team arbeitet daran.",
    "next_update_by": "Das nächste Update erhalten Sie spätestens {time}.",
    "callback_rings_caller": "Wir rufen die Nummer an, von der Sie gerade anrufen.",
    "callback_rings_number": "Wir rufen die Nummer mit der Endung {number} an.",
    "callback_rings_elsewhere": "Wir rufen die Nummer mit der Endung {number} an, nicht das Telefon, von dem Sie "
                                "gerade anrufen.",
    "email_by": "Ein Techniker meldet sich spätestens {time} per E-Mail bei Ihnen.",
    "email_overdue": (
        "Es tut uns leid, dass wir uns noch nicht bei Ihnen gemeldet haben. "
        "Ein Techniker schreibt Ihnen so schnell wie möglich per E-Mail."
    ),
    "repeat_caller_menu": (
        "Um Informationen zu diesem Vorfall hinzuzufügen, drücken Sie die 1. "
        "Um einen anderen Ausfall zu melden, drücken Sie die 2."
    ),
    "repeat_caller_menu_unverified": (
        "Um seinen Stand zu hören oder etwas zu ergänzen, drücken Sie die 1. "
        "Um einen anderen Ausfall zu melden, drücken Sie die 2."
    ),
    "add_info": "Bitte sagen Sie mir in wenigen Sätzen, was Sie ergänzen möchten.",
    "add_recording": (
        "Nach dem Signalton können Sie bis zu {duration} lang noch mehr aufsprechen. "
        "Drücken Sie die Rautetaste, wenn Sie fertig sind."
    ),
    "added": "Vielen Dank, wir haben das zum Vorfall {reference} hinzugefügt.",
    "repeat_caller_status": "Für die Nummer, von der Sie anrufen, gibt es einen offenen Vorfall.",
    "repeat_caller_status_ticket": "Für dieses Ticket gibt es einen offenen Vorfall.",
    "callback_taken": "Ein Techniker hat ihn übernommen und ruft Sie spätestens {time} zurück.",
    "repeat_verify": (
        "Um seinen Stand zu hören oder etwas zu ergänzen, geben Sie die sechsstellige Referenznummer oder Ihre "
        "Support-PIN ein "
        "und drücken Sie danach die Rautetaste. Wenn Sie beides nicht haben, drücken Sie nur die Rautetaste."
    ),
    "repeat_wrong": "Diese Nummer passt leider nicht.",
    "repeat_unverified": (
        "Ich nehme Ihre Meldung als neuen Vorfall auf, und wir verknüpfen ihn mit dem offenen."
    ),
    "joined": "Vielen Dank. Wir haben Ihre Meldung zum offenen Vorfall für Ihre Nummer hinzugefügt.",
    "joined_own_contact": (
        "Dieser Vorfall hat einen anderen Ansprechpartner, daher haben wir Ihre Angaben gesondert vermerkt "
        "und die zuständigen Techniker gebeten, Sie unter {number} zurückzurufen."
    ),
    "joined_own_contact_email": (
        "Dieser Vorfall hat einen anderen Ansprechpartner, daher haben wir Ihre Angaben gesondert vermerkt "
        "und die zuständigen Techniker gebeten, sich an der angegebenen E-Mail-Adresse bei Ihnen zu melden."
    ),
    "joined_untracked": (
        "Von dieser Telefonnummer kamen so viele Meldungen, dass wir für diesen Rückruf keine Uhrzeit zusagen "
        "können. Rufen Sie uns nach Möglichkeit von einem anderen Telefon aus erneut an: Dann erhält Ihre "
        "Meldung einen eigenen Vorfall und eine eigene Rückrufzeit."
    ),
    # support PIN
    "pin_ask": "Geben Sie die Support-PIN Ihres Kontos ein, dann die Rautetaste. Keine PIN? Nur die Rautetaste.",
    "pin_ok": "Vielen Dank, Ihre PIN ist richtig.",
    "pin_wrong": "Diese PIN ist leider nicht richtig.",
    "pin_give_up": "Wir machen ohne PIN weiter.",
    # ticket
    "ticket_offer": "Rufen Sie wegen Ticket {ticket} an? Drücken Sie die 1 für Ja, die 2 für Nein.",
    "ticket_entry": "Geben Sie Ihre Support-Ticketnummer ein, dann die Rautetaste. Kein Ticket? Nur die Rautetaste.",
    "ticket_found": "Vielen Dank, ich habe das Ticket {ticket} gefunden.",
    "ticket_not_found": "Ich konnte das Ticket {ticket} nicht finden.",
    "ticket_give_up": "Wir machen ohne Ticket weiter. Der Techniker klärt das mit Ihnen.",
    # company and name
    "company_confirm": "Geht es um die Firma {company}? Drücken Sie die 1 für Ja, die 2 für Nein.",
    "company_ask": "Bitte nennen Sie den Namen Ihrer Firma.",
    "name_confirm": "Spreche ich mit {name}? Drücken Sie die 1 für Ja, die 2 für Nein.",
    "name_ask": "Bitte nennen Sie Ihren vollständigen Namen.",
    # callback number
    "callback_confirm": "Können wir Sie unter {number} zurückrufen? 1 für Ja, 2 für eine andere Nummer.",
    "callback_entry": (
        "Bitte geben Sie Ihre Rückrufnummer mit Ländervorwahl ein und drücken Sie danach die Rautetaste."
    ),
    "callback_invalid": "Diese Nummer können wir für den Rückruf leider nicht verwenden.",
    "callback_fallback_own": (
        "Wir rufen Sie stattdessen unter der Nummer zurück, von der Sie anrufen. Sie können sie ändern, wenn ich "
        "Ihre Angaben vorlese."
    ),
    "callback_refused_invalid": (
        "Diese Nummer können wir für den Rückruf leider nicht verwenden: Sie ist nicht vollständig."
    ),
    "callback_refused_premium": (
        "Diese Nummer können wir für den Rückruf leider nicht verwenden: "
        "Wir rufen keine Mehrwert- oder Sonderrufnummern an."
    ),
    "callback_refused_region": (
        "Diese Nummer können wir für den Rückruf leider nicht verwenden: In dieses Land rufen wir nicht zurück."
    ),
    "callback_refused_country_code": (
        "Diese Nummer braucht ihre Ländervorwahl: zum Beispiel 4 9 für Deutschland oder 4 3 für Österreich."
    ),
    "callback_refused_own": (
        "Diese Nummer können wir für den Rückruf leider nicht verwenden: Es ist die Nummer dieser Hotline."
    ),
    "caller_id_withheld": "Ihre Rufnummer ist unterdrückt, deshalb kann ich Ihnen keinen Rückruf darauf anbieten.",
    "caller_id_premium": (
        "Sie rufen von einer Mehrwert- oder Sonderrufnummer an, deshalb können wir Sie darunter nicht zurückrufen."
    ),
    "caller_id_region": "In das Land, aus dem Sie anrufen, rufen wir leider nicht zurück.",
    # a silent or struggling caller
    "silent_skip": "Ich mache es kurz.",
    "silent_recording": (
        "Bitte nennen Sie nach dem Signalton Ihre Firma, Ihren Namen, Ihre Telefonnummer und was ausfällt, "
        "bis zu {duration} lang. Drücken Sie die Rautetaste, wenn Sie fertig sind."
    ),
    # e-mail
    "email_ask": "Bitte nennen Sie Ihre E-Mail-Adresse, etwa: max punkt mustermann ät example punkt com.",
    "email_invalid": "Entschuldigung, das klang nicht nach einer E-Mail-Adresse.",
    "email_heard": (
        "Ich habe {email} verstanden, buchstabiert: {spelled}. 1, wenn das stimmt, 2, um sie noch einmal zu sagen."
    ),
    "email_on_file": "Ist Ihre E-Mail-Adresse {email}? 1 für Ja, 2, um eine andere zu nennen.",
    # problem
    "problem_ask": "Bitte beschreiben Sie das Problem: was fehlschlägt, seit wann, und welche Fehlermeldung.",
    "recording": (
        "Nach dem Signalton können Sie bis zu {duration} lang Einzelheiten ergänzen. "
        "Drücken Sie die Rautetaste, wenn Sie fertig sind."
    ),
    # read-back
    "readback_intro": "Ich habe notiert:",
    "readback_company": "Firma: {company}.",
    "readback_name": "Name: {name}.",
    "readback_callback": "Rückrufnummer: {number}.",
    "readback_email": "E-Mail: {email}, buchstabiert: {spelled}.",
    "readback_service": "Problem: {service}.",
    "readback_problem": "Ihre Beschreibung: {summary}.",
    "readback_which": "Welche Angabe soll ich korrigieren?",
    "readback_options": (
        "Wenn alles stimmt, drücken Sie die 1. Zum Korrigieren: Firma, die 2. Name, die 3. "
        "Rückrufnummer, die 4. E-Mail, die 5. Beschreibung, die 6. Art des Problems, die 7."
    ),
    "not_given": "nicht angegeben",
    "summary_recording": "in Ihrer Aufnahme",
    "service_api": "API-Aufrufe schlagen fehl",
    "service_smtp": "SMTP-Einlieferung schlägt fehl",
    "service_both": "API-Aufrufe und SMTP-Einlieferung schlagen fehl",
    "service_other": "ein anderes kritisches Problem",
    # done
    "reference_is": "Ihre Referenznummer für diesen Vorfall lautet {reference}.",
    "done_reference": "Vielen Dank. Ihre Referenznummer für diesen Vorfall lautet {reference}.",
    "done_callback": (
        "Ein Techniker ruft Sie innerhalb von {minutes} Minuten, spätestens {time}, "
        "unter der Nummer {number} zurück."
    ),
    "done_sms": "Die Referenznummer erhalten Sie außerdem per SMS.",
    "done_sms_off": (
        "Diese Nummer hat unsere SMS abbestellt, deshalb folgt keine SMS. Bitte notieren Sie Ihre Referenznummer: "
        "{reference}. Um wieder SMS von uns zu erhalten, senden Sie START an diese Nummer."
    ),
    "done_reach_email_and_caller": (
        "Wir haben keine Rückrufnummer. Deshalb meldet sich ein Techniker innerhalb von "
        "{minutes} Minuten, spätestens {time}, per E-Mail und unter der Nummer, "
        "von der Sie anrufen."
    ),
    "done_reach_caller": (
        "Ein Techniker ruft Sie innerhalb von {minutes} Minuten, spätestens {time}, "
        "unter der Nummer zurück, von der Sie anrufen."
    ),
    "done_email": "Die Referenznummer erhalten Sie außerdem per E-Mail.",
    "done_email_off": (
        "Diese Hotline kann selbst keine E-Mails versenden, deshalb folgt keine E-Mail mit der Referenznummer. "
        "Bitte notieren Sie Ihre Referenznummer: {reference}."
    ),
    "done_reach_email": (
        "Wir haben keine Rückrufnummer. Deshalb meldet sich ein Techniker innerhalb von "
        "{minutes} Minuten, spätestens {time}, per E-Mail bei Ihnen."
    ),
    "done_reach_none_shown": (
        "Wir haben weder eine Telefonnummer, die wir anrufen können, noch eine E-Mail-Adresse von Ihnen. "
        "Ein Techniker versucht, Sie über Ihr Firmenkonto zu erreichen. Wenn möglich, rufen Sie bitte "
        "noch einmal an und nennen Sie eine andere Nummer, die wir zurückrufen können, oder eine E-Mail-Adresse."
    ),
    "done_reach_none": (
        "Wir haben weder eine Telefonnummer noch eine E-Mail-Adresse von Ihnen. Ein "
        "Techniker versucht, Sie über Ihr Firmenkonto zu erreichen. Wenn möglich, rufen "
        "Sie bitte noch einmal von einem Telefon an, das seine Nummer anzeigt."
    ),
    "done_reach_none_unknown": (
        "Wir haben weder eine Telefonnummer noch eine E-Mail-Adresse noch den Namen Ihrer Firma, daher können wir "
        "Sie nicht erreichen. Bitte rufen Sie noch einmal von einem Telefon an, das seine Nummer anzeigt."
    ),
    "done_reach_none_shown_unknown": (
        "Wir haben weder eine Telefonnummer, die wir anrufen können, noch eine E-Mail-Adresse noch den Namen Ihrer "
        "Firma, daher können wir Sie nicht erreichen. Bitte rufen Sie noch einmal an und nennen Sie eine andere "
        "Nummer, die wir zurückrufen können, oder eine E-Mail-Adresse."
    ),
    # spoken formatting
    "duration_minutes": "{n} Minuten",
    "duration_minute": "einer Minute",
    "duration_seconds": "{n} Sekunden",
    "phone_plus": "plus",
    "phone_extension": "{number}, Durchwahl {extension}",
    "email_dot": "punkt",
    "email_at": "ät",
    "email_dash": "Bindestrich",
    "email_underscore": "unterstrich",
    "email_plus": "plus",
    # eine Zeit, die nicht heute ist (``say_time`` mit ``now``); "_at" steht, wo ein Satz "um {time}" hatte
    "time_today_at": "um {time}",
    "time_tomorrow": "morgen um {time}",
    "time_yesterday": "gestern um {time}",
    "time_date": "{weekday}, {day}. {month}, um {time}",
    "time_date_at": "am {when}",
    # wo ein Text "at {time}" / "um {time}" hatte (``say_day``s ``moment``): auf Deutsch wie "_at"
    "time_today_moment": "um {time}",
    "time_date_moment": "am {when}",
    "weekdays": "Montag, Dienstag, Mittwoch, Donnerstag, Freitag, Samstag, Sonntag",
    "months": "Januar, Februar, März, April, Mai, Juni, Juli, August, September, Oktober, November, Dezember",
}
