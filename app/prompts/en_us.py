"""English (en-US) messages to reps and customers. Same keys and fields as de_de."""

PROMPTS: dict[str, str] = {
    # acknowledging, taking over, connecting (any channel)
    "ack_done": "Acknowledged {ref}. Call {company} on {phone} by {due}. Reply CALL {ref} to be connected.",
    "ack_done_late": "Acknowledged {ref}. The callback deadline {due} has passed: call {company} on {phone} now. "
                     "Reply CALL {ref} to be connected.",
    "ack_done_late_spoken": "Acknowledged incident {ref}. The callback deadline, {due}, has passed: call {company} "
                            "back on {phone} now. {how} CALL and the reference to be connected instead. Goodbye.",
    "ack_done_no_number": "Acknowledged {ref}. {company}: {in_writing} by {due}.",
    "ack_done_no_number_spoken": "Acknowledged incident {ref}. {company} left no callback number: reach them in "
                                 "writing by {due}; the e-mail address is {where}. Goodbye.",
    "ack_already_yours": "You already acknowledged incident {ref}.",
    "ack_closed": "Incident {ref} is closed. Nothing was changed.",
    "ack_owned_by_other": "Incident {ref} was already {owned}. Nothing was changed. "
                          "Reply CALL {ref} to take it over and call the customer.",
    "ack_not_paged": "You were not paged for incident {ref} and are not on call. Nothing was changed.",
    "ack_not_a_rep": "Only an on-call rep can acknowledge incident {ref}; the reps are still being paged. "
                     "Nothing was changed.",
    "ack_login_not_a_rep": "Your login is not linked to an active on-call rep, so it cannot acknowledge or take over "
                           "incident {ref}: the hotline could neither page you nor call you to reach the customer. "
                           "Ask an admin for a login linked to your rep (hotline users create ... --rep NAME). "
                           "Nothing was changed.",
    # the same answers on the voice page (a rep who pressed 1): said, never "reply CALL 123456" to a call
    "ack_done_spoken": "Acknowledged incident {ref}. Call {company} back on {phone} by {due}. {how} CALL and the "
                       "reference to be connected instead. Goodbye.",
    "ack_owned_by_other_spoken": "Incident {ref} was already {owned}. Nothing was changed. "
                                 "{how} CALL and the reference to take it over. Goodbye.",
    "taken_over": "You took incident {ref} over from {previous}.",
    "taken_over_notice": "SEV1 {ref} {company}: {who} took this incident over from you{at} and owns it now. It is no "
                         "longer yours: you need do nothing more.",
    "taken_over_calling": "You took incident {ref} over from {previous}, who is told. Calling you now on {rep_phone} "
                          "to connect you to {company}.",
    # a rep gone off shift whose unacknowledged incident a rota hand-off gave to the rep on call since (hand_offs)
    "handed_over_notice": "SEV1 {ref} {company}: handed over at the shift change{at} to {who}, on call now and paged. "
                          "It is no longer yours: you need do nothing more.",
    "rep_not_reached_notice": "SEV1 {ref}: the hotline could not reach you for the callback (no answer, or the call "
                              "could not be placed), so the customer was NOT called. {next}",
    "rep_key_in_outage_notice": "SEV1 {ref}: you pressed the key, but the hotline could not dial the customer then "
                                "(its database was unreachable), so the customer was NOT called. {next}",
    "rep_hung_up_before_redial": "SEV1 {ref}: your call ended before the hotline dialled the customer again: the "
                                 "customer was called once, not again. {next}",
    "rep_not_reached_call_them": "Call them on {phone}, or reply CALL {ref} to try again.",
    "rep_not_reached_retry": "Reply CALL {ref} to try again.",
    # a rep who hung up first on a bridged callback too short to count (bridge_too_short, said to one still on it)
    "bridge_too_short_notice": "SEV1 {ref} {company}: your call with the customer was too short to count as the "
                               "callback (under {seconds} s of conversation). The customer is still owed a callback "
                               "by {due}: call {phone}, or reply CALL {ref}.",
    "bridge_too_short_overdue": "SEV1 {ref} {company}: your call with the customer was too short to count as the "
                                "callback (under {seconds} s of conversation). The customer is still owed a callback, "
                                "OVERDUE since {due}: call {phone} now, or reply CALL {ref}.",
    "connect_after_call": "{company} is still on the hotline giving the details of incident {ref}, so their phone is "
                          "busy. The incident is yours: when they finish, they are offered a live connection to you; "
                          "if they hang up instead, the hotline calls you then to connect you.",
    "connect_calling": "Calling you on {rep_phone} now. Answer, and you will be connected to {company}.",
    "connect_in_flight": "The hotline is already calling you for incident {ref} (requested at {at}). "
                         "No second call was placed.",
    "connect_in_flight_other": "The hotline is already calling {calling} for incident {ref} (requested at {at}) to "
                               "connect them to the customer: one callback at a time, so no call was placed to you. "
                               "If it does not reach the customer, reply CALL {ref} again.",
    "connect_in_flight_other_spoken": "The hotline is already calling {calling} for incident {ref} to connect them "
                                      "to the customer, so no call is placed to you.",
    "connect_on_the_line": "{calling} is on the phone with the customer of {ref} (answered at {at}): no call was "
                           "placed, and {calling} stays the owner. If that call has ended, reply CALL {ref} again, or "
                           "call {phone} yourself and reply CALLED {ref}.",
    "connect_on_the_line_spoken": "{calling} is on the phone with the customer of incident {ref} now, so no call is "
                                  "placed to you.",
    "connect_on_the_line_yours": "Your call with the customer of {ref} (answered at {at}) has not ended yet: no second "
                                 "call was placed. Once it has ended, reply CALL {ref} to call them again.",
    "connect_no_number": "Incident {ref} has no callback number. No call was placed. "
                         "Reach the customer by e-mail and record how you did.",
    "connect_no_phone": "Your login is not linked to a rep with a phone number, so the hotline cannot call you. "
                        "Call {phone} from your own phone, and ask an admin to link your login to your rep.",
    # after "calling you" while no hotline worker runs (no watchdog lease is alive): the call leaves once one does
    "connect_no_worker": "But no hotline worker is running right now, so the call leaves only once one is: if your "
                         "phone has not rung within a minute, call the customer yourself on {phone}.",
    "sms_connect": "Calling you now on {rep_phone} to connect you to {company} ({ref}).",
    "self_reported": "Noted: you called the customer of {ref} from your own phone.",
    "self_report_closed": "Incident {ref} is closed. Nothing was recorded.",
    "self_report_other": "A call from a rep's own phone is already recorded for {ref} by {name}. Nothing was "
                         "recorded for you.",
    "reached_by_email": "Recorded how the customer of {ref} was reached. Paging stops.",
    "reached_empty": "Say how you reached the customer. Nothing was recorded.",
    "reached_has_number": "Incident {ref} has a callback number: call the customer back.",
    "resolved": "Incident {ref} is resolved and leaves the board.",
    # after a manager's close: what the customer was told (``Decision.closing_notice``)
    "resolved_customer_told_sms": "The customer is told by SMS that the support team closed it, and that a NO with "
                                  "the reference reopens it if it is not solved.",
    "resolved_customer_told_email": "The customer is told by e-mail that the support team closed it.",
    "resolved_customer_told_none": "The customer could NOT be told that it was closed: their number takes no SMS "
                                   "and no e-mail can reach them.",
    # after a rep recorded the customer's verbal agreement: what the customer was told (``Decision.agreed_close``)
    "agreed_customer_told_sms": "The customer is told by SMS that it was closed as agreed on the phone, and to reply "
                                "NO if the problem is not resolved.",
    "agreed_customer_told_email": "The customer is told by e-mail that it was closed as agreed on the phone, and to "
                                  "call if the problem is not resolved.",
    "agreed_customer_told_none": "The customer could NOT be told that it was closed: their number takes no SMS "
                                 "and no e-mail can reach them.",
    "resolve_already": "Incident {ref} is already resolved.",
    "resolve_needs_callback": "Call the customer back before resolving {ref}: the {minutes}-minute promise is kept only "
                              "by a call a person answered. A manager may resolve it with a written reason.",
    # issue 11: resolution by agreement
    "resolve_needs_agreement": "Incident {ref} closes only when the customer agrees: propose the resolution to them, "
                               "or record who at the customer agreed. A manager may resolve it with a written reason.",
    # SMS command answers
    "sms_from_tam": "This number is an account's TAM: you are texted about its Sev-1 incidents for your information "
                    "and need not reply. The on-call reps handle the callback. Nothing was changed.",
    # a TAM's words about an open incident of their account (``tam_sms``): passed on, never a command
    "tam_sms_to_reader": "SEV1 {ref} {company}: the account's TAM ({tam}) texted: {text}",
    "tam_sms_passed_on": "Your message about Sev-1 {ref} was added to the incident and texted to {who}. Nothing else "
                         "was changed: the on-call reps handle the callback.",
    "tam_sms_logged_only": "Your message about Sev-1 {ref} was added to the incident, but nobody could be texted it "
                           "now. Nothing else was changed.",
    "tam_sms_which": "Your account has several open Sev-1 incidents ({refs}): your message reached nobody. Send it "
                     "again with the reference, e.g. {ref} <your message>.",
    # a stranger (a customer texting from a number no incident knows) or a rep's phone not on file: words for both
    "sms_unknown_sender": "Sev-1 hotline: your number matches no open incident, so your message paged nobody (our "
                          "staff see it only in a list). To report a critical outage or add to your incident, call this number. Engineers: this "
                          "phone is not on file for pages; nothing was changed.",
    "sms_not_understood": "Your SMS was not understood. Nothing was changed.",
    "sms_kept": "The hotline got your message but cannot carry it out this moment. It is kept and will be carried "
                "out as soon as the hotline can, as of the time you sent it; you will get its answer by SMS then. "
                "Until that answer comes, nothing has changed: if it is urgent, call the hotline.",
    "sms_not_kept": "The hotline could not take your message right now, and nothing was changed. Please send it "
                    "again in a few minutes.",
    "sms_shared_phone": "This number is the phone of more than one rep ({names}), so nothing was changed: an admin "
                        "must give each rep their own number. Use your page's link or the dashboard meanwhile.",
    "sms_no_open_page": "You have no open Sev-1 page. Nothing was changed.",
    # a YES from a number that is a rep's and a customer's: an ACK of a page or the customer's agreement
    "sms_yes_ambiguous": "Your YES could acknowledge your page ({pages}) or agree that your own incident ({refs}) "
                         "is resolved. Nothing was changed: reply ACK <reference> or YES <reference>.",
    "sms_unknown_reference": "No incident {ref}. Nothing was changed.",
    "sms_one_reference": "Your SMS names several incidents ({refs}). Nothing was changed. "
                         "Send one command per SMS: {word} <reference>.",
    # voice page
    "page_invalid": "This page is no longer valid.",
    # a page's voicemail: what the page says, then how to act by SMS (no keys), never pointing to an SMS that failed
    "page_machine_sms_failed": "The text message of this page has not reached you.",
    "page_machine_reply": "Reply to the text message with",
    "page_machine_text": "Text the hotline's number, {number}, with",
    "page_machine_text_hotline": "Text the hotline with",
    "page_machine_unacked": "This page is not acknowledged. {how} ACK and the reference to acknowledge it, or CALL and "
                            "the reference to be connected to the customer now.",
    "page_machine_unacked_no_number": "This page is not acknowledged. {how} ACK and the reference to acknowledge it.",
    "page_machine_link": "Or open the link in the text message.",
    "page_machine_owner": "{yours}. {how} CALL and the reference to be connected to the customer "
                          "now.",
    "page_machine_owner_no_number": "{yours}: reach the customer in writing.",
    "page_machine_take_over": "{how} CALL and the reference to take it over and be connected to the customer now.",
    "page_menu": "Press 1 to acknowledge. Press 2 to be connected to the customer now. Press 9 to repeat.",
    "page_menu_no_number": "Press 1 to acknowledge. Press 9 to repeat.",
    "page_menu_owner": "{yours}. Press 2 to be connected to the customer now. Press 9 to repeat.",
    "page_menu_owner_no_number": "{yours}: reach the customer in writing; the e-mail address is {where}. "
                                 "Press 9 to repeat.",
    "page_alert_at_risk": "This is an at-risk alert: the deadline is near and no callback has reached the customer.",
    "page_alert_breach": "This is a breach alert: the deadline has passed and no callback has reached the customer.",
    "page_alert_owned": "It was {owned}.",
    # the page of a rota hand-off (``hand_offs``): before the summary
    "page_handed_over": "This incident was handed over to you at the shift change: nobody has acknowledged it. "
                        "Minutes left to call the customer back: {n}.",
    "page_handed_over_late": "This incident was handed over to you at the shift change: nobody has acknowledged it.",
    # who has an incident and since when ({at} the owner's own time: ``ownership.owned_words``)
    "owned_acked": "acknowledged by {who} at {at}",
    "owned_taken_over": "acknowledged by {first} at {first_at} and taken over by {who} at {at}",
    # the same to the owner themselves, and to the account's TAM
    "yours_acked": "You acknowledged it at {at}",
    "yours_taken_over": "You took it over from {first} at {at}",
    "tam_owned_acked": "{who}, an on-call rep, acknowledged it at {at}",
    "tam_owned_taken_over": "{who}, an on-call rep, took it over at {at} (acknowledged by {first} at {first_at})",
    # where a page call's listener finds the e-mail address of a customer who left no number
    "email_where_sms": "in the text message",
    "email_where_board": "on the board",
    "page_menu_take_over": "Press 2 to take it over and be connected to the customer now. Press 9 to repeat.",
    "page_no_key": "No key pressed. This page is not acknowledged; we will keep paging. Goodbye.",
    "page_no_key_owner": "No key pressed. The incident stays acknowledged by you. Goodbye.",
    "page_no_key_owned": "No key pressed. Nothing was changed: {owner} has the incident. Goodbye.",
    "page_connecting": "Connecting you to the customer now.",
    "page_owned_by_other": "Incident {ref} was already {owned}. You need do nothing on this "
                           "call. {how} CALL and the reference to take it over. Goodbye.",
    "page_closed": "Incident {ref} is closed. You need do nothing on this call. Goodbye.",
    # said when the page call's webhook fails inside: it knows neither whether the page's SMS went (a voice-only
    # page sends none) nor what was recorded, so it claims neither
    "page_error": "Sorry, something went wrong on this call. {how} ACK and the reference to acknowledge the page, or "
                  "CALL and the reference to be connected to the customer. If the page's text message reached you, "
                  "you can reply to it instead, or open the link in it if it has one. Goodbye.",
    # bridged callback, to the rep
    "bridge_intro": "Sev-1 callback for incident {ref}.",
    "bridge_dialling": "{company}, {contact}. Incident {ref}. Dialling now.",
    # the rep's key proves a person took the hotline's call (a voicemail never presses one): only then is the
    # customer dialled
    "bridge_rep_press_key": "Sev-1 callback for incident {ref}. Press any key to call the customer now.",
    "bridge_rep_confirmed": "Thank you.",
    "bridge_rep_no_key": "No key was pressed, so the customer was not called. Goodbye.",
    # the customer gave an extension with the callback number: DTMF passes through the bridged call
    "page_extension": "The customer's number has extension {extension}.",
    "bridge_extension": "Their number has extension {extension}: the hotline keys it in when their switchboard "
                        "answers. If you are asked for it again, key it in.",
    "bridge_invalid": "This callback is no longer valid.",
    "bridge_other_leg": "This callback is already in progress on another call from the hotline, so this call will "
                        "not dial the customer. Please hang up. Goodbye.",
    "bridge_busy": "The customer's line is busy: they may be on the phone to the hotline, or to someone else. "
                   "Press 1 to try again, or hang up and try in a minute.",
    "bridge_not_answered": "The customer did not answer. Press 1 to try again, or hang up and try later.",
    # answering-machine detection heard a person, who hung up before pressing a key: nobody was connected
    "bridge_no_key": "The customer picked up but did not press a key, so you were not connected. Press 1 to try "
                     "again, or hang up and try later.",
    # Twilio could not place the customer's leg (an invalid number, a carrier refusal): their phone never rang
    "bridge_not_placed": "The call to the customer could not be placed; check their number on the incident page. "
                         "Press 1 to try again, or hang up and try later.",
    "bridge_voicemail": "A voicemail answered, not the customer. Press 2 to leave a short message, "
                        "press 1 to try again, or hang up and try later.",
    "bridge_message_left": "Your message was left on the customer's voicemail. It does not count as a callback: "
                           "please try again soon. Goodbye.",
    "bridge_message_not_left": "No voicemail answered, so no message was left. This call does not count as a "
                               "callback: please try again soon. Goodbye.",
    "bridge_leaving_message": "Leaving a message for the customer now: you will be put through once their "
                              "voicemail's greeting ends.",
    # the customer pressed the key, then the call ended within callbacks.MIN_CONVERSATION_SECONDS
    "bridge_too_short": "The call with the customer was too short to count as the callback, so the customer is "
                        "still owed one. Press 1 to call them again now, or hang up and call them soon.",
    "bridge_retrying": "Trying the customer again.",
    "bridge_goodbye": "Goodbye.",
    "bridge_error": "Sorry, something went wrong with this callback. Please call the customer from your own "
                    "phone and reply CALLED with the incident number. Goodbye.",
    # the <Dial> ended while the database could not be reached: how it went is not known here (probe AA4)
    "bridge_dial_end_unknown": "Thank you. The hotline cannot record how this call went right now. If you spoke with "
                               "the customer, there is nothing more to do. If you did not, please call them from "
                               "your own phone and reply CALLED with the incident number. Goodbye.",
    # bridged callback, to the customer (in their language)
    # whoever calls back (a rep or a manager) is "our support team": never "your engineer"
    "customer_press_key": "This is the Severity-1 hotline calling about your incident {ref}. "
                          "Press any key to speak with our support team.",
    "customer_press_key_late": "This is the Severity-1 hotline calling about your incident {ref}. We are sorry "
                               "this call comes later than we promised. Press any key to speak with our support team.",
    # the database unreachable: neither the incident's reference nor its language is known (probe AA3)
    "customer_press_key_outage": "This is the Severity-1 hotline calling about your incident. "
                                 "Press any key to speak with our support team.",
    "customer_no_key": "We could not hear a key press. We will try again. Goodbye.",
    # SMS to the customer (in their language)
    "receipt_sms": "Sev-1 hotline: we have your report, reference {ref}. An engineer will call you back by {due}. "
                   "To add details, reply to this SMS.",
    # {due}, {at}: the time names its day when not the message's ("tomorrow at 00:10 EST": customer_text.written_time)
    "ack_notice_sms": "Sev-1 hotline, reference {ref}: an engineer has taken your incident "
                      "and will call you back no later than {due}.",
    # taken while the caller is still giving their details: the deadline is not set yet, the receipt will give it
    "ack_notice_in_call_sms": "Sev-1 hotline, reference {ref}: an engineer has taken your incident. When your call "
                              "ends we will text you the time by which they will call you back at the latest.",
    # the promised time has passed: an apology, never a time in the past
    "receipt_late_sms": "Sev-1 hotline: we have your report, reference {ref}. We are sorry we have not called you "
                        "back yet: an engineer will call you as soon as possible. To add details, reply to this SMS.",
    "ack_notice_late_sms": "Sev-1 hotline, reference {ref}: an engineer has taken your incident. We are sorry we "
                           "have not called you back yet: they will call you as soon as possible.",
    # a bridged callback reached the customer's phone but nobody pressed the key: they only saw a missed call
    "callback_missed_sms": "Sev-1 hotline: {at} we tried to call you from {number} about your incident {ref}. "
                           "We will call you again. You can also call us now on {number}, or reply to this SMS "
                           "to add details.",
    "callback_missed_no_number_sms": "Sev-1 hotline: {at} we tried to call you about your incident {ref}. "
                                     "We will call you again. To add details, reply to this SMS.",
    # the callback deadline passed and nobody reached the customer: an apology, once (``decide._breach_notice``)
    "breach_notice_sms": "Sev-1 hotline, reference {ref}: we promised to call you back by {due} and have not reached "
                         "you. We are sorry. Your incident is escalated to our managers and an engineer will call you "
                         "as soon as possible. You can call us on {number}, or reply to this SMS to add details.",
    "breach_notice_no_number_sms": "Sev-1 hotline, reference {ref}: we promised to call you back by {due} and have "
                                   "not reached you. We are sorry. Your incident is escalated to our managers and an "
                                   "engineer will call you as soon as possible. To add details, reply to this SMS.",
    # the same when the customer answered a callback too short to count (``callbacks.withdraw_short_bridge``): they
    # know we reached them, so "have not reached you" would be false
    # within two segments with yesterday's deadline ("by yesterday at 23:59 EST") and a 16-character hotline number
    "breach_notice_short_sms": "Sev-1 hotline, reference {ref}: we promised to call you back by {due}; our call "
                               "ended too soon to talk it through. We are sorry. Your incident is escalated to our "
                               "managers; an engineer will call you again as soon as possible. You can call us on "
                               "{number}, or reply to add details.",
    "breach_notice_short_no_number_sms": "Sev-1 hotline, reference {ref}: we promised to call you back by {due}; our "
                                         "call ended too soon to talk it through. We are sorry. Your incident is "
                                         "escalated to our managers and an engineer will call you again as soon as "
                                         "possible. To add details, reply to this SMS.",
    "missed_call_sms": "Sev-1 hotline: your call ended before we could take your details. If your e-mail sending "
                       "is down, please call us again, or reply to this message with your company and what is failing.",
    # the answer to a reply that says the call was not theirs (a pocket dial, a spoofed caller ID): once per call
    "missed_call_not_theirs_sms": "Sev-1 hotline: sorry for our message. Nothing was opened and nobody will call "
                                  "you. If your e-mail sending is down, please call this number.",
    # the receipt by e-mail, when the caller's number takes no SMS (a landline) or there is none; nothing reads
    # replies to the hotline's e-mails, so details are asked for by phone
    "receipt_mail_subject": "Sev-1 incident {ref}: we have your report",
    "receipt_mail_body": "Hello {name},\n\nwe have your Severity-1 report, reference {ref}.\n\n{promise}\n\n{details}\n\n"
                         "Your Severity-1 hotline\n",
    "receipt_mail_due": "An engineer will call you back by {due}.",
    "receipt_mail_late": "We are sorry we have not called you back yet: an engineer will call you as soon as possible.",
    "receipt_mail_no_number": "We have no telephone number to call you back on: an engineer will contact you at this "
                              "e-mail address.",
    "receipt_mail_details": "To add details, call us on {number} and give your reference {ref}. Replies to this e-mail "
                            "are not added to your incident.",
    "receipt_mail_details_no_number": "To add details, call the Severity-1 hotline again and give your reference "
                                      "{ref}. Replies to this e-mail are not added to your incident.",
    # the breach notice by e-mail (no SMS can reach the caller); its details are the receipt's
    "breach_mail_subject": "Sev-1 incident {ref}: we are sorry, we have not reached you yet",
    "breach_mail_body": "Hello {name},\n\n{promise} We are sorry.\n\n{next}\n\n{details}\n\nYour Severity-1 hotline\n",
    "breach_mail_call": "we promised to call you back by {due} about your Severity-1 incident, reference {ref}, and "
                        "we have not reached you.",
    "breach_mail_short_subject": "Sev-1 incident {ref}: we are sorry, our call ended too soon",
    "breach_mail_short": "we promised to call you back by {due} about your Severity-1 incident, reference {ref}, and "
                         "our call ended before we could talk your problem through.",
    "breach_mail_write": "we promised that an engineer would reach you by {due} about your Severity-1 incident, "
                         "reference {ref}, and we have not.",
    "breach_mail_next_call": "Your incident has been escalated to our managers, and an engineer will call you as "
                             "soon as possible.",
    "breach_mail_next_write": "Your incident has been escalated to our managers, and an engineer will contact you at "
                              "this e-mail address as soon as possible.",
    # closed without the customer's agreement (a manager's close): what closed it, never the manager's internal
    # reason, and how to say it is not solved: the reply the SMS parser reads as a NO naming it (``customer_sms``),
    # which reopens it within REOPEN_WINDOW_DAYS ({within}; "_no_reopen": 0, the NO is only passed on)
    # (``decide._resolve``: ``Decision.closing_notice``)
    "closing_notice_sms": "Sev-1 hotline: your incident {ref} was closed by our support team {at}. If it is not "
                          "solved, reply NO {ref} {within} to reopen it, or call us on {number}.",
    "closing_notice_no_number_sms": "Sev-1 hotline: your incident {ref} was closed by our support team {at}. If it is "
                                    "not solved, reply NO {ref} {within} to reopen it.",
    "closing_notice_no_reopen_sms": "Sev-1 hotline: your incident {ref} was closed by our support team {at}. If it is "
                                    "not solved, reply NO {ref} or call us on {number}.",
    "closing_notice_no_reopen_no_number_sms": "Sev-1 hotline: your incident {ref} was closed by our support team "
                                              "{at}. If it is not solved, reply NO {ref}.",
    "reopen_within_days": "within {days} days",
    "reopen_within_one_day": "within 1 day",
    "closing_mail_subject": "Sev-1 incident {ref} was closed",
    "closing_mail_body": "Hello {name},\n\nyour Severity-1 incident, reference {ref}, was closed by our support team "
                         "{at}.\n\n{persists}\n\nYour Severity-1 hotline\n",
    "closing_mail_persists": "If the problem persists, call us on {number} and give your reference {ref}. Replies to "
                             "this e-mail are not added to your incident.",
    "closing_mail_persists_no_number": "If the problem persists, call the Severity-1 hotline again and give your "
                                       "reference {ref}. Replies to this e-mail are not added to your incident.",
    # closed on a rep's record of the customer's verbal agreement: only the rep's word shows it, so the customer reads
    # it and how to say it is not resolved (a NO with the reference reaches the owner at once: ``customer_sms``)
    "agreed_closing_sms": "Sev-1 hotline: as agreed with you on the phone, incident {ref} is closed. If it is not "
                          "solved, reply NO {ref} {within} to reopen it, or call us on {number}.",
    "agreed_closing_no_number_sms": "Sev-1 hotline: as agreed with you on the phone, incident {ref} is closed. If it is "
                                    "not solved, reply NO {ref} {within} to reopen it.",
    "agreed_closing_no_reopen_sms": "Sev-1 hotline: as agreed with you on the phone, incident {ref} is closed. If it is "
                                    "not solved, reply NO {ref} or call us on {number}.",
    "agreed_closing_no_reopen_no_number_sms": "Sev-1 hotline: as agreed with you on the phone, incident {ref} is "
                                              "closed. If it is not solved, reply NO {ref}.",
    "agreed_closing_mail_subject": "Sev-1 incident {ref} is closed as agreed",
    "agreed_closing_mail_body": "Hello {name},\n\nas agreed with you on the phone, your Severity-1 incident, reference "
                                "{ref}, was closed {at}.\n\n{persists}\n\nYour Severity-1 hotline\n",
}

# issue 11: customer updates, resolution proposals, outages, non-critical callers
PROMPTS.update({
    "upd_sms_head": "Sev-1 {ref} update: {what}",
    "upd_expected": "Expected resolution: {expected}",
    "upd_workaround": "Workaround: {workaround}",
    "upd_next": "Next update by {due}",
    "upd_mail_subject": "Sev-1 incident {ref}: update",
    # a line for each field the rep wrote (``upd_mail_what``, ``upd_expected``, ``upd_workaround``), none for a field
    # they left out: an SMS update is one free text, and "Expected resolution: not known yet" could contradict it
    "upd_mail_body": "Hello {name},\n\nHere is where your incident {ref} stands:\n\n{lines}\n{next}\n"
                     "Your Severity-1 hotline\n",
    "upd_mail_what": "What is wrong: {what}",
    "upd_mail_next": "\nYour next update will come by {due}.\n",
    # the interval a rep agreed with the customer (EVERY by SMS), confirmed to them with the next update's time
    "upd_interval_sms": "Sev-1 {ref}: as agreed, you will get an update {every}",
    "upd_interval_subject": "Sev-1 incident {ref}: update interval",
    "upd_interval_mail_body": "Hello {name},\n\n{line}\n\nYour Severity-1 hotline\n",
    "upd_every_minutes": "every {n} minutes",
    "upd_every_hour": "every hour",
    "upd_every_hours": "every {n} hours",
    "upd_resolved": "We believe your problem is resolved",
    "upd_workaround_in_place": "A workaround is in place",
    "upd_proposal_sms": "Sev-1 {ref}: {line}. Reply YES {ref} to confirm, or NO {ref} if the problem goes on. "
                        "Without an answer within {hours} hours we close it as resolved, not confirmed.",
    "upd_proposal_subject": "Sev-1 incident {ref}: please confirm the resolution",
    "upd_proposal_body": "{line}.\n\nPlease confirm or reject it here:\n{link}\n\n{by_sms}"
                         "Without an answer within {hours} hours we close the incident as resolved, not confirmed."
                         "\n\nYour Severity-1 hotline\n",
    # only to a customer the proposal was texted to: no other SMS of theirs reaches the incident
    "upd_proposal_by_sms": "Or reply YES {ref} or NO {ref} by SMS. ",
    "upd_proposal_spoken": "{line}. Press 1 to confirm, or 2 if the problem goes on.",
    "upd_confirmed": "Thank you. Incident {ref} is closed.",
    "upd_rejected": "Thank you. We keep working on incident {ref}. Your next update will come by {due}.",
    "upd_answered_before": "This proposal for {ref} was already answered ({state}).",
    "upd_closed_before": "Incident {ref} is closed already.",
    # a proposal's state as the customer reads it in those two answers
    "upd_state_confirmed": "confirmed",
    "upd_state_rejected": "rejected",
    "upd_state_expired": "closed without an answer",
    "upd_state_undelivered": "not delivered",
    "upd_state_unclear": "unclear",
    "upd_state_withdrawn": "withdrawn",
    "upd_reminder_sms": "SEV1 {ref} {company}: customer update {number} due by {due}. "
                        "Reply UPDATE {ref} <text>, or write it on the dashboard.",
    "upd_late_sms": "SEV1 {ref} {company}: customer update {number} was due {due} and is NOT sent (owner {owner}).",
    "upd_unreached_sms": "SEV1 {ref} {company}: customer update {number} reached them by NO channel ({how}). "
                         "Phone the customer: {phone}.",
    "upd_proposal_unreached_sms": "SEV1 {ref} {company}: the resolution proposal reached the customer by NO "
                                  "channel ({how}). Phone them: {phone}.",
    # a closing notice that reached the customer by no channel (``unreached.notice_alerts``)
    "notice_unreached_sms": "SEV1 {ref} {company}: the notice that the support team closed the incident reached the "
                            "customer by NO channel ({how}). They do not know it is closed: phone them: {phone}.",
    "notice_unreached_agreed_sms": "SEV1 {ref} {company}: the notice that the incident was closed as agreed on the "
                                   "phone reached the customer by NO channel ({how}). Phone them: {phone}.",
    "upd_stalled_sms": "SEV1 {ref} {company}: customer update {number} has NOT reached them so far ({how}). "
                       "Phone the customer: {phone}.",
    "upd_proposal_stalled_sms": "SEV1 {ref} {company}: the resolution proposal has NOT reached the customer so far "
                                "({how}). Phone them: {phone}.",
    "upd_late_apology_sms": "Sev-1 {ref}: we are sorry, we are late with your update. An engineer will update you "
                            "as soon as possible.",
    "upd_late_apology_subject": "Sev-1 incident {ref}: your update is late",
    "upd_interval_unreached_sms": "SEV1 {ref} {company}: the confirmation of the update interval reached the "
                                  "customer by NO channel ({how}). Phone them: {phone}. Reply EVERY <minutes> {ref} "
                                  "to send it again.",
    "upd_interval_stalled_sms": "SEV1 {ref} {company}: the confirmation of the update interval has NOT reached the "
                                "customer so far ({how}). Phone them: {phone}.",
    "upd_outage": "We know of a current platform outage: {what}, since {since}.",
    "upd_outage_next": " Our next update is due by {due}.",
    "upd_outage_overdue": " We are sorry our next update is overdue: it follows as soon as possible.",
    "upd_outage_end": " We will still take your report.",
    "upd_howto_prefix": "Sev-1 hotline: ",
    "upd_interval_offer": "The call with the customer has ended. Thank you. Which update interval did you agree? "
                          "Press 1 for updates every 30 minutes, 2 for every hour, 3 for every 4 hours. "
                          "A new interval is confirmed to the customer in writing.",
    # updates run at an interval the customer was never told in writing (a self-report, the keypad left unanswered)
    "upd_interval_untold": " Updates are due {every}; the customer was not told. Agree an interval with them "
                           "and reply EVERY <minutes> {ref}: it is confirmed to them in writing.",
    "upd_interval_default_untold": "No key pressed: updates {every}. The customer was not told an interval: "
                                   "agree one with them and text EVERY, the minutes and the incident number, to "
                                   "confirm it to them in writing. Goodbye.",
    "upd_interval_default": "No key pressed: updates {every}. Goodbye.",
    # the owner's SMS when the interval question at the end of the callback went unanswered (+ upd_interval_untold)
    "upd_interval_unanswered_sms": "SEV1 {ref} {company}: no update interval was keyed at the end of your callback, "
                                   "so the default applies.",
    "upd_interval_unchanged": "No interval was changed: updates {every}. Goodbye.",
    "upd_no_proposal": "No resolution awaits your answer. Goodbye.",
    "upd_no_key": "No key pressed. Nothing was changed. Goodbye.",
})

# issue 13: live connect. To the caller (in their language) at the end of the intake and on hold,
# and to the rep whose leg dials the waiting caller out of the queue.
PROMPTS.update({
    "live_by": "by {time}",
    "live_by_asap": "as soon as possible",
    "live_engineer_ready": "An engineer is ready: press 1 to be connected now, "
                           "or hang up and we will call you back {by}.",
    "live_offer_wait": "No engineer is free yet. To wait on the line while we page one, press 1, "
                       "or hang up and we will call you back {by}.",
    "live_no_key": "We will call you back {by}. Goodbye.",
    # no `hotline worker` runs (``app.watchdog_state``): pages and calls leave only once one runs again
    "live_no_worker": "Our paging system is not running right now, so we cannot page an engineer while you hold. "
                      "Your report is saved: paging goes on as soon as the system runs again, and we will call you "
                      "back {by}. Goodbye.",
    "live_wait_no_worker": "Our paging system has stopped, so we cannot connect you on this call. Your report is "
                           "saved: paging goes on as soon as the system runs again, and we will call you back {by}. "
                           "Goodbye.",
    "live_hold_ready": "Please hold: we are calling your engineer now.",
    "live_hold_wait": "Please hold while we page an engineer.",
    "live_still_in_line": "You are still in line; you can hang up and we will call you back {by}.",
    "live_wait_over": "No engineer could take your call yet. We will call you back {by}. Goodbye.",
    "live_connecting": "Connecting you to your engineer now.",
    "live_ended": "Thank you for calling. Goodbye.",
    "live_goodbye": "Goodbye.",
    "live_closed": "Our team has closed your incident, so nobody will call you back about it. "
                   "If the problem goes on, please call again. Goodbye.",
    "live_rep_intro": "Sev-1 incident {ref}: {company}, {contact}, is waiting on the line. Connecting you now.",
    "live_rep_caller_gone": "The customer has left the line. Dialling them now.",
    "live_rep_caller_hung_up": "The customer hung up before you were connected. Dialling them back now.",
    # the rep's <Dial><Queue> ended with nothing that proves a bridge (``live_connect.bridge_on_record``)
    "live_rep_not_connected": "The hotline has no record that you were connected to the customer. Dialling them now.",
    # the rep's <Dial action> proves a bridge to the waiting caller, but the hotline's database could not record it
    "live_rep_end_unrecorded": "Thank you. The hotline could not record this call just now. If you talked with the "
                               "customer, reply CALLED with the incident number to record it. Goodbye.",
    "live_taken_by_other": "Your engineer has already reached your team about this incident and is working on it. "
                           "Goodbye.",
})

# the customer's SMS that are not a plain answer to one proposal (app/services/customer_sms.py)
PROMPTS.update({
    "cust_sms_noted": "Thank you. We added your message to incident {ref}.",
    "cust_sms_answer_hint": " To answer our proposal, reply YES {ref} or NO {ref}.",
    "cust_sms_noted_several": "Thank you. We added your message to your open incidents {refs}. "
                              "Please start a message with the reference it is about.",
    "cust_sms_which": "Several of your incidents are open ({refs}). Reply YES <reference> or NO <reference>.",
    "cust_sms_name_it": "To answer about incident {ref}, reply YES {ref} or NO {ref}.",
    "cust_sms_closed": "Incident {ref} is closed. To report a new critical problem, call this number.",
    "cust_sms_closed_told": "Incident {ref} is closed. We passed your message to the engineer who worked on it. If "
                            "the problem is back, call this number to report it as a critical problem.",
    # the same when a NO naming it would reopen it (``reopen.reopens_on_no``): a bare NO, or words, to a closing notice
    "cust_sms_closed_reopen": "Incident {ref} is closed. If it is not solved, reply NO {ref} to reopen it.",
    "cust_sms_closed_told_reopen": "Incident {ref} is closed. We passed your message to the engineer who worked on "
                                   "it. If it is not solved, reply NO {ref} to reopen it.",
    # words of the customer's that no SMS carried (``held_words.untold``), after the SMS of their answer
    # a written YES with more words than the word and the reference: quoted to the owner with the closure
    "confirmed_with_words": " They wrote: \"{words}\"",
    "confirmed_after_words": " Before that they texted: {words}",
    "resolution_confirmed_to_owner": "SEV1 {ref} {company}: the customer confirmed it is resolved. The incident "
                                     "is closed.{words}",
    "resolution_rejected_to_owner": "SEV1 {ref} {company}: the customer says it is NOT resolved{words}. Updates go "
                                    "on: the next is due by {due}. Reply UPDATE {ref} <text>.",
    "workaround_confirmed_to_owner": "SEV1 {ref} {company}: the customer confirmed the workaround works. The "
                                     "incident is closed.{words}",
    # UPDATE / EVERY / PROPOSE by SMS from a rep who does not own the incident (``update_rights``)
    "sms_agree_interval_owner_only": "Incident {ref} is owned by {owner}: only the owner or a manager agrees the update "
                                     "interval with the customer. Nothing was changed; the customer was not told. Ask "
                                     "{owner}, or reply CALL {ref} to take it over and call the customer.",
    "sms_propose_owner_only": "Incident {ref} is owned by {owner}: only the owner or a manager proposes the resolution "
                              "to the customer. Nothing was sent. Ask {owner}, or reply CALL {ref} to take it over "
                              "and call the customer.",
    "sms_acted_update": "SEV1 {ref} {company}: {who} sent your customer an update by SMS: {text}",
    "sms_acted_interval": "SEV1 {ref} {company}: {who} agreed updates {every} with your customer by SMS.",
    "sms_acted_proposal": "SEV1 {ref} {company}: {who} proposed the resolution to your customer by SMS: {text}",
    # the same rule on the dashboard (``update_rights``): its refusals, and the owner's SMS when another acted there
    "update_not_paged": "You were not paged for {ref} and do not own it. Nothing was changed.",
    "update_not_a_rep": "Your login is not linked to an active rep, so it cannot act on the updates of incident "
                        "{ref}: only its owner, a rep paged for it, or a manager can. Nothing was changed.",
    "dash_agree_interval_owner_only": "Incident {ref} is owned by {owner}: only the owner or a manager agrees the "
                                      "update interval with the customer. Nothing was changed; the customer was not "
                                      "told. Ask {owner}, or take it over (Take over, or Call the customer now).",
    "dash_propose_owner_only": "Incident {ref} is owned by {owner}: only the owner or a manager proposes the "
                               "resolution to the customer. Nothing was sent. Ask {owner}, or take it over (Take "
                               "over, or Call the customer now).",
    "dash_record_agreement_owner_only": "Incident {ref} is owned by {owner}: only the owner or a manager records that "
                                        "the customer agreed it is resolved. Nothing was changed. Ask {owner}, or "
                                        "take it over (Take over, or Call the customer now).",
    "dash_acted_update": "SEV1 {ref} {company}: {who} sent your customer an update from the dashboard: {text}",
    "dash_acted_interval": "SEV1 {ref} {company}: {who} agreed updates {every} with your customer on the dashboard.",
    "dash_acted_proposal": "SEV1 {ref} {company}: {who} proposed the resolution to your customer from the dashboard: "
                           "{text}",
    "dash_acted_agreement": "SEV1 {ref} {company}: {who} recorded on the dashboard that the customer agreed it is "
                            "resolved ({text}): the incident is closed.",
    "call_acted_interval": "SEV1 {ref} {company}: {who} agreed updates {every} with your customer on a call.",
    "cust_sms_to_owner": "SEV1 {ref} {company}: the customer texted: {text}",
    # a NO to the message that told them it was closed as agreed on the phone (``customer_sms._verbal_close``)
    "cust_sms_disputes_verbal_close": "SEV1 {ref} {company}: the customer says it is NOT resolved, after it was closed "
                                      "on a verbal agreement ({agreed_by}). They texted: {text}. Call them: {phone}",
    # words held back by the one-SMS-per-15-minutes rule, texted together when it ends
    "cust_sms_to_owner_held": "SEV1 {ref} {company}: the customer texted since the last SMS: {text}",
    "cust_sms_media": " We cannot see pictures or files sent by SMS: please describe what you see in words.",
    # words from the number an open incident's call came from, not its callback number (``customer_sms.caller_id_sms``)
    "cust_sms_from_caller_id": "[from the number they called from, not the callback number: unverified] {text}",
    "cust_sms_noted_caller_id": "Thank you. We added your message to incident {ref}.",
    "cust_sms_noted_caller_id_unnamed": "Thank you. We added your message to your open incident.",
    "cust_sms_caller_id_hint": " Our texts about it go to the callback number you gave us: please answer them from "
                               "that number.",
    # a callback number that takes no texts (a landline, or it opted out): how they hear instead (``how_they_hear``)
    "cust_sms_hear_call_by": " An engineer will call you back on the callback number you gave us by {due}.",
    "cust_sms_hear_call_asap": " An engineer will call you back on the callback number you gave us as soon as "
                               "possible.",
    "cust_sms_hear_email_by": " An engineer will reach you by e-mail by {due}.",
    "cust_sms_hear_email_asap": " An engineer will reach you by e-mail as soon as possible.",
    "cust_sms_hear_updates_email": " Our updates reach you by e-mail.",
    "cust_sms_hear_updates_call": " An engineer will phone you with updates on the callback number you gave us.",
    "cust_sms_hear_updates_sms": " Our updates reach you by text at this number.",
    "cust_sms_hear_next": " Your next update will come by {due}.",
    # an empty SMS (no words, no picture) from a customer's number (``customer_sms.empty_sms``): nothing is noted
    "cust_sms_empty": "We received an empty message, so nothing was added to incident {ref}. To add to it, reply "
                      "with your words, or call this number.",
    "cust_sms_empty_several": "We received an empty message, so nothing was added to your open incidents {refs}. "
                              "To add to one, reply with its reference and your words, or call this number.",
    "cust_sms_empty_caller_id": "We received an empty message, so nothing was added to your open incident. To add "
                                "to it, reply with your words, or call this number.",
    # words from the caller ID about an incident since closed (``customer_sms._closed_from_caller_id``): its reference
    # only when they named it; a NO from this number reopens nothing, so the reopen goes from the callback number
    "cust_sms_closed_caller_id": "Incident {ref} is closed.",
    "cust_sms_closed_caller_id_unnamed": "Your incident is closed.",
    "cust_sms_closed_caller_id_told": " We passed your message to the engineer who worked on it.",
    "cust_sms_closed_caller_id_reopen": " If it is not solved, reply NO {ref} from the callback number you gave us to "
                                        "reopen it, or call this number.",
    "cust_sms_closed_caller_id_reopen_unnamed": " If it is not solved, reply NO and its reference from the callback "
                                                "number you gave us to reopen it, or call this number.",
    "cust_sms_closed_caller_id_call": " If the problem is back, call this number to report it as a critical problem.",
})

# a repeat caller's words or recording added by phone, texted to the incident's readers (app/services/caller_additions.py)
PROMPTS.update({
    "caller_added_to_owner": "SEV1 {ref} {company}: the customer called again and added: \"{text}\"{recording}",
    "caller_added_with_recording": " They also left a recording: listen on the incident page.",
    "caller_added_recording_only": "SEV1 {ref} {company}: the customer called again and left a recording: listen on "
                                   "the incident page.",
})

# keywords Twilio does not know (STOPP, ANMELDEN, HILFE): the hotline answers them itself (sms_opt_outs.py); Twilio
# answers its own English ones, so these English texts are for parity and never sent for them
PROMPTS.update({
    "kw_opted_out": "Sev-1 hotline: you will get no more SMS from this number. Reply START to get them again. "
                    "For a critical problem, call this number.",
    "kw_opted_in": "Sev-1 hotline: you will get SMS from this number again. Reply STOP to stop them.",
    "kw_help": "Sev-1 hotline: for a critical problem, call this number.{about} Reply STOP to get no more SMS.",
    "kw_help_about": " Your texts to this number go to incident {ref}.",
})

# the account's TAM: told of the incident, never asked to act (every channel refuses their acknowledgement)
PROMPTS.update({
    "tam_page_sms": "SEV1 {ref} {company}: {service}. For your information as the account's TAM: the on-call reps "
                    "are being paged to call the customer back by {due}. You need not reply.",
    "tam_page_spoken": "Severity 1 incident {ref}, for {company}: {service}.{caution}"
                       " You are told as the account's technical "
                       "account manager: the on-call reps are being paged to call the customer back by {due}. "
                       "You need do nothing on this call. Goodbye.",
    "tam_page_spoken_taken": "Severity 1 incident {ref}, for {company}: {service}.{caution}"
                             " You are told as the account's "
                             "technical account manager: {owned}; the "
                             "customer must be called back by {due}. You need do nothing on this call. Goodbye.",
    # the same, heard once the deadline has passed (``page_text.deadline_passed``): never "by {due}" then
    "tam_page_sms_late": "SEV1 {ref} {company}: {service}. For your information as the account's TAM: the callback "
                         "deadline, {due}, has passed; the on-call reps are being paged to call the customer back "
                         "now. You need not reply.",
    "tam_page_spoken_late": "Severity 1 incident {ref}, for {company}: {service}.{caution}"
                            " You are told as the account's technical "
                            "account manager: the callback deadline, {due}, has passed; the on-call reps are being "
                            "paged to call the customer back now. You need do nothing on this call. Goodbye.",
    "tam_page_spoken_taken_late": "Severity 1 incident {ref}, for {company}: {service}.{caution}"
                                  " You are told as the account's "
                                  "technical account manager: {owned}; the "
                                  "callback deadline, {due}, has passed: the customer must be called back now. You "
                                  "need do nothing on this call. Goodbye.",
    "tam_alert_at_risk": "SEV1 {ref} {company}: AT RISK, {minutes} min left (by {due}) and the customer not called back yet. "
                         "The on-call reps and managers are being alerted. You need not reply.",
    "tam_alert_breach": "SEV1 {ref} {company}: callback deadline {due} BREACHED, no callback yet. "
                        "The managers are being alerted. You need not reply.",
    "tam_alert_breach_short": "SEV1 {ref} {company}: callback deadline {due} BREACHED: the customer answered a "
                              "callback, too short to count, none since. The managers are being alerted. "
                              "You need not reply.",
    "tam_alert_breach_calling": "SEV1 {ref} {company}: callback deadline {due} BREACHED, a callback is under way, "
                                "not answered yet. The managers are being alerted. You need not reply.",
})

# the account's TAM told by e-mail (outside their business hours, or with no TAM phone): what their text says, then
# why it came in writing, and that nothing is asked of them
PROMPTS.update({
    "tam_email_subject": "SEV1 {ref} {company}: {what} (for your information, nothing to do)",
    "tam_email_what_page": "Severity 1 incident",
    "tam_email_what_at_risk": "callback at risk",
    "tam_email_what_breach": "callback deadline breached",
    "tam_email_what_page_called_back": "Severity 1 incident, customer called back",
    "tam_page_called_back": "SEV1 {ref} {company}: {service}. For your information as the account's TAM: this "
                            "Severity 1 incident was opened at {opened}, and an engineer called the customer back at "
                            "{called_back}. You need not reply.",
    "tam_email_nothing_to_do_called_back": "You need do nothing: the engineer works on it with the customer.",
    "tam_email_what_page_resolved": "Severity 1 incident, resolved",
    # the page e-mail that waited for SMTP until after the resolution (app.services.late_mail)
    "tam_page_resolved": "SEV1 {ref} {company}: {service}. For your information as the account's TAM: this "
                         "Severity 1 incident was opened at {opened} and resolved at {resolved}. You need not reply.",
    "tam_email_nothing_to_do_resolved": "You need do nothing: the incident is resolved.",
    "tam_email_after_hours": "This reaches you outside your business hours ({hours}, {zone}), so it comes by e-mail "
                             "instead of a text message or a call: it is not meant to wake you.",
    "tam_email_no_phone": "It comes by e-mail because no phone number is on file for you as the account's TAM.",
    "tam_email_nothing_to_do": "You need do nothing: the on-call reps call the customer back, and the managers are "
                               "alerted if that is late.",
    # the callback counted met after the breach e-mail went (``decide._corrected``): told once, by e-mail too
    "tam_email_what_breach_corrected": "callback deadline NOT breached after all",
    "tam_email_correction_why": "It comes by e-mail, as the breach alert it corrects did.",
    "tam_email_nothing_to_do_corrected": "You need do nothing: the customer was called back in time.",
})

# whoever was alerted BREACHED of a callback then counted met (``page_text.breach_corrected_sms``); how a text says
# the answer kept the deadline (``page_text.answered_in_time``): to the second when both fall in the same minute
PROMPTS.update({
    "breach_corrected_sms": "SEV1 {ref} {company}: NOT breached after all. The customer answered the callback {when}; "
                            "the BREACHED alert came before the answer was confirmed.",
    "answered_by_deadline": "at {answered}, by the {due} deadline",
    "answered_seconds_before": "at {answered}, {seconds} before the {due} deadline",
    "answered_no_time": "by the {due} deadline",
    "seconds_many": "{n} seconds",
    "seconds_one": "1 second",
    "seconds_under_one": "less than a second",
})

# how a text to staff names the incident's company (app.services.company_label): "(from the ticket)" when the caller
# did not say it, and a caution when that caller proved nothing and the number (or e-mail) to reach is not the ticket's
PROMPTS.update({
    "company_from_ticket": "{company} (from the ticket)",
    "company_unproven": "{company}, UNVERIFIED caller, {contact} not the ticket's",
    "company_contact_number": "number",
    "company_contact_email": "e-mail",
    "company_from_ticket_spoken": "{company}, according to the ticket",
    "company_unproven_spoken": " The caller has not proved who they are, and {contact} is not on the ticket.",
    "company_contact_number_spoken": "the number to call back",
    "company_contact_email_spoken": "the e-mail address to write to",
})

PROMPTS.update({  # reopening a closed incident (app/services/reopen.py)
    "cust_closing_outrun": "Sev-1 hotline: please disregard our message that incident {ref} is closed: your reply "
                           "reached us as it was being sent, and the incident is open again.",
    "cust_reopened": "Incident {ref} is open again: we passed your message to the engineer and keep working on it. "
                     "Your next update will come by {due}.",
    "cust_reopened_no_update": "Incident {ref} is open again: we passed your message to the engineer, who will "
                               "contact you.",
    "cust_reopened_by_staff": "Sev-1 hotline: incident {ref} is open again: our support team keeps working on it. "
                              "Your next update will come by {due}.",
    "cust_reopened_by_staff_no_update": "Sev-1 hotline: incident {ref} is open again: our support team keeps working "
                                        "on it and will contact you.",
    "cust_reopened_subject": "Sev-1 incident {ref} is open again",
    "reopen_close_verbal": "on a verbal agreement: {agreed_by}",
    "reopen_close_manager": "by a manager",
    "reopen_close_silence": "after the customer's silence",
    "reopen_close_customer": "on the customer's YES",
    "reopen_close_": "",
    "reopened_by_customer_to_owner": "SEV1 {ref} {company}: REOPENED by the customer, who says it is NOT resolved (it "
                                     "was closed {how}). They texted: {words}. Call them: {phone}",
    "reopened_by_staff_to_owner": "SEV1 {ref} {company}: reopened by {who}: {reason}",
    "reopened_owner_due": ". Updates go on: the next is due by {due}. Reply UPDATE {ref} <text>.",
    "reopened": "Incident {ref} is open again and back on the board; its owner was texted.",
    "reopen_next_update": " Updates resume: the next is due by {due}.",
    "reopen_no_update": " No update is owed: no callback reached the customer.",
    "reopen_customer_told_sms": " The customer is told by SMS.",
    "reopen_customer_told_email": " The customer is told by e-mail.",
    "reopen_customer_told_none": " The customer could NOT be told: no number that takes SMS and no e-mail address.",
    "reopen_not_closed": "Incident {ref} is open. Nothing was changed.",
    "reopen_needs_reason": "Write why incident {ref} is reopened. Nothing was changed.",
})
