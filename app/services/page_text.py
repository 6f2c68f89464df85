"""What pages and customer messages say (SMS bodies and spoken page summaries)."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from app.event_kind import EventKind
from app.models import Account, Callback, CallbackOutcome, DueStep, Incident, IncidentEvent, Page, Rep, StepKind
from app.oncall.wallclock import stored_zone
from app.prompts import REP_LANG, text
from app.reports.facts import short_bridges
from app.services import customer_text
from app.services.callback_extensions import callback_extension, phone_with_extension
from app.services.caller_trust import CALLBACK_DIGITS_SAID
from app.services.company_label import company_label, spoken_caution, spoken_company
from app.services.joined_contacts import UNTRACKED, contacts_of
from app.services.ownership import ownership
from app.telephony.protocol import is_machine
from ivr_flows.prompts import days_apart, zone_label

CALL_NOT_PLACED = ("failed", "call_failed", "not_placed_in_time")  # a rep leg's ``why`` when Twilio did not place the call at all
SERVICE_SHORT = {"api": "API calls failing", "smtp": "SMTP injection failing",
                 "both": "API + SMTP failing", "other": "critical problem"}
# the same in the German half of the TAM's e-mail (a German caller's incident)
SERVICE_SHORT_DE = {"api": "API-Aufrufe fallen aus", "smtp": "SMTP-Einlieferung fällt aus",
                    "both": "API und SMTP fallen aus", "other": "kritisches Problem"}


def rep_clock(rep: Rep | None) -> str:
    """The time zone a rep reads and hears deadlines in: theirs; UTC for anyone who is not a rep (or has none), and
    for a rep whose stored zone does not load (``wallclock.stored_zone``): a page never fails for it."""
    return stored_zone(rep.time_zone, f"rep {rep.id}") if rep is not None else "UTC"


def tam_clock(account: Account | None) -> str:
    """The time zone an account's TAM reads and hears deadlines in: the one their business hours are kept in
    (UTC without an account, or for a zone no longer known)."""
    return stored_zone(account.tam_time_zone, f"account {account.id}'s TAM") if account is not None else "UTC"


def company_name(incident: Incident, lang: str = REP_LANG) -> str:
    """How a text names an incident's company to a rep, a manager or a TAM ("SEV1 123456 {company}: ..."): what
    the caller gave, else its ticket's account's "(from the ticket)", with "UNVERIFIED caller, number not the
    ticket's" for a caller who proved nothing and gave another number (``company_label``, the one rule); "unknown
    company" when neither is known (a rescued call without a ticket)."""
    return company_label(incident, lang=lang)


def hhmm(when: datetime, tz: str = "UTC", seconds: bool = False) -> str:
    """``03:15 UTC`` style time in ``tz`` (``03:15:42 UTC`` with ``seconds``; ``03:15 UTC+4`` on Dubai's clock,
    ``zone_label``)."""
    local = when.astimezone(ZoneInfo(tz))
    return f"{local:{'%H:%M:%S' if seconds else '%H:%M'}} {zone_label(local)}"


def deadline_passed(incident: Incident, at: datetime | None) -> bool:
    """Whether a text written, or a call heard, at ``at`` comes once the callback deadline has passed: it then says
    so, never "by {due}" as if still in time (an outside probe's rep read "Call back ... by 12:21 PST" at 12:22, and
    heard "must be called back by 15:52 J S T" at 15:53). ``None``: not known, read as in time. The one rule of every
    page, alert and TAM text (SMS, voice and e-mail) here."""
    return at is not None and at >= incident.callback_due_at


def due_text(due: datetime, tz: str, since: datetime | None, seconds: bool = False) -> str:
    """A due time as a rep or manager reads it: ``14:00 CET`` when ``due`` falls on the same local day as ``since``
    (the text's moment), else ``2026-12-04 14:00 CET``: a next update a day away must not read as one due today, nor
    a page written at 23:58 read "by 00:13 PST" without its day, by the rule every time names its day
    (``days_apart``); a customer reads it in words (``customer_text.written_time``)."""
    local = due.astimezone(ZoneInfo(tz))
    time = hhmm(due, tz, seconds)
    return time if days_apart(local, since) == 0 else f"{local:%Y-%m-%d} {time}"


def dated(when: datetime, tz: str = "UTC", seconds: bool = False) -> str:
    """``2026-12-06 03:15 UTC`` style time in ``tz``: for an e-mail read hours later (the TAM's, out of hours),
    where "by 03:15" leaves the day to guess."""
    local = when.astimezone(ZoneInfo(tz))
    return f"{local:%Y-%m-%d} {hhmm(when, tz, seconds)}"


def answered_in_time(answered: datetime, due: datetime, clock: Callable[..., str], lang: str = REP_LANG) -> str:
    """How a text says a callback answered at ``answered`` kept the ``due`` deadline, each time as ``clock(when,
    seconds=...)`` writes it on the reader's clock: "at 08:04 UTC, by the 08:05 UTC deadline"; both in the same
    minute there, to the second and how long before: "at 08:05:12 UTC, 18 seconds before the 08:05:30 UTC deadline"
    ("answered at 08:05 UTC, by the 08:05 UTC deadline" read as a contradiction). The one wording of the correction
    SMS, the TAM's correction e-mail and the timeline."""
    if clock(answered) != clock(due):
        return text("answered_by_deadline", lang, answered=clock(answered), due=clock(due))
    # counted on the seconds shown, so the sum agrees with the two times the reader sees
    gap = int((due.replace(microsecond=0) - answered.replace(microsecond=0)).total_seconds())
    key = "seconds_many" if gap > 1 else "seconds_one" if gap == 1 else "seconds_under_one"
    return text("answered_seconds_before", lang, answered=clock(answered, seconds=True),
                seconds=text(key, lang, n=gap), due=clock(due, seconds=True))


def page_sms(incident: Incident, ack_link: str, tz: str = "UTC", at: datetime | None = None,
             handed_over: bool = False) -> str:
    """The SMS page: reference, company, service, deadline (on the rep's clock, ``tz``), how to acknowledge; for a
    customer who left no number, their e-mail address instead of "Call back n/a" and no CALL (it places nothing).
    A page written at ``at``, once the deadline had passed (its level's step ran late: no worker ran, Twilio was
    down), says it passed: an outside probe's rep read "Call back ... by 12:21 PST" at 12:22, as if still in time.
    ``handed_over``: the page of a rota hand-off (``hand_offs``) says so, and how long is left (``handed_over_said``)."""
    service = SERVICE_SHORT.get(incident.affected_service, "critical problem")
    service += handed_over_said(incident, at) if handed_over else ""
    due = due_text(incident.callback_due_at, tz, at)
    by = f"now: the {due} deadline has passed" if deadline_passed(incident, at) else f"by {due}"
    if not incident.callback_phone:
        return (f"SEV1 {incident.reference} {company_name(incident)}: {service}. {reach_in_writing(incident)} {by}."
                f"{also_call(incident, tz, at)} Reply ACK {incident.reference}. {ack_link}").strip()
    phone = phone_with_extension(incident.callback_phone, callback_extension(incident))
    return (f"SEV1 {incident.reference} {company_name(incident)}: {service}. Call back {phone} "
            f"{by}.{also_call(incident, tz, at)} Reply ACK {incident.reference} or "
            f"CALL {incident.reference}. {ack_link}").strip()


def hand_off_page(page: Page) -> bool:
    """Whether ``page`` is the page of a rota hand-off (its step's kind: ``hand_offs``)."""
    session = object_session(page)
    step = session.get(DueStep, page.step_id) if session is not None and page.step_id is not None else None
    return step is not None and step.kind == StepKind.HANDOFF


def handed_over_said(incident: Incident, at: datetime | None) -> str:
    """What the page of a rota hand-off adds (``page_sms``): the incident was handed over at the shift change,
    unacknowledged, and the whole minutes left to the deadline (``minutes_left``), none once it passed."""
    left = "" if at is None or deadline_passed(incident, at) else f": {minutes_left(incident, at)} min left"
    return f". HANDED OVER to you at the shift change, nobody has acknowledged it{left}"


def reach_in_writing(incident: Incident) -> str:
    """How a rep reaches a customer who left no callback number (no call can be placed): their e-mail address, and
    that the contact is recorded on the dashboard (the repages stop then)."""
    where = f"e-mail {incident.email}" if incident.email else "no e-mail address either: see the incident page"
    return f"No callback number: {where}, and record it on the dashboard"


def _act_now(incident: Incident, owner: str = "", yours: bool = False) -> str:
    """What an alert asks a rep to do now: CALL, or for a customer who left no number, write to them. For an incident
    another rep owns (``owner``, by name) the CALL takes it over, and the alert says so in the words of every other
    channel ("ack_owned_by_other", the voice page's "Press 2 to take it over"): an outside probe's off-shift rep replied
    CALL to "Reply CALL ... to call the customer now" and took a colleague's incident without knowing it was his."""
    if not incident.callback_phone:
        return f"{reach_in_writing(incident)}."
    if owner and not yours:
        return f"Reply CALL {incident.reference} to take it over from {owner} and call the customer."
    return f"Reply CALL {incident.reference} to call the customer now."


def owner_said(incident: Incident, tz: str, now: datetime, reader: int | None = None) -> tuple[str, str, bool]:
    """Who owns ``incident`` as an alert written at ``now`` says it to the rep ``reader`` (their clock, ``tz``): the
    sentence ("Owned by Bob since 07:24 EST.", "Yours since ...", "NOBODY has acknowledged it."), the owner's name
    ("" while nobody owns it) and whether the reader is the owner. The one wording of every at-risk and breach SMS."""
    if incident.acknowledged_at is None:
        return "NOBODY has acknowledged it.", "", False
    session = object_session(incident)
    own = ownership(session, incident, "another rep") if session is not None else None
    name = own.owner if own is not None else "another rep"
    since = due_text(own.since if own is not None else incident.acknowledged_at, tz, now)
    if reader is not None and reader == incident.acknowledged_by:
        return f"Yours since {since}.", name, True
    return f"Owned by {name} since {since}.", name, False


def also_call(incident: Incident, tz: str = "UTC", at: datetime | None = None) -> str:
    """" ALSO CALL ..." for the different contacts who joined the incident (caller IDs are spoofed: a caller over
    the per-number limit who is not its contact is owed a callback of their own), "" for none; in a text written
    at ``at``."""
    contacts = contacts_of(incident)
    if not contacts:
        return ""
    named = "; ".join(f"{c.label()} by {due_text(c.due_at, tz, at)}" for c in contacts[:2])
    more = f" and {len(contacts) - 2} more (see the board)" if len(contacts) > 2 else ""
    return f" ALSO CALL {named}{more}: joined from this number, contact differs, {UNTRACKED}."


def joined_contact_sms(incident: Incident, at: datetime, tz: str = "UTC") -> str:
    """Tells the owner (else the first level) and the managers that a different contact joined the incident."""
    contacts = contacts_of(incident, until=at)
    if not contacts:  # never without one (the notice follows the join's log line); say so rather than fail
        return f"SEV1 {incident.reference} {company_name(incident)}: another contact joined; see the incident page."
    c = contacts[-1]
    return (f"SEV1 {incident.reference} {company_name(incident)}: another caller from this number joined it and "
            f"their contact differs from the incident's. Call {c.label()} too, by {due_text(c.due_at, tz, at)}: {UNTRACKED}.")


def alert_purpose(incident: Incident, purpose: str, at: datetime) -> str:
    """What an alert written at ``at`` says: an at-risk alert written once the deadline had passed (its step ran
    late: a worker down, a withdrawn answer's steps run again) says the deadline was breached, never "AT RISK, 0 min
    left". One written before it and not sent by then goes no more (``pages.overdue_alert``)."""
    return "breach" if purpose == "at_risk" and deadline_passed(incident, at) else purpose


def alert_sms(incident: Incident, purpose: str, now: datetime, tz: str = "UTC", reader: int | None = None) -> str:
    """At-risk and breach alerts for managers and everyone paged (the deadline on the rep's clock, ``tz``): who owns
    the incident, or that nobody acknowledged it (``owner_said``, to the rep ``reader``), and what to do now."""
    company = company_name(incident)
    owned, owner, yours = owner_said(incident, tz, now, reader)
    act = _act_now(incident, owner, yours)
    if alert_purpose(incident, purpose, now) == "breach":
        so_far = ("a callback is under way, not answered yet" if callback_under_way(incident, now)
                  else with_self_report(incident, now, callbacks_so_far(incident, now)) or "no callback yet")
        return (f"SEV1 {incident.reference} {company}: callback deadline "
                f"{due_text(incident.callback_due_at, tz, now)} BREACHED, {so_far}. {owned} {act}"
                f"{also_call(incident, tz, now)}")
    so_far = callbacks_so_far(incident, now) or "no callback started"
    # the deadline's time beside the count: an alert Twilio took only a minute later still says when it is due (an
    # outside probe's reps read "5 min left" with 4 left, and nothing else to go by)
    return (f"SEV1 {incident.reference} {company}: AT RISK, {minutes_left(incident, now)} min left (by "
            f"{due_text(incident.callback_due_at, tz, now)}), {so_far}. {owned} "
            f"{act}{also_call(incident, tz, now)}")


def breach_corrected_sms(incident: Incident, tz: str = "UTC", at: datetime | None = None, lang: str = REP_LANG,
                         clock: Callable[..., str] | None = None) -> str:
    """Tells whoever had the breach alert that the callback was met after all: the customer answered it by the
    deadline (on the reader's clock, ``tz``; ``answered_in_time``), its word came after the alert. Nothing to do: no
    ACK or CALL. By SMS in English; ``lang`` and ``clock`` (``dated``): the TAM's correction e-mail."""
    def write(when: datetime, seconds: bool = False) -> str:
        return clock(when, tz, seconds) if clock else due_text(when, tz, at, seconds)

    answered, due = incident.callback_answered_at, incident.callback_due_at
    when = (answered_in_time(answered, due, write, lang) if answered is not None
            else text("answered_no_time", lang, due=write(due)))
    return text("breach_corrected_sms", lang, ref=incident.reference, company=company_name(incident, lang), when=when)


def callbacks_so_far(incident: Incident, at: datetime) -> str:
    """What became of the callbacks that ended by ``at`` without one standing, for an alert; "" for none. A probe's
    managers read "no callback yet" of a customer who answered a 4-second call, and of one dialled twice."""
    if short_callback(incident, at):
        return "the customer answered a callback, too short to count, none since"
    session = object_session(incident)
    if incident.callback_answered_at is not None or session is None:
        return ""
    tried = session.scalar(select(func.count(Callback.id)).where(
        Callback.incident_id == incident.id, Callback.requested_at <= at,
        Callback.outcome.in_((CallbackOutcome.ATTEMPTED, CallbackOutcome.VOICEMAIL))))
    said = ("" if not tried else "a callback was tried and did not reach the customer" if tried == 1 else
            f"{tried} callbacks were tried and did not reach the customer")
    return "; ".join(part for part in (said, reps_not_reached(session, incident, at)) if part)


def reps_not_reached(session: Session, incident: Incident, at: datetime) -> str:
    """The callbacks whose call to the rep (the first leg) reached no person by ``at``, as the log has them
    (``callback_rep_not_reached`` and its ``why``): the rep was called and did not answer, or reached voicemail, so
    the customer was not called; "" for none. Until session 45 the alerts said "no callback yet" of them."""
    lines = session.execute(select(Callback.id, Callback.rep_id).where(
        Callback.incident_id == incident.id, Callback.requested_at <= at,
        Callback.outcome == CallbackOutcome.REP_NOT_REACHED).order_by(Callback.id)).all()
    if not lines:
        return ""
    whys = {d.get("callback_id"): str(d.get("why", "")) for d in session.scalars(select(IncidentEvent.detail).where(
        IncidentEvent.incident_id == incident.id, IncidentEvent.kind == EventKind.CALLBACK_REP_NOT_REACHED)) if d}
    said = []
    for line in lines:
        rep = session.get(Rep, line.rep_id) if line.rep_id is not None else None
        who, why = rep.name if rep is not None else "the rep", whys.get(line.id, "")
        said.append(f"the hotline called {who} for a callback and reached their voicemail" if is_machine(why) else
                    f"the hotline could not place its call to {who} for a callback" if why in CALL_NOT_PLACED else
                    f"the hotline called {who} for a callback and they did not answer")
    return "; ".join(said) + ": the customer was not called"


def with_self_report(incident: Incident, at: datetime, so_far: str) -> str:
    """``so_far`` (what became of the hotline's callbacks), with the call a rep self-reported by ``at`` (their
    ``CALLED``) when no answer stands: their word, unverified, never a kept promise. A breach alert said nothing of it
    before session 44: none was sent at all (a probe's managers learnt of the breach only from the report)."""
    session = object_session(incident)
    if incident.callback_answered_at is not None or session is None:
        return so_far
    reported = session.execute(select(Callback.rep_id).where(
        Callback.incident_id == incident.id, Callback.outcome == CallbackOutcome.SELF_REPORTED,
        Callback.requested_at <= at).order_by(Callback.id).limit(1)).first()
    if reported is None:
        return so_far
    rep = session.get(Rep, reported.rep_id) if reported.rep_id is not None else None
    name = rep.name if rep is not None else "a rep"
    if so_far:
        return f"{so_far}; a call self-reported by {name} (unverified)"
    return f"the only call was self-reported by {name} (unverified)"


def self_report_said(incident: Incident, at: datetime) -> str:
    """The breach alert's words on a call a rep self-reported (``with_self_report``, as its SMS writes them) as a
    sentence for its call and voicemail; "" when there is none. Until session 45 only the SMS said it: a manager who
    heard the call learnt nothing of the self-report."""
    so_far = callbacks_so_far(incident, at)
    said = with_self_report(incident, at, so_far)
    return "" if said == so_far else f"{said[0].upper()}{said[1:]}."


def callback_under_way(incident: Incident, at: datetime) -> bool:
    """A bridged callback was requested and is still under way at ``at`` (the rep's phone or the customer's ringing),
    not answered yet (the breach step's ``callback_in_flight``): a breach alert then says so, not "no callback yet".
    One that ended unanswered (the rep not reached, no answer) is under way no more."""
    if incident.callback_answered_at is not None:
        return False
    session = object_session(incident)
    if session is None:
        return False
    from app.services.escalation import callbacks_in_flight  # escalation -> page_urls -> this module

    return bool(callbacks_in_flight(session, incident, at))


def short_callback(incident: Incident, at: datetime) -> bool:
    """A callback the customer answered by ``at`` was too short to count (``callbacks.withdraw_short_bridge``) and
    no answer stands: a breach alert says so, not "no callback yet" (a probe's managers read that of a 4-second
    call the customer answered)."""
    session = object_session(incident)
    if incident.callback_answered_at is not None or session is None:
        return False
    return bool(short_bridges(session.scalars(select(IncidentEvent.detail).where(
        IncidentEvent.incident_id == incident.id, IncidentEvent.kind == EventKind.CALLBACK_WITHDRAWN,
        IncidentEvent.at <= at))))


def minutes_left(incident: Incident, now: datetime) -> int:
    """Whole minutes to the deadline, rounded down: the one rule of every "n min left" (the reps', managers' and
    TAM's alerts, by SMS and e-mail). A rep is never told they have more time than they do: rounded up, an outside
    probe's alert sent late read "5 min left (by 09:31 UTC)" with 4:29 left (probe G F3); a step a second late now
    says "4 min left", beside the deadline's time."""
    return max(0, math.floor((incident.callback_due_at - now).total_seconds() / 60))


def number_corrected_sms(incident: Incident, tz: str = "UTC", tam: bool = False, at: datetime | None = None) -> str:
    """Tells the reps paged so far, at ``at``, that the caller corrected their callback number after the page (the
    account's TAM only that it changed: they are told, never asked to call)."""
    phone = phone_with_extension(incident.callback_phone, callback_extension(incident)) or "none"
    if tam:
        return (f"SEV1 {incident.reference} {company_name(incident)}: the caller corrected their callback number to "
                f"{phone}; the on-call reps have it.")
    return (f"SEV1 {incident.reference} {company_name(incident)}: the caller corrected their callback number. Call "
            f"back {phone} by {due_text(incident.callback_due_at, tz, at)}, not the number in the first page.")


def taken_over_sms(incident: Incident, who: str = "", tz: str = "UTC", at: datetime | None = None) -> str:
    """Tells the previous owner that another rep (``who``, by name) took the incident over (at ``at``, on their
    clock, ``tz``) and owns it now: nothing more is theirs to do."""
    when = f" at {due_text(at, tz, at)}" if at is not None else ""
    return text("taken_over_notice", ref=incident.reference, company=company_name(incident), who=who or "another rep",
                at=when)


def handed_over_sms(incident: Incident, who: str, tz: str = "UTC", at: datetime | None = None) -> str:
    """Tells a rep gone off shift that a rota hand-off gave the incident nobody had acknowledged (at ``at``, on their
    clock, ``tz``) to ``who``, on call since and paged (``hand_offs``): it is theirs no more."""
    when = f" ({due_text(at, tz, at)})" if at is not None else ""
    return text("handed_over_notice", ref=incident.reference, company=company_name(incident), who=who, at=when)


def rep_not_reached_sms(incident: Incident, redial: bool = False, outage: bool = False) -> str:
    """Tells the rep the hotline could not reach them for the callback they asked for (their phone did not answer, or
    Twilio would not place the call), and the number to call the customer on themselves. ``redial``: they pressed 1
    to try again and their call ended before the customer was dialled again (the customer was called once: an outside
    probe's rep was told "could not reach you ... the customer was NOT called" of a customer dialled a second before).
    ``outage``: they pressed the key while the database could not be reached (``callbacks.REP_KEY_UNHEARD``)."""
    ref, phone = incident.reference, incident.callback_phone
    then = text("rep_not_reached_call_them", phone=phone, ref=ref) if phone else text("rep_not_reached_retry", ref=ref)
    key = "rep_hung_up_before_redial" if redial else "rep_key_in_outage_notice" if outage else "rep_not_reached_notice"
    return text(key, ref=ref, next=then)


def bridge_too_short_sms(incident: Incident, seconds: int, at: datetime, tz: str = "UTC") -> str:
    """Tells a rep who hung up first that their bridged callback was too short (under ``seconds`` of conversation)
    to count: the customer is still owed one, by the deadline on the rep's clock (``tz``), or overdue at ``at``."""
    key = "bridge_too_short_overdue" if deadline_passed(incident, at) else "bridge_too_short_notice"
    phone = phone_with_extension(incident.callback_phone, callback_extension(incident)) or "their number"
    return text(key, ref=incident.reference, company=company_name(incident), seconds=seconds,
                due=due_text(incident.callback_due_at, tz, at), phone=phone)


def receipt_sms(incident: Incident, tz: str, now: datetime) -> str:
    """The customer's receipt right after intake, in the caller's language (an apology once the deadline passed)."""
    return customer_text.receipt_sms(incident.reference, incident.callback_due_at, tz, incident.language, now)


def ack_notice_sms(incident: Incident, tz: str, now: datetime, in_call: bool = False) -> str:
    """Tells the customer an engineer has taken the incident, in the caller's language (never a past time, and no
    time while they are still giving their details: ``in_call``)."""
    return customer_text.ack_notice_sms(incident.reference, incident.callback_due_at, tz, incident.language, now,
                                        in_call)


def callback_missed_sms(incident: Incident, tz: str, hotline_number: str, at: datetime, now: datetime) -> str:
    """Tells the customer a callback just missed them (at ``at``; the SMS written at ``now``), from which number, and
    how to reach the hotline now."""
    return customer_text.callback_missed_sms(incident.reference, at, tz, incident.language, hotline_number, now)


def breach_notice_sms(incident: Incident, tz: str, hotline_number: str, at: datetime) -> str:
    """Tells the customer the callback deadline passed without reaching them, with an apology (their language), as
    written at ``at``; that our call ended too soon when they answered one too short to count by then."""
    return customer_text.breach_notice_sms(incident.reference, incident.callback_due_at, tz, incident.language,
                                           hotline_number, at, too_short=short_callback(incident, at))


def agreed_closing_sms(incident: Incident, hotline_number: str, reopen_days: int) -> str:
    """The customer's SMS that their incident was closed as agreed with them on the phone (a rep's record), and how a
    NO reopens it within ``reopen_days``."""
    return customer_text.agreed_closing_sms(incident.reference, incident.language, hotline_number, reopen_days)


def closing_notice_sms(incident: Incident, tz: str, hotline_number: str, at: datetime, reopen_days: int) -> str:
    """Tells the customer the support team closed their incident (not why), and how a NO reopens it within
    ``reopen_days`` (their language)."""
    return customer_text.closing_notice_sms(incident.reference, at, tz, incident.language, hotline_number, reopen_days)


def _spoken(incident: Incident, tz: str = "UTC") -> dict[str, str]:
    """What a voice page says of the incident: reference digit by digit, company (``spoken_company``), service, the
    caution for an unproven caller (``spoken_caution``), deadline (on the listener's clock, ``tz``; the zone's letters
    one by one: "P S T", "U T C")."""
    return {"ref": ", ".join(incident.reference), "company": spoken_company(incident),
            "service": SERVICE_SHORT.get(incident.affected_service, "critical problem").replace("+", "and"),
            "caution": spoken_caution(incident), "due": spoken_time(incident.callback_due_at, tz)}


def spoken_time(when: datetime, tz: str = "UTC") -> str:
    """``19:15 P S T``: a time on the listener's clock (``tz``), the zone's letters one by one (a zone without
    letters as ``zone_label`` says it: ``19:15 U T C plus 4``)."""
    local = when.astimezone(ZoneInfo(tz))
    name = zone_label(local, spoken=True)
    return f"{local:%H:%M} {' '.join(name) if name.isalpha() else name}"


def spoken_number(phone: str, extension: str = "") -> str:
    """A phone number as said to a listener: its digits one by one, then the extension's ("" without a number)."""
    if not phone:
        return ""
    said = ", ".join(c for c in phone if c.isdigit())
    return f"{said}, extension {', '.join(extension)}" if extension else said


def spoken_handed_over(incident: Incident, at: datetime) -> str:
    """What the call of a rota hand-off's page says first: handed over at the shift change, unacknowledged, and the
    whole minutes left (``minutes_left``), none once the deadline passed (the summary says it has)."""
    if deadline_passed(incident, at):
        return text("page_handed_over_late")
    return text("page_handed_over", n=minutes_left(incident, at))


def spoken_summary(incident: Incident, tz: str = "UTC", at: datetime | None = None, texted: bool = True) -> str:
    """The voice page summary (the deadline on the rep's clock, ``tz``). Heard at ``at``, once the deadline has
    passed, it says so, as ``page_sms`` does: an outside probe's rep heard "must be called back by 15:52 J S T" at
    15:53, as if still in time. ``texted``: the listener has the page's SMS (else the e-mail address of a customer
    who left no number is on the board, never "in the text message")."""
    said = _spoken(incident, tz)
    late = deadline_passed(incident, at)
    extension = callback_extension(incident) if incident.callback_phone else ""
    key_in = f" {text('page_extension', extension=', '.join(extension))}" if extension else ""
    others = contacts_of(incident)
    also = (" Another caller from this number, whose contact differs, must be called back too: see the text "
            "message or the board.") if others else ""
    if not incident.callback_phone:
        return (f"Severity 1 page. Incident {said['ref']}, for {said['company']}: {said['service']}.{said['caution']} "
                + (f"The customer left no callback number, and the callback deadline, {said['due']}, has passed: "
                   "reach them in writing now" if late else
                   f"The customer left no callback number: reach them in writing by {said['due']}")
                + f"; the e-mail address is {email_where(texted)}.{also}")
    must = (f"The callback deadline, {said['due']}, has passed: the customer must be called back now." if late
            else f"The customer must be called back by {said['due']}.")
    return (f"Severity 1 page. Incident {said['ref']}, for {said['company']}: {said['service']}.{said['caution']} "
            f"{must} {callback_ending_said(incident.callback_phone)}{key_in}{also}")


def callback_ending_said(phone: str) -> str:
    """The voice page's sentence naming the number to call back by its last ``CALLBACK_DIGITS_SAID`` digits, after
    the hotline's own fields: the number the rep hears is the hotline's, never one a caller said in their company's
    name (an outside probe's voice page spoke no callback number, and the only number the rep heard was the +1 900
    number the caller had said as their company)."""
    return f"The number to call back ends in {spoken_number(phone[-CALLBACK_DIGITS_SAID:])}."


def email_where(texted: bool, lang: str = REP_LANG) -> str:
    """Where a page call's listener finds the e-mail address of a customer who left no number: in the page's SMS
    while it went (``page_status.written_copy``), else on the board."""
    return text("email_where_sms" if texted else "email_where_board", lang)


def sms_how(texted: bool, hotline_number: str = "", lang: str = REP_LANG) -> str:
    """How a page call tells its listener to send an SMS command: reply to the page's SMS while it went, else text
    the hotline (its number digit by digit when known). Never a text that did not arrive: until session 45 the owner's
    menu, the answer to a key and the words to a rep whom someone else's acknowledgement settled said "reply to the
    text message" when that SMS had failed."""
    if texted:
        return text("page_machine_reply", lang)
    if hotline_number:
        return text("page_machine_text", lang, number=spoken_number(hotline_number))
    return text("page_machine_text_hotline", lang)


def tam_sms(incident: Incident, purpose: str, now: datetime, tz: str = "UTC", lang: str = REP_LANG,
            clock: Callable[[datetime, str], str] | None = None) -> str:
    """The account's TAM is told, never asked to act: no ACK/CALL, no acknowledgement link (the deadline on the
    TAM's clock, ``tz``); by SMS in English, as every page (``lang``: the same words in an e-mail's other language;
    ``clock``: ``dated`` in an e-mail; by default ``due_text`` at ``now``)."""
    company = company_name(incident, lang)
    due = clock(incident.callback_due_at, tz) if clock else due_text(incident.callback_due_at, tz, now)
    if alert_purpose(incident, purpose, now) == "breach":
        key = ("tam_alert_breach_calling" if callback_under_way(incident, now) else
               "tam_alert_breach_short" if short_callback(incident, now) else "tam_alert_breach")
        return text(key, lang, ref=incident.reference, company=company, due=due)
    if purpose == "at_risk":
        return text("tam_alert_at_risk", lang, ref=incident.reference, company=company,
                    minutes=minutes_left(incident, now), due=due)
    return text("tam_page_sms_late" if deadline_passed(incident, now) else "tam_page_sms", lang, ref=incident.reference,
                company=company, service=service_short(incident, lang), due=due)


def service_short(incident: Incident, lang: str = REP_LANG) -> str:
    """The failing service in a few words, in ``lang`` ("SMTP injection failing")."""
    words = SERVICE_SHORT_DE if customer_text.is_german(lang) else SERVICE_SHORT
    return words.get(incident.affected_service, words["other"])


def tam_spoken(incident: Incident, tz: str = "UTC", owned: str = "", at: datetime | None = None) -> str:
    """The TAM's voice page (and voicemail): what happened and that the reps are paged, or, once a rep acknowledged
    it, who has it since when (``owned``: ``ownership.owned_words`` in its "tam_owned" form); no menu (times on the
    TAM's clock, ``tz``). Heard at ``at``, once the deadline has passed, it says so (``deadline_passed``), as the reps'
    voice page does."""
    late = "_late" if deadline_passed(incident, at) else ""
    if incident.acknowledged_at is None:
        return text(f"tam_page_spoken{late}", **_spoken(incident, tz))
    return text(f"tam_page_spoken_taken{late}", **_spoken(incident, tz), owned=owned or text(
        "tam_owned_acked", who="someone", at=spoken_time(incident.acknowledged_at, tz)))
