"""``POST /tickets``: the helpdesk pushes one ticket or a batch of them."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy.exc import IntegrityError

from app.api.auth import insufficient_scope, require_scope
from app.api.errors import json_error
from app.api.formats import iso_utc
from app.models import Ticket
from app.services.api_tokens import grants
from app.services.ticket_input import ACCOUNT_FIELDS
from app.services.tickets import InvalidTicket, TicketInput, parse_ticket_input, upsert_ticket
from app.wiring import Hotline

bp = Blueprint("tickets", __name__)

MAX_BATCH = 500
SCOPE = "tickets:write"
ACCOUNT_SCOPE = "accounts:admin"  # for ACCOUNT_FIELDS: who is paged about an account's Sev-1s, its support PIN


@bp.post("/tickets")
@require_scope(SCOPE)
def upsert():
    """Create or update one ticket (201/200), or a batch under ``tickets`` (200), all or nothing; an account's TAM
    and support PIN only with ``accounts:admin`` too (403 otherwise, nothing stored)."""
    body = request.get_json()  # 415 when not JSON, 400 when malformed
    hotline: Hotline = current_app.extensions["hotline"]
    # the region of national numbers, and the hotline's own number, which no ticket phone may be
    numbers = (hotline.settings.default_region, hotline.settings.twilio_number)
    if isinstance(body, dict) and "tickets" in body:
        try:
            inputs = _parse_batch(body, numbers)
        except InvalidTicket as exc:
            return _invalid(exc)
        if (field := _account_field(inputs, batch=True)) is not None:
            return insufficient_scope(ACCOUNT_SCOPE, g.api_token_scopes, field, SCOPE)
        results = _save(hotline, inputs)
        created = sum(1 for _, was_created in results if was_created)
        tickets = [ticket | {"created": was_created} for ticket, was_created in results]
        return jsonify(created=created, updated=len(results) - created, tickets=tickets)
    try:
        data = parse_ticket_input(body, *numbers)
    except InvalidTicket as exc:
        return _invalid(exc)
    if (field := _account_field([data], batch=False)) is not None:
        return insufficient_scope(ACCOUNT_SCOPE, g.api_token_scopes, field, SCOPE)
    [(ticket, created)] = _save(hotline, [data])
    return jsonify(ticket), 201 if created else 200


def ticket_json(ticket: Ticket) -> dict[str, object]:
    """The API form of a ticket."""
    contact = ticket.contact
    return {
        "number": ticket.number,
        "status": str(ticket.status),
        "company": ticket.account.name,
        "subject": ticket.subject,
        "contact": None
        if contact is None
        else {"name": contact.name, "email": contact.email, "phone": contact.phone, "phone_alt": contact.phone_alt},
        "opened_at": iso_utc(ticket.opened_at),
        "updated_at": iso_utc(ticket.updated_at),
    }


def _account_field(inputs: list[TicketInput], *, batch: bool) -> str | None:
    """The first account setting the request would change that this token may not (``tickets[i].field`` in a batch)."""
    if grants(g.api_token_scopes, ACCOUNT_SCOPE):
        return None
    return next((f"tickets[{i}].{name}" if batch else name for i, data in enumerate(inputs) for name in ACCOUNT_FIELDS
                 if getattr(data, name) is not None), None)


def _parse_batch(body: dict[str, object], numbers: tuple[str, str]) -> list[TicketInput]:
    extra = sorted(k for k in body if k != "tickets")
    if extra:
        raise InvalidTicket(extra[0], "unknown field (a batch has only 'tickets')")
    items = body["tickets"]
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
        raise InvalidTicket("tickets", f"must be a list of 1 to {MAX_BATCH} tickets")
    inputs = []
    for index, item in enumerate(items):
        try:
            inputs.append(parse_ticket_input(item, *numbers))
        except InvalidTicket as exc:
            where = f"tickets[{index}]"
            raise InvalidTicket(f"{where}.{exc.field}" if exc.field else where, exc.message) from None
    return inputs


def _save(hotline: Hotline, inputs: list[TicketInput]) -> list[tuple[dict[str, object], bool]]:
    # A concurrent push may create the same account or ticket first: the retry then updates it.
    for attempt in range(2):
        try:
            with hotline.db.transaction() as session:
                now = hotline.clock.now()
                results = []
                for data in inputs:
                    ticket, created = upsert_ticket(session, data, now)
                    results.append((ticket_json(ticket), created))
                return results
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def _invalid(exc: InvalidTicket):
    return json_error(422, exc.message, code="invalid", field=exc.field)
