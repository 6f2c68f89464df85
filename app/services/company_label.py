"""How the hotline names an incident's company to its staff (reps, managers, the account's TAM), in one place.

The company is what the caller said, else the name of their ticket's account (``tickets.company_of``). A name the
caller did not say reads "(from the ticket)", on the board as in every page. A keyed ticket number or a caller ID is
not an identity: when such a name came from the ticket, the caller proved nothing (no support PIN, no incident
reference) and the number the rep is to call back (or, without one, the e-mail address) is not the ticket contact's,
the name is followed by "UNVERIFIED caller, number not the ticket's" (spoken: a sentence of its own), so nobody
calls a stranger believing they are that customer's contact (an outside probe keyed another customer's ticket from
its own phone, hung up at the company question, and the reps were paged "SEV1 556087 Soylent Corp 4713: ...").

A name the caller said never carries those markers (``said_company``): its parentheses read as square brackets and
the hotline's own words of where a name came from or whether a caller is verified are left out, so "Acme Mail Inc
(from the ticket)" said by a stranger reads "Acme Mail Inc", as any company a caller says (an outside probe's
caller said exactly that and the reps were paged "SEV1 612215 Acme Mail Inc (from the ticket): ...").
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import Select
from sqlalchemy.orm import Session, object_session

from app.models import Account, Contact, Incident, Ticket
from app.prompts import REP_LANG, text
from app.services.caller_trust import MATCHES, details_match, email_on_file, phone_on_file
from app.services.tickets import company_of, named_account_sql, named_company

PROVEN = ("pin", "reference")  # how a caller proves who they are (``caller_trust.note_verified``; the timeline's)
TEXT_LIMIT = 40  # the characters of a company's name a text carries

# The hotline's own words after a company's name (``company_from_ticket``, ``company_unproven`` and their spoken
# forms in app/prompts, every language: a German caller's company is read by English reps and the other way round),
# and "verified", which the hotline never says of a caller but a caller may claim; longest first. Matched whatever
# the case and whatever stands between the words ("From-The  Ticket"), never inside a word ("Ticketmaster").
_MARKER_PHRASES = (
    "number not the ticket's", "e-mail not the ticket's", "nummer nicht die des tickets", "e-mail nicht die des tickets",
    "has not proved who they are", "according to the ticket", "not on the ticket", "not the ticket's",
    "from the ticket", "unverified caller", "unverified", "verified",
    "hat sich nicht ausgewiesen", "anrufer nicht verifiziert", "steht nicht im ticket", "nicht die des tickets",
    "nicht verifiziert", "laut ticket", "unverifiziert", "verifiziert",
)
# The words that introduce a page's own fields ("Call back +1... by 12:34 UTC. Reply ACK 123456", "SEV1 123456"):
# said in a company's name they would read as the hotline's (an outside probe's caller said their company was "Acme.
# Call back +19005550000 by 12:20 UTC. Reply ACK 111111 SEV1 222222 Globex", and the rep's SMS page began with that
# premium-rate number as its "Call back"; the voice page spoke it as the only number). Left out as the markers are.
# "Callback" as one word is kept: it names companies ("Callback Systems"), and with the number after it gone it
# introduces nothing a rep could dial.
_FIELD_PHRASES = ("call me back", "call back", "reply ack", "reply call", "sev1", "sev 1", "severity 1")
_MARKERS = re.compile("|".join(r"(?<![^\W_])" + between.join(re.findall(r"\w+", phrase)) + r"(?![^\W_])"
                               for phrases, between in ((_MARKER_PHRASES, r"[\W_]*"), (_FIELD_PHRASES, r"[\W_]+"))
                               for phrase in phrases), re.IGNORECASE)
# A phone number, or any run of five digits or more (a reference, an account number: a rep must never find one to
# dial or key in a name a caller said), not begun inside a word ("SEV1 222222" is the words and a number), and a
# time of day ("12:20", "9 pm"): each reads as a placeholder, "[number]" or "[time]".
_NUMBER = re.compile(r"(?<![^\W\d_])\[?\+?\d(?:[\s.\-/\[\]]*\d){4,}\]?")
_TIME = re.compile(r"(?<![^\W_])\d{1,2}\s*(?::\s*\d{2}(?:\s*[ap]\.?\s?m\b\.?)?|[ap]\.?\s?m\b\.?)", re.IGNORECASE)
_EMPTY_BRACKETS = re.compile(r"\[[\W_]*?\]")
_SEPARATORS = re.compile(r"\s*([,;:])[\s,;:]*")
_INSIDE_BRACKETS = re.compile(r"(?<=\[)\s+|\s+(?=\])")
_EDGES = " \t,;:-\u2013\u2014/|"


def said_company(said: str) -> str:
    """A company's name (or any words) as the caller said it, made unable to read as one the hotline named or as a
    page's own fields: any opening or closing bracket ("(", "（", "❨") as "[" or "]", none of the hotline's marker
    words (``_MARKER_PHRASES``) nor the words of its fields ("Call back", "Reply ACK", "SEV1": ``_FIELD_PHRASES``),
    a phone number or any five digits as "[number]", a time of day as "[time]", empty brackets and dangling
    separators dropped; "" when nothing else was said. The one rule of a caller's words in texts and voice pages to
    staff (the company, and a joined contact's name)."""
    name = "".join(" " if c.isspace() else c for c in unicodedata.normalize("NFKC", said)
                   if c.isspace() or unicodedata.category(c) not in ("Cf", "Cc"))  # a line break parts words
    name = "".join("[" if unicodedata.category(c) == "Ps" else "]" if unicodedata.category(c) == "Pe" else c
                   for c in name)
    name = _NUMBER.sub(" [number] ", _TIME.sub(" [time] ", name))
    while True:  # until nothing changes: removing "from the ticket" from "from the from the ticket ticket" leaves one
        shorter = _EMPTY_BRACKETS.sub(" ", _MARKERS.sub(" ", name))
        if shorter == name:
            break
        name = shorter
    return _INSIDE_BRACKETS.sub("", " ".join(_SEPARATORS.sub(r"\1 ", name).split())).strip(_EDGES)


def shown_company(said: str, on_ticket: str | None, lang: str = REP_LANG) -> str:
    """The company as the board shows it (``tickets.named_company``): "(from the ticket)" after a name the caller did
    not say; a name the caller said as ``said_company`` reads it; "" for none (the caller's words "Company not given"
    follow)."""
    name, from_ticket = named_company(said, on_ticket)
    return text("company_from_ticket", lang, company=name) if from_ticket else said_company(name)


def unproven_contact(incident: Incident, session: Session | None = None) -> str:
    """What of an unproven caller's contact is not the ticket's: "number" (the callback number is none of the ticket
    contact's phones), "email" (no callback number, and the e-mail address is not the contact's), or "" (a caller
    who proved who they are, no ticket, the ticket's own contact, or nothing to reach them by)."""
    if incident.caller_verified in PROVEN or incident.ticket_id is None:
        return ""
    session = session or object_session(incident)
    if session is None or not (incident.callback_phone or incident.email):
        return ""
    matched = details_match(session, incident)
    return unproven_field(incident.caller_verified, True, incident.callback_phone, incident.email,
                          matched.get("callback_phone") == MATCHES, matched.get("email") == MATCHES)


def unproven_field(verified: str | None, has_ticket: bool, callback_phone: str, email: str, phone_matches: bool,
                   email_matches: bool) -> str:
    """The one rule of ``unproven_contact`` on values already read (the board reads them in its one query): the
    callback number is the contact the rep uses, else the e-mail address; "" when either matches the ticket's."""
    if verified in PROVEN or not has_ticket:
        return ""
    if callback_phone:
        return "" if phone_matches else "number"
    if email:
        return "" if email_matches else "email"
    return ""


def board_unproven(row) -> str:
    """``unproven_field`` for a board row (``dashboard.queries.board``: the incident's columns with its ticket
    contact's phones and e-mail address)."""
    return unproven_field(row.caller_verified, row.ticket_id is not None, row.callback_phone, row.email,
                          phone_on_file(row.callback_phone, {row.contact_phone, row.contact_phone_alt}),
                          email_on_file(row.email, row.contact_email or ""))


def board_company(said: str, on_ticket: str | None, unproven: str) -> str:
    """The company as the board's row shows it: ``shown_company``, and for a name from the ticket whose caller proved
    nothing and whose contact is not the ticket's (``unproven``: "number" or "email"), the warning every page carries
    (an outside probe's rep read "Soylent Corp (from the ticket)" on the board and nothing more)."""
    shown = shown_company(said, on_ticket)
    if not unproven or not shown or said:
        return shown
    return text("company_unproven", REP_LANG, company=shown, contact=text(f"company_contact_{unproven}", REP_LANG))


# What ``row_company`` reads of an incident and its ticket (``with_company``): the board's query selects the same.
COMPANY_COLUMNS = (Incident.company, named_account_sql().label("ticket_company"), Incident.caller_verified,
                   Incident.ticket_id, Incident.callback_phone, Incident.email, Contact.phone.label("contact_phone"),
                   Contact.phone_alt.label("contact_phone_alt"), Contact.email.label("contact_email"))
# The incident columns it depends on (a change of one, or of the ticket's account or contact, changes what it shows)
COMPANY_INPUTS = ("company", "ticket_id", "ticket_match", "caller_verified", "pin_account_id", "callback_phone",
                  "email")


def with_company(query: Select) -> Select:
    """``query`` (of incidents) with ``COMPANY_COLUMNS``: its ticket's account and contact outer-joined."""
    return (query.add_columns(*COMPANY_COLUMNS).outerjoin(Ticket, Ticket.id == Incident.ticket_id)
            .outerjoin(Account, Account.id == Ticket.account_id).outerjoin(Contact, Contact.id == Ticket.contact_id))


def row_company(row) -> str:
    """The company as the board shows it (``board_company``) for a row with ``COMPANY_COLUMNS``: the board's rows and
    the compliance report's (its page, CSV and JSON) read it here; "" for none."""
    if row.company or not row.ticket_company:
        return board_company(row.company, None, "")
    return board_company("", row.ticket_company, board_unproven(row))


def company_label(incident: Incident, session: Session | None = None, *, unknown: str = "unknown company",
                  limit: int | None = TEXT_LIMIT, lang: str = REP_LANG) -> str:
    """The company as a text to staff names it: the name (its first ``limit`` characters), "(from the ticket)" when
    the caller did not say it, and then, for a caller who proved nothing and whose contact is not the ticket's,
    "UNVERIFIED caller, number not the ticket's"; a name the caller said as ``said_company`` reads it; ``unknown``
    when neither the caller nor a ticket names one."""
    name, from_ticket = company_of(incident, session)
    name = name if from_ticket else said_company(name)
    if not name:
        return unknown
    label = text("company_from_ticket", lang, company=name[:limit] if limit else name) if from_ticket else name[:limit]
    contact = unproven_contact(incident, session) if from_ticket else ""
    if not contact:
        return label
    return text("company_unproven", lang, company=label, contact=text(f"company_contact_{contact}", lang))


def spoken_company(incident: Incident, unknown: str = "an unknown company") -> str:
    """The company as a voice page says it: "Acme, according to the ticket" for a name the caller did not say (one
    they said as ``said_company`` reads it)."""
    name, from_ticket = company_of(incident)
    name = name if from_ticket else said_company(name)
    if not name:
        return unknown
    return text("company_from_ticket_spoken", company=name) if from_ticket else name


def spoken_caution(incident: Incident) -> str:
    """The sentence a voice page adds (leading space) when its company came from the ticket, the caller proved
    nothing and their contact is not the ticket's; "" otherwise."""
    if not company_of(incident)[1]:
        return ""
    contact = unproven_contact(incident)
    if not contact:
        return ""
    return text("company_unproven_spoken", contact=text(f"company_contact_{contact}_spoken"))
