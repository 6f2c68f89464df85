"""Parse caller answers (keys or recognised speech) into menu choices."""

from __future__ import annotations

import re
import unicodedata

from .model import AffectedService, Gathered, Lang

NON_CRITICAL = "non_critical"  # triage answer that is not an AffectedService

_DIGIT_WORDS = {
    "zero": "0", "oh": "0", "null": "0",
    "one": "1", "eins": "1",
    "two": "2", "zwei": "2", "zwo": "2",
    "three": "3", "drei": "3",
    "four": "4", "vier": "4",
    "five": "5", "fünf": "5", "fuenf": "5",
    "six": "6", "sechs": "6",
    "seven": "7", "sieben": "7",
    "eight": "8", "acht": "8",
    "nine": "9", "neun": "9",
}  # fmt: skip

_YES = frozenset(
    "yes yeah yep yup correct right sure ok okay affirmative ja jawohl genau richtig stimmt korrekt".split()
)
_NO = frozenset("no nope nah wrong incorrect nein falsch".split())
_NEGATED_YES = (
    "not right", "not correct", "isn't right", "is not right", "that's wrong",
    "nicht richtig", "stimmt nicht", "nicht korrekt",
)  # fmt: skip
# "not (quite) right", "isn't correct", "stimmt nicht", "nicht ganz richtig": a yes-word negated is a no.
_NEGATION = re.compile(
    r"\b(?:not|isn't|ain't|wasn't|aren't|never)\b(?: \S+){0,2}? (?:right|correct|ok|okay|true)\b"
    r"|\b(?:stimmt|richtig|korrekt)(?: so| leider| aber| ganz)? nicht\b"
    r"|\bnicht(?: \S+)? (?:richtig|korrekt)\b"
)
_NO_TICKET = (
    "no", "none", "nein", "keine", "keins", "kein", "don't have", "do not have",
    "haven't", "habe keine", "hab keine", "no ticket", "kein ticket",
)  # fmt: skip


def words(speech: str) -> list[str]:
    """Lower-case words of a speech result, punctuation removed."""
    text = unicodedata.normalize("NFC", speech or "").lower()
    return re.findall(r"[\w'@.+-]+", text.replace(".", " . "))


def _plain(speech: str) -> str:
    return " ".join(w for w in words(speech) if w != ".")


def _letters_joined(speech: str) -> str:
    """'S. M. T. P.' and 'a p i' -> 'smtp', 'api' (for spelled acronyms)."""
    return re.sub(r"[^a-z]", "", (speech or "").lower())


_NUMBER_TOKEN = re.compile(r"\+?\d[\d-]*")  # "+49", "212-555-0100": how the recognizer writes numbers
_REPEAT_WORDS = {"double": 2, "triple": 3}  # "double five" (British callers)
# "extension 204", "Durchwahl 12"; and the hash key named or written ("#204", "pound 204", "Raute 12"): what follows
# the number on a switchboard's line is its extension, never more digits of the number
_EXTENSION_WORDS = frozenset("extension ext x durchwahl nebenstelle apparat hash pound raute".split())
_EXTENSION_KEYS = re.compile(r"[#*]")  # keyed: '#' ends the input, so a caller keys '*' before the extension


# Numbers said as numbers, not digit by digit: "extension twelve", "plus forty four", "two hundred (and) four",
# "zwölf", "vierundvierzig", "zweihundertvier". Until session 42 their words were dropped ("extension twelve" had no
# extension, "plus forty four 7911 ..." became +47 911 ..., "two hundred four" 24).
_EN_UNITS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
_EN_TEENS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
             "seventeen": 17, "eighteen": 18, "nineteen": 19}
_EN_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
            "eighty": 80, "ninety": 90}
_DE_UNITS = {"ein": 1, "eins": 1, "zwei": 2, "zwo": 2, "drei": 3, "vier": 4, "fünf": 5, "fuenf": 5, "sechs": 6,
             "sieben": 7, "acht": 8, "neun": 9}
_DE_TEENS = {"zehn": 10, "elf": 11, "zwölf": 12, "zwoelf": 12, "dreizehn": 13, "vierzehn": 14, "fünfzehn": 15,
             "fuenfzehn": 15, "sechzehn": 16, "siebzehn": 17, "achtzehn": 18, "neunzehn": 19}
_DE_TENS = {"zwanzig": 20, "dreißig": 30, "dreissig": 30, "vierzig": 40, "fünfzig": 50, "fuenfzig": 50,
            "sechzig": 60, "siebzig": 70, "achtzig": 80, "neunzig": 90}
_DE_UNIT = "|".join(sorted(_DE_UNITS, key=len, reverse=True))
_DE_NUMBER = re.compile(rf"(?:({_DE_UNIT})?hundert(?:und)?)?(?:({_DE_UNIT})und({'|'.join(_DE_TENS)})"
                        rf"|({'|'.join(_DE_TEENS)}|{'|'.join(_DE_TENS)})|({_DE_UNIT}))?")


def _german_number(word: str) -> int | None:
    """A German number of more than one digit written as one word ("zwölf", "vierundvierzig", "zweihundertvier");
    None for anything else (a digit word alone is a digit: ``_DIGIT_WORDS``)."""
    m = _DE_NUMBER.fullmatch(word)
    if m is None or not word or (m[5] and "hundert" not in word):
        return None
    value = (_DE_UNITS.get(m[1] or "ein", 1) * 100) if "hundert" in word else 0
    if m[2]:
        value += _DE_UNITS[m[2]] + _DE_TENS[m[3]]
    elif m[4]:
        value += _DE_TEENS.get(m[4]) or _DE_TENS[m[4]]
    elif m[5]:
        value += _DE_UNITS[m[5]]
    return value


def _english_number(tokens: list[str], i: int) -> tuple[int, int]:
    """The English number of more than one digit said from ``tokens[i]`` on, and how many words it took (0: none)."""
    j, value, hundreds = i, 0, False
    if tokens[j] == "hundred" or (j + 1 < len(tokens) and tokens[j + 1] == "hundred"
                                  and (tokens[j] in _EN_UNITS or tokens[j] in _EN_TEENS)):
        value = 100 if tokens[j] == "hundred" else (_EN_UNITS.get(tokens[j]) or _EN_TEENS[tokens[j]]) * 100
        j, hundreds = j + (1 if tokens[j] == "hundred" else 2), True
        if j + 1 < len(tokens) and tokens[j] == "and" and (tokens[j + 1] in _EN_UNITS or tokens[j + 1] in _EN_TEENS
                                                           or tokens[j + 1] in _EN_TENS):
            j += 1
    if j < len(tokens) and tokens[j] in _EN_TEENS:
        value, j = value + _EN_TEENS[tokens[j]], j + 1
    elif j < len(tokens) and tokens[j] in _EN_TENS:
        value, j = value + _EN_TENS[tokens[j]], j + 1
        if j < len(tokens) and tokens[j] in _EN_UNITS:
            value, j = value + _EN_UNITS[tokens[j]], j + 1
    elif hundreds and j < len(tokens) and tokens[j] in _EN_UNITS:
        value, j = value + _EN_UNITS[tokens[j]], j + 1
    return (value, j - i) if j > i else (0, 0)


def _number_words(tokens: list[str]) -> list[str]:
    """``tokens`` with each number said as a number (``_english_number``, ``_german_number``) written as numerals."""
    out, i = [], 0
    while i < len(tokens):
        german = _german_number("".join(tokens[i:i + 3]) if tokens[i + 1:i + 2] == ["und"] else tokens[i])
        if german is not None and tokens[i + 1:i + 2] == ["und"]:  # "neun und vierzig", as the recognizer may write it
            out.append(str(german))
            i += 3
            continue
        value, used = (german, 1) if german is not None else _english_number(tokens, i)
        out.append(str(value) if used else tokens[i])
        i += used or 1
    return out


def _spoken_digits(tokens: list[str]) -> str:
    """The digits of recognised words: numerals (separators dropped), digit words and numbers said as numbers."""
    out: list[str] = []
    repeat = 1
    for w in _number_words(tokens):
        if _NUMBER_TOKEN.fullmatch(w):
            digits = re.sub(r"\D", "", w)
        elif w in _DIGIT_WORDS:
            digits = _DIGIT_WORDS[w]
        else:
            repeat = _REPEAT_WORDS.get(w, 1)
            continue
        out.append(digits[0] * repeat + digits[1:])
        repeat = 1
    return "".join(out)


def digits_from(answer: Gathered, max_len: int = 20) -> str:
    """The digits of a keypad or spoken number answer ("four five" -> "45", "45-21" -> "4521")."""
    keys = re.sub(r"\D", "", answer.digits or "")
    if keys:
        return keys[:max_len]
    return _spoken_digits(words(answer.speech))[:max_len]


def phone_from(answer: Gathered, max_len: int = 20) -> tuple[str, str]:
    """A keyed or spoken phone number and its extension, the country code kept.

    "+44 20 7946 0000" -> ("+442079460000", ""); "plus one 212-555-0100 extension 204"
    -> ("+12125550100", "204"); "+1 415 555 0100 #204" and "... pound 204" alike. Keys are digits, and an
    extension keyed after '*' ("4155550100*204": '#' would end the input).
    """
    number_keys, _, extension_keys = (answer.digits or "").lstrip("#*").partition("*")
    keys = re.sub(r"\D", "", number_keys)
    if keys:
        return keys[:max_len], re.sub(r"\D", "", extension_keys)[:10]
    tokens = words(_EXTENSION_KEYS.sub(" extension ", answer.speech or ""))
    cut = next((i for i, w in enumerate(tokens) if w in _EXTENSION_WORDS and _spoken_digits(tokens[:i])), None)
    number, extension = (tokens, []) if cut is None else (tokens[:cut], tokens[cut + 1:])
    digits = _spoken_digits(number)
    first = next((i for i, w in enumerate(number) if _spoken_digits([w])), None)
    plus = first is not None and (number[first].startswith("+") or "plus" in number[:first])
    return (("+" if plus and digits else "") + digits)[:max_len], _spoken_digits(extension)[:10]


# Words around a digit said instead of pressed: "press 2", "option four", "die Eins", "Taste 3".
_MENU_FILLERS = frozenset("press option number the drücke drücken taste nummer die".split())


def menu_key(answer: Gathered) -> str:
    """The key of a menu answer: the keys pressed, or one digit said instead ("one", "1.", "press 2", "zwei").

    Menus say "press 1" and listen for speech too; a caller who answers aloud says the digit.
    Anything longer (two digits, a sentence) is not a key: "".
    """
    keys = (answer.digits or "").strip("#* ")
    if keys:
        return keys
    said = [w for w in _plain(answer.speech).split() if w not in _MENU_FILLERS]
    if len(said) == 1 and (said[0] in _DIGIT_WORDS or said[0].isdigit()):
        digit = _spoken_digits(said)
        return digit if len(digit) == 1 else ""
    return ""


# What the recognizer writes for a caller who hesitates or for line noise: no company, no name.
_HESITATIONS = frozenset("uh uhh um umm uhm hm hmm hmmm mm mhm mmm huh er erm ah eh äh ähm öh öhm hä".split())


def only_hesitation(speech: str) -> bool:
    """True when every word said is a hesitation ("Uh.", "Hmm", "uh huh", "Ähm"): nothing to record.

    A word written in capitals ("HM", "MM") is an acronym the recognizer heard spelled, not a "hm"."""
    if any(len(w) > 1 and w.isupper() for w in re.findall(r"[^\W\d_]+", speech or "")):
        return False
    said = _plain(speech).split()
    return bool(said) and all(w.strip("'-") in _HESITATIONS for w in said)


# words around a bare yes or no ("yes, please", "okay, thank you", "ja, bitte", "that's right")
_COURTESY = frozenset("please thank thanks you that's thats that is it danke bitte das ist es".split())


def only_yes_no(speech: str) -> bool:
    """True when the words said are a bare yes or no with at most courtesy around it ("Yes.", "okay", "Ja, bitte.",
    "no thanks"): an answer to a question the caller thought was asked ("I found your ticket"), never a company or
    a name (an outside probe's caller said "yes" to the company and the name questions, and the page named "yes")."""
    said = [w.strip("'-") for w in _plain(speech).split()]
    return (any(w in _YES or w in _NO for w in said)
            and all(w in _YES or w in _NO or w in _HESITATIONS or w in _COURTESY for w in said))


def is_empty(answer: Gathered) -> bool:
    """True when the caller gave neither keys nor speech."""
    return not (answer.digits or "").strip("#* ") and not (answer.speech or "").strip()


def yes_no(answer: Gathered) -> bool | None:
    """1/yes -> True, 2/no -> False, anything else None."""
    keys = (answer.digits or "").strip("#* ")
    if keys:
        return {"1": True, "2": False}.get(keys)
    text = _plain(answer.speech)
    if not text:
        return None
    if negated(text):
        return False
    ws = set(text.split())
    yes, no = bool(ws & _YES), bool(ws & _NO)
    if yes != no:
        return yes
    if text in ("one", "eins", "1"):
        return True
    if text in ("two", "zwei", "zwo", "2"):
        return False
    return None


def negated(text: str) -> bool:
    """True when plain speech text negates a yes-word ("that's not correct", "das stimmt nicht")."""
    return any(p in text for p in _NEGATED_YES) or bool(_NEGATION.search(text))


_LANGUAGE_WORDS = {Lang.DE: frozenset({"deutsch", "german", "germany", "deutsche", "zwei", "two"}),
                   Lang.EN: frozenset({"english", "englisch", "one", "eins"})}
# a language named after a negation ("ich spreche kein Englisch", "nicht Englisch", "no German", "I don't speak
# German"): not the one chosen. "No, German please" (a comma after the no) is a choice of German.
_NEGATED_LANGUAGE = re.compile(
    r"\b(?:kein\w*|nicht|not|no|don'?t speak|do not speak)\s+(?:\w+\s+)?"
    r"(english|englisch|deutsch|deutsche|german)\b")


def language(answer: Gathered) -> Lang | None:
    """1/English -> EN, 2/Deutsch/German -> DE; a language named only negated ("kein Englisch", "no German") is the
    other one (an outside probe's "ich spreche kein Englisch" chose English); both or neither named: None."""
    keys = menu_key(answer)
    if keys:
        return {"1": Lang.EN, "2": Lang.DE}.get(keys)
    said = unicodedata.normalize("NFC", answer.speech or "").lower()
    negated = {lang for word in _NEGATED_LANGUAGE.findall(said)
               for lang, words in _LANGUAGE_WORDS.items() if word in words}
    remaining = _NEGATED_LANGUAGE.sub(" ", said)
    named = {lang for lang, words in _LANGUAGE_WORDS.items() if set(_plain(remaining).split()) & words} - negated
    if len(named) == 1:
        return named.pop()
    if not named and len(negated) == 1:
        return Lang.EN if negated == {Lang.DE} else Lang.DE
    return None


# words that say a service works, and words that say it fails (a working word negated fails: "geht nicht")
_WORKING = frozenset("fine works working ok okay good normal geht funktioniert läuft laeuft".split())
_FAILING = frozenset("fail fails failing failed down broken error errors dead not nicht kaputt aus ausgefallen "
                     "fehler doesn't isn't".split())
_CLAUSES = re.compile(r"\b(?:but|aber|while|während|whereas|and|und|jedoch|doch)\b|[,;.]")


def _the_failing_one(speech: str) -> AffectedService:
    """Of API and SMTP, both named in ``speech``: the one failing when the other is said to work in its own clause
    (an outside probe's "API is fine but SMTP fails" and "SMTP geht nicht, API geht" were taken for both down),
    else both."""
    working = set()
    for clause in _CLAUSES.split(unicodedata.normalize("NFC", speech).lower()):
        words_in = {w.strip(".") for w in words(clause)}
        if words_in & _WORKING and not words_in & _FAILING:
            working |= {name for name in ("api", "smtp") if name in words_in}
    if working == {"api"}:
        return AffectedService.SMTP
    if working == {"smtp"}:
        return AffectedService.API
    return AffectedService.BOTH


def service(answer: Gathered) -> AffectedService | str | None:
    """Triage answer: an AffectedService, NON_CRITICAL, or None if not understood."""
    keys = menu_key(answer)
    by_key = {
        "1": AffectedService.API,
        "2": AffectedService.SMTP,
        "3": AffectedService.BOTH,
        "4": AffectedService.OTHER,
        "9": NON_CRITICAL,
    }
    if keys:
        return by_key.get(keys)
    text = _plain(answer.speech)
    if not text:
        return None
    if re.search(r"\b(not|nicht|kein|keine|non)\b[ -]*(a )?(critical|kritisch|kritische|kritischer)", text):
        return NON_CRITICAL
    ws = set(text.split())
    joined = _letters_joined(answer.speech)
    api = "api" in ws or "apis" in ws or joined == "api"
    smtp = "smtp" in ws or "smtp" in joined
    if ws & {"both", "beide", "beides", "all", "alles"}:
        return AffectedService.BOTH
    if api and smtp:  # both named: one of them may be said to work ("API is fine but SMTP fails")
        return _the_failing_one(answer.speech)
    if api:
        return AffectedService.API
    if smtp:
        return AffectedService.SMTP
    if ws & {"other", "andere", "anderes", "anderer", "something", "sonstiges"}:
        return AffectedService.OTHER
    return None


def no_ticket(answer: Gathered) -> bool:
    """True when the caller says or keys that they have no ticket (a bare '#')."""
    if (answer.digits or "").strip() == "#":
        return True
    text = _plain(answer.speech)
    return bool(text) and any(re.search(rf"\b{re.escape(p)}\b", text) for p in _NO_TICKET)


_READBACK_WORDS = (
    ({"correct", "right", "yes", "ja", "richtig", "stimmt", "korrekt", "genau"}, "1"),
    ({"company", "firma", "firmenname", "unternehmen"}, "2"),
    ({"name"}, "3"),
    ({"number", "phone", "callback", "nummer", "telefonnummer", "rückrufnummer"}, "4"),
    ({"email", "e-mail", "mail", "address", "adresse"}, "5"),
    ({"problem", "description", "beschreibung", "problembeschreibung"}, "6"),
    ({"type", "service", "kind", "problemart", "dienst"}, "7"),
)


def readback_choice(answer: Gathered) -> str | None:
    """'1'..'7' from keys or speech at the read-back menu, else None ("the problem type" is 7, not the description's
    6: a type word wins over "problem")."""
    keys = menu_key(answer)
    if keys:
        return keys if keys in {"1", "2", "3", "4", "5", "6", "7"} else None
    text = _plain(answer.speech)
    ws = set(text.split())
    if not ws:
        return None
    # A field word wins over "yes": "the name is not right" means correct the name.
    hits = [choice for vocab, choice in _READBACK_WORDS[1:] if ws & vocab]
    if hits == ["6", "7"]:  # "the problem type"
        return "7"
    if len(hits) == 1:
        return hits[0]
    # "That's not correct" holds "correct" but confirms nothing.
    if not hits and ws & _READBACK_WORDS[0][0] and not ws & _NO and not negated(text):
        return "1"
    return None
