"""What callers really say (as Twilio's recognizer writes it) and how the flow reads it back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ivr_flows import Gathered, LogEvent, Stage
from ivr_flows.answers import digits_from, phone_from, service
from ivr_flows.model import Lang
from ivr_flows.prompts import say_time, spell_email, zone_for_number
from ivr_flows.validate import is_valid_email, normalize_spoken_email
from tests.unit.flow_driver import Call, run


@pytest.mark.parametrize(
    ("speech", "number", "extension"),
    [
        ("+49 151 1234 5678", "+4915112345678", ""),  # the recognizer writes "plus" as "+"
        ("+4915112345678", "+4915112345678", ""),
        ("+44 20 7946 0000", "+442079460000", ""),
        ("212-555-0100", "2125550100", ""),  # dashes and parentheses, as it formats US numbers
        ("(212) 555-0100", "2125550100", ""),
        ("+1 (212) 555-0100 ext. 204", "+12125550100", "204"),
        ("2125550100 extension 204", "2125550100", "204"),
        ("plus one two one two five five five zero one zero zero", "+12125550100", ""),
        ("my number is plus 44 7400 123456", "+447400123456", ""),
        ("oh seven four double oh one two three four five six", "07400123456", ""),
        ("null eins fünf eins eins zwei drei vier fünf sechs sieben acht", "015112345678", ""),
        ("0151 12345678 Durchwahl 12", "015112345678", "12"),
        ("four one five, five five five, zero one zero zero.", "4155550100", ""),
    ],
)
def test_phone_from_speech_keeps_the_country_code_and_splits_the_extension(speech, number, extension):
    assert phone_from(Gathered(speech=speech)) == (number, extension)


@pytest.mark.parametrize(("speech", "number", "extension"), [
    # numbers said as numbers, not digit by digit: their words were dropped (an outside probe's "extension twelve"
    # had none, "plus forty four 7911 ..." became +47 911 ..., "extension two hundred four" 24)
    ("plus one four one five five five five two five zero zero extension twelve", "+14155552500", "12"),
    ("plus forty four 7911 123456", "+447911123456", ""),
    ("415 555 0100 extension two hundred four", "4155550100", "204"),
    ("415 555 0100 extension two hundred and four", "4155550100", "204"),
    ("415 555 0100 extension a hundred and ten", "4155550100", "110"),
    ("plus one 212 555 0100 extension nineteen", "+12125550100", "19"),
    ("plus one 212 555 0100 extension twenty", "+12125550100", "20"),
    ("plus vierundvierzig 20 7946 0000", "+442079460000", ""),
    ("plus neun und vierzig 89 22222 Durchwahl zwölf", "+498922222", "12"),
    ("+49 89 22222 Durchwahl zweihundertvier", "+498922222", "204"),
    ("+49 89 22222 Durchwahl hundertelf", "+498922222", "111"),
    ("four one five five five five zero one zero zero extension two oh four", "4155550100", "204"),  # digit words
    ("null acht neun zwei zwei", "08922", ""),
])
def test_numbers_said_as_numbers_are_read_with_their_value(speech, number, extension):
    assert phone_from(Gathered(speech=speech)) == (number, extension)


@pytest.mark.parametrize(("answer", "digits"), [
    (Gathered(digits="4521#"), "4521"), (Gathered(speech="45-21"), "4521"),
    (Gathered(speech="four five two one"), "4521"),
    (Gathered(speech="1-800-555-0100"), "18005550100"), (Gathered(speech="double five"), "55"),
])
def test_digits_from_reads_numbers_written_with_separators(answer, digits):
    assert digits_from(answer) == digits


def _at_callback_entry(caller: str, lang_key: str = "1") -> Call:
    call = run(Call(caller_id=caller), [("press", lang_key), ("press", "1"), ("press", "#"),
                                        ("say", "Acme 24/7 & Co"), ("say", "Dana Smith")])
    if call.stage is Stage.CALLBACK_CONFIRM:
        call.press("2")
    assert call.stage is Stage.CALLBACK_ENTRY
    return call


@pytest.mark.parametrize(
    ("caller", "lang_key", "speech", "stored", "heard"),
    [
        # "+44" was dropped: the caller heard a number in Maine (plus 1, 2 0 7, ...)
        ("+12125550100", "1", "+44 20 7946 0000", "+442079460000", "plus 4 4, 2 0, 7 9 4 6, 0 0 0 0"),
        ("anonymous", "1", "212-555-0100", "+12125550100", "plus 1, 2 1 2, 5 5 5, 0 1 0 0"),
        ("anonymous", "1", "(212) 555-0100 extension 204", "+12125550100", "plus 1, 2 1 2, 5 5 5, 0 1 0 0"),
        ("anonymous", "1", "+4915112345678", "+4915112345678", "plus 4 9, 1 5 1 1, 2 3 4 5 6 7 8"),
        # a German caller with a withheld number says the national number (US deployment)
        ("anonymous", "2", "null eins fünf eins eins zwei drei vier fünf sechs sieben acht", "+4915112345678",
         "plus 4 9, 1 5 1 1, 2 3 4 5 6 7 8"),
    ],
)
def test_a_spoken_callback_number_is_read_back_and_stored_as_said(caller, lang_key, speech, stored, heard):
    call = _at_callback_entry(caller, lang_key)
    call.speak(speech)
    assert call.stage is Stage.CALLBACK_CONFIRM and heard in call.said
    call.press("1")
    assert call.state.captured.callback_phone == stored


def _extension_lines(call: Call) -> list[dict]:
    return [e.detail for e in call.effects(LogEvent) if e.kind == "callback_extension"]


def test_an_extension_is_read_back_with_the_number_and_logged_for_the_rep_once_confirmed():
    call = _at_callback_entry("anonymous")
    call.speak("212-555-0100 extension 204")
    assert call.said == ("Can we call you back on plus 1, 2 1 2, 5 5 5, 0 1 0 0, extension 2, 0, 4? "
                         "Press 1 for yes, 2 for another number.")
    assert _extension_lines(call) == []  # not yet confirmed: a "no" must not leave it for the rep
    call.press("1")
    assert call.state.captured.callback_extension == "204"
    assert _extension_lines(call) == [{"extension": "204"}]


def test_a_number_heard_wrong_with_an_extension_takes_the_extension_of_the_number_given_after():
    call = _at_callback_entry("anonymous")
    run(call, [("say", "212-555-0100 ext 204"), ("press", "2"), ("say", "212-555-0199 extension 7"),
               ("press", "1")])
    assert call.state.captured.callback_phone == "+12125550199"
    assert _extension_lines(call) == [{"extension": "7"}]


def test_a_corrected_number_without_an_extension_clears_it_for_the_rep():
    call = _at_callback_entry("anonymous")
    run(call, [("say", "212-555-0100 extension 204"), ("press", "1"), ("say", "dana at example dot com"),
               ("press", "1"), ("say", "Every API call fails"), ("record",)])
    assert call.stage is Stage.READBACK
    run(call, [("press", "4"), ("press", "2125550199#"), ("press", "1")])
    assert call.state.captured.callback_extension == ""
    assert _extension_lines(call) == [{"extension": "204"}, {"extension": ""}]  # the last line is the one


@pytest.mark.parametrize(("lang_key", "expected"), [
    ("1", "That number needs its country code: for example 4 4 for the United Kingdom, or 1 for the United States."),
    ("2", "Diese Nummer braucht ihre Ländervorwahl: zum Beispiel 4 9 für Deutschland oder 4 3 für Österreich."),
])
def test_a_national_number_of_another_country_asks_for_the_country_code(lang_key, expected):
    call = _at_callback_entry("anonymous", lang_key)
    call.press("02079460000#")  # London without +44: "not a complete phone number" was wrong
    assert call.stage is Stage.CALLBACK_ENTRY and call.steps[-1].reply.say[0] == expected


@pytest.mark.parametrize(
    ("spoken", "expected"),
    [
        ("my email is john at example dot com", "john@example.com"),
        ("It's john dot doe at example dot com.", "john.doe@example.com"),
        ("sure, it is ops at example dot com", "ops@example.com"),
        ("Meine E-Mail-Adresse lautet max punkt muster ät firma punkt de", "max.muster@firma.de"),
        ("its at example dot com", "its@example.com"),  # a local part, not a preamble
        ("isabel at example dot com", "isabel@example.com"),
    ],
)
def test_what_callers_say_before_the_address_is_not_part_of_it(spoken, expected):
    assert normalize_spoken_email(spoken) == expected


@pytest.mark.parametrize(
    ("lang", "email", "spelled"),
    [
        (Lang.EN, "jon.doe2@example.com", "J O N, dot, D O E 2, at, E X A M P L E, dot, C O M"),
        (Lang.DE, "j_doe+x@mail-host.de",
         "J, unterstrich, D O E, plus, X, ät, M A I L, Bindestrich, H O S T, punkt, D E"),
    ],
)
def test_spell_email(lang, email, spelled):
    assert spell_email(lang, email) == spelled


def test_a_heard_email_is_spelled_so_jon_and_john_differ():
    call = _at_callback_entry("anonymous")
    run(call, [("press", "2125550100#"), ("press", "1"), ("say", "jon dot doe at example dot com")])
    assert call.stage is Stage.EMAIL_CONFIRM
    assert call.said == ("I heard jon dot doe at example dot com, spelled: J O N, dot, D O E, at, E X A M P L E, "
                         "dot, C O M. Press 1 if right, 2 to say it again.")


SUMMER = datetime(2026, 7, 1, 14, 5, tzinfo=UTC)
WINTER = datetime(2026, 1, 15, 14, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("lang", "when", "phone", "spoken"),
    [
        # UK numbers map to London, Jersey, Guernsey and the Isle of Man: one clock, not UTC
        (Lang.EN, SUMMER, "+447400123456", "3:05 p.m. BST"),
        (Lang.EN, WINTER, "+447400123456", "2:05 p.m. GMT"),
        (Lang.DE, SUMMER, "+442079460000", "15:05 Uhr (BST)"),
        (Lang.EN, SUMMER, "+18005550100", "2:05 p.m. UTC"),  # toll-free: many clocks
        (Lang.EN, SUMMER, "+19075550100", "2:05 p.m. UTC"),  # Alaska: Anchorage and Adak differ
    ],
)
def test_the_deadline_is_spoken_on_the_callers_clock(lang, when, phone, spoken):
    assert say_time(lang, when, phone) == spoken


def test_zone_for_number_of_a_uk_number_is_a_uk_zone():
    assert zone_for_number("+447400123456").key in {"Europe/London", "Europe/Guernsey", "Europe/Jersey",
                                                    "Europe/Isle_of_Man"}


@pytest.mark.parametrize(
    ("lang", "when", "phone", "spoken"),
    [
        # libphonenumber gives Irish numbers London's zones: the caller heard BST, Ireland's summer is IST
        (Lang.EN, SUMMER, "+35318765432", "3:05 p.m. IST"),
        (Lang.EN, WINTER, "+35318765432", "2:05 p.m. GMT"),
        (Lang.EN, SUMMER, "+353851234567", "3:05 p.m. IST"),  # an Irish mobile
        (Lang.DE, SUMMER, "+35318765432", "15:05 Uhr (IST)"),
        (Lang.EN, SUMMER, "+442890123456", "3:05 p.m. BST"),  # Belfast is in the UK: +44, British time
        (Lang.EN, WINTER, "+351211234567", "2:05 p.m. WET"),  # Lisbon: GMT's offset, not its name
        (Lang.EN, SUMMER, "+50522123456", "8:05 a.m. CST"),  # Nicaragua keeps CST all year, Chicago does not
    ],
)
def test_the_deadline_carries_the_label_of_the_callers_own_country(lang, when, phone, spoken):
    assert say_time(lang, when, phone) == spoken


@pytest.mark.parametrize(("phone", "zone"), [("+35318765432", "Europe/Dublin"), ("+442890123456", "Europe/London"),
                                             ("+37061234567", "Europe/Vilnius")])
def test_zone_for_number_is_a_zone_of_the_numbers_own_country(phone, zone):
    assert zone_for_number(phone).key == zone


@pytest.mark.parametrize(
    ("spoken", "expected"),
    [
        ("J. O. H. N. at example dot com", "john@example.com"),  # letters spelled with pauses
        ("j.o.h.n@example.com", "john@example.com"),
        ("J.O.H.N. at example.com", "john@example.com"),
        ("J O H N at example dot com", "john@example.com"),
        ("my email is J. O. H. N. dot S. M. I. T. H. at example dot com.", "john.smith@example.com"),
        ("J. O. H. N. at E. X. A. M. P. L. E. dot co dot uk", "john@example.co.uk"),
        ("j.r.smith@example.com", "j.r.smith@example.com"),  # initials before a name are a real address
        ("j.r@example.com", "j.r@example.com"),
    ],
)
def test_a_spelled_email_is_read_as_its_letters(spoken, expected):
    assert normalize_spoken_email(spoken) == expected


@pytest.mark.parametrize("spoken", [
    "j.o.h.n.smith@example.com",  # john.smith, johnsmith or j.o.h.n.smith?
    "john at e.x.a.m.p.l.e.com",
    "J. O. H. N. dot dot smith at example dot com",
    "J. O. H. N. at",
])
def test_an_ambiguous_spelled_email_is_refused(spoken):
    assert not is_valid_email(normalize_spoken_email(spoken))


def test_a_caller_spelling_the_address_with_pauses_hears_it_spelled_back():
    call = _at_callback_entry("anonymous")
    run(call, [("press", "2125550100#"), ("press", "1"), ("say", "J. O. H. N. at example dot com")])
    assert call.stage is Stage.EMAIL_CONFIRM  # was: "That doesn't sound like an e-mail address"
    assert call.said == ("I heard john at example dot com, spelled: J O H N, at, E X A M P L E, dot, C O M. "
                         "Press 1 if right, 2 to say it again.")
    call.press("1")
    assert call.state.captured.email == "john@example.com"


def test_a_glued_spelling_is_asked_again():
    call = _at_callback_entry("anonymous")
    run(call, [("press", "2125550100#"), ("press", "1"), ("say", "j.o.h.n.smith@example.com")])
    assert call.stage is Stage.EMAIL and call.state.pending == ""


@pytest.mark.parametrize(
    ("answer", "number", "extension"),
    [
        # The recognizer writes the hash key a caller names as "#": "#204" is the extension, not more digits.
        (Gathered(speech="+1 415 555 0100 #204"), "+14155550100", "204"),
        (Gathered(speech="415-555-0100 # 204"), "4155550100", "204"),
        (Gathered(speech="four one five five five five zero one zero zero pound two zero four"), "4155550100", "204"),
        (Gathered(speech="+44 20 7946 0000 hash 204"), "+442079460000", "204"),
        (Gathered(speech="030 1234567 Raute 12"), "0301234567", "12"),
        # keyed: '#' ends the input, so a caller keys the extension after '*'
        (Gathered(digits="4155550100*204"), "4155550100", "204"),
        (Gathered(digits="4155550100"), "4155550100", ""),
    ],
)
def test_an_extension_after_the_hash_or_star_key_is_split_off(answer, number, extension):
    assert phone_from(answer) == (number, extension)


@pytest.mark.parametrize(("speech", "failing"), [
    # both named, one said to work in its own clause: the other fails (an outside probe's answers were taken for both)
    ("API is fine but SMTP fails", "smtp"), ("SMTP geht nicht, API geht", "smtp"),
    ("SMTP is fine, the API fails", "api"), ("the API is OK and SMTP is not ok", "smtp"),
    ("API läuft, aber SMTP ist kaputt", "smtp"),
    # both failing, or nothing said to work: both
    ("API and SMTP are down", "both"), ("API und SMTP fallen aus", "both"), ("both API and SMTP", "both"),
    ("API works, SMTP works too", "both"), ("API. SMTP.", "both"),
])
def test_a_triage_answer_naming_both_services_takes_the_one_said_to_work_as_working(speech, failing):
    assert service(Gathered(speech=speech)).value == failing
