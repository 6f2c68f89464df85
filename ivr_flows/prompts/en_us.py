"""English (en-US) prompts. Short, calm sentences for a stressed caller."""

PROMPTS: dict[str, str] = {
    # call opening
    "greeting": "This is the Severity-1 hotline for e-mail sending outages. Calls are recorded to handle your incident.",
    "language_choice": "For English, press 1.",
    "language_default": "I'll continue in English.",
    # re-prompts
    "sorry_silence": "Sorry, I didn't hear anything.",
    "sorry_nonsense": "Sorry, I didn't get that.",
    "thanks": "Thank you.",
    "goodbye": "Goodbye.",
    # triage
    "triage": (
        "Is your e-mail sending down? API calls failing, press 1. SMTP injection failing, press 2. "
        "Both, press 3. Another critical problem, press 4. Not critical, press 9."
    ),
    "triage_default": "I'll note this as a critical problem, and we'll continue.",
    "triage_non_critical_kept": (
        "Your report is already recorded as a critical outage, and an engineer will call you back as promised. "
        "If it is not critical after all, tell the engineer when they call."
    ),
    "non_critical": (
        "Problems that are not critical, such as questions or configuration requests, "
        "are handled by e-mail during business hours. Please open a ticket on the "
        "dashboard or write to our support e-mail address."
    ),
    "non_critical_menu": (
        "If your e-mail sending is in fact down, press 1 to continue as a critical "
        "outage. To get a text message on how to open a ticket, press 2. Otherwise, you can hang up now."
    ),
    "non_critical_menu_no_sms": (
        "If your e-mail sending is in fact down, press 1 to continue as a critical outage. Otherwise, you can hang "
        "up now."
    ),
    "non_critical_sms_sent": "We are sending you a text message on how to open a ticket.",
    "non_critical_goodbye": "Thank you for calling. Goodbye.",
    # repeat caller
    "repeat_caller": "You already have an open incident, reference {reference}.",
    "callback_by": "An engineer will call you back by {time}.",
    "callback_overdue": "We're sorry we haven't called you back yet. An engineer will call you as soon as possible.",
    "callback_done": "We have called you back, and our team is working on it.",
    "contact_done": "We have been in touch with you, and our team is working on it.",
    "next_update_by": "Your next update will come by {time}.",
    # which phone a proven repeat caller's callback rings (``questions.callback_rings``): never the whole number
    "callback_rings_caller": "We will call the number you are calling from.",
    "callback_rings_number": "We will call the number ending in {number}.",
    "callback_rings_elsewhere": "We will call the number ending in {number}, not the phone you are calling from.",
    # an incident with no number to call back (an e-mail address only): the intake's promise of an e-mail
    "email_by": "An engineer will reach you by e-mail by {time}.",
    "email_overdue": "We're sorry we haven't reached you yet. An engineer will write to you by e-mail as soon as possible.",
    "repeat_caller_menu": "To add information to it, press 1. To report a different outage, press 2.",
    "repeat_caller_menu_unverified": (
        "To hear its status or add information to it, press 1. To report a different outage, press 2."
    ),
    "add_info": "Please tell me in a few sentences what you'd like to add.",
    "add_recording": (
        "After the tone, you can add more in a recording of up to {duration}. Press the hash key when you're done."
    ),
    "added": "Thank you, we added this to incident {reference}.",
    "repeat_caller_status": "There is an open incident for the number you are calling from.",
    "repeat_caller_status_ticket": "There is an open incident for this ticket.",
    "callback_taken": "An engineer has taken it and will call you back by {time}.",
    "repeat_verify": (
        # not "from your text message": a landline caller got none (the reference was read out at the intake's end)
        "To hear its status or add to it, enter its six-digit reference number, or your support PIN, followed by "
        "the hash key. If you have neither, just press the hash key."
    ),
    "repeat_wrong": "Sorry, that number doesn't match.",
    "repeat_unverified": (
        "I'll take your report as a new incident, and we'll link it to the open one."
    ),
    "joined": "Thank you. We added your report to the open incident for your number.",
    # only beyond the bound on incidents opened apart (caller_limits.place_report): no deadline is tracked
    "joined_own_contact": (
        "That incident has a different contact, so we noted yours apart and asked its engineers to call you "
        "back on {number}."
    ),
    "joined_own_contact_email": (
        "That incident has a different contact, so we noted yours apart and asked its engineers to contact you "
        "at the e-mail address you gave."
    ),
    "joined_untracked": (
        "So many reports have come from this phone number that we cannot hold that callback to a time. "
        "If you can, call us again from another phone: your report then gets an incident and a callback time "
        "of its own."
    ),
    # support PIN
    "pin_ask": "Enter your account's support PIN, then the hash key. No PIN? Just press the hash key.",
    "pin_ok": "Thank you, your PIN is correct.",
    "pin_wrong": "Sorry, that PIN is not correct.",
    "pin_give_up": "We'll continue without it.",
    # ticket
    "ticket_offer": "Are you calling about ticket {ticket}? Press 1 for yes, 2 for no.",
    "ticket_entry": "Enter your support ticket number, then the hash key. No ticket? Just press the hash key.",
    "ticket_found": "Thank you, I found ticket {ticket}.",
    "ticket_not_found": "I could not find ticket {ticket}.",
    "ticket_give_up": "We'll continue without it. The engineer will sort it out with you.",
    # company and name
    "company_confirm": "Is this about {company}? Press 1 for yes, 2 for no.",
    "company_ask": "Please say the name of your company.",
    "name_confirm": "Am I speaking with {name}? Press 1 for yes, 2 for no.",
    "name_ask": "Please say your full name.",
    # callback number
    "callback_confirm": "Can we call you back on {number}? Press 1 for yes, 2 for another number.",
    "callback_entry": (
        "Please enter the number we should call you back on, including the country code, followed by the hash key."
    ),
    "callback_invalid": "That number can't be used for a callback.",
    "callback_fallback_own": (
        "We'll call you back on the number you're calling from instead. You can change it when I read your details back."
    ),
    "callback_refused_invalid": "That number can't be used for a callback: it isn't a complete phone number.",
    "callback_refused_premium": (
        "That number can't be used for a callback: we don't call premium-rate, shared-cost or other special numbers."
    ),
    "callback_refused_region": "That number can't be used for a callback: we don't call back to that country.",
    "callback_refused_country_code": (
        "That number needs its country code: for example 4 4 for the United Kingdom, or 1 for the United States."
    ),
    "callback_refused_own": "That number can't be used for a callback: it's this hotline's own number.",
    "caller_id_withheld": "Your number is withheld, so I can't offer to call you back on it.",
    "caller_id_premium": (
        "You're calling from a premium-rate number or another special number, so we can't call you back on it."
    ),
    "caller_id_region": "We don't call back to the country you're calling from.",
    # a silent or struggling caller
    "silent_skip": "I'll keep this short.",
    "silent_recording": (
        "After the tone, please say your company, your name, your phone number and what is failing, "
        "up to {duration}. Press the hash key when you're done."
    ),
    # e-mail
    "email_ask": "Please say your e-mail address, like: john dot smith at example dot com.",
    "email_invalid": "Sorry, that didn't sound like an e-mail address.",
    "email_heard": "I heard {email}, spelled: {spelled}. Press 1 if right, 2 to say it again.",
    "email_on_file": "Is your e-mail {email}? Press 1 for yes, 2 to say another.",
    # problem
    "problem_ask": "Please describe the problem: what fails, since when, and any error.",
    "recording": "After the tone, add detail if you like, up to {duration}. Press the hash key when done.",
    # read-back
    "readback_intro": "I have:",
    "readback_company": "Company: {company}.",
    "readback_name": "Name: {name}.",
    "readback_callback": "Callback number: {number}.",
    "readback_email": "E-mail: {email}, spelled: {spelled}.",
    "readback_service": "Problem: {service}.",
    "readback_problem": "Your description: {summary}.",
    "readback_which": "Which detail should I correct?",
    "readback_options": (
        "If all of this is correct, press 1. To correct: company, 2. Name, 3. Callback number, 4. "
        "E-mail, 5. Description, 6. Problem type, 7."
    ),
    "not_given": "not given",
    "summary_recording": "in your recording",
    "service_api": "API calls failing",
    "service_smtp": "SMTP injection failing",
    "service_both": "API calls and SMTP injection failing",
    "service_other": "another critical problem",
    # done
    "reference_is": "Your incident reference is {reference}.",
    "done_reference": "Thank you. Your incident reference is {reference}.",
    "done_callback": "An engineer will call you back on {number} within {minutes} minutes, by {time}.",
    "done_sms": "You'll also get a text message with this reference.",
    # the callback number texted STOP (``sms_opt_outs``): no receipt SMS follows, so the reference is said once more
    "done_sms_off": (
        "That number has opted out of our text messages, so no text will follow. Please note your reference: "
        "{reference}. To get our texts again, text START to this number."
    ),
    "done_reach_email_and_caller": (
        "We don't have a callback number, so within {minutes} minutes, by {time}, "
        "an engineer will reach you by e-mail and on the number you're calling from."
    ),
    "done_reach_caller": (
        "Within {minutes} minutes, by {time}, an engineer will call you back on the number you're calling from."
    ),
    # a caller reached only by e-mail: the receipt by e-mail when SMTP is configured, else none (``done_reach_email``)
    "done_email": "You'll also get an e-mail with this reference.",
    "done_email_off": (
        "This hotline cannot send e-mail itself, so no e-mail with this reference will follow. Please note your "
        "reference: {reference}."
    ),
    "done_reach_email": (
        "We don't have a number to call you back on, so within {minutes} minutes, "
        "by {time}, an engineer will reach you by e-mail."
    ),
    "done_reach_none_shown": (
        "We didn't get a phone number we can call or an e-mail address. An engineer will try to "
        "reach you through your company's account. If you can, please call again and give "
        "another number we can call back, or an e-mail address."
    ),
    "done_reach_none": (
        "We didn't get a phone number or an e-mail address. An engineer will try to "
        "reach you through your company's account. If you can, please call again "
        "from a phone that shows its number."
    ),
    # nothing known of them (no company said, no ticket found): no promise we cannot keep
    "done_reach_none_unknown": (
        "We didn't get a phone number, an e-mail address or your company's name, so we have no way to reach "
        "you. Please call again from a phone that shows its number."
    ),
    "done_reach_none_shown_unknown": (
        "We didn't get a phone number we can call, an e-mail address or your company's name, so we have no way "
        "to reach you. Please call again and give another number we can call back, or an e-mail address."
    ),
    # spoken formatting
    "duration_minutes": "{n} minutes",
    "duration_minute": "1 minute",
    "duration_seconds": "{n} seconds",
    "phone_plus": "plus",
    "phone_extension": "{number}, extension {extension}",
    "email_dot": "dot",
    "email_at": "at",
    "email_dash": "dash",
    "email_underscore": "underscore",
    "email_plus": "plus",
    # a time not today on the clock it is spoken in (``say_time`` with ``now``): "by tomorrow at 5:08 p.m. EST"
    "time_today_at": "{time}",
    "time_tomorrow": "tomorrow at {time}",
    "time_yesterday": "yesterday at {time}",
    "time_date": "{weekday}, {month} {day} at {time}",
    "time_date_at": "{when}",
    # where a text had "at {time}" (``say_day``'s ``moment``): "we tried to call you at 11:58 p.m." / "on Monday, ..."
    "time_today_moment": "at {time}",
    "time_date_moment": "on {when}",
    "weekdays": "Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday",
    "months": "January, February, March, April, May, June, July, August, September, October, November, December",
}
