"""The board's rows as HTML, built in Python: a board of 1,000 open incidents is rendered several times faster
than by a Jinja loop (each ``{{ }}`` there is an attribute lookup, an escape and a Markup object).

Each value is escaped once and reused. A row stays light: its buttons post the page's one form
(``form="act"`` in board.html, so the page carries one CSRF field), and the note and resolve-with-a-reason
forms open on demand (dashboard.js clones them from board.html's templates; without JavaScript those links
lead to the incident page, which has the forms). Every control's accessible name says its incident.
``data-state`` changes only when the state does (the live update announces those changes); the countdown
ticks in the browser from ``data-remaining``.

A row is built once per change: its HTML is kept by what it is built from (the incident's board columns, its
pages, owner and self-report), and each request adds only what depends on the time (the deadline cell's word,
colour and countdown) and the viewer's CSRF token.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from urllib.parse import quote

from markupsafe import Markup

from app.dashboard.display import (
    DUE_AT_CALL_END,
    BoardRow,
    board_row,
    clock,
    deadline_of,
    iso,
    remaining_seconds,
    service,
)
from app.dashboard.queries import BoardIncident
from app.services.company_label import row_company
from app.services.joined_contacts import UNTRACKED, JoinedContact

# A row's HTML apart from its deadline cell, by everything it is built from. The board is polled by every
# rep's browser every 30 s and most rows do not change between two polls: a row whose incident, pages,
# owner and self-report are unchanged is not built again (only its deadline cell, which depends on the time).
# The rows are the same for every rep: the page's CSRF field goes in at the slots, per request.
ROW_CACHE_SIZE = 2048  # rows kept per web process (about 2.6 KB each); the cache starts afresh beyond it
_ROWS: dict[tuple, tuple[str, str, list[str]]] = {}  # key -> (up to the deadline cell, due time, the rest)
_CSRF_SLOT = "\x00csrf\x00"


def escape(text: str) -> str:
    """``text`` escaped for HTML as markupsafe's ``escape`` does, as a plain ``str``: without a ``Markup`` object per
    value (a fifth of building a row)."""
    return (text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;").replace("'", "&#39;")
            .replace('"', "&#34;"))


def rows_html(items: Sequence[BoardIncident], now: datetime, incident_url: str, csrf: Markup,
              may_own: bool = True) -> Markup:
    """Every row's ``<tr>`` at ``now``; ``incident_url`` is the incident page's URL with ``{}`` for the reference;
    without ``may_own`` (a login linked to no active rep, ``board_actions.may_own``) no Acknowledge or Take over."""
    if len(_ROWS) + len(items) > ROW_CACHE_SIZE:
        _ROWS.clear()
    out, field = [], str(csrf)  # a plain str: Markup.join would escape the row
    for item in items:
        # plain tuples: hashed and compared in C (comparing SQLAlchemy rows was most of a cache hit's cost)
        key = (tuple(item.incident), tuple(map(tuple, item.pages)), item.acknowledged_by, item.self_reported_by,
               item.last_callback, item.taken_over_at, item.extension, item.on_hotline, item.also_call, item.unreached, item.reopened, item.confirming_until, incident_url, may_own)
        parts = _ROWS.get(key)
        if parts is None:
            head, tail = _row(board_row(item), incident_url, Markup(_CSRF_SLOT), item.extension, item.on_hotline,
                              item.also_call, item.unreached, may_own, item.reopened)
            parts = _ROWS[key] = (head, iso(item.incident.callback_due_at), tail.split(_CSRF_SLOT))
        out += (parts[0], _deadline(item.incident, now, parts[1], item.on_hotline, item.confirming_until),
                field.join(parts[2]))
    return Markup("".join(out))


def _row(row: BoardRow, incident_url: str, csrf: Markup, extension: str = "", on_hotline: bool = False,
         also_call: Sequence[JoinedContact] = (), unreached: str = "", may_own: bool = True,
         reopened: str = "") -> tuple[str, str]:
    """The row's HTML before the deadline cell, and from the end of its countdown on (``_deadline`` is between);
    ``on_hotline``: no time to call back by yet (the caller is still giving their details); ``also_call``: the
    different contacts who joined it (``joined_contacts``); ``unreached``: what reached the customer by no channel;
    ``reopened``: who reopened it since its close, with the customer's words or the rep's reason."""
    i = row.incident
    r = escape(i.reference)
    to = escape(incident_url.format(quote(i.reference, safe="")))
    shown = row_company(i)
    named = escape(f"{i.reference} ({shown or 'company not given'})")
    company = escape(shown or "Company not given")
    nobody = " nobody-to-page" if i.nobody_to_page_at else ""
    due = (DUE_AT_CALL_END if on_hotline else
           f'call back by <time datetime="{iso(i.callback_due_at)}">{clock(i.callback_due_at)}</time>')
    return (f'<tr id="inc-{r}" class="incident{nobody}" data-reference="{r}" data-name="{company}" '
            f'data-state="{escape(row.state.label)}">\n',
            f'<br><span class="muted">{due}</span></td>\n'
            f'<td data-label="Incident"><a href="{to}"><strong class="company">{company}</strong></a>\n'
            f'<br><span class="reference">#{r}</span> · <span class="service">{escape(service(i))}</span>'
            f'{_contact(i.contact_name)}{_related(i.related_reference or i.linked_reference, incident_url)}'
            f'{_also_call(also_call)}{_unreached(unreached)}{_reopened(reopened)}</td>\n'
            f'<td data-label="Actions">{_actions(row, r, to, named, csrf, extension, may_own)}</td>\n'
            f'{_state(row)}\n{_paged(row)}\n</tr>\n')


def _deadline(i, now: datetime, due: str, on_hotline: bool = False, confirming_until: datetime | None = None) -> str:
    """The deadline cell up to the end of its countdown: the word and colour at ``now``, and the countdown the
    browser ticks on from ``data-remaining`` (``deadline_of``'s words and figures need no escaping)."""
    d = deadline_of(i, now, on_hotline, confirming_until)
    ticking = ' data-ticking="1"' if d.ticking else ""
    breached = ' data-breached="1"' if i.breached_at else ""
    connected = "" if d.ticking else ' data-connected="1"'
    return (f'<td data-label="Deadline"><span class="deadline {d.css}"{ticking}{breached}>'
            f'<span class="word">{d.word}</span> — <span class="countdown {d.css}" '
            f'data-due="{due}" data-remaining="{remaining_seconds(i.callback_due_at, now)}"{connected}>'
            f'{d.text}</span></span>\n')


def _also_call(contacts: Sequence[JoinedContact]) -> str:
    return "".join(f'<br><span class="state bad also-call">Also call {escape(c.label())} by '
                   f'<time datetime="{iso(c.due_at)}">{clock(c.due_at)}</time>: joined from this number, '
                   f'contact differs, {UNTRACKED}</span>' for c in contacts)


def _related(reference: str | None, incident_url: str) -> str:
    if not reference:
        return ""
    to = escape(incident_url.format(quote(reference, safe="")))
    return (f'<br><span class="muted related">Possibly related to <a href="{to}">#{escape(reference)}</a> '
            f'(same caller ID)</span>')


def _unreached(said: str) -> str:
    return f'<br><span class="state bad unreached">{escape(said)}</span>' if said else ""


def _reopened(said: str) -> str:
    return f'<br><span class="state bad reopened">{escape(said)}</span>' if said else ""


def _contact(name: str) -> str:
    return f'<br><span class="muted">{escape(name)}</span>' if name else ""


def _actions(row: BoardRow, r: Markup, to: Markup, named: Markup, csrf: Markup, extension: str = "",
             may_own: bool = True) -> str:
    i = row.incident
    out = [f'<div class="actions" data-reference="{r}" data-named="{named}">']
    if not i.acknowledged_at and may_own:
        out.append(f'<button form="act" formaction="{to}/acknowledge" class="primary" id="ack-{r}" '
                   f'aria-label="Acknowledge {named}">Acknowledge</button>')
    if not i.callback_answered_at and i.callback_phone:
        primary = ' class="primary"' if i.acknowledged_at else ""
        out.append(f'<button form="act" formaction="{to}/call"{primary} id="call-{r}" '
                   f'aria-label="Call the customer now, {named}">Call the customer now</button>')
    if i.acknowledged_at and may_own:
        out.append(f'<button form="act" formaction="{to}/take-over" id="takeover-{r}" '
                   f'aria-label="Take over {named}">Take over</button>')
    if not i.callback_phone and not i.reached_by_email_at:
        out.append(f'<form method="post" action="{to}/reached" id="reached-{r}">{csrf}\n'
                   f'<label>No callback number: how did you reach {escape(i.email or "the customer")}?<br>'
                   f'<input type="text" name="how" maxlength="500" required></label>\n'
                   f'<button aria-label="Record how you reached the customer of {named}">Record</button></form>')
    if i.callback_answered_at or i.reached_by_email_at:
        out.append(f'<form method="post" action="{to}/resolve" class="inline" data-action>{csrf}\n'
                   f'<label>Who at the customer agreed it is resolved<br><input type="text" name="who_agreed" '
                   f'maxlength="150" required id="who-agreed-{r}"></label>\n'
                   f'<button id="resolve-{r}" aria-label="Resolved (the customer agrees), {named}">'
                   f'Resolved (the customer agrees)</button></form>\n'
                   f'<a class="button" id="propose-{r}" href="{to}/updates#resolve" '
                   f'aria-label="Propose resolution to the customer, {named}">Propose resolution to the customer</a>')
    out.append(f'<a class="button" id="resolve-reason-{r}" href="{to}#resolve-reason-{r}" data-opens="resolve-reason" '
               f'aria-label="Resolve without the customer&#39;s agreement (managers), {named}">'
               f'Resolve without the customer&#39;s agreement (managers)</a>')
    if i.callback_phone:
        phone, ext = escape(i.callback_phone), escape(extension)  # as the incident page's _actions.html
        href, said, then = (f"{phone};ext={ext}", f", extension {ext}", f", then extension {ext}") if ext else (phone, "", "")
        out.append(f'<a class="button" id="dial-{r}" href="tel:{href}" aria-label="Dial {phone} myself{said}, {named}">'
                   f'Dial {phone} myself{then}</a>')
    out.append(f'<a class="button" id="note-{r}" href="{to}#note-{r}" data-opens="note" '
               f'aria-label="Add a note to {named}">Add a note</a>')
    out.append(f'<p class="row-status" id="status-{r}" role="status" tabindex="-1"></p></div>')
    return "\n".join(out)


def _state(row: BoardRow) -> str:
    i, label = row.incident, row.state.label
    out = [f'<td data-label="State"><span class="state {row.state.css}">{escape(label)}</span>']
    if row.acknowledged_by and row.taken_over_at is not None:  # the owner took it over: they did not acknowledge
        if not label.startswith("Taken over"):
            out.append(f'\n<br><span class="acked-by">Taken over by {escape(row.acknowledged_by)} at '
                       f'{clock(row.taken_over_at)}</span>')
    elif row.acknowledged_by and not label.startswith("Acknowledged"):
        out.append(f'\n<br><span class="acked-by">Acknowledged by {escape(row.acknowledged_by)}</span>')
    if i.nobody_to_page_at:
        out.append(f'\n<br><span class="state bad">Nobody to page at {clock(i.nobody_to_page_at)}: managers paged</span>')
    out.append("</td>")
    return "".join(out)


def _paged(row: BoardRow) -> str:
    items = [f'\n<li class="{p.css}">{escape(p.line)} <span class="purpose">({escape(p.purpose)}'
             f'{f", {p.count} pages" if p.count > 1 else ""})</span></li>' for p in row.paged]
    return f'<td data-label="Paged"><ul class="plain pages">{"".join(items) or chr(10) + _NOBODY}</ul></td>'


_NOBODY = '<li class="muted">Nobody paged yet</li>'
