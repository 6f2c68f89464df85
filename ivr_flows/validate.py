"""Pure cleaning and validation of what callers say or type."""

from __future__ import annotations

import re
import unicodedata

import idna
import phonenumbers

from .number_kinds import refused_kind

_SPACE = re.compile(r"\s+")
_EMAIL = re.compile(
    r"^(?!\.)(?!.*\.\.)[a-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}(?<!\.)"
    r"@(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
)

# Caller IDs that mean "withheld" rather than a number.
_WITHHELD = frozenset({"", "anonymous", "restricted", "unknown", "private", "unavailable", "withheld", "blocked"})
# Twilio's stand-ins for a withheld caller ID: they parse as numbers but reach nobody.
_WITHHELD_NUMBERS = frozenset({"+266696687", "+86282452253", "+8656696", "+2562533", "+7378742833"})
_MAX_NUMBER_CHARS = 20

# Spoken e-mail words -> characters (English and German; lower-case).
_EMAIL_WORDS = {
    "dot": ".",
    "period": ".",
    "point": ".",
    "punkt": ".",
    "at": "@",
    "ät": "@",
    "ett": "@",
    "klammeraffe": "@",
    "underscore": "_",
    "unterstrich": "_",
    "dash": "-",
    "hyphen": "-",
    "minus": "-",
    "bindestrich": "-",
    "strich": "-",
    "plus": "+",
}
_EMAIL_PHRASES = (
    ("at sign", " @ "),
    ("at-zeichen", " @ "),
    ("at zeichen", " @ "),
    ("under score", " _ "),
    ("full stop", " . "),
)

# What callers say before the address itself: "my e-mail is ...", "it's ...", "meine E-Mail-Adresse lautet ...".
_EMAIL_PREAMBLE = re.compile(
    r"^(?:(?:yes|yeah|ok|okay|sure|so|ja|also)[ ,]+)?"
    r"(?:it's|it is|that's|that is|this is|(?:my|the) (?:e-?mail|address)(?: address)? is"
    r"|meine (?:e-?mail|adresse)(?:-adresse| adresse)? (?:ist|lautet)|sie lautet|die lautet|das ist|es ist)[ ,:]+"
)


def clean_text(s: str | None, max_chars: int) -> str:
    """Drop control and format characters, collapse whitespace, truncate.

    Words between ``<`` and ``>`` are words ("error <550 mailbox unavailable>", "<ops@example.com>"): kept as said,
    and escaped wherever they are shown (TwiML, the dashboard's templates and rows). Until session 44 they were cut
    out here as HTML tags, and what the caller said of them reached no one.
    """
    if not s:
        return ""
    s = unicodedata.normalize("NFC", str(s))
    chars = []
    for ch in s:
        cat = unicodedata.category(ch)
        if cat == "Cc" or cat in ("Zl", "Zp"):
            chars.append(" ")  # newlines and tabs separate words
        elif cat.startswith("C"):
            continue  # format/private/unassigned code points carry no meaning for us
        else:
            chars.append(ch)
    s = _SPACE.sub(" ", "".join(chars)).strip()
    if max_chars <= 0:
        return ""
    if len(s) > max_chars:
        s = s[:max_chars].rstrip()
    return s


def normalize_spoken_email(s: str | None) -> str:
    """Turn a recognised spoken e-mail address into its written form (lower-case)."""
    if not s:
        return ""
    text = _EMAIL_PREAMBLE.sub("", unicodedata.normalize("NFC", s).lower().strip())
    for phrase, repl in _EMAIL_PHRASES:
        text = text.replace(phrase, repl)
    text = text.replace(",", " ")
    tokens = [piece for tok in text.split() for piece in re.split(r"(@)", tok) if piece]
    if any(_glued_spelling(tok) for tok in tokens):
        return ""  # refused: the caller is asked again, and spelling with pauses is unambiguous
    tokens = [_unspelled(tok) for tok in tokens]
    out: list[str] = []
    seen_at = False
    for tok in tokens:
        word = _EMAIL_WORDS.get(tok)
        if word == "@":
            # "at" after "dot" is the Austrian TLD; a second "at" is a literal word.
            if seen_at or (out and out[-1] == "."):
                word = None
            else:
                seen_at = True
        elif "@" in tok:
            seen_at = True
        out.append(word if word is not None else tok)
    local, at, domain = "".join(out).strip(".,;:!?'\"").rpartition("@")
    if not at:
        return _unaccented(domain)  # no "@": not an address (``is_valid_email`` refuses it)
    written = _idn_domain(domain)
    return f"{_unaccented(local)}@{written}" if written else ""


# A German recognizer writes what it hears: "Müller", "Weiß". A local part writes those letters as German
# addresses do (mueller, weiss); any other accent is dropped (rené -> rene), full-width letters become
# plain ones. The caller hears the address spelled and confirms it (``questions._email_confirm``).
# Never the domain: "bäckerei-schmidt.de" and "baeckerei-schmidt.de" are two registrable domains, maybe two
# owners (``_idn_domain``).
_GERMAN_LETTERS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def _idn_domain(domain: str) -> str:
    """The domain as SMTP takes it: an internationalised one ("bäckerei-schmidt.de") in its ASCII form
    ("xn--bckerei-schmidt-0kb.de", IDNA 2008 with UTS 46 mapping: "weiß.de" stays weiß, not weiss); full-width
    letters become plain ones. "" for a domain IDNA refuses (the caller is asked again)."""
    plain = unicodedata.normalize("NFKC", domain)
    if plain.isascii():
        return plain
    try:
        return idna.encode(plain, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return ""


def email_for_caller(email: str) -> str:
    """An address as the caller said it, to read back and spell: an internationalised domain stored in its ASCII
    form ("xn--bckerei-schmidt-0kb.de") in its own letters ("bäckerei-schmidt.de")."""
    local, at, domain = email.rpartition("@")
    if not at or "xn--" not in domain:
        return email
    try:
        return f"{local}@{idna.decode(domain)}"
    except (idna.IDNAError, UnicodeError):
        return email


def _unaccented(email: str) -> str:
    decomposed = unicodedata.normalize("NFKD", email.translate(_GERMAN_LETTERS))  # email: NFC, lower-case
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# A spelled word as the recognizer writes it: "j." (one letter and its full stop), "j.o.h.n." (letters each
# with a full stop) or "j.o.h.n" (three or more letters between full stops). "j.r" stays: initials are real.
_SPELLED = re.compile(r"(?:[^\W_]\.)+|[^\W_](?:\.[^\W_]){2,}")  # a letter of any alphabet: "m.ü.l.l.e.r."


def _unspelled(token: str) -> str:
    """The letters of a spelled token ("j.o.h.n." -> "john"); any other token as it is.

    The recognizer marks each spelled letter with a full stop; a dot the caller says is the word "dot"
    (or a lone "."), so these full stops are not part of the address.
    """
    return token.replace(".", "") if _SPELLED.fullmatch(token) else token


def _glued_spelling(token: str) -> bool:
    """True for spelled letters glued to a word ("j.o.h.n.smith"): john.smith, johnsmith or j.o.h.n.smith?

    Two initials before a name ("j.r.smith") are a real address; three or more single letters are spelling.
    """
    parts = token.split(".")
    run = longest = 0
    for part in parts:
        run = run + 1 if len(part) == 1 else 0
        longest = max(longest, run)
    return longest >= 3 and any(len(part) > 1 for part in parts)


def is_valid_email(s: str | None) -> bool:
    """True for a plausible local@domain.tld address of at most 254 characters."""
    if not s or len(s) > 254:
        return False
    return bool(_EMAIL.match(s.lower()))


def _candidates(raw: str) -> list[str]:
    compact = re.sub(r"[\s().\-/]", "", raw)
    out = [raw]
    if compact.startswith("00") and compact[2:].isdigit():
        out.append("+" + compact[2:])
    if compact.isdigit() and len(compact) >= 11:
        out.append("+" + compact)
    return out


def parse_callback_number(
    raw: str | None,
    default_region: str,
    allowed_regions: tuple[str, ...] | list[str],
    *,
    hotline_number: str = "",
) -> str | None:
    """Return the E.164 form of a number we may call back, or None."""
    return _judge_callback(raw, default_region, allowed_regions, hotline_number)[0]


def callback_refusal(
    raw: str | None,
    default_region: str,
    allowed_regions: tuple[str, ...] | list[str],
    *,
    hotline_number: str = "",
) -> str:
    """Why ``raw`` cannot be a callback number: "withheld", "own", "premium", "region", "invalid"; "" if it can.

    "premium" stands for every kind of number we do not dial (see ``number_kinds``);
    "own" is the hotline's own number (a callback would ring the hotline itself).
    """
    return _judge_callback(raw, default_region, allowed_regions, hotline_number)[1]


def _judge_callback(
    raw: str | None, default_region: str, allowed_regions: tuple[str, ...] | list[str], hotline_number: str,
) -> tuple[str | None, str]:
    """The one rule for callback numbers: (E.164, "") when we may call it back, else (None, why not)."""
    if raw is None or raw.strip().lower() in _WITHHELD or raw.strip() in _WITHHELD_NUMBERS:
        return None, "withheld"
    raw = raw.strip()
    if len(raw) > _MAX_NUMBER_CHARS:
        return None, "invalid"
    own = _e164(hotline_number)
    reason = "invalid"
    for candidate in _candidates(raw):
        try:
            number = phonenumbers.parse(candidate, default_region)
        except phonenumbers.NumberParseException:
            continue
        if not phonenumbers.is_valid_number(number):
            continue
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if own and e164 == own:
            reason = "own"
            continue
        if refused_kind(number):
            reason = "premium" if reason != "own" else reason
            continue
        if phonenumbers.region_code_for_number(number) not in allowed_regions:
            reason = "region" if reason == "invalid" else reason
            continue
        return e164, ""
    return None, reason


def _e164(raw: str) -> str:
    """The E.164 form of a configured number (the hotline's); "" when unset, as written when unreadable."""
    try:
        return phonenumbers.format_number(phonenumbers.parse(raw, None), phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        return raw.strip()


def region_of(raw: str | None) -> str | None:
    """The region of a valid phone number (e.g. the caller ID), else None."""
    if not raw or len(raw) > _MAX_NUMBER_CHARS or raw.strip().lower() in _WITHHELD:
        return None
    try:
        number = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.region_code_for_number(number)


def is_valid_phone(raw: str | None) -> bool:
    """True if ``raw`` is a valid international number (withheld IDs are not)."""
    return region_of(raw) is not None
