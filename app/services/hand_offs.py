"""Who an alert of an incident reaches after the rota handed over: the people its levels reach now, not whoever
was on call when it was first paged.

An outside probe's override ended mid-incident: the rep off shift kept getting every at-risk alert of incidents he
never acknowledged, and the rep on call since heard of them only from a bare at-risk text, with no contact, problem
or callback number. The escalation core asks for the alert to ``Audience.PAGED_ON_CALL_NOW`` and for the first page
to ``Audience.NEWLY_ON_CALL``; these two pure functions say who they are."""

from __future__ import annotations

from app.models.paging import TAM_ROLE
from app.oncall.contactable import Contactable


def still_on_call(paged: list[Contactable], reached_now: list[Contactable]) -> list[Contactable]:
    """Of those ``paged`` so far, the ones the incident's levels still reach (``reached_now``: the rota re-resolved),
    and its TAM (told, never on call); then those the levels reach now who were never paged (the rep on call since
    the hand-off). A rep gone off shift is left out: the owner is alerted as the owner (``OWNER_OR_PRIMARY``)."""
    now_numbers = {who.phone for who in reached_now if who.phone}
    kept = [who for who in paged if who.role == TAM_ROLE or who.phone in now_numbers]
    return kept + newly_on_call(paged, reached_now)


def newly_on_call(paged: list[Contactable], reached_now: list[Contactable]) -> list[Contactable]:
    """Those the incident's levels reach now who were never paged for it (a TAM is never newly texted here)."""
    paged_numbers = {who.phone for who in paged if who.phone}
    return [who for who in reached_now if who.phone and who.phone not in paged_numbers and who.role != TAM_ROLE]
