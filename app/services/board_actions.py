"""What a logged-in dashboard user does to an incident, through the one service of each action and its guards.

Acknowledge, take over, call and record a contact go through ``acks`` (who may: ``acks.allowed``); a verbal
agreement through ``update_actions`` (``update_rights``), as SMS and keypress do. Each function works inside the
caller's transaction; jobs ride on its unit of work.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.models import Incident, Rep, Role, User
from app.prompts import text
from app.services.acks import Actor, Answer, acknowledge, connect, reached_by_email, resolve
from app.services.refusal_lines import DASHBOARD
from app.settings import Settings

VIA = DASHBOARD
# what the board and the incident page say, instead of Acknowledge and Take over, to a login that may not own one
NOT_A_REP_NOTE = ("Your login is linked to no active on-call rep: you can follow and note incidents here, but not "
                  "acknowledge or take them over. Ask an admin for a login linked to your rep "
                  "(hotline users create ... --rep NAME).")


def actor_of(session: Session, user: User) -> Actor:
    """The acting user, as their rep when their login is linked to an active one (a deactivated rep is as unknown
    as by SMS, ``acks.may_act``): without one the escalation core refuses to let them acknowledge or take over."""
    rep = session.get(Rep, user.rep_id) if user.rep_id else None
    rep = rep if rep is not None and rep.active else None
    manager = user.role in (Role.MANAGER, Role.ADMIN) or bool(rep and rep.is_manager)
    return Actor(name=rep.name if rep else user.name, via=VIA, rep=rep, is_manager=manager)


def may_own(session: Session, user: User) -> bool:
    """Whether the user's login may acknowledge or take over (it acts as an active rep): the board and the incident
    page offer those buttons only then (the escalation core refuses the others whatever they post)."""
    return actor_of(session, user).rep is not None


def acknowledge_as(session: Session, incident: Incident, user: User, now: datetime, form=None) -> Answer:
    """Acknowledge as the user's rep, if ``acks.allowed`` (unlinked, refused: ``ack_login_not_a_rep``)."""
    return acknowledge(session, incident, actor_of(session, user), now)


def take_over_as(session: Session, incident: Incident, user: User, now: datetime, form=None) -> Answer:
    """Take the incident over from its owner (the one take-over rule, as every channel applies it)."""
    return acknowledge(session, incident, actor_of(session, user), now, take_over=True)


def call_customer(session: Session, incident: Incident, user: User, now: datetime, form=None) -> Answer:
    """Acknowledge or take over if needed, then the hotline rings the rep and bridges the customer."""
    return connect(session, incident, actor_of(session, user), now)


def record_reached(session: Session, incident: Incident, user: User, now: datetime, form=None) -> Answer:
    """No callback number: record how the customer was reached by e-mail."""
    how = (form.get("how", "") if form else "").strip()
    if not how:
        return Answer(False, "refused_empty", text("reached_empty"))
    return reached_by_email(session, incident, actor_of(session, user), how, now)


def resolve_as(session: Session, incident: Incident, user: User, now: datetime, form=None,
               settings: Settings | None = None) -> Answer:
    """Resolve with a recorded verbal agreement (who at the customer agreed), or as a manager with a reason.

    Issue 11: after a verified callback the rep names who agreed; the agreement is recorded as a
    confirmed proposal and the one resolve service closes the incident (the owner or a manager records it, and the
    owner is told when a manager did: ``update_actions.record_agreement``). Over the customer's standing NO only
    with the form's box ticked (``resolution.standing_no``).
    """
    form = form or {}
    who_agreed = form.get("who_agreed", "").strip()
    actor = actor_of(session, user)
    if who_agreed and settings is not None:
        from app.services.resolution import AFTER_NO_FIELD  # resolution builds on acks
        from app.services.update_actions import record_agreement

        result = record_agreement(session, incident, actor, now, settings, who_agreed=who_agreed,
                                  note=form.get("note", ""), after_no=form.get(AFTER_NO_FIELD) == "yes")
        return Answer(result.ok, "resolved" if result.ok else "refused", result.message)
    return resolve(session, incident, actor, now, reason=form.get("reason", ""),
                   **({"sla_minutes": settings.callback_sla_minutes, "hotline_number": settings.twilio_number}
                      if settings is not None else {}))


def reopen_as(session: Session, incident: Incident, user: User, now: datetime, form=None) -> Answer:
    """Reopen a closed incident with a written reason (any rep or manager, any close: ``reopen.by_staff``)."""
    from app.services.reopen import by_staff  # reopen builds on acks and decisions

    return by_staff(session, incident, actor_of(session, user), (form or {}).get("reason", ""), now)
