"""German (de-DE) messages to reps and customers, polite "Sie" form. Same keys and fields as en_us."""

PROMPTS: dict[str, str] = {
    "ack_done": "Bestätigt: {ref}. Rufen Sie {company} unter {phone} bis {due} an. "
                "Antworten Sie CALL {ref}, um verbunden zu werden.",
    "ack_done_late": "Bestätigt: {ref}. Die Rückruffrist {due} ist verstrichen: Rufen Sie {company} jetzt unter "
                     "{phone} an. Antworten Sie CALL {ref}, um verbunden zu werden.",
    "ack_done_late_spoken": "Vorfall {ref} ist bestätigt. Die Rückruffrist, {due}, ist verstrichen: Rufen Sie "
                            "{company} jetzt unter {phone} zurück. {how} CALL und der Referenz, um stattdessen "
                            "verbunden zu werden. Auf Wiederhören.",
    "ack_done_no_number": "Bestätigt: {ref}. {company}: {in_writing} bis {due}.",
    "ack_done_no_number_spoken": "Vorfall {ref} ist bestätigt. {company} hat keine Rückrufnummer hinterlassen: "
                                 "Erreichen Sie den Kunden bis {due} schriftlich; die E-Mail-Adresse steht {where}. "
                                 "Auf Wiederhören.",
    "ack_already_yours": "Sie haben Vorfall {ref} bereits bestätigt.",
    "ack_closed": "Vorfall {ref} ist abgeschlossen. Es wurde nichts geändert.",
    "ack_owned_by_other": "Vorfall {ref} wurde bereits {owned}. Es wurde nichts geändert. "
                          "Antworten Sie CALL {ref}, um ihn zu übernehmen und den Kunden anzurufen.",
    "ack_not_paged": "Sie wurden für Vorfall {ref} nicht alarmiert und haben keine Bereitschaft. "
                     "Es wurde nichts geändert.",
    "ack_not_a_rep": "Nur Bereitschaftskräfte können Vorfall {ref} bestätigen; sie werden weiter alarmiert. "
                     "Es wurde nichts geändert.",
    "ack_login_not_a_rep": "Ihr Login ist mit keinem aktiven Bereitschaftsmitarbeiter verknüpft und kann Vorfall {ref} "
                           "daher weder bestätigen noch übernehmen: Die Hotline könnte Sie weder alarmieren noch für "
                           "den Rückruf anrufen. Bitten Sie einen Admin um einen mit Ihrem Mitarbeiter verknüpften Login "
                           "(hotline users create ... --rep NAME). Es wurde nichts geändert.",
    "ack_done_spoken": "Bestätigt: Vorfall {ref}. Rufen Sie {company} unter {phone} bis {due} zurück. {how} CALL "
                       "und der Referenz, um stattdessen verbunden zu werden. Auf Wiederhören.",
    "ack_owned_by_other_spoken": "Vorfall {ref} wurde bereits {owned}. Es wurde nichts "
                                 "geändert. {how} CALL und der Referenz, um ihn zu übernehmen. Auf Wiederhören.",
    "taken_over": "Sie haben Vorfall {ref} von {previous} übernommen.",
    "taken_over_notice": "SEV1 {ref} {company}: {who} hat diesen Vorfall{at} von Ihnen übernommen und ist jetzt "
                         "zuständig. Sie müssen nichts weiter tun.",
    "taken_over_calling": "Sie haben Vorfall {ref} von {previous} übernommen; {previous} wird informiert. Wir rufen "
                          "Sie jetzt unter {rep_phone} an. Nehmen Sie ab, dann verbinden wir Sie mit {company}.",
    "handed_over_notice": "SEV1 {ref} {company}: beim Schichtwechsel{at} an {who} übergeben, jetzt in Bereitschaft "
                          "und benachrichtigt. Der Vorfall liegt nicht mehr bei Ihnen: Sie müssen nichts weiter tun.",
    "rep_not_reached_notice": "SEV1 {ref}: Die Hotline hat Sie für den Rückruf nicht erreicht (keine Antwort, oder "
                              "der Anruf kam nicht zustande); der Kunde wurde NICHT angerufen. {next}",
    "rep_key_in_outage_notice": "SEV1 {ref}: Sie haben die Taste gedrückt, aber die Hotline konnte den Kunden da "
                                "nicht anwählen (ihre Datenbank war nicht erreichbar); der Kunde wurde NICHT "
                                "angerufen. {next}",
    "rep_hung_up_before_redial": "SEV1 {ref}: Ihr Anruf endete, bevor die Hotline den Kunden erneut anwählte: Der "
                                 "Kunde wurde einmal angerufen, nicht erneut. {next}",
    "rep_not_reached_call_them": "Rufen Sie ihn unter {phone} an, oder antworten Sie CALL {ref}, um es erneut zu "
                                 "versuchen.",
    "rep_not_reached_retry": "Antworten Sie CALL {ref}, um es erneut zu versuchen.",
    "bridge_too_short_notice": "SEV1 {ref} {company}: Ihr Gespräch mit dem Kunden war zu kurz, um als Rückruf zu "
                               "zählen (unter {seconds} s Gespräch). Der Rückruf steht weiter aus, fällig bis {due}: "
                               "Rufen Sie {phone} an, oder antworten Sie CALL {ref}.",
    "bridge_too_short_overdue": "SEV1 {ref} {company}: Ihr Gespräch mit dem Kunden war zu kurz, um als Rückruf zu "
                                "zählen (unter {seconds} s Gespräch). Der Rückruf steht weiter aus und ist seit {due} "
                                "ÜBERFÄLLIG: Rufen Sie {phone} sofort an, oder antworten Sie CALL {ref}.",
    "connect_after_call": "{company} ist noch in der Hotline und nennt die Details zu Vorfall {ref}; das Telefon ist "
                          "besetzt. Der Vorfall gehört Ihnen: Danach wird Ihnen der Kunde live durchgestellt; legt er "
                          "stattdessen auf, ruft die Hotline Sie dann an und verbindet Sie.",
    "connect_calling": "Wir rufen Sie jetzt unter {rep_phone} an. Nehmen Sie ab, dann verbinden wir Sie mit {company}.",
    "connect_in_flight": "Die Hotline ruft wegen Vorfall {ref} bereits an (angefordert um {at}). "
                         "Es wurde kein zweiter Anruf gestartet.",
    "connect_in_flight_other": "Die Hotline ruft wegen Vorfall {ref} bereits {calling} an (angefordert um {at}), "
                               "um den Kunden durchzustellen: ein Rückruf zur Zeit, daher wurde Sie nicht angerufen. "
                               "Erreicht er den Kunden nicht, antworten Sie erneut CALL {ref}.",
    "connect_in_flight_other_spoken": "Die Hotline ruft wegen Vorfall {ref} bereits {calling} an, um den Kunden "
                                      "durchzustellen. Sie werden daher nicht angerufen.",
    "connect_on_the_line": "{calling} telefoniert mit dem Kunden von Vorfall {ref} (angenommen um {at}): Es wurde "
                           "kein Anruf gestartet, und {calling} bleibt zuständig. Ist das Gespräch beendet, antworten "
                           "Sie erneut CALL {ref}, oder rufen Sie {phone} selbst an und antworten Sie CALLED {ref}.",
    "connect_on_the_line_spoken": "{calling} telefoniert gerade mit dem Kunden von Vorfall {ref}. Sie werden daher "
                                  "nicht angerufen.",
    "connect_on_the_line_yours": "Ihr Gespräch mit dem Kunden von Vorfall {ref} (angenommen um {at}) ist noch nicht "
                                 "beendet: Es wurde kein zweiter Anruf gestartet. Danach antworten Sie CALL {ref}, um "
                                 "ihn erneut anzurufen.",
    "connect_no_number": "Vorfall {ref} hat keine Rückrufnummer. Es wurde kein Anruf gestartet. "
                         "Erreichen Sie den Kunden per E-Mail und vermerken Sie, wie.",
    "connect_no_phone": "Ihr Login ist mit keinem Mitarbeiter mit Telefonnummer verknüpft; die Hotline kann Sie "
                        "nicht anrufen. Rufen Sie {phone} selbst an und lassen Sie Ihren Login verknüpfen.",
    "connect_no_worker": "Es läuft aber gerade kein Hotline-Worker, der Anruf geht erst hinaus, wenn wieder einer "
                         "läuft: Klingelt Ihr Telefon nicht innerhalb einer Minute, rufen Sie den Kunden selbst "
                         "unter {phone} an.",
    "sms_connect": "Wir rufen Sie jetzt unter {rep_phone} an und verbinden Sie mit {company} ({ref}).",
    "self_reported": "Vermerkt: Sie haben den Kunden von {ref} von Ihrem eigenen Telefon angerufen.",
    "self_report_closed": "Vorfall {ref} ist abgeschlossen. Es wurde nichts vermerkt.",
    "self_report_other": "Für {ref} ist bereits ein Anruf vom eigenen Telefon vermerkt, von {name}. Für Sie "
                         "wurde nichts vermerkt.",
    "reached_by_email": "Vermerkt, wie der Kunde von {ref} erreicht wurde. Die Alarmierung endet.",
    "reached_empty": "Geben Sie an, wie Sie den Kunden erreicht haben. Es wurde nichts vermerkt.",
    "reached_has_number": "Vorfall {ref} hat eine Rückrufnummer: Rufen Sie den Kunden zurück.",
    "resolved": "Vorfall {ref} ist gelöst und verschwindet von der Übersicht.",
    "resolve_already": "Vorfall {ref} ist bereits gelöst.",
    "agreed_customer_told_sms": "Der Kunde erfährt per SMS, dass der Vorfall wie telefonisch vereinbart geschlossen "
                                "ist, und dass er mit NEIN antworten kann, wenn das Problem nicht gelöst ist.",
    "agreed_customer_told_email": "Der Kunde erfährt per E-Mail, dass der Vorfall wie telefonisch vereinbart "
                                  "geschlossen ist, und dass er anrufen kann, wenn das Problem nicht gelöst ist.",
    "agreed_customer_told_none": "Der Kunde konnte NICHT benachrichtigt werden: Seine Nummer empfängt keine SMS, "
                                 "und keine E-Mail erreicht ihn.",
    "resolved_customer_told_sms": "Der Kunde erfährt per SMS, dass das Support-Team den Vorfall geschlossen hat, und "
                                  "dass ein NEIN mit der Referenznummer ihn wieder öffnet, wenn das Problem nicht "
                                  "gelöst ist.",
    "resolved_customer_told_email": "Der Kunde erfährt per E-Mail, dass das Support-Team den Vorfall geschlossen hat.",
    "resolved_customer_told_none": "Der Kunde konnte NICHT benachrichtigt werden: Seine Nummer empfängt keine SMS, "
                                   "und keine E-Mail erreicht ihn.",
    "resolve_needs_callback": "Rufen Sie den Kunden zurück, bevor Sie {ref} als gelöst markieren: Das "
                              "{minutes}-Minuten-Versprechen gilt nur mit einem Anruf, den ein Mensch angenommen hat. "
                              "Eine Managerin kann mit schriftlicher Begründung abschließen.",
    "resolve_needs_agreement": "Vorfall {ref} wird erst geschlossen, wenn der Kunde zustimmt: Schlagen Sie ihm die "
                               "Lösung vor, oder vermerken Sie, wer beim Kunden zugestimmt hat. Eine Managerin kann "
                               "mit schriftlicher Begründung abschließen.",
    "sms_from_tam": "Diese Nummer gehört dem TAM eines Kunden: Sie erhalten SMS zu dessen Sev-1-Vorfällen zur "
                    "Information und müssen nicht antworten. Den Rückruf übernimmt die Bereitschaft. Es wurde nichts "
                    "geändert.",
    "tam_sms_to_reader": "SEV1 {ref} {company}: Der TAM des Kunden ({tam}) schreibt: {text}",
    "tam_sms_passed_on": "Ihre Nachricht zu Sev-1 {ref} wurde dem Vorfall hinzugefügt und per SMS an {who} "
                         "weitergegeben. Sonst wurde nichts geändert: Den Rückruf übernimmt die Bereitschaft.",
    "tam_sms_logged_only": "Ihre Nachricht zu Sev-1 {ref} wurde dem Vorfall hinzugefügt, konnte aber gerade "
                           "niemandem per SMS weitergegeben werden. Sonst wurde nichts geändert.",
    "tam_sms_which": "Ihr Kunde hat mehrere offene Sev-1-Vorfälle ({refs}): Ihre Nachricht hat niemanden erreicht. "
                     "Senden Sie sie erneut mit der Referenz, z. B. {ref} <Ihre Nachricht>.",
    "sms_unknown_sender": "Sev-1-Hotline: Ihre Nummer gehört zu keinem offenen Vorfall, daher hat Ihre Nachricht "
                          "niemanden alarmiert (unser Team sieht sie nur in einer Liste). Um einen kritischen Ausfall zu melden oder Ihren Vorfall zu ergänzen, "
                          "rufen Sie diese Nummer an. Bereitschaft: Dieses Telefon ist nicht für Alarme hinterlegt; "
                          "es wurde nichts geändert.",
    "sms_not_understood": "Ihre SMS wurde nicht verstanden. Es wurde nichts geändert.",
    "sms_kept": "Die Hotline hat Ihre Nachricht erhalten, kann sie aber gerade nicht ausführen. Sie wird "
                "aufbewahrt und ausgeführt, sobald die Hotline es kann, zum Zeitpunkt Ihres Sendens; die Antwort "
                "erhalten Sie dann per SMS. Bis dahin hat sich nichts geändert: Wenn es dringend ist, rufen Sie die "
                "Hotline an.",
    "sms_not_kept": "Die Hotline konnte Ihre Nachricht gerade nicht annehmen, es wurde nichts geändert. Bitte "
                    "senden Sie sie in einigen Minuten erneut.",
    "sms_shared_phone": "Diese Nummer gehört mehreren Mitarbeitern ({names}), daher wurde nichts geändert: Ein "
                        "Admin muss jedem eine eigene Nummer geben. Nutzen Sie bis dahin den Link Ihres Alarms "
                        "oder das Dashboard.",
    "sms_no_open_page": "Sie haben keinen offenen Sev-1-Alarm. Es wurde nichts geändert.",
    "sms_yes_ambiguous": "Ihr YES kann Ihren Alarm ({pages}) bestätigen oder zustimmen, dass Ihr eigener Vorfall "
                         "({refs}) gelöst ist. Es wurde nichts geändert: Antworten Sie ACK <Referenz> oder "
                         "YES <Referenz>.",
    "sms_unknown_reference": "Kein Vorfall {ref}. Es wurde nichts geändert.",
    "sms_one_reference": "Ihre SMS nennt mehrere Vorfälle ({refs}). Es wurde nichts geändert. "
                         "Senden Sie einen Befehl pro SMS: {word} <Referenz>.",
    "page_invalid": "Dieser Alarm ist nicht mehr gültig.",
    "page_machine_sms_failed": "Die SMS zu diesem Alarm hat Sie nicht erreicht.",
    "page_machine_reply": "Antworten Sie auf die SMS mit",
    "page_machine_text": "Schreiben Sie der Nummer der Hotline, {number}, eine SMS mit",
    "page_machine_text_hotline": "Schreiben Sie der Hotline eine SMS mit",
    "page_machine_unacked": "Dieser Alarm ist nicht bestätigt. {how} ACK und der Referenz, um ihn zu bestätigen, "
                            "oder CALL und der Referenz, um jetzt mit dem Kunden verbunden zu werden.",
    "page_machine_unacked_no_number": "Dieser Alarm ist nicht bestätigt. {how} ACK und der Referenz, um ihn zu "
                                      "bestätigen.",
    "page_machine_link": "Oder öffnen Sie den Link in der SMS.",
    "page_machine_owner": "{yours}. {how} CALL und der Referenz, um jetzt mit dem Kunden "
                          "verbunden zu werden.",
    "page_machine_owner_no_number": "{yours}: Erreichen Sie den Kunden schriftlich.",
    "page_machine_take_over": "{how} CALL und der Referenz, um ihn zu übernehmen und jetzt mit dem Kunden verbunden "
                              "zu werden.",
    "page_menu": "Drücken Sie die 1 zum Bestätigen. Drücken Sie die 2, um jetzt mit dem Kunden verbunden zu "
                 "werden. Drücken Sie die 9 zum Wiederholen.",
    "page_menu_no_number": "Drücken Sie die 1 zum Bestätigen. Drücken Sie die 9 zum Wiederholen.",
    "page_menu_owner": "{yours}. Drücken Sie die 2, um jetzt mit dem Kunden verbunden zu "
                       "werden. Drücken Sie die 9 zum Wiederholen.",
    "page_menu_owner_no_number": "{yours}: Erreichen Sie den Kunden schriftlich; die E-Mail-Adresse steht "
                                 "{where}. Drücken Sie die 9 zum Wiederholen.",
    "page_alert_at_risk": "Dies ist eine Warnung: Die Frist ist nah, und kein Rückruf hat den Kunden erreicht.",
    "page_alert_breach": "Dies ist eine Fristverletzung: Die Frist ist verstrichen, und kein Rückruf hat den Kunden "
                         "erreicht.",
    "page_alert_owned": "Er wurde {owned}.",
    "page_handed_over": "Dieser Vorfall wurde Ihnen beim Schichtwechsel übergeben: Niemand hat ihn bestätigt. "
                        "Verbleibende Minuten für den Rückruf beim Kunden: {n}.",
    "page_handed_over_late": "Dieser Vorfall wurde Ihnen beim Schichtwechsel übergeben: Niemand hat ihn bestätigt.",
    "owned_acked": "von {who} um {at} bestätigt",
    "owned_taken_over": "von {first} um {first_at} bestätigt und von {who} um {at} übernommen",
    "yours_acked": "Sie haben ihn um {at} bestätigt",
    "yours_taken_over": "Sie haben ihn um {at} von {first} übernommen",
    "tam_owned_acked": "{who} aus der Bereitschaft hat ihn um {at} bestätigt",
    "tam_owned_taken_over": "{who} aus der Bereitschaft hat ihn um {at} übernommen (bestätigt von {first} um {first_at})",
    "email_where_sms": "in der SMS",
    "email_where_board": "im Dashboard",
    "page_menu_take_over": "Drücken Sie die 2, um ihn zu übernehmen und jetzt mit dem Kunden verbunden zu werden. "
                           "Drücken Sie die 9 zum Wiederholen.",
    "page_no_key": "Keine Taste gedrückt. Dieser Alarm ist nicht bestätigt; wir alarmieren weiter. Auf Wiederhören.",
    "page_no_key_owner": "Keine Taste gedrückt. Der Vorfall bleibt von Ihnen bestätigt. Auf Wiederhören.",
    "page_no_key_owned": "Keine Taste gedrückt. Es wurde nichts geändert: {owner} hat den Vorfall. Auf Wiederhören.",
    "page_connecting": "Wir verbinden Sie jetzt mit dem Kunden.",
    "page_owned_by_other": "Vorfall {ref} wurde bereits {owned}. Bei diesem Anruf müssen Sie "
                           "nichts tun. {how} CALL und der Referenz, um ihn zu übernehmen. Auf Wiederhören.",
    "page_closed": "Vorfall {ref} ist abgeschlossen. Bei diesem Anruf müssen Sie nichts tun. Auf Wiederhören.",
    "page_error": "Entschuldigung, bei diesem Anruf ist etwas schiefgegangen. {how} ACK und der Referenz, um den "
                  "Alarm zu bestätigen, oder CALL und der Referenz, um mit dem Kunden verbunden zu werden. Wenn die "
                  "SMS zu diesem Alarm Sie erreicht hat, können Sie stattdessen auf sie antworten oder den Link darin "
                  "öffnen, falls sie einen hat. Auf Wiederhören.",
    "bridge_intro": "Sev-1-Rückruf für Vorfall {ref}.",
    "bridge_dialling": "{company}, {contact}. Vorfall {ref}. Wir wählen jetzt.",
    "bridge_rep_press_key": "Sev-1-Rückruf für Vorfall {ref}. Drücken Sie eine beliebige Taste, um den Kunden "
                            "jetzt anzurufen.",
    "bridge_rep_confirmed": "Danke.",
    "bridge_rep_no_key": "Es wurde keine Taste gedrückt, der Kunde wurde daher nicht angerufen. Auf Wiederhören.",
    "page_extension": "Die Nummer des Kunden hat die Durchwahl {extension}.",
    "bridge_extension": "Die Nummer hat die Durchwahl {extension}: Die Hotline tippt sie ein, wenn die Zentrale "
                        "abnimmt. Werden Sie erneut danach gefragt, tippen Sie sie ein.",
    "bridge_invalid": "Dieser Rückruf ist nicht mehr gültig.",
    "bridge_other_leg": "Dieser Rückruf läuft bereits in einem anderen Anruf der Hotline, dieser Anruf wählt den "
                        "Kunden daher nicht an. Bitte legen Sie auf. Auf Wiederhören.",
    "bridge_busy": "Die Leitung des Kunden ist besetzt: Er telefoniert vielleicht gerade mit der Hotline oder mit "
                   "jemand anderem. Drücken Sie die 1 für einen neuen Versuch, oder legen Sie auf und versuchen Sie "
                   "es in einer Minute.",
    "bridge_not_answered": "Der Kunde hat nicht abgenommen. Drücken Sie die 1 für einen neuen Versuch, "
                           "oder legen Sie auf und versuchen Sie es später.",
    "bridge_no_key": "Der Kunde hat abgenommen, aber keine Taste gedrückt, deshalb wurden Sie nicht verbunden. "
                     "Drücken Sie die 1 für einen neuen Versuch, oder legen Sie auf und versuchen Sie es später.",
    "bridge_not_placed": "Der Anruf beim Kunden kam nicht zustande; prüfen Sie seine Nummer auf der Vorfallseite. "
                         "Drücken Sie die 1 für einen neuen Versuch, oder legen Sie auf und versuchen Sie es später.",
    "bridge_voicemail": "Eine Mailbox hat abgenommen, nicht der Kunde. Drücken Sie die 2 für eine kurze Nachricht, "
                        "die 1 für einen neuen Versuch, oder legen Sie auf.",
    "bridge_message_left": "Ihre Nachricht liegt auf der Mailbox des Kunden. Sie zählt nicht als Rückruf: "
                           "Bitte versuchen Sie es bald erneut. Auf Wiederhören.",
    "bridge_message_not_left": "Keine Mailbox hat abgenommen, es wurde also keine Nachricht hinterlassen. Dieser "
                               "Anruf zählt nicht als Rückruf: Bitte versuchen Sie es bald erneut. Auf Wiederhören.",
    "bridge_leaving_message": "Wir hinterlassen jetzt eine Nachricht für den Kunden: Sie werden verbunden, sobald "
                              "die Ansage seiner Mailbox zu Ende ist.",
    "bridge_too_short": "Das Gespräch mit dem Kunden war zu kurz, um als Rückruf zu zählen; der Rückruf steht "
                        "also noch aus. Drücken Sie die 1, um ihn jetzt erneut anzurufen, oder legen Sie auf und "
                        "rufen Sie ihn bald an.",
    "bridge_retrying": "Wir versuchen es noch einmal beim Kunden.",
    "bridge_goodbye": "Auf Wiederhören.",
    "bridge_error": "Entschuldigung, bei diesem Rückruf ist etwas schiefgegangen. Bitte rufen Sie den Kunden "
                    "selbst an und antworten Sie CALLED mit der Vorfallsnummer. Auf Wiederhören.",
    "bridge_dial_end_unknown": "Danke. Die Hotline kann den Ausgang dieses Anrufs gerade nicht speichern. Wenn Sie "
                               "mit dem Kunden gesprochen haben, ist nichts weiter zu tun. Wenn nicht, rufen Sie ihn "
                               "selbst an und antworten Sie CALLED mit der Vorfallsnummer. Auf Wiederhören.",
    "customer_press_key": "Hier ist die Severity-1-Hotline. Wir rufen wegen Ihres Vorfalls {ref} an. "
                          "Drücken Sie eine beliebige Taste, dann verbinden wir Sie mit unserem Support-Team.",
    "customer_press_key_late": "Hier ist die Severity-1-Hotline. Wir rufen wegen Ihres Vorfalls {ref} an. "
                               "Entschuldigen Sie bitte, dass wir später anrufen als versprochen. Drücken Sie eine "
                               "beliebige Taste, dann verbinden wir Sie mit unserem Support-Team.",
    "customer_press_key_outage": "Hier ist die Severity-1-Hotline. Wir rufen wegen Ihres Vorfalls an. "
                                 "Drücken Sie eine beliebige Taste, dann verbinden wir Sie mit unserem Support-Team.",
    "customer_no_key": "Wir haben keinen Tastendruck gehört. Wir versuchen es erneut. Auf Wiederhören.",
    "receipt_sms": "Severity-1-Hotline: Wir haben Ihre Meldung, Referenznummer {ref}. "
                   "Ein Techniker ruft Sie spätestens {due} zurück. Ergänzungen senden Sie als Antwort auf diese SMS.",
    "ack_notice_sms": "Severity-1-Hotline, Referenznummer {ref}: Ein Techniker hat Ihren Vorfall übernommen "
                      "und ruft Sie spätestens {due} zurück.",
    "ack_notice_in_call_sms": "Severity-1-Hotline, Referenznummer {ref}: Ein Techniker hat Ihren Vorfall übernommen. "
                              "Wenn Ihr Anruf endet, senden wir Ihnen per SMS, bis wann er Sie spätestens zurückruft.",
    "receipt_late_sms": "Severity-1-Hotline: Wir haben Ihre Meldung, Referenznummer {ref}. Entschuldigung, dass wir "
                        "Sie noch nicht zurückgerufen haben: Ein Techniker ruft Sie so schnell wie möglich an. "
                        "Ergänzungen senden Sie als Antwort auf diese SMS.",
    "ack_notice_late_sms": "Severity-1-Hotline, Referenznummer {ref}: Ein Techniker hat Ihren Vorfall übernommen. "
                           "Entschuldigung, dass wir Sie noch nicht zurückgerufen haben: Er ruft Sie so schnell wie "
                           "möglich an.",
    "callback_missed_sms": "Severity-1-Hotline: Wir haben {at} versucht, Sie von {number} aus wegen Ihres "
                           "Vorfalls {ref} anzurufen. Wir rufen Sie wieder an. Sie können uns auch jetzt unter "
                           "{number} anrufen oder Ergänzungen als Antwort auf diese SMS senden.",
    "callback_missed_no_number_sms": "Severity-1-Hotline: Wir haben {at} versucht, Sie wegen Ihres Vorfalls "
                                     "{ref} anzurufen. Wir rufen Sie wieder an. Ergänzungen senden Sie als Antwort "
                                     "auf diese SMS.",
    "breach_notice_sms": "Severity-1-Hotline, Referenznummer {ref}: Wir haben Sie nicht wie versprochen bis {due} "
                         "zurückgerufen. Entschuldigung. Ihr Vorfall ist an unsere Manager eskaliert; ein Techniker "
                         "ruft Sie schnellstmöglich an. Sie erreichen uns unter {number}. Ergänzungen per Antwort-SMS.",
    "breach_notice_no_number_sms": "Severity-1-Hotline, Referenznummer {ref}: Wir haben Sie nicht wie versprochen "
                                   "bis {due} zurückgerufen. Entschuldigung. Ihr Vorfall ist an unsere Manager "
                                   "eskaliert; ein Techniker ruft Sie schnellstmöglich an. Ergänzungen senden Sie als "
                                   "Antwort auf diese SMS.",
    "breach_notice_short_sms": "Severity-1-Hotline, Referenznummer {ref}: Unser Rückruf bis {due} war "
                               "zu kurz, um alles zu klären. Entschuldigung. Ihr Vorfall ist an unsere "
                               "Manager eskaliert; ein Techniker ruft Sie schnellstmöglich wieder an. Sie erreichen "
                               "uns unter {number}. Ergänzungen per Antwort-SMS.",
    "breach_notice_short_no_number_sms": "Severity-1-Hotline, Referenznummer {ref}: Unser zugesagter Rückruf bis "
                                         "{due} war zu kurz, um Ihr Problem zu besprechen. Entschuldigung. Ihr "
                                         "Vorfall ist an unsere Manager eskaliert; ein Techniker ruft Sie "
                                         "schnellstmöglich wieder an. Ergänzungen senden Sie als Antwort auf diese "
                                         "SMS.",
    "missed_call_sms": "Severity-1-Hotline: Ihr Anruf wurde beendet, bevor wir Ihr Anliegen aufnehmen konnten. "
                       "Wenn Ihr E-Mail-Versand ausgefallen ist, rufen Sie uns bitte noch einmal an oder antworten "
                       "Sie auf diese SMS mit Ihrer Firma und dem, was ausfällt.",
    "missed_call_not_theirs_sms": "Severity-1-Hotline: Entschuldigen Sie bitte unsere SMS. Es wurde nichts "
                                  "angelegt, niemand wird Sie anrufen. Wenn Ihr E-Mail-Versand ausgefallen ist, "
                                  "rufen Sie bitte diese Nummer an.",
    "receipt_mail_subject": "Sev-1-Vorfall {ref}: Ihre Meldung ist eingegangen",
    "receipt_mail_body": "Guten Tag {name},\n\nwir haben Ihre Severity-1-Meldung erhalten, Referenznummer {ref}.\n\n"
                         "{promise}\n\n{details}\n\nIhre Severity-1-Hotline\n",
    "receipt_mail_due": "Ein Techniker ruft Sie spätestens {due} zurück.",
    "receipt_mail_late": "Entschuldigung, dass wir Sie noch nicht zurückgerufen haben: Ein Techniker ruft Sie so "
                         "schnell wie möglich an.",
    "receipt_mail_no_number": "Wir haben keine Telefonnummer, unter der wir Sie zurückrufen können: Ein Techniker "
                              "meldet sich bei Ihnen unter dieser E-Mail-Adresse.",
    "receipt_mail_details": "Ergänzungen nennen Sie uns bitte telefonisch unter {number} mit Ihrer Referenznummer "
                            "{ref}. Antworten auf diese E-Mail werden Ihrem Vorfall nicht hinzugefügt.",
    "receipt_mail_details_no_number": "Ergänzungen nennen Sie uns bitte in einem neuen Anruf bei der "
                                      "Severity-1-Hotline mit Ihrer Referenznummer {ref}. Antworten auf diese E-Mail "
                                      "werden Ihrem Vorfall nicht hinzugefügt.",
    "breach_mail_subject": "Sev-1-Vorfall {ref}: Entschuldigung, wir haben Sie noch nicht erreicht",
    "breach_mail_body": "Guten Tag {name},\n\n{promise} Bitte entschuldigen Sie.\n\n{next}\n\n{details}\n\n"
                        "Ihre Severity-1-Hotline\n",
    "breach_mail_call": "wir hatten Ihnen zugesagt, Sie wegen Ihres Severity-1-Vorfalls (Referenznummer {ref}) bis "
                        "{due} zurückzurufen, und haben Sie nicht erreicht.",
    "breach_mail_short_subject": "Sev-1-Vorfall {ref}: Entschuldigung, unser Anruf endete zu früh",
    "breach_mail_short": "wir hatten Ihnen zugesagt, Sie wegen Ihres Severity-1-Vorfalls (Referenznummer {ref}) bis "
                         "{due} zurückzurufen, und unser Anruf endete, bevor wir Ihr Problem besprechen konnten.",
    "breach_mail_write": "wir hatten Ihnen zugesagt, dass sich ein Techniker wegen Ihres Severity-1-Vorfalls "
                         "(Referenznummer {ref}) bis {due} bei Ihnen meldet, und haben Sie nicht erreicht.",
    "breach_mail_next_call": "Ihr Vorfall ist an unsere Manager eskaliert, und ein Techniker ruft Sie so schnell wie "
                             "möglich an.",
    "breach_mail_next_write": "Ihr Vorfall ist an unsere Manager eskaliert, und ein Techniker meldet sich so schnell "
                              "wie möglich unter dieser E-Mail-Adresse bei Ihnen.",
    "closing_notice_sms": "Severity-1-Hotline: Ihr Vorfall {ref} wurde {at} von unserem Support-Team geschlossen. "
                          "Ist das Problem nicht gelöst, antworten Sie {within} NEIN {ref}, um ihn wieder zu öffnen, "
                          "oder rufen Sie uns unter {number} an.",
    "closing_notice_no_number_sms": "Severity-1-Hotline: Ihr Vorfall {ref} wurde {at} von unserem Support-Team "
                                    "geschlossen. Ist das Problem nicht gelöst, antworten Sie {within} NEIN {ref}, um "
                                    "ihn wieder zu öffnen.",
    "closing_notice_no_reopen_sms": "Severity-1-Hotline: Ihr Vorfall {ref} wurde {at} von unserem Support-Team "
                                    "geschlossen. Ist das Problem nicht gelöst, antworten Sie NEIN {ref} oder rufen "
                                    "Sie uns unter {number} an.",
    "closing_notice_no_reopen_no_number_sms": "Severity-1-Hotline: Ihr Vorfall {ref} wurde {at} von unserem "
                                              "Support-Team geschlossen. Ist das Problem nicht gelöst, antworten Sie "
                                              "NEIN {ref}.",
    "reopen_within_days": "innerhalb von {days} Tagen",
    "reopen_within_one_day": "innerhalb eines Tages",
    "closing_mail_subject": "Sev-1-Vorfall {ref} wurde geschlossen",
    "closing_mail_body": "Guten Tag {name},\n\nIhr Severity-1-Vorfall mit der Referenznummer {ref} wurde {at} von "
                         "unserem Support-Team geschlossen.\n\n{persists}\n\nIhre Severity-1-Hotline\n",
    "closing_mail_persists": "Besteht das Problem weiter, rufen Sie uns bitte unter {number} an und nennen Sie Ihre "
                             "Referenznummer {ref}. Antworten auf diese E-Mail werden Ihrem Vorfall nicht hinzugefügt.",
    "closing_mail_persists_no_number": "Besteht das Problem weiter, rufen Sie bitte erneut die Severity-1-Hotline an und "
                                       "nennen Sie Ihre Referenznummer {ref}. Antworten auf diese E-Mail werden Ihrem "
                                       "Vorfall nicht hinzugefügt.",
    "agreed_closing_sms": "Severity-1-Hotline: Wie telefonisch mit Ihnen vereinbart, ist Vorfall {ref} geschlossen. "
                          "Ist das Problem nicht gelöst, antworten Sie {within} NEIN {ref}, um ihn wieder zu öffnen, "
                          "oder rufen Sie uns unter {number} an.",
    "agreed_closing_no_number_sms": "Severity-1-Hotline: Wie telefonisch mit Ihnen vereinbart, ist Vorfall {ref} "
                                    "geschlossen. Ist das Problem nicht gelöst, antworten Sie {within} NEIN {ref}, um "
                                    "ihn wieder zu öffnen.",
    "agreed_closing_no_reopen_sms": "Severity-1-Hotline: Wie telefonisch mit Ihnen vereinbart, ist Vorfall {ref} "
                                    "geschlossen. Ist das Problem nicht gelöst, antworten Sie NEIN {ref} oder rufen "
                                    "Sie uns unter {number} an.",
    "agreed_closing_no_reopen_no_number_sms": "Severity-1-Hotline: Wie telefonisch mit Ihnen vereinbart, ist Vorfall "
                                              "{ref} geschlossen. Ist das Problem nicht gelöst, antworten Sie NEIN "
                                              "{ref}.",
    "agreed_closing_mail_subject": "Sev-1-Vorfall {ref} ist wie vereinbart geschlossen",
    "agreed_closing_mail_body": "Guten Tag {name},\n\nwie telefonisch mit Ihnen vereinbart, wurde Ihr "
                                "Severity-1-Vorfall mit der Referenznummer {ref} {at} geschlossen.\n\n{persists}"
                                "\n\nIhre Severity-1-Hotline\n",
}

# issue 11: customer updates, resolution proposals, outages, non-critical callers
PROMPTS.update({
    "upd_sms_head": "Sev-1 {ref} Update: {what}",
    "upd_expected": "Erwartete Behebung: {expected}",
    "upd_workaround": "Umgehung: {workaround}",
    "upd_next": "Nächstes Update bis {due}",
    "upd_mail_subject": "Sev-1-Vorfall {ref}: Update",
    "upd_mail_body": "Guten Tag {name},\n\nhier der aktuelle Stand zu Ihrem Vorfall {ref}:\n\n{lines}\n{next}\n"
                     "Ihre Severity-1-Hotline\n",
    "upd_mail_what": "Was ist gestört: {what}",
    "upd_mail_next": "\nDas nächste Update erhalten Sie bis {due}.\n",
    "upd_interval_sms": "Sev-1 {ref}: Wie vereinbart erhalten Sie {every} ein Update",
    "upd_interval_subject": "Sev-1-Vorfall {ref}: Update-Intervall",
    "upd_interval_mail_body": "Guten Tag {name},\n\n{line}\n\nIhre Severity-1-Hotline\n",
    "upd_every_minutes": "alle {n} Minuten",
    "upd_every_hour": "jede Stunde",
    "upd_every_hours": "alle {n} Stunden",
    "upd_resolved": "Wir halten Ihr Problem für gelöst",
    "upd_workaround_in_place": "Eine Umgehung ist eingerichtet",
    "upd_proposal_sms": "Sev-1 {ref}: {line}. Antworten Sie JA {ref} zur Bestätigung oder NEIN {ref}, "
                        "wenn das Problem weiter besteht. Ohne Antwort binnen {hours} Stunden schließen wir den "
                        "Vorfall als gelöst, nicht bestätigt.",
    "upd_proposal_subject": "Sev-1-Vorfall {ref}: Bitte bestätigen Sie die Lösung",
    "upd_proposal_body": "{line}.\n\nBitte bestätigen oder widersprechen Sie hier:\n{link}\n\n{by_sms}"
                         "Ohne Antwort innerhalb von {hours} Stunden schließen wir "
                         "den Vorfall als gelöst, aber nicht bestätigt.\n\nIhre Severity-1-Hotline\n",
    "upd_proposal_by_sms": "Oder antworten Sie per SMS mit JA {ref} bzw. NEIN {ref}. ",
    "upd_proposal_spoken": "{line}. Drücken Sie die 1, um das zu bestätigen, oder die 2, wenn das Problem weiter "
                           "besteht.",
    "upd_confirmed": "Danke. Vorfall {ref} ist geschlossen.",
    "upd_rejected": "Danke. Wir arbeiten weiter an Vorfall {ref}. Das nächste Update erhalten Sie bis {due}.",
    "upd_answered_before": "Dieser Vorschlag zu Vorfall {ref} ist bereits beantwortet ({state}).",
    "upd_closed_before": "Vorfall {ref} ist bereits geschlossen.",
    "upd_state_confirmed": "bestätigt",
    "upd_state_rejected": "abgelehnt",
    "upd_state_expired": "ohne Antwort geschlossen",
    "upd_state_undelivered": "nicht zugestellt",
    "upd_state_unclear": "unklar",
    "upd_state_withdrawn": "zurückgezogen",
    "upd_reminder_sms": "SEV1 {ref} {company}: Kunden-Update {number} fällig bis {due}. "
                        "Antworten Sie UPDATE {ref} <Text>, oder schreiben Sie es im Dashboard.",
    "upd_late_sms": "SEV1 {ref} {company}: Kunden-Update {number} war um {due} fällig und ist NICHT gesendet "
                    "(zuständig: {owner}).",
    "upd_unreached_sms": "SEV1 {ref} {company}: Kunden-Update {number} hat den Kunden auf KEINEM Weg erreicht "
                         "({how}). Rufen Sie an: {phone}.",
    "upd_proposal_unreached_sms": "SEV1 {ref} {company}: der Lösungsvorschlag hat den Kunden auf KEINEM Weg "
                                  "erreicht ({how}). Rufen Sie an: {phone}.",
    "notice_unreached_sms": "SEV1 {ref} {company}: die Nachricht, dass das Support-Team den Vorfall geschlossen "
                            "hat, hat den Kunden auf KEINEM Weg erreicht ({how}). Er weiß nicht, dass er geschlossen "
                            "ist: Rufen Sie an: {phone}.",
    "notice_unreached_agreed_sms": "SEV1 {ref} {company}: die Nachricht, dass der Vorfall wie am Telefon vereinbart "
                                   "geschlossen wurde, hat den Kunden auf KEINEM Weg erreicht ({how}). Rufen Sie an: "
                                   "{phone}.",
    "upd_stalled_sms": "SEV1 {ref} {company}: Kunden-Update {number} hat den Kunden bisher NICHT erreicht "
                       "({how}). Rufen Sie an: {phone}.",
    "upd_proposal_stalled_sms": "SEV1 {ref} {company}: der Lösungsvorschlag hat den Kunden bisher NICHT erreicht "
                                "({how}). Rufen Sie an: {phone}.",
    "upd_late_apology_sms": "Sev-1 {ref}: Es tut uns leid, Ihr Update verspätet sich. Ein Techniker informiert Sie "
                            "so bald wie möglich.",
    "upd_late_apology_subject": "Sev-1-Vorfall {ref}: Ihr Update verspätet sich",
    "upd_interval_unreached_sms": "SEV1 {ref} {company}: die Bestätigung des Update-Intervalls hat den Kunden auf "
                                  "KEINEM Weg erreicht ({how}). Rufen Sie an: {phone}. Antworten Sie EVERY <Minuten> "
                                  "{ref}, um sie erneut zu senden.",
    "upd_interval_stalled_sms": "SEV1 {ref} {company}: die Bestätigung des Update-Intervalls hat den Kunden bisher "
                                "NICHT erreicht ({how}). Rufen Sie an: {phone}.",
    "upd_outage": "Uns ist eine aktuelle Störung der Plattform bekannt: {what}, seit {since}.",
    "upd_outage_next": " Das nächste Update folgt bis {due}.",
    "upd_outage_overdue": " Leider ist unser nächstes Update überfällig: Es folgt so bald wie möglich.",
    "upd_outage_end": " Wir nehmen Ihre Meldung trotzdem gern auf.",
    "upd_howto_prefix": "Sev-1-Hotline: ",
    "upd_interval_offer": "Das Gespräch mit dem Kunden ist beendet. Danke. Welches Update-Intervall haben Sie "
                          "vereinbart? Drücken Sie die 1 für alle 30 Minuten, die 2 für stündlich, die 3 für alle "
                          "4 Stunden. Ein neues Intervall bestätigen wir dem Kunden schriftlich.",
    "upd_interval_untold": " Updates sind {every} fällig; dem Kunden wurde das nicht mitgeteilt. Vereinbaren "
                           "Sie ein Intervall mit ihm und antworten Sie EVERY <Minuten> {ref}: wir bestätigen es ihm "
                           "schriftlich.",
    "upd_interval_default_untold": "Keine Taste gedrückt: Updates {every}. Dem Kunden wurde kein Intervall "
                                   "mitgeteilt: vereinbaren Sie eines mit ihm und senden Sie per SMS EVERY, die "
                                   "Minuten und die Vorfallnummer, damit wir es ihm schriftlich bestätigen. "
                                   "Auf Wiederhören.",
    "upd_interval_default": "Keine Taste gedrückt: Updates {every}. Auf Wiederhören.",
    "upd_interval_unanswered_sms": "SEV1 {ref} {company}: am Ende Ihres Rückrufs wurde kein Update-Intervall "
                                   "gewählt, es gilt der Standard.",
    "upd_interval_unchanged": "Kein Intervall geändert: Updates {every}. Auf Wiederhören.",
    "upd_no_proposal": "Es wartet keine Lösung auf Ihre Antwort. Auf Wiederhören.",
    "upd_no_key": "Keine Taste gedrückt. Es wurde nichts geändert. Auf Wiederhören.",
})

# issue 13: Live-Verbindung
PROMPTS.update({
    "live_by": "spätestens {time}",
    "live_by_asap": "so bald wie möglich",
    "live_engineer_ready": "Ein Techniker ist bereit: Drücken Sie die 1, um jetzt verbunden zu werden, "
                           "oder legen Sie auf, dann rufen wir Sie {by} zurück.",
    "live_offer_wait": "Noch ist kein Techniker frei. Um in der Leitung zu warten, während wir einen alarmieren, "
                       "drücken Sie die 1, oder legen Sie auf, dann rufen wir Sie {by} zurück.",
    "live_no_key": "Wir rufen Sie {by} zurück. Auf Wiederhören.",
    "live_no_worker": "Unser Alarmierungssystem läuft gerade nicht, daher können wir keinen Techniker alarmieren, "
                      "während Sie warten. Ihre Meldung ist gespeichert: Die Alarmierung geht weiter, sobald das "
                      "System wieder läuft, und wir rufen Sie {by} zurück. Auf Wiederhören.",
    "live_wait_no_worker": "Unser Alarmierungssystem ist ausgefallen, daher können wir Sie in diesem Anruf nicht "
                           "verbinden. Ihre Meldung ist gespeichert: Die Alarmierung geht weiter, sobald das System "
                           "wieder läuft, und wir rufen Sie {by} zurück. Auf Wiederhören.",
    "live_hold_ready": "Bitte bleiben Sie dran: Wir rufen Ihren Techniker jetzt an.",
    "live_hold_wait": "Bitte bleiben Sie dran, während wir einen Techniker alarmieren.",
    "live_still_in_line": "Sie sind weiterhin in der Warteschleife; Sie können auflegen, "
                          "dann rufen wir Sie {by} zurück.",
    "live_wait_over": "Leider konnte noch kein Techniker Ihren Anruf annehmen. "
                      "Wir rufen Sie {by} zurück. Auf Wiederhören.",
    "live_connecting": "Wir verbinden Sie jetzt mit Ihrem Techniker.",
    "live_ended": "Vielen Dank für Ihren Anruf. Auf Wiederhören.",
    "live_goodbye": "Auf Wiederhören.",
    "live_closed": "Unser Team hat Ihren Vorfall geschlossen; deshalb rufen wir Sie dazu nicht zurück. "
                   "Besteht das Problem weiter, rufen Sie bitte erneut an. Auf Wiederhören.",
    "live_rep_intro": "Sev-1-Vorfall {ref}: {company}, {contact}, wartet in der Leitung. Wir verbinden Sie jetzt.",
    "live_rep_caller_gone": "Der Kunde hat die Leitung verlassen. Wir wählen ihn jetzt an.",
    "live_rep_caller_hung_up": "Der Kunde hat aufgelegt, bevor Sie verbunden wurden. Wir rufen ihn jetzt zurück.",
    "live_rep_not_connected": "Die Hotline hat keinen Beleg, dass Sie mit dem Kunden verbunden waren. Wir wählen ihn "
                              "jetzt an.",
    "live_rep_end_unrecorded": "Danke. Die Hotline konnte diesen Anruf gerade nicht erfassen. Wenn Sie mit dem Kunden "
                               "gesprochen haben, antworten Sie CALLED mit der Vorfallsnummer, damit er vermerkt wird. "
                               "Auf Wiederhören.",
    "live_taken_by_other": "Ihr Techniker hat Ihr Team zu diesem Vorfall bereits erreicht und arbeitet daran. "
                           "Auf Wiederhören.",
})

# SMS des Kunden, die keine eindeutige Antwort auf einen Vorschlag sind (app/services/customer_sms.py)
PROMPTS.update({
    "cust_sms_noted": "Danke. Wir haben Ihre Nachricht zu Vorfall {ref} hinzugefügt.",
    "cust_sms_answer_hint": " Um unseren Vorschlag zu beantworten, antworten Sie JA {ref} oder NEIN {ref}.",
    "cust_sms_noted_several": "Danke. Wir haben Ihre Nachricht zu Ihren offenen Vorfällen {refs} hinzugefügt. "
                              "Bitte beginnen Sie eine Nachricht mit der Nummer des Vorfalls.",
    "cust_sms_which": "Mehrere Ihrer Vorfälle sind offen ({refs}). Antworten Sie JA <Nummer> oder NEIN <Nummer>.",
    "cust_sms_name_it": "Um zu Vorfall {ref} zu antworten, antworten Sie JA {ref} oder NEIN {ref}.",
    "cust_sms_closed": "Vorfall {ref} ist geschlossen. Um ein neues kritisches Problem zu melden, rufen Sie "
                       "diese Nummer an.",
    "cust_sms_closed_told": "Vorfall {ref} ist geschlossen. Wir haben Ihre Nachricht an den zuständigen Techniker "
                            "weitergegeben. Ist das Problem zurück, rufen Sie diese Nummer an, um es als kritisches "
                            "Problem zu melden.",
    "cust_sms_closed_reopen": "Vorfall {ref} ist geschlossen. Ist das Problem nicht gelöst, antworten Sie NEIN {ref}, "
                              "um ihn wieder zu öffnen.",
    "cust_sms_closed_told_reopen": "Vorfall {ref} ist geschlossen. Wir haben Ihre Nachricht an den zuständigen "
                                   "Techniker weitergegeben. Ist das Problem nicht gelöst, antworten Sie NEIN {ref}, "
                                   "um ihn wieder zu öffnen.",
    "confirmed_with_words": " Der Kunde schrieb: \"{words}\"",
    "confirmed_after_words": " Davor schrieb der Kunde: {words}",
    "resolution_confirmed_to_owner": "SEV1 {ref} {company}: Der Kunde bestätigt, dass es gelöst ist. Der Vorfall "
                                     "ist geschlossen.{words}",
    "resolution_rejected_to_owner": "SEV1 {ref} {company}: Der Kunde sagt, es ist NICHT gelöst{words}. Die Updates "
                                    "gehen weiter: das nächste bis {due}. Antworten Sie UPDATE {ref} <Text>.",
    "workaround_confirmed_to_owner": "SEV1 {ref} {company}: Der Kunde bestätigt, dass die Umgehungslösung "
                                     "funktioniert. Der Vorfall ist geschlossen.{words}",
    "sms_agree_interval_owner_only": "Vorfall {ref} gehört {owner}: Nur der Zuständige oder ein Manager vereinbart das "
                                     "Update-Intervall mit dem Kunden. Nichts wurde geändert; der Kunde wurde nicht "
                                     "informiert. Fragen Sie {owner}, oder antworten Sie CALL {ref}, um den Vorfall zu "
                                     "übernehmen und den Kunden anzurufen.",
    "sms_propose_owner_only": "Vorfall {ref} gehört {owner}: Nur der Zuständige oder ein Manager schlägt dem Kunden die "
                              "Lösung vor. Nichts wurde gesendet. Fragen Sie {owner}, oder antworten Sie CALL {ref}, "
                              "um den Vorfall zu übernehmen und den Kunden anzurufen.",
    "sms_acted_update": "SEV1 {ref} {company}: {who} hat Ihrem Kunden per SMS ein Update gesendet: {text}",
    "sms_acted_interval": "SEV1 {ref} {company}: {who} hat mit Ihrem Kunden per SMS Updates {every} vereinbart.",
    "sms_acted_proposal": "SEV1 {ref} {company}: {who} hat Ihrem Kunden per SMS die Lösung vorgeschlagen: {text}",
    "update_not_paged": "Sie wurden für {ref} nicht alarmiert und sind nicht zuständig. Es wurde nichts "
                        "geändert.",
    "update_not_a_rep": "Ihr Login ist mit keinem aktiven Bereitschaftsmitarbeiter verknüpft und kann die "
                        "Updates von Vorfall {ref} nicht ändern: nur der Zuständige, ein dafür alarmierter "
                        "Mitarbeiter oder ein Manager. Es wurde nichts geändert.",
    "dash_agree_interval_owner_only": "Vorfall {ref} gehört {owner}: Nur der Zuständige oder ein Manager vereinbart "
                                      "das Update-Intervall mit dem Kunden. Nichts wurde geändert; der Kunde wurde "
                                      "nicht informiert. Fragen Sie {owner}, oder übernehmen Sie den Vorfall.",
    "dash_propose_owner_only": "Vorfall {ref} gehört {owner}: Nur der Zuständige oder ein Manager schlägt dem Kunden "
                               "die Lösung vor. Nichts wurde gesendet. Fragen Sie {owner}, oder übernehmen Sie den "
                               "Vorfall.",
    "dash_record_agreement_owner_only": "Vorfall {ref} gehört {owner}: Nur der Zuständige oder ein Manager hält fest, "
                                        "dass der Kunde der Lösung zugestimmt hat. Es wurde nichts geändert. Fragen "
                                        "Sie {owner}, oder übernehmen Sie den Vorfall.",
    "dash_acted_update": "SEV1 {ref} {company}: {who} hat Ihrem Kunden im Dashboard ein Update gesendet: {text}",
    "dash_acted_interval": "SEV1 {ref} {company}: {who} hat mit Ihrem Kunden im Dashboard Updates {every} vereinbart.",
    "dash_acted_proposal": "SEV1 {ref} {company}: {who} hat Ihrem Kunden im Dashboard die Lösung vorgeschlagen: {text}",
    "dash_acted_agreement": "SEV1 {ref} {company}: {who} hat im Dashboard festgehalten, dass der Kunde der Lösung "
                            "zugestimmt hat ({text}): der Vorfall ist geschlossen.",
    "call_acted_interval": "SEV1 {ref} {company}: {who} hat mit Ihrem Kunden am Telefon Updates {every} vereinbart.",
    "cust_sms_to_owner": "SEV1 {ref} {company}: Der Kunde schreibt: {text}",
    "cust_sms_disputes_verbal_close": "SEV1 {ref} {company}: Der Kunde sagt, es ist NICHT gelöst, nachdem der Vorfall "
                                      "auf eine mündliche Zustimmung hin geschlossen wurde ({agreed_by}). Er schreibt: "
                                      "{text}. Rufen Sie ihn an: {phone}",
    "cust_sms_to_owner_held": "SEV1 {ref} {company}: Der Kunde schrieb seit der letzten SMS: {text}",
    "cust_sms_media": " Bilder und Dateien per SMS können wir nicht sehen: Bitte beschreiben Sie in Worten, "
                      "was Sie sehen.",
    "cust_sms_from_caller_id": "[von der Nummer, von der angerufen wurde, nicht der Rückrufnummer: ungeprüft] {text}",
    "cust_sms_noted_caller_id": "Danke. Wir haben Ihre Nachricht zu Vorfall {ref} hinzugefügt.",
    "cust_sms_noted_caller_id_unnamed": "Danke. Wir haben Ihre Nachricht zu Ihrem offenen Vorfall hinzugefügt.",
    "cust_sms_caller_id_hint": " Unsere SMS dazu gehen an die Rückrufnummer, die Sie uns genannt haben: Bitte "
                               "antworten Sie von dieser Nummer.",
    "cust_sms_hear_call_by": " Ein Techniker ruft Sie spätestens {due} unter der Rückrufnummer an, die Sie uns "
                             "genannt haben.",
    "cust_sms_hear_call_asap": " Ein Techniker ruft Sie so schnell wie möglich unter der Rückrufnummer an, die Sie "
                               "uns genannt haben.",
    "cust_sms_hear_email_by": " Ein Techniker meldet sich spätestens {due} per E-Mail bei Ihnen.",
    "cust_sms_hear_email_asap": " Ein Techniker meldet sich so schnell wie möglich per E-Mail bei Ihnen.",
    "cust_sms_hear_updates_email": " Unsere Updates erhalten Sie per E-Mail.",
    "cust_sms_hear_updates_call": " Ein Techniker ruft Sie mit den Updates unter der Rückrufnummer an, die Sie uns "
                                  "genannt haben.",
    "cust_sms_hear_updates_sms": " Unsere Updates erhalten Sie per SMS an diese Nummer.",
    "cust_sms_hear_next": " Das nächste Update erhalten Sie spätestens {due}.",
    "cust_sms_empty": "Wir haben eine leere Nachricht erhalten, daher wurde nichts zu Vorfall {ref} hinzugefügt. "
                      "Antworten Sie mit Ihrem Text, oder rufen Sie diese Nummer an.",
    "cust_sms_empty_several": "Wir haben eine leere Nachricht erhalten, daher wurde nichts zu Ihren offenen "
                              "Vorfällen {refs} hinzugefügt. Antworten Sie mit der Referenznummer und Ihrem Text, "
                              "oder rufen Sie diese Nummer an.",
    "cust_sms_empty_caller_id": "Wir haben eine leere Nachricht erhalten, daher wurde nichts zu Ihrem offenen "
                                "Vorfall hinzugefügt. Antworten Sie mit Ihrem Text, oder rufen Sie diese Nummer an.",
    "cust_sms_closed_caller_id": "Vorfall {ref} ist geschlossen.",
    "cust_sms_closed_caller_id_unnamed": "Ihr Vorfall ist geschlossen.",
    "cust_sms_closed_caller_id_told": " Wir haben Ihre Nachricht an den zuständigen Techniker weitergegeben.",
    "cust_sms_closed_caller_id_reopen": " Ist das Problem nicht gelöst, antworten Sie NEIN {ref} von der "
                                        "Rückrufnummer, die Sie uns genannt haben, um ihn wieder zu öffnen, oder rufen "
                                        "Sie diese Nummer an.",
    "cust_sms_closed_caller_id_reopen_unnamed": " Ist das Problem nicht gelöst, antworten Sie NEIN und die "
                                                "Referenznummer von der Rückrufnummer, die Sie uns genannt haben, um ihn "
                                                "wieder zu öffnen, oder rufen Sie diese Nummer an.",
    "cust_sms_closed_caller_id_call": " Ist das Problem zurück, rufen Sie diese Nummer an, um es als kritisches "
                                      "Problem zu melden.",
})

PROMPTS.update({
    "caller_added_to_owner": "SEV1 {ref} {company}: Der Kunde hat erneut angerufen und ergänzt: \"{text}\"{recording}",
    "caller_added_with_recording": " Er hat auch eine Aufnahme hinterlassen: anzuhören auf der Seite des Vorfalls.",
    "caller_added_recording_only": "SEV1 {ref} {company}: Der Kunde hat erneut angerufen und eine Aufnahme "
                                   "hinterlassen: anzuhören auf der Seite des Vorfalls.",
})

# Schlüsselwörter, die Twilio nicht kennt (STOPP, ANMELDEN, HILFE): die Hotline antwortet selbst (sms_opt_outs.py)
PROMPTS.update({
    "kw_opted_out": "Sev-1-Hotline: Sie erhalten von dieser Nummer keine SMS mehr. Antworten Sie ANMELDEN, um wieder "
                    "SMS zu erhalten. Bei einem kritischen Problem rufen Sie diese Nummer an.",
    "kw_opted_in": "Sev-1-Hotline: Sie erhalten wieder SMS von dieser Nummer. Antworten Sie STOPP, um keine SMS mehr "
                   "zu erhalten.",
    "kw_help": "Sev-1-Hotline: Bei einem kritischen Problem rufen Sie diese Nummer an.{about} Antworten Sie STOPP, "
               "um keine SMS mehr zu erhalten.",
    "kw_help_about": " Ihr Text an diese Nummer geht zu Vorfall {ref}.",
})

# der TAM des Kunden: informiert, nie zum Handeln aufgefordert (seine Bestätigung lehnt jeder Kanal ab)
PROMPTS.update({
    "tam_page_sms": "SEV1 {ref} {company}: {service}. Zur Information für Sie als TAM des Kunden: Die Bereitschaft "
                    "wird alarmiert, um den Kunden bis {due} zurückzurufen. Sie müssen nicht antworten.",
    "tam_page_spoken": "Severity-1-Vorfall {ref}, für {company}: {service}.{caution}"
                       " Sie werden als Technical Account Manager "
                       "des Kunden informiert: Die Bereitschaft wird alarmiert, um den Kunden bis {due} "
                       "zurückzurufen. Sie müssen bei diesem Anruf nichts tun. Auf Wiederhören.",
    "tam_page_spoken_taken": "Severity-1-Vorfall {ref}, für {company}: {service}.{caution}"
                             " Sie werden als Technical Account "
                             "Manager des Kunden informiert: {owned}; der Kunde muss bis {due} zurückgerufen werden. Sie müssen bei diesem Anruf nichts tun. "
                             "Auf Wiederhören.",
    "tam_page_sms_late": "SEV1 {ref} {company}: {service}. Zur Information für Sie als TAM des Kunden: Die "
                         "Rückruffrist, {due}, ist abgelaufen; die Bereitschaft wird alarmiert, um den Kunden jetzt "
                         "zurückzurufen. Sie müssen nicht antworten.",
    "tam_page_spoken_late": "Severity-1-Vorfall {ref}, für {company}: {service}.{caution}"
                            " Sie werden als Technical Account Manager "
                            "des Kunden informiert: Die Rückruffrist, {due}, ist abgelaufen; die Bereitschaft wird "
                            "alarmiert, um den Kunden jetzt zurückzurufen. Sie müssen bei diesem Anruf nichts tun. "
                            "Auf Wiederhören.",
    "tam_page_spoken_taken_late": "Severity-1-Vorfall {ref}, für {company}: {service}.{caution}"
                                  " Sie werden als Technical Account "
                                  "Manager des Kunden informiert: {owned}; die Rückruffrist, {due}, ist abgelaufen: Der Kunde muss jetzt "
                                  "zurückgerufen werden. Sie müssen bei diesem Anruf nichts tun. Auf Wiederhören.",
    "tam_alert_at_risk": "SEV1 {ref} {company}: GEFÄHRDET, noch {minutes} Min. (bis {due}) und der Kunde noch nicht zurückgerufen. "
                         "Bereitschaft und Management werden alarmiert. Sie müssen nicht antworten.",
    "tam_alert_breach": "SEV1 {ref} {company}: Rückruffrist {due} ÜBERSCHRITTEN, noch kein Rückruf. "
                        "Das Management wird alarmiert. Sie müssen nicht antworten.",
    "tam_alert_breach_short": "SEV1 {ref} {company}: Rückruffrist {due} ÜBERSCHRITTEN: der Kunde hat einen Rückruf "
                              "angenommen, zu kurz, um zu zählen, seither keinen. Das Management wird alarmiert. "
                              "Sie müssen nicht antworten.",
    "tam_alert_breach_calling": "SEV1 {ref} {company}: Rückruffrist {due} ÜBERSCHRITTEN, ein Rückruf läuft, noch "
                                "nicht angenommen. Das Management wird alarmiert. Sie müssen nicht antworten.",
})

# der TAM des Kunden per E-Mail (außerhalb seiner Geschäftszeiten oder ohne TAM-Telefonnummer): was seine SMS sagt,
# warum es schriftlich kommt, und dass nichts von ihm verlangt wird
PROMPTS.update({
    "tam_email_subject": "SEV1 {ref} {company}: {what} (zur Information, nichts zu tun)",
    "tam_email_what_page": "Severity-1-Vorfall",
    "tam_email_what_at_risk": "Rückruf gefährdet",
    "tam_email_what_breach": "Rückruffrist überschritten",
    "tam_email_what_page_called_back": "Severity-1-Vorfall, Kunde zurückgerufen",
    "tam_page_called_back": "SEV1 {ref} {company}: {service}. Zur Information für Sie als TAM des Kunden: Dieser "
                            "Severity-1-Vorfall wurde um {opened} eröffnet, und ein Techniker hat den Kunden um "
                            "{called_back} zurückgerufen. Sie müssen nicht antworten.",
    "tam_email_nothing_to_do_called_back": "Sie müssen nichts tun: Der Techniker arbeitet mit dem Kunden daran.",
    "tam_email_what_page_resolved": "Severity-1-Vorfall, gelöst",
    "tam_page_resolved": "SEV1 {ref} {company}: {service}. Zur Information für Sie als TAM des Kunden: Dieser "
                         "Severity-1-Vorfall wurde um {opened} eröffnet und um {resolved} gelöst. Sie müssen nicht "
                         "antworten.",
    "tam_email_nothing_to_do_resolved": "Sie müssen nichts tun: Der Vorfall ist gelöst.",
    "tam_email_after_hours": "Dies erreicht Sie außerhalb Ihrer Geschäftszeiten ({hours}, {zone}), daher per E-Mail "
                             "statt per SMS oder Anruf: Es soll Sie nicht wecken.",
    "tam_email_no_phone": "Es kommt per E-Mail, weil für Sie als TAM des Kunden keine Telefonnummer hinterlegt ist.",
    "tam_email_nothing_to_do": "Sie müssen nichts tun: Die Bereitschaft ruft den Kunden zurück, und das Management "
                               "wird alarmiert, falls das zu spät geschieht.",
    "tam_email_what_breach_corrected": "Rückruffrist doch NICHT überschritten",
    "tam_email_correction_why": "Diese Nachricht kommt per E-Mail, wie schon die Meldung der Fristüberschreitung, die sie "
                                "berichtigt.",
    "tam_email_nothing_to_do_corrected": "Sie müssen nichts tun: Der Kunde wurde rechtzeitig zurückgerufen.",
})

# wer ÜBERSCHRITTEN gemeldet bekam, obwohl der Rückruf doch rechtzeitig war; wie ein Text sagt, dass die Annahme die
# Frist hielt: sekundengenau, wenn beide Zeiten in dieselbe Minute fallen
PROMPTS.update({
    "breach_corrected_sms": "SEV1 {ref} {company}: Frist doch NICHT überschritten. Der Kunde hat den Rückruf {when} "
                            "angenommen; die ÜBERSCHRITTEN-Meldung kam, bevor die Annahme bestätigt war.",
    "answered_by_deadline": "um {answered}, innerhalb der Frist bis {due},",
    "answered_seconds_before": "um {answered}, {seconds} vor Ablauf der Frist um {due},",
    "answered_no_time": "innerhalb der Frist bis {due}",
    "seconds_many": "{n} Sekunden",
    "seconds_one": "1 Sekunde",
    "seconds_under_one": "weniger als eine Sekunde",
})

# wie ein Text an das Team die Firma des Vorfalls nennt (app.services.company_label)
PROMPTS.update({
    "company_from_ticket": "{company} (laut Ticket)",
    "company_unproven": "{company}, Anrufer NICHT verifiziert, {contact} nicht die des Tickets",
    "company_contact_number": "Nummer",
    "company_contact_email": "E-Mail",
    "company_from_ticket_spoken": "{company}, laut Ticket",
    "company_unproven_spoken": " Der Anrufer hat sich nicht ausgewiesen, und {contact} steht nicht im Ticket.",
    "company_contact_number_spoken": "die Rückrufnummer",
    "company_contact_email_spoken": "die E-Mail-Adresse",
})

PROMPTS.update({  # einen geschlossenen Vorfall wieder öffnen (app/services/reopen.py)
    "cust_closing_outrun": "Severity-1-Hotline: Bitte ignorieren Sie unsere Nachricht, dass Vorfall {ref} "
                           "geschlossen ist: Ihre Antwort erreichte uns während des Versands, und der Vorfall ist "
                           "wieder offen.",
    "cust_reopened": "Vorfall {ref} ist wieder offen: Wir haben Ihre Nachricht an den zuständigen Techniker "
                     "weitergegeben und arbeiten weiter daran. Das nächste Update erhalten Sie bis {due}.",
    "cust_reopened_no_update": "Vorfall {ref} ist wieder offen: Wir haben Ihre Nachricht an den zuständigen "
                               "Techniker weitergegeben, der sich bei Ihnen meldet.",
    "cust_reopened_by_staff": "Severity-1-Hotline: Vorfall {ref} ist wieder offen: Unser Support-Team arbeitet weiter "
                              "daran. Das nächste Update erhalten Sie bis {due}.",
    "cust_reopened_by_staff_no_update": "Severity-1-Hotline: Vorfall {ref} ist wieder offen: Unser Support-Team "
                                        "arbeitet weiter daran und meldet sich bei Ihnen.",
    "cust_reopened_subject": "Sev-1-Vorfall {ref} ist wieder offen",
    "reopen_close_verbal": "auf eine mündliche Zustimmung hin: {agreed_by}",
    "reopen_close_manager": "von einem Manager",
    "reopen_close_silence": "nach dem Schweigen des Kunden",
    "reopen_close_customer": "auf das JA des Kunden",
    "reopen_close_": "",
    "reopened_by_customer_to_owner": "SEV1 {ref} {company}: vom Kunden WIEDER GEÖFFNET, er sagt, es ist NICHT gelöst "
                                     "(geschlossen {how}). Er schreibt: {words}. Rufen Sie ihn an: {phone}",
    "reopened_by_staff_to_owner": "SEV1 {ref} {company}: wieder geöffnet von {who}: {reason}",
    "reopened_owner_due": ". Die Updates gehen weiter: das nächste bis {due}. Antworten Sie UPDATE {ref} <Text>.",
    "reopened": "Vorfall {ref} ist wieder offen und auf der Übersicht; sein Verantwortlicher wurde per SMS informiert.",
    "reopen_next_update": " Die Updates gehen weiter: das nächste bis {due}.",
    "reopen_no_update": " Kein Update ist fällig: Kein Rückruf hat den Kunden erreicht.",
    "reopen_customer_told_sms": " Der Kunde erfährt es per SMS.",
    "reopen_customer_told_email": " Der Kunde erfährt es per E-Mail.",
    "reopen_customer_told_none": " Der Kunde konnte NICHT informiert werden: keine SMS-fähige Nummer und keine "
                                 "E-Mail-Adresse.",
    "reopen_not_closed": "Vorfall {ref} ist offen. Nichts wurde geändert.",
    "reopen_needs_reason": "Schreiben Sie, warum Vorfall {ref} wieder geöffnet wird. Nichts wurde geändert.",
})
