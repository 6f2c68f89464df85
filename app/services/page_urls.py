"""The outbound request for a page: body or TwiML URL, status callback, signed links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import object_session

from app.escalation.decide import (
    AGREED_CLOSING_NOTICE,
    BREACH_CORRECTED,
    BREACH_NOTICE,
    BRIDGE_TOO_SHORT,
    CLOSING_NOTICE,
    HANDED_OVER,
)
from app.models import Channel, Incident, Page, Rep
from app.models.paging import TAM_NOTICES, TAM_ROLE
from app.services import page_text
from app.services.callbacks import MIN_CONVERSATION_SECONDS, last_unreached_redial, unreached_in_outage
from app.services.escalation import caller_on_hotline, missed_call_at
from app.services.hand_offs import successors_of
from app.services.tickets import account_of
from app.services.update_text import customer_zone
from app.settings import Settings

ACK_LINK_MAX_AGE = 2 * 3600  # seconds an acknowledgement link stays valid
# Links are made and checked by machines whose clocks may differ a little; more than this
# ahead means the link was signed with a stolen key to outlive its two hours.
ACK_LINK_CLOCK_SKEW = 60


class BadAckLink(Exception):
    """An acknowledgement link that is forged, garbled or expired."""


@dataclass(frozen=True)
class OutboundRequest:
    """Everything the telephony seam needs to send one page."""

    channel: Channel
    to: str
    body: str
    url: str
    status_callback: str
    marker: str  # text that identifies this SMS when looking for it after a time-out
    since: datetime


class PageUrls:
    """Builds page requests and signed links against the public base URL."""

    def __init__(self, settings: Settings) -> None:
        self.base = settings.link_base
        self.hotline_number = settings.twilio_number  # the caller ID a bridged callback shows the customer
        self.reopen_window_days = settings.reopen_window_days  # how long a closing notice's NO reopens the incident
        self.serializer = URLSafeSerializer(settings.signing_key(), salt="sev1-ack-link")

    def ack_link(self, page_id: int, issued: datetime) -> str:
        """A signed link that acknowledges the page's incident, valid ACK_LINK_MAX_AGE from ``issued``."""
        return f"{self.base}/ack/{self.serializer.dumps({'p': page_id, 't': int(issued.timestamp())})}"

    def page_of_link(self, token: str, now: datetime, max_age: int = ACK_LINK_MAX_AGE) -> int:
        """The page id a link was made for; raises BadAckLink (forged, garbled or expired)."""
        try:
            data = self.serializer.loads(token)
            page_id, issued = int(data["p"]), int(data["t"])
        except (BadSignature, KeyError, TypeError, ValueError) as exc:
            raise BadAckLink("this acknowledgement link is not valid") from exc
        if now.timestamp() - issued > max_age:
            raise BadAckLink("this acknowledgement link has expired")
        if issued - now.timestamp() > ACK_LINK_CLOCK_SKEW:
            raise BadAckLink("this acknowledgement link is not valid")
        return page_id

    def request_for(self, page: Page, incident: Incident) -> OutboundRequest:
        """The SMS or call to make for ``page``."""
        if page.channel == Channel.VOICE:
            return OutboundRequest(Channel.VOICE, page.to_number, "", f"{self.base}/twilio/page/voice?page={page.id}",
                                   f"{self.base}/twilio/page/voice/status?page={page.id}", "", page.created_at)
        body = self._body(page, incident)
        return OutboundRequest(Channel.SMS, page.to_number, body, "",
                               f"{self.base}/twilio/sms/status?page={page.id}", body, page.created_at)

    def _body(self, page: Page, incident: Incident) -> str:
        if page.role == TAM_ROLE and page.purpose in TAM_NOTICES:
            return page_text.tam_sms(incident, page.purpose, page.created_at, page_zone(page))  # told, never asked
        if page.purpose == "page":
            return page_text.page_sms(incident, self.ack_link(page.id, page.created_at), page_zone(page),
                                      page.created_at, handed_over=page_text.hand_off_page(page))
        if page.purpose in ("at_risk", "breach"):
            return page_text.alert_sms(incident, page.purpose, page.created_at, page_zone(page), page.rep_id)
        if page.purpose == BREACH_CORRECTED:  # to a TAM as to a manager: it asks nothing of them
            return page_text.breach_corrected_sms(incident, page_zone(page), page.created_at)
        if page.purpose == "joined_contact":
            return page_text.joined_contact_sms(incident, page.created_at, page_zone(page))
        if page.purpose == "number_corrected":  # the TAM is told, never asked to call
            return page_text.number_corrected_sms(incident, page_zone(page), tam=page.role == TAM_ROLE,
                                                   at=page.created_at)
        if page.purpose == "taken_over":  # built in the send's transaction: the owner now is who took it over
            session = object_session(incident)
            owner = session.get(Rep, incident.acknowledged_by) if session and incident.acknowledged_by else None
            return page_text.taken_over_sms(incident, owner.name if owner is not None else "", page_zone(page),
                                            page.created_at)
        if page.purpose == HANDED_OVER:  # to whom its hand-off step paged in the rep's place
            session = object_session(page)
            return page_text.handed_over_sms(incident, successors_of(session, page) if session else "the rep on call "
                                             "now", page_zone(page), page.created_at)
        if page.purpose == "rep_not_reached":  # a try again the rep hung up on: the customer was called, once
            session = object_session(page)
            return page_text.rep_not_reached_sms(incident, redial=session is not None and last_unreached_redial(
                session, incident.id, page.created_at) is not None, outage=session is not None and unreached_in_outage(
                session, incident.id, page.created_at))
        if page.purpose == BRIDGE_TOO_SHORT:  # the deadline on the rep's clock, overdue or not when it was decided
            return page_text.bridge_too_short_sms(incident, MIN_CONVERSATION_SECONDS, page.created_at, page_zone(page))
        if page.purpose == "callback_missed":
            session = object_session(page)
            return page_text.callback_missed_sms(incident, customer_zone(incident),
                                                 self.hotline_number,
                                                 missed_call_at(session, page) if session else page.created_at,
                                                 page.created_at)
        if page.purpose == BREACH_NOTICE:
            return page_text.breach_notice_sms(incident, customer_zone(incident),
                                               self.hotline_number, page.created_at)
        if page.purpose == CLOSING_NOTICE:
            return page_text.closing_notice_sms(incident, customer_zone(incident),
                                                self.hotline_number, page.created_at, self.reopen_window_days)
        if page.purpose == AGREED_CLOSING_NOTICE:
            return page_text.agreed_closing_sms(incident, self.hotline_number, self.reopen_window_days)
        if page.purpose == "receipt":
            return page_text.receipt_sms(incident, customer_zone(incident), page.created_at)
        return page_text.ack_notice_sms(incident, customer_zone(incident), page.created_at,
                                        in_call=_in_call(incident, page.created_at))


def page_zone(page: Page) -> str:
    """The time zone of whoever a page is for (the deadline is written and said on their clock): a rep's own, the
    account's TAM's; UTC for anyone else."""
    session = object_session(page)
    if session is None:
        return "UTC"
    if page.role == TAM_ROLE:
        incident = session.get(Incident, page.incident_id)
        return page_text.tam_clock(account_of(session, incident) if incident is not None else None)
    return page_text.rep_clock(session.get(Rep, page.rep_id) if page.rep_id else None)


def _in_call(incident: Incident, at: datetime) -> bool:
    """The caller who opened ``incident`` mid-call was still giving their details at ``at``: its deadline is not set."""
    session = object_session(incident)
    return session is not None and caller_on_hotline(session, incident, at)
