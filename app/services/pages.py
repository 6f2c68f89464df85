"""Pages: written as rows with the step that wants them, sent by a job, tracked by callbacks."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, object_session

from app.escalation.decide import (
    AGREED_CLOSING_NOTICE,
    BREACH_CORRECTED,
    CHASING_PURPOSES,
    CLOSING_NOTICE,
    NOTICES,
    OTHER_NUMBER_PURPOSES,
)
from app.escalation.model import Audience, Decision, PageOrder
from app.event_kind import EventKind
from app.models import (
    Channel,
    Delivery,
    DeliveryChannel,
    DueStep,
    Incident,
    IncidentEvent,
    IncidentStatus,
    Page,
    PageStatus,
)
from app.models.paging import (
    CUSTOMER_ROLE,
    DEADLINE_PASSED,
    OUTCOME_UNKNOWN,
    PAGE_STATUS_RANK,
    TAM_ROLE,
    outcome_unknown,
    status_rank,
)
from app.oncall.contactable import Contactable
from app.queue import PendingJob, schedule
from app.services.customer_order import earlier_to_go, release_later, wait_behind
from app.services.events import log_event
from app.services.failure_log import COVERED, line_for
from app.services.other_number import other_number
from app.services.page_verdicts import hold, page_level_again, supersede, verdict
from app.services.sms_opt_outs import OPTED_OUT_REASON, is_opted_out, record_opt_out
from app.services.unproven_reports import recorded_details
from app.telephony.protocol import (
    DETECT_MESSAGE_END,
    NO_ANSWER,
    OptedOut,
    Rejected,
    Sent,
    Telephony,
    TelephonyError,
    asked_wait,
)

log = logging.getLogger(__name__)
_NUMBERS = re.compile(r"\+?\d[\d ()-]{5,}\d")  # phone numbers never reach the logs
ESCALATION_PURPOSES = ("page",)  # an acknowledgement cancels these, never alerts or customer messages
OVERDUE = "deadline_passed"  # an at-risk alert canceled: the deadline passed before Twilio took it
RECEIPT = "receipt"  # the customer's written receipt (the IVR promised it: "You'll also get a text message ...")
# Twilio failing for now (5xx, 429, a time-out, a refused connection) is retried, 2, 4, then every 6 s, for as long as
# the page is wanted: these until ``no_longer_wanted`` ends them (a rep's page once the incident is acknowledged, the
# customer reached or it is resolved, as the escalation core's cancels; the receipt once the incident is closed) ...
ENDS_WITH_INCIDENT = (*CHASING_PURPOSES, RECEIPT)
# ... and a customer's notice that their incident was closed, until it is open again (``_closing_outdated``)
CLOSING_NOTICES = (CLOSING_NOTICE, AGREED_CLOSING_NOTICE)
REOPENED, CLOSED_AGAIN = "reopened", "closed_again"  # why such a notice was canceled (the timeline says it in words)
# ... any other notice (taken over, number corrected, a missed callback ...) until it is this old. Until session 33 a
# page gave up after 15 tries (about 80 s): a Twilio outage of 100 s lost the rep's page and the receipt for good.
RETRY_FOR = timedelta(hours=1)
# ... and the incident's own pages at most this long, however long it stays open: a send Twilio has failed for a
# day is being refused, not failing for now, and each try is a job every 6 s (its lines: ``failure_log``)
RETRY_WHILE_OPEN_FOR = timedelta(hours=24)
FALL_BACK_AFTER = 15  # tries (about 80 s) after which a failing page SMS also calls its person, and is still retried
MAX_BACKOFF_SECONDS = 6  # + a 5 s client time-out + RQ scheduling: a page leaves within 15 s of Twilio answering again
# A "sending" row older than this belongs to a dead run: twice the Twilio client's time-out
# (app.telephony.twilio.DEFAULT_TIMEOUT_SECONDS), so a live send has given up long before.
STALE_SENDING = timedelta(seconds=10)
# How long a page of a rescued report without recorded details gives way to others in the account's rate before it
# queues for its slot like any page (``Pacer.give_way``): at one call a second a flood of 300 such pages leaves
# through the free slots within it, and a report with details that comes meanwhile is paged first. Well before the
# at-risk alert (T+10): giving way delays such a page only while other pages hold the slots.
BARE_REPORT_GIVES_WAY_AT_MOST = timedelta(minutes=5)
# A request Twilio did not answer (the client's time-out, a connection cut) may still be worked on there, and make its
# SMS or call seconds later: a lookup before then proves nothing. An outside probe's Calls.json answered after 7 s (the
# call made then); the retry had looked Twilio up 5 s in, found no call, rung the manager again and logged it a first
# copy (probe A F4). So the retry of such a try, which looks Twilio up first, waits until the try is this old, as long
# as a dead run's claim (STALE_SENDING): its SMS is then found (adopted), its call's status callback has adopted the
# page, or nothing was made. At most 5 s more than before, after the 5 s the client already waited.
UNANSWERED_GRACE = STALE_SENDING
SMS_VALIDITY_SECONDS = 600


def backoff(attempt: int) -> timedelta:
    """Bounded exponential back-off: 2, 4, 6, 6, 6 ... s."""
    return timedelta(seconds=min(2 ** attempt, MAX_BACKOFF_SECONDS))


# Twilio's ``Retry-After`` on a refusal for now (a 429; ``Throttled.retry_after``): until then it refuses again, and a
# fixed back-off asked sooner (an outside probe's 429 with "Retry-After: 20" was tried again after 4 and 9 s). A page,
# a rep's callback call waits for it this long at most: the promise is a page within seconds of Twilio taking them
# again, so a longer wait asked is not kept whole (the try after it is refused and waits again); any other send (a
# receipt, an update, an e-mail) waits as long as asked, up to ``SEND_WAITS_FOR_RETRY_AFTER_AT_MOST``.
PAGE_WAITS_FOR_RETRY_AFTER_AT_MOST = timedelta(seconds=30)
SEND_WAITS_FOR_RETRY_AFTER_AT_MOST = timedelta(minutes=15)


def wait_before_retry(backoff_wait: timedelta, asked_seconds: float | None, at_most: timedelta) -> timedelta:
    """The back-off, or the wait Twilio asked for (``asked_seconds``, its Retry-After) when that is longer, up to
    ``at_most``: the one rule for every send Twilio refused for now."""
    if asked_seconds is None:
        return backoff_wait
    return max(backoff_wait, min(timedelta(seconds=asked_seconds), at_most))


def unanswered(error: str) -> bool:
    """True for a try Twilio gave no answer to (``NO_ANSWER``): it may still be under way at Twilio."""
    return NO_ANSWER in (error or "")


def retry_at(tried_at: datetime, wait: timedelta, error: str) -> datetime:
    """When a try begun at ``tried_at`` that failed with ``error`` is made again: after ``wait`` (the back-off), and
    never, with its lookup first, while an unanswered try may still be under way at Twilio (``UNANSWERED_GRACE``).

    The one rule for pages (SMS and voice) and the rep's call of a bridged callback (``callback_calls``)."""
    return max(tried_at + wait, tried_at + UNANSWERED_GRACE) if unanswered(error) else tried_at + wait


def queue_page(
    session: Session, incident: Incident, who: Contactable, channel: Channel, purpose: str, now: datetime,
    step_id: int | None = None, first: bool = False,
) -> Page | None:
    """Write one page row (once per step, person and channel) and register its send job; None if written before.

    A notice without a step (taken over, rep not reached) answers one event, and is written each time
    its event happens: the rep missed by a second bridged call is told again.

    An SMS to a number that opted out (STOP) is written failed, never sent (``not_sent_opted_out``).

    ``first``: an incident's first page to this person (``escalation.first_channel`` of the first page step):
    its job waits in the FIRST queue."""
    if not who.phone:
        return None
    if step_id is not None and session.scalars(select(Page.id).where(
            Page.incident_id == incident.id, Page.to_number == who.phone, Page.channel == channel,
            Page.purpose == purpose, Page.step_id == step_id)).first() is not None:
        return None
    page = Page(incident_id=incident.id, step_id=step_id, rep_id=who.rep_id, name=who.name[:200], role=who.role,
                channel=channel, to_number=who.phone, purpose=purpose, status=PageStatus.QUEUED,
                next_attempt_at=now, created_at=now, updated_at=now)
    session.add(page)
    session.flush()
    if channel == Channel.SMS and is_opted_out(session, who.phone):
        not_sent_opted_out(session, page, now, first=first)
        return page
    log_event(session, at=now, actor="system", kind="page_queued", incident_id=incident.id,
              detail={"page_id": page.id, "to": who.name, "role": who.role, "channel": channel.value,
                      "purpose": purpose})
    schedule(session, "page", page.id, now, first=first)
    return page


def not_sent_opted_out(session: Session, page: Page, now: datetime, first: bool = False,
                       uncertain: bool = False) -> None:
    """An SMS page to a number that texted STOP: failed at once, never asked of Twilio (it would refuse it,
    error 21610), never "sent"; the escalation core says what instead (a page is called at once).

    ``uncertain``: an earlier attempt's outcome was unknown, and stays so."""
    page.status = PageStatus.FAILED
    page.last_error = failure_note(OPTED_OUT_REASON, uncertain)
    page.updated_at = now
    log_event(session, at=now, actor="system", kind=EventKind.PAGE_NOT_SENT_OPTED_OUT, incident_id=page.incident_id,
              detail={"page_id": page.id, "to": page.name, "role": page.role, "purpose": page.purpose,
                      "attempts": page.attempts})
    answer_page_failure(session, page, now, first=first)


def move_status(page: Page, status: PageStatus, now: datetime) -> bool:
    """Move a page forward along its channel's order; a late or out-of-order status never moves it back."""
    if status_rank(page.channel, status) < status_rank(page.channel, page.status):
        return False
    if status == page.status:
        return False
    page.status = status
    page.updated_at = now
    return True


class PageSender:
    """Sends one page through the telephony seam, around (not inside) SQL transactions."""

    def __init__(self, db, telephony: Telephony, urls, pacer=None) -> None:
        self.db = db
        self.telephony = telephony
        self.urls = urls  # app.services.page_urls.PageUrls
        self.pacer = pacer  # app.telephony.rate.Pacer: the account's call and SMS rates (None: unpaced)

    def send(self, page_id: int, now: datetime, first: bool = False) -> None:
        """Wait for the page's slot in the account's rate, claim, send, record; a retry is registered when needed.

        ``first``: the page came from the FIRST queue (an incident's first page to this person): put off
        or retried, it waits there again, not behind every other page (issue 12's burst)."""
        if self.pacer is not None:
            now = self._wait_turn(page_id, now, first)
            if now is None:
                return
        with self.db.transaction() as session:
            claim = self._claim(session, page_id, now, first)
        if claim is None:
            return
        request, uncertain, unwanted = claim
        if unwanted:
            return self._settle_unwanted(page_id, request, unwanted, now)
        try:
            found, none_made = self._find(request) if uncertain else (None, False)
            sent = found or self._deliver(request)
            # unknown whether an earlier try reached Twilio, and Twilio's records show neither way: maybe a second page
            possible_duplicate = uncertain and found is None and not none_made
        except OptedOut as exc:  # 21610: the number texted STOP and we never heard of it; recorded now
            return self._record_failure(page_id, now, str(exc), permanent=True, first=first, uncertain=uncertain,
                                        opted_out=True)
        except Rejected as exc:
            return self._record_failure(page_id, now, str(exc), permanent=True, first=first, uncertain=uncertain)
        except TelephonyError as exc:  # Throttled, OutcomeUnknown or another: retried after the back-off
            return self._record_failure(page_id, now, f"{type(exc).__name__}: {exc}", permanent=False, first=first,
                                        uncertain=uncertain, asked_wait=asked_wait(exc))
        with self.db.transaction() as session:
            page = session.get(Page, page_id, with_for_update=True)
            adopted_first = page.twilio_sid == sent.sid  # its status callback came first and logged it (adopt_sid)
            # another call's status callback came first: Twilio made two for this page (its calls are duplicates now)
            other = page.twilio_sid if page.twilio_sid and not adopted_first else ""
            page.twilio_sid = sent.sid
            page.sent_at = page.sent_at or now
            page.last_error = ""
            move_status(page, PageStatus.SENT, now)
            release_later(session, page, now)
            if page.purpose in CLOSING_NOTICES:  # its "closed" outrun by a reopen since its claim
                from app.services.reopen import closing_notice_outrun  # reopen -> decisions -> pages

                closing_notice_outrun(session, page.incident_id, page.to_number, now)
            if adopted_first:
                return
            log_event(session, at=now, actor="twilio", kind="page_sent", incident_id=page.incident_id,
                      detail={"page_id": page.id, "sid": sent.sid, "channel": page.channel,
                              "attempt": page.attempts, "adopted": found is not None,
                              "late_seconds": late_seconds(session, page, now),
                              "possible_duplicate": possible_duplicate or bool(other)}
                      | ({"duplicate_sid": other} if other else {}))
            # one line per page accepted, beside the failures' warnings (never the number: the role says who)
            log.info("page %s of incident %s (%s %s, %s) accepted by Twilio as %s, attempt %d%s", page.id,
                     page.incident_id, page.channel, page.purpose, page.role, sent.sid, page.attempts,
                     ", possibly a second copy" if possible_duplicate else "")

    def _wait_turn(self, page_id: int, now: datetime, first: bool) -> datetime | None:
        """Before the claim (a claimed page must leave within STALE_SENDING): the time to send at, or None.

        A slot more than the pacer's ``max_wait`` away puts the page off until then (no attempt is
        spent): its job is scheduled for the slot, which stays reserved for this page and attempt.
        """
        with self.db.session() as session:
            row = session.execute(select(Page.status, Page.channel, Page.attempts, Page.next_attempt_at, Page.role,
                                         Page.created_at, Page.incident_id).where(Page.id == page_id)).first()
            if row is None or row.status != PageStatus.QUEUED or row.next_attempt_at > now:
                return now  # nothing to send, or a dead run's claim: the claim decides
            incident = session.get(Incident, row.incident_id)
            # a rescued report nobody said anything in (a hang-up after triage, perhaps one of a spoofed flood)
            bare = row.role != CUSTOMER_ROLE and incident is not None and not recorded_details(session, incident)
        kind = "calls" if row.channel == Channel.VOICE else "sms"
        owner = f"page-{page_id}-{row.attempts}"
        if row.role == CUSTOMER_ROLE:  # the customer's receipt or notice: the reps' pages go first
            slot = self.pacer.give_way(kind, owner, row.created_at)
            if slot is None:
                return self.pacer.clock.now()
        elif bare:  # pages of reports with recorded details go first: it takes a free slot, never a booked one
            slot = self.pacer.give_way(kind, owner, row.created_at, at_most=BARE_REPORT_GIVES_WAY_AT_MOST)
            if slot is None:
                return self.pacer.clock.now()
        else:
            at = self.pacer.turn(kind, owner)
            if at is not None:
                return at
            slot = self.pacer.slot(kind, owner)
        with self.db.transaction() as session:
            moved = session.execute(
                update(Page).where(Page.id == page_id, Page.status == PageStatus.QUEUED, Page.attempts == row.attempts)
                .values(next_attempt_at=slot, updated_at=now).execution_options(synchronize_session=False))
            if moved.rowcount == 1:
                schedule(session, "page", page_id, slot, attempt=row.attempts, tag="paced", first=first)
        return None

    def _claim(self, session: Session, page_id: int, now: datetime, first: bool = False):
        page = session.get(Page, page_id, with_for_update=True)
        if page is None:
            return None
        stale = page.status == PageStatus.SENDING and page.sending_since and now - page.sending_since > STALE_SENDING
        if page.status != PageStatus.QUEUED and not stale:
            return None
        if page.next_attempt_at > now:
            return None
        incident = session.get(Incident, page.incident_id)
        # a dead run's attempt (stale) or a time-out or 5xx since the last accepted send: it may have reached Twilio
        uncertain = stale or outcome_unknown(page.last_error)
        reason = no_longer_wanted(page, incident)
        # the escalation core on a page to a rep: sent, held while they are on this incident's callback, or
        # (rep deactivated since) never sent, its level paged again at once
        due = None if reason else verdict(session, page, incident, now)
        if due is not None and due.hold_page:
            hold(session, page, incident, now, first=first, uncertain=uncertain, until=due.hold_until)
            return None
        if due is not None and due.supersede_page:  # a later held call, or round, to this rep goes instead
            supersede(session, page, now, incident, uncertain=uncertain)
            return None
        if due is not None and due.cancel_page:
            reason = "rep_deactivated"
        reason = reason or overdue_alert(page, incident, now)
        if reason and uncertain and page.channel == Channel.SMS and not (due is not None and due.page_level_again):
            # not sent again; whether an earlier try was is looked up at Twilio first (around, not in, this
            # transaction), so the page says "may have been sent" only when Twilio's records leave it open
            claimed = session.execute(
                update(Page).where(Page.id == page.id, Page.status == page.status, Page.attempts == page.attempts)
                .values(status=PageStatus.SENDING, sending_since=now, updated_at=now)
                .execution_options(synchronize_session=False))
            if claimed.rowcount != 1:
                return None
            session.refresh(page)
            return self.urls.request_for(page, incident), uncertain, reason
        if reason:
            _cancel(session, page, reason, uncertain, now)
            if due is not None and due.page_level_again:
                page_level_again(session, incident, page, now)
            return None
        if page.channel == Channel.SMS and is_opted_out(session, page.to_number):  # STOP since it was queued
            not_sent_opted_out(session, page, now, first=first, uncertain=uncertain)
            return None
        earlier = earlier_to_go(session, page)  # the customer reads their texts in the order they were written
        if earlier is not None:
            wait_behind(session, page, earlier, now, STALE_SENDING, first=first)
            return None
        # Compare-and-set on what we read: SQLite ignores FOR UPDATE (and pysqlite reads outside the
        # transaction), so two workers could both claim the same row; only one UPDATE matches.
        claimed = session.execute(
            update(Page).where(Page.id == page.id, Page.status == page.status, Page.attempts == page.attempts)
            .values(status=PageStatus.SENDING, sending_since=now, attempts=Page.attempts + 1, updated_at=now)
            .execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            return None
        session.refresh(page)
        return self.urls.request_for(page, incident), uncertain, ""

    def _settle_unwanted(self, page_id: int, request, reason: str, now: datetime) -> None:
        """A page SMS no longer wanted after a try whose outcome is unknown: found at Twilio, it was sent (and is
        recorded so); proven never made, it is plainly not sent; else "an earlier attempt may have been sent"."""
        try:
            found, none_made = self._find(request)
        except TelephonyError:
            found, none_made = None, False
        with self.db.transaction() as session:
            page = session.get(Page, page_id, with_for_update=True)
            if page.status != PageStatus.SENDING:
                return  # a status callback told us meanwhile
            if found is None:
                if none_made:
                    page.last_error = "not sent: Twilio's records show no earlier try of it"
                return _cancel(session, page, reason, uncertain=not none_made, now=now)
            page.twilio_sid = found.sid
            page.sent_at = page.sent_at or now
            page.last_error = ""
            move_status(page, PageStatus.SENT, now)
            log_event(session, at=now, actor="twilio", kind="page_sent", incident_id=page.incident_id,
                      detail={"page_id": page.id, "sid": found.sid, "channel": page.channel, "attempt": page.attempts,
                              "adopted": True, "possible_duplicate": False, "via": "lookup_before_cancel"})

    def _find(self, request) -> tuple[Sent | None, bool]:
        """What Twilio's records show of THIS page's earlier request: its SMS (to adopt), and whether they prove
        that no earlier try created anything (nothing to the number since the page was written).

        An SMS carries its page's own text (the page SMS holds a link signed with the page id), so a message to the
        same number with the same body is this page's, and none means none was made. A call carries nothing Twilio
        shows back: any call found to the same number may be another incident's page, so a call is never adopted
        from a lookup (only the page's own status callback, whose URL names the page, proves Twilio took it) and the
        page goes again as a possible duplicate; no call to the number at all proves the earlier try made none.
        """
        # Twilio's date_created has whole seconds: a page row written at 03:00:00.3 whose SMS
        # Twilio created at 03:00:00.35 (reported as 03:00:00) must still be found.
        since = request.since.replace(microsecond=0)
        if request.channel == Channel.SMS:
            if not request.marker:
                return None, False
            found = self.telephony.find_sms(to=request.to, since=since, marker=request.marker)
            return found, found is None
        return None, self.telephony.find_call(to=request.to, since=since) is None

    def _deliver(self, request):
        if request.channel == Channel.SMS:
            return self.telephony.send_sms(to=request.to, body=request.body, status_callback=request.status_callback,
                                           validity_seconds=SMS_VALIDITY_SECONDS)
        # a voicemail's message is spoken after its greeting (the beep), else the recording keeps its tail or nothing;
        # a person is answered as soon as with "Enable" (detection is synchronous in both: ``DETECT_MESSAGE_END``)
        return self.telephony.place_call(to=request.to, url=request.url, status_callback=request.status_callback,
                                         machine_detection=DETECT_MESSAGE_END)

    def _record_failure(self, page_id: int, now: datetime, error: str, permanent: bool, first: bool,
                        uncertain: bool, opted_out: bool = False, asked_wait: float | None = None) -> None:
        """Record a failed attempt; ``uncertain``: an earlier attempt's outcome was (and stays) unknown;
        ``opted_out``: Twilio said the number texted STOP (21610), so no later SMS is tried; ``asked_wait``: the
        seconds Twilio asked us to wait (``wait_before_retry``)."""
        with self.db.transaction() as session:
            page = session.get(Page, page_id, with_for_update=True)
            if opted_out:
                record_opt_out(session, page.to_number, now, source="twilio_21610")
            page.last_error = failure_note(error, uncertain)
            if PAGE_STATUS_RANK[PageStatus(page.status)] > PAGE_STATUS_RANK[PageStatus.SENDING]:
                # a status callback already told us Twilio took it (the answer to us was lost): keep that
                log_event(session, at=now, actor="twilio", kind="page_send_failed", incident_id=page.incident_id,
                          detail={"page_id": page.id, "error": error[:200], "attempt": page.attempts,
                                  "final": True, "status": page.status})
                return
            again_at = retry_at(now, wait_before_retry(backoff(page.attempts), asked_wait,
                                                       PAGE_WAITS_FOR_RETRY_AFTER_AT_MOST), error)
            retry_for = RETRY_WHILE_OPEN_FOR if page.purpose in ENDS_WITH_INCIDENT else RETRY_FOR
            give_up = permanent or again_at - page.created_at > retry_for
            _log_failure(session, page, now, error, give_up)
            if give_up:
                move_status(page, PageStatus.FAILED, now)
                answer_page_failure(session, page, now, first=first)
                release_later(session, page, now)
                return
            if page.attempts == FALL_BACK_AFTER:  # Twilio may fail SMS alone: the person is called meanwhile
                answer_page_failure(session, page, now, first=first)
            page.status = PageStatus.QUEUED
            page.next_attempt_at = again_at
            page.updated_at = now
            schedule(session, "page", page.id, page.next_attempt_at, attempt=page.attempts, first=first)


def late_seconds(session: Session, page: Page, now: datetime) -> float:
    """How long after it was due ``page`` left at ``now``: from its step's due time (from when it was written, for a
    page without a step). The step's own line says when the step ran, in the web process as often as not; the page
    leaves from a worker: an outside probe's first page, with no worker running, left 158 s after a step "on time"."""
    step = session.get(DueStep, page.step_id) if page.step_id is not None else None
    due = step.due_at if step is not None and step.due_at <= page.created_at else page.created_at
    return round(max(0.0, (now - due).total_seconds()), 1)


def _log_failure(session: Session, page: Page, now: datetime, error: str, give_up: bool) -> None:
    """A warning and a ``page_send_failed`` line for the failed attempt: each of the first ones, the one that calls
    the person meanwhile and the last; in between one per ``failure_log.LOG_EVERY``, counting those not written."""
    gap = line_for(session, page, now, always=give_up or page.attempts == FALL_BACK_AFTER)
    if gap is None:
        return
    since = f" ({gap[COVERED]} failed since the last line of it, at {gap['last_logged_at']})" if gap else ""
    # visible at the worker's default level: a misconfigured account fails every page (issue 10)
    log.warning("page %s of incident %s (%s) failed, attempt %d%s%s: %s", page.id, page.incident_id, page.channel,
                page.attempts, since, ", giving up" if give_up else ", will retry", _NUMBERS.sub("<number>", error[:200]))
    log_event(session, at=now, actor="twilio", kind="page_send_failed", incident_id=page.incident_id,
              detail={"page_id": page.id, "error": error[:200], "attempt": page.attempts, "final": give_up, **gap})


def cancel_unsent(session: Session, incident_id: int, numbers: set[str], purposes: tuple[str, ...], reason: str,
                  now: datetime, more: Callable[[Page], dict] = lambda page: {}) -> int:
    """The pages of ``purposes`` to ``numbers`` of an incident not sent yet (queued: never tried, held, or waiting
    for a retry), canceled for ``reason``, each line with ``more(page)``; never one a run is placing now or Twilio
    took. Each is a compare-and-set on the row as read (SQLite ignores FOR UPDATE): a page claimed meanwhile goes
    on. Returns how many were canceled."""
    if not numbers:
        return 0
    pages = session.scalars(select(Page).where(
        Page.incident_id == incident_id, Page.to_number.in_(sorted(numbers)), Page.purpose.in_(purposes),
        Page.status == PageStatus.QUEUED).order_by(Page.id)).all()
    canceled = 0
    for page in pages:
        moved = session.execute(
            update(Page).where(Page.id == page.id, Page.status == PageStatus.QUEUED, Page.attempts == page.attempts)
            .values(status=PageStatus.CANCELED, updated_at=now).execution_options(synchronize_session=False))
        if moved.rowcount != 1:
            continue
        session.refresh(page)
        # an earlier try whose outcome is unknown may have reached the phone: canceled, never called "not sent"
        _cancel(session, page, reason, outcome_unknown(page.last_error), now, more(page))
        canceled += 1
    return canceled


def _cancel(session: Session, page: Page, reason: str, uncertain: bool, now: datetime,
            more: dict | None = None) -> None:
    """A page no longer wanted is not sent (again); ``uncertain``: an earlier try may have reached the phone, so
    it is never called "not sent"."""
    page.status = PageStatus.CANCELED
    page.updated_at = now
    detail = {"page_id": page.id, "reason": reason, **(more or {})}
    if uncertain:
        detail["earlier_attempt"] = "outcome_unknown"
        if not outcome_unknown(page.last_error):
            page.last_error = f"{OUTCOME_UNKNOWN}: the run sending attempt {page.attempts} died mid-request"
    if reason == OVERDUE:  # the board counts it as no page, and says why
        page.last_error = (f"{page.last_error}; then {DEADLINE_PASSED}" if uncertain else DEADLINE_PASSED)[:500]
    log_event(session, at=now, actor="system", kind="page_canceled", incident_id=page.incident_id, detail=detail)
    release_later(session, page, now)


def failure_note(error: str, uncertain: bool) -> str:
    """``Page.last_error`` (and ``Callback.last_error``) after a failed attempt.

    A failure that proves nothing about an earlier attempt whose outcome is unknown (a 429 or a
    rejection of this attempt, its lookup throttled) keeps that attempt unknown: the next retry
    looks the SMS up again and logs ``possible_duplicate``.
    """
    if uncertain and not outcome_unknown(error):
        error = f"{OUTCOME_UNKNOWN} (an earlier attempt); then {error}"
    return error[:500]


def no_longer_wanted(page: Page, incident: Incident) -> str:
    """Why a page waiting to be (re)sent must not go out now ("" if it still must).

    Acknowledging and resolving cancel the queued rows; this catches the one that was with Twilio then and
    came back for a retry, and the alerts in retry when the customer was reached (never a false "AT RISK"); a
    receipt Twilio kept failing is not sent once the incident is closed.
    """
    if page.purpose in ESCALATION_PURPOSES and incident.acknowledged_at and _owner_works_it(incident):
        return "acknowledged"  # an owner deactivated since holds the escalation back no more (``decide._page``)
    if page.purpose in CHASING_PURPOSES and incident.callback_answered_at:
        return "callback"
    if page.purpose in ENDS_WITH_INCIDENT and incident.status != IncidentStatus.OPEN:
        return "resolved"
    if page.purpose in CLOSING_NOTICES:
        return _closing_outdated(page, incident)
    return outdated_by_answer(page.purpose, incident)


def _closing_outdated(page: Page, incident: Incident) -> str:
    """Why a customer's notice that their incident was closed must not go now: it was reopened since ("reopened":
    an outside probe's customer texted NO 30 ms after a rep's close, was told "open again", and 7 ms later read
    "incident ... is closed", their last word; a notice waits for an SMS slot, behind their earlier texts, or for
    Twilio up to an hour), or it was reopened and closed again since, and the later close's notice tells it
    ("closed_again")."""
    if incident.status == IncidentStatus.OPEN:
        return REOPENED
    session = object_session(page)
    later = session is not None and session.scalar(select(Page.id).where(
        Page.incident_id == page.incident_id, Page.id > page.id, Page.purpose.in_(CLOSING_NOTICES)).limit(1))
    return CLOSED_AGAIN if later else ""


def outdated_by_answer(purpose: str, incident: Incident) -> str:
    """Why a message of ``purpose`` waiting to go (a page, or the TAM's e-mail: ``late_mail``) is no longer true
    after what became of the callback's answer ("" if it still is): a breach alert once the customer was called
    back ("callback"), a breach correction once no answer by the deadline stands ("callback_not_met": the answer it
    tells of was withdrawn since, too short to count)."""
    if purpose == "breach" and incident.callback_answered_at:
        return "callback"
    if purpose == BREACH_CORRECTED and not (incident.callback_answered_at is not None
                                            and incident.callback_answered_at <= incident.callback_due_at):
        return "callback_not_met"
    return ""


def _owner_works_it(incident: Incident) -> bool:
    from app.services.escalation import owner_active  # escalation -> page_urls -> pages

    session = object_session(incident)
    return session is None or owner_active(session, incident)


def overdue_alert(page: Page, incident: Incident, now: datetime) -> str:
    """An at-risk alert written before the deadline and still unsent when it passed (Twilio failing until then), and
    no later page to the rep superseded it: its "AT RISK, 5 min left" is false by then (an outside probe's reps read
    it 27 s after the deadline, once Twilio answered again). One written after the deadline says it was breached
    (``page_text.alert_purpose``) and goes."""
    due = incident.callback_due_at
    return OVERDUE if page.purpose == "at_risk" and page.created_at < due <= now else ""


def adopt_sid(session: Session, page: Page, sid: str, now: datetime) -> None:
    """A status callback names the page's SID: keep it when the answer to our send was lost (the worker died
    between Twilio's 201 and its commit), and log the page sent, as that worker would have."""
    if sid and not page.twilio_sid:
        page.twilio_sid = sid[:64]
        page.sent_at = page.sent_at or now
        page.updated_at = now
        log_event(session, at=now, actor="twilio", kind="page_sent", incident_id=page.incident_id,
                  detail={"page_id": page.id, "sid": page.twilio_sid, "channel": page.channel,
                          "attempt": page.attempts, "adopted": True, "possible_duplicate": False,
                          "via": "status_callback"})


def _answer_written_failure(session: Session, incident: Incident, page: Page, decision: Decision, now: datetime,
                            error_code: str) -> None:
    """The customer's receipt or one-off notice SMS failed for good: the e-mail instead, or the line saying none can
    go (with whether an address is on record: then SMTP is what is missing); for a closing notice that reached them
    by no channel, the SMS telling the closer and the owner to phone them (``Decision.phone_customer``)."""
    from app.services.decisions import Acting, carry_out
    from app.services.deliveries import queue_delivery
    from app.services.unreached import notice_alerts

    how = "undelivered" if page.status == PageStatus.UNDELIVERED else "failed"
    alerts = notice_alerts(session, incident, page.purpose, how) if decision.phone_customer else []
    carry_out(session, incident, decision, now, Acting(detail={
        "page_id": page.id, "purpose": page.purpose, "failed_status": str(page.status), "error_code": error_code,
        "error": (page.last_error or "")[:200], "email_address": bool(incident.email),
        **({"told": [alert.recipient for alert in alerts]} if decision.phone_customer else {})}))
    for alert in alerts:
        queue_delivery(session, channel=DeliveryChannel.SMS, to=alert.phone, purpose="unreached",
                       recipient=alert.recipient, body=alert.body, now=now, incident_id=incident.id)


def answer_page_failure(session: Session, page: Page, now: datetime, first: bool = False,
                       error_code: str = "") -> Page | None:
    """What follows a page that failed for good, as the core decides (``PageFailed``). A page or at-risk alert SMS
    that failed, was undelivered or was never sent (STOP): call the same person at once, if the
    core says so; a rep's page or at-risk or breach alert: the same message to their other number (``phone_alt``), if
    the core says so; the last
    page of a level alive: the managers at once (``level_unreached``) (``first``: in the FIRST queue, as the SMS would
    have been). A customer's missed-call SMS that had
    held back later attempts' SMS is sent anew for them instead, if the core says so (``resend_missed_sms``); a
    customer's receipt SMS that failed for good is followed by the e-mail receipt, if the core says so
    (``error_code``: Twilio's, from the delivery report, for the log line)."""
    from app.escalation import PageFailed, decide
    from app.services.escalation import missed_sms_held_back, snapshot

    incident = session.get(Incident, page.incident_id)
    held_back_at = missed_sms_held_back(session, incident, page)
    alt = other_number(session, page) if page.purpose in OTHER_NUMBER_PURPOSES else ""
    failed = PageFailed(page.channel, page.purpose, held_back_at,
                        opted_out=held_back_at is not None and is_opted_out(session, page.to_number),
                        level_unreached=level_unreached(session, page),
                        retrying=page.status not in (PageStatus.FAILED, PageStatus.UNDELIVERED),
                        written_answered=page.purpose in (RECEIPT, *NOTICES) and written_answered(session, page),
                        voice_tried=page.channel == Channel.SMS and voice_tried(session, page),
                        other_number=bool(alt))
    decision = decide(failed, snapshot(session, incident, now), now)
    if held_back_at is not None:
        resend_missed_sms(session, incident, page, held_back_at, decision, now)
        return None
    if page.purpose in (RECEIPT, *NOTICES):  # the e-mail instead, or the line saying none can go (``carry_out``)
        if decision.log:
            _answer_written_failure(session, incident, page, decision, now, error_code)
        return None
    if decision.outcome == "level_unreached":  # the managers, at once (``decisions.carry_out``)
        from app.services.decisions import Acting, carry_out

        carry_out(session, incident, decision, now, Acting(detail={"page_id": page.id, "step_id": page.step_id}))
        return None
    voice = None
    for order in decision.pages:  # the same person called first, then the other number (``decide._page_failed``)
        if order.audience == Audience.SAME_PERSON:
            voice = _call_same_person(session, incident, page, order.purpose, decision, now, first)
        elif order.audience == Audience.OTHER_NUMBER:
            _page_other_number(session, incident, page, alt, order, now, first)
    return voice


def _call_same_person(session: Session, incident: Incident, page: Page, purpose: str, decision: Decision,
                      now: datetime, first: bool) -> Page | None:
    """The person of a failed SMS called with what it said: a page, or an at-risk alert
    (``decide._at_risk_sms_failed``); its ``page_sms_failed_calling`` line names both."""
    from app.services.oncall import tam_may_call
    from app.services.tickets import account_of

    if page.role == TAM_ROLE and not tam_may_call(account_of(session, incident), now):
        return None  # a TAM texted outside their business hours is never rung instead (``oncall.tam_target``)
    who = Contactable(rep_id=page.rep_id, name=page.name, phone=page.to_number, channels=("voice",), role=page.role)
    voice = queue_page(session, incident, who, Channel.VOICE, purpose, now, step_id=page.step_id, first=first)
    if voice is not None and EventKind.PAGE_SMS_FAILED_CALLING in decision.log:
        log_event(session, at=now, actor="system", kind=EventKind.PAGE_SMS_FAILED_CALLING, incident_id=incident.id,
                  detail={"page_id": page.id, "voice_page_id": voice.id})
    return voice


def _page_other_number(session: Session, incident: Incident, page: Page, number: str, order: PageOrder,
                       now: datetime, first: bool) -> Page | None:
    """The same page to the rep's other number (``number``: ``other_number``), on the failed page's channel; its
    line (``page_failed_other_number``) names both pages, as ``page_sms_failed_calling`` does."""
    who = Contactable(rep_id=page.rep_id, name=page.name, phone=number, channels=order.channels, role=page.role)
    other = queue_page(session, incident, who, Channel(order.channels[0]), order.purpose, now, step_id=page.step_id,
                       first=first)
    if other is not None:
        log_event(session, at=now, actor="system", kind=EventKind.PAGE_FAILED_OTHER_NUMBER, incident_id=incident.id,
                  detail={"page_id": page.id, "other_page_id": other.id, "to": page.name})
    return other


DEAD_PAGES = (PageStatus.FAILED, PageStatus.UNDELIVERED, PageStatus.CANCELED)
_WRITTEN_FAILURE_LINES = (EventKind.RECEIPT_SMS_FAILED_EMAILED, EventKind.RECEIPT_SMS_FAILED_NO_ADDRESS,
                          EventKind.CUSTOMER_NOTICE_SMS_FAILED_EMAILED, EventKind.CUSTOMER_NOTICE_SMS_FAILED_NO_ADDRESS)


def written_answered(session: Session, page: Page) -> bool:
    """The customer's receipt or one-off notice SMS ``page`` needs no answer to its failure: the same e-mail was
    written for the incident already (the step's own, or an earlier failure's), or this page's failure was answered
    already (a "failed" report and then an "undelivered" one for the same SMS)."""
    emailed = session.scalar(select(Delivery.id).where(
        Delivery.incident_id == page.incident_id, Delivery.purpose == page.purpose,
        Delivery.recipient == CUSTOMER_ROLE, Delivery.channel == DeliveryChannel.EMAIL).limit(1))
    if emailed is not None:
        return True
    said = session.scalars(select(IncidentEvent.detail).where(
        IncidentEvent.incident_id == page.incident_id, IncidentEvent.kind.in_(_WRITTEN_FAILURE_LINES)))
    return any((detail or {}).get("page_id") == page.id for detail in said)


def level_unreached(session: Session, page: Page) -> bool:
    """``page``, an escalation page that failed for good, was the last page of its step (level) alive: every other
    page of that step to someone who can acknowledge (not the TAM, who is only told) failed, was undelivered or was
    canceled, and no earlier failure of the step said so already (the managers are paged once per level)."""
    if page.purpose != "page" or page.step_id is None:
        return False
    # the level's failures take turns (FOR NO KEY UPDATE of its step's row, which a page's insert never waits for):
    # two of its pages failing at once (two page threads, each refused 21211) each saw the other alive, uncommitted,
    # and neither paged the managers. The later one reads the earlier one's page once it committed.
    session.execute(select(DueStep.id).where(DueStep.id == page.step_id).with_for_update(key_share=True))
    alive = session.scalar(select(Page.id).where(
        Page.step_id == page.step_id, Page.id != page.id, Page.role.not_in((CUSTOMER_ROLE, TAM_ROLE)),
        Page.status.not_in(DEAD_PAGES)).limit(1))
    if alive is not None:
        return False
    said = session.scalars(select(IncidentEvent.detail).where(
        IncidentEvent.incident_id == page.incident_id, IncidentEvent.kind == EventKind.LEVEL_UNREACHED))
    return not any((detail or {}).get("step_id") == page.step_id for detail in said)


def voice_tried(session: Session, page: Page) -> bool:
    """A call of ``page``'s level (step) to the same number exists already, whatever became of it."""
    if page.step_id is None:
        return False
    return session.scalar(select(Page.id).where(
        Page.step_id == page.step_id, Page.to_number == page.to_number, Page.channel == Channel.VOICE,
        Page.id != page.id).limit(1)) is not None


def resend_missed_sms(session: Session, incident: Incident, failed: Page, held_back_at: datetime,
                      decision: Decision, now: datetime) -> None:
    """Carry out the core's word on a failed missed-call SMS that held back later attempts' SMS: a new one, its
    line naming the one it replaces and the attempt it tells of (its "at": ``escalation.missed_call_at``)."""
    from app.services.decisions import Acting, carry_out

    carry_out(session, incident, decision, now, Acting(detail={
        "replaces_page_id": failed.id, "failed_status": str(failed.status), "attempt_at": held_back_at.isoformat()}))


def due_pages(session: Session, now: datetime, limit: int = 500) -> list[PendingJob]:
    """Queued pages whose time has come, and sends that died mid-way: for the watchdog."""
    stmt = select(Page.id, Page.next_attempt_at, Page.attempts).where(
        Page.status == PageStatus.QUEUED, Page.next_attempt_at <= now).limit(limit)
    jobs = [PendingJob("page", pid, at, attempt=n) for pid, at, n in session.execute(stmt)]
    stale = select(Page.id, Page.sending_since, Page.attempts).where(
        Page.status == PageStatus.SENDING, Page.sending_since < now - STALE_SENDING).limit(limit)
    # due since its dead run began: the watchdog sees it is late and resends it itself at once
    jobs += [PendingJob("page", pid, since, attempt=n) for pid, since, n in session.execute(stale)]
    return jobs
