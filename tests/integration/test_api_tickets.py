"""POST /api/v1/tickets: create, update, batches, validation, and the lookups the IVR makes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, inspect, select

from app.models import Account, Contact, Ticket
from app.services.api_tokens import create_token
from app.services.oncall import tam_target
from app.services.tickets import find_open_ticket_by_number, find_open_ticket_by_phone


@pytest.fixture
def auth(hotline, clock) -> dict[str, str]:
    """Headers carrying a fresh API token."""
    with hotline.db.transaction() as session:
        token = create_token(session, "helpdesk", clock.now())
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def admin(hotline, clock) -> dict[str, str]:
    """Headers carrying a token that may also set an account's TAM and support PIN."""
    with hotline.db.transaction() as session:
        token = create_token(session, "helpdesk-admin", clock.now(), scopes=["tickets:write", "accounts:admin"])
    return {"Authorization": f"Bearer {token}"}


def _post(client, auth, body):
    return client.post("/api/v1/tickets", json=body, headers=auth)


def _count(hotline, model) -> int:
    with hotline.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model))


TICKET = {
    "number": "40211",
    "company": "Acme Mail GmbH",
    "subject": "Outbound mail queue stuck",
    "contact_name": "Dana Ops",
    "contact_email": "Dana@Acme.EXAMPLE",
    "contact_phone": "(415) 555-2671",
    "opened_at": "2026-11-25T22:10:00+01:00",
}


def test_create_then_update(client, auth, clock):
    created = _post(client, auth, TICKET)
    assert created.status_code == 201
    body = created.get_json()
    assert body["number"] == "40211"
    assert body["status"] == "open"
    assert body["company"] == "Acme Mail GmbH"
    assert body["contact"] == {
        "name": "Dana Ops",
        "email": "Dana@acme.example",
        "phone": "+14155552671",
        "phone_alt": "",
    }
    assert body["opened_at"] == "2026-11-25T21:10:00Z"
    assert body["updated_at"] == "2026-11-26T03:00:00Z"

    clock.advance(minutes=10)
    updated = _post(client, auth, {"number": " 40211 ", "company": "Acme Mail GmbH", "status": "Pending"})
    assert updated.status_code == 200
    body = updated.get_json()
    assert body["status"] == "pending"
    assert body["updated_at"] == "2026-11-26T03:10:00Z"
    assert body["opened_at"] == "2026-11-25T21:10:00Z"  # not given: kept
    assert body["subject"] == "Outbound mail queue stuck"
    assert body["contact"]["name"] == "Dana Ops"


def test_opened_at_defaults_to_now(client, auth):
    body = _post(client, auth, {"number": 7, "company": "Acme"}).get_json()
    assert body["number"] == "7"
    assert body["opened_at"] == "2026-11-26T03:00:00Z"
    assert body["contact"] is None


def test_contact_found_again_by_email_or_phone(client, auth, hotline):
    _post(client, auth, TICKET)
    _post(client, auth, {"number": "2", "company": "Acme Mail GmbH", "contact_email": "dana@acme.example"})
    _post(client, auth, {"number": "3", "company": "Acme Mail GmbH", "contact_phone": "+1 415 555 2671"})
    _post(client, auth, {"number": "4", "company": "Other Co", "contact_email": "dana@acme.example"})
    assert _count(hotline, Contact) == 2  # one per account
    assert _count(hotline, Account) == 2


def test_tam_is_stored_on_the_account(client, admin, hotline):
    _post(client, admin, TICKET | {"tam_name": "Tom", "tam_email": "tom@hotline.example", "tam_phone": "+4930901820"})
    with hotline.db.transaction() as session:
        account = session.scalar(select(Account))
        assert (account.tam_name, account.tam_email, account.tam_phone) == ("Tom", "tom@hotline.example", "+4930901820")


def _tam_clock(hotline, company: str = "Acme Mail GmbH") -> tuple[str, str]:
    with hotline.db.session() as session:
        account = session.scalar(select(Account).where(Account.name == company))
        return account.tam_time_zone, account.tam_business_hours


PACIFIC = {"tam_phone": "+14155550144", "tam_email": "terry@hotline.example",
           "tam_time_zone": "America/Los_Angeles", "tam_business_hours": "mon-fri 08:00-18:00, sat 10:00-14:00"}


def test_tam_time_zone_and_business_hours_are_set_and_kept_when_absent_or_empty(client, admin, hotline):
    assert _post(client, admin, TICKET | PACIFIC).status_code == 201
    assert _tam_clock(hotline) == ("America/Los_Angeles", "mon-fri 08:00-18:00, sat 10:00-14:00")
    assert _post(client, admin, TICKET | {"subject": "still stuck"}).status_code == 200  # absent: kept
    assert _post(client, admin, TICKET | {"tam_time_zone": " ", "tam_business_hours": ""}).status_code == 200
    assert _tam_clock(hotline) == ("America/Los_Angeles", "mon-fri 08:00-18:00, sat 10:00-14:00")
    changed = {"tam_time_zone": "Asia/Tokyo", "tam_business_hours": "mon-sun 00:00-24:00"}
    assert _post(client, admin, TICKET | changed).status_code == 200
    assert _tam_clock(hotline) == ("Asia/Tokyo", "mon-sun 00:00-24:00")
    batch = {"tickets": [{"number": "7", "company": "Beta", "tam_time_zone": "Europe/Berlin"}]}
    assert _post(client, admin, batch).status_code == 200
    assert _tam_clock(hotline, "Beta") == ("Europe/Berlin", "mon-fri 09:00-17:00")  # hours: the default


def test_a_bad_tam_clock_is_refused_naming_the_field_and_stores_nothing(client, admin, hotline):
    assert _post(client, admin, TICKET | PACIFIC).status_code == 201
    for field, value in (("tam_time_zone", "America/Pacific"), ("tam_business_hours", "mon-fri 9-17")):
        refused = _post(client, admin, TICKET | {field: value, "subject": "changed"})
        assert refused.status_code == 422
        error = refused.get_json()["error"]
        assert (error["code"], error["field"]) == ("invalid", field)
        assert value in error["message"]
    batch = {"tickets": [{"number": "7", "company": "Beta"}, {"number": "8", "company": "Beta",
                                                              "tam_business_hours": "fri-mon 22:00-06:00"}]}
    refused = _post(client, admin, batch)
    assert refused.status_code == 422 and refused.get_json()["error"]["field"] == "tickets[1].tam_business_hours"
    assert _tam_clock(hotline) == ("America/Los_Angeles", "mon-fri 08:00-18:00, sat 10:00-14:00")
    assert _count(hotline, Ticket) == 1


def test_a_tam_whose_hours_came_through_the_api_is_texted_in_them_and_emailed_outside_them(client, admin, hotline):
    assert _post(client, admin, TICKET | PACIFIC).status_code == 201
    # the default clock (UTC, mon-fri 09:00-17:00) would have it the other way round: e-mailed at 18:00 UTC,
    # texted at 10:00 UTC, 02:00 in California
    wednesday_1000_pacific = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
    thursday_0200_pacific = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    with hotline.db.session() as session:
        account = session.scalar(select(Account))
        [by_day] = tam_target(account, wednesday_1000_pacific, ["sms"])
        [by_night] = tam_target(account, thursday_0200_pacific, ["sms"])
    assert (by_day.phone, by_day.channels) == ("+14155550144", ("sms",))
    assert (by_night.phone, by_night.email, by_night.channels) == ("", "terry@hotline.example", ("email",))


def test_batch_creates_and_updates(client, auth, hotline):
    _post(client, auth, {"number": "1", "company": "Acme"})
    batch = {"tickets": [{"number": "1", "company": "Acme", "status": "solved"}, {"number": "2", "company": "Beta"}]}
    response = _post(client, auth, batch)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["created"], body["updated"]) == (1, 1)
    assert [(t["number"], t["status"], t["created"]) for t in body["tickets"]] == [
        ("1", "solved", False),
        ("2", "open", True),
    ]
    assert _count(hotline, Ticket) == 2


def test_batch_with_one_bad_ticket_stores_nothing(client, auth, hotline):
    batch = {"tickets": [{"number": "1", "company": "Acme"}, {"number": "2", "company": ""}]}
    response = _post(client, auth, batch)
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "tickets[1].company"
    assert _count(hotline, Ticket) == 0


@pytest.mark.parametrize("tickets", [[], [{"number": str(n), "company": "A"} for n in range(501)], "nope"])
def test_batch_size_is_bounded(client, auth, tickets):
    response = _post(client, auth, {"tickets": tickets})
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "tickets"


def test_batch_of_500_is_accepted(client, auth, hotline):
    response = _post(client, auth, {"tickets": [{"number": str(n), "company": "A"} for n in range(500)]})
    assert response.status_code == 200
    assert _count(hotline, Ticket) == 500


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"number": "12a4"}, "number"),
        ({"number": "1" * 21}, "number"),
        ({"number": ""}, "number"),
        ({"number": "١٢٣"}, "number"),  # Arabic-Indic digits are not on a keypad
        ({"company": "   "}, "company"),
        ({"company": "x" * 201}, "company"),
        ({"company": "Acme\x00"}, "company"),
        ({"company": 12.5}, "company"),
        ({"status": "bogus"}, "status"),
        ({"contact_email": "dana at acme"}, "contact_email"),
        ({"tam_email": "a@b"}, "tam_email"),
        ({"contact_phone": "+266696687"}, "contact_phone"),  # a withheld caller ID
        ({"contact_phone": "+1 900 234 5678"}, "contact_phone"),  # premium rate
        ({"contact_phone": "+44 70 1234 5678"}, "contact_phone"),  # UK personal number (revenue share)
        ({"contact_phone_alt": "+31 84 212 3456"}, "contact_phone_alt"),  # Dutch UAN
        ({"tam_phone": "+44 7640 123456"}, "tam_phone"),  # UK pager
        ({"tam_phone": "12"}, "tam_phone"),
        ({"opened_at": "2026-11-25T22:10:00"}, "opened_at"),  # naive
        ({"opened_at": "yesterday"}, "opened_at"),
        ({"opened_at": "0001-01-01T00:00:00+01:00"}, "opened_at"),  # audit F2: overflowed converting to UTC (500)
        ({"opened_at": "9999-12-31T23:59:59-01:00"}, "opened_at"),
        # audit F10: bidi overrides, zero-width and tag characters, refused in rep names, were stored
        ({"company": "Acme\u202eliaM"}, "company"),
        ({"contact_name": "Jane\u200bDoe"}, "contact_name"),
        ({"tam_name": "Tam\u2066my"}, "tam_name"),
        ({"subject": "stuck\U000e0041"}, "subject"),
        ({"subject": "esc\u001b[2J"}, "subject"),
        ({"subject": "s" * 501}, "subject"),
        ({"priority": "high"}, "priority"),
        # the TAM's hours and zone, checked as parse_business_hours and a rep's time_zone are
        ({"tam_time_zone": "Pacific/Nowhere"}, "tam_time_zone"),
        ({"tam_time_zone": "Europe"}, "tam_time_zone"),
        ({"tam_business_hours": "9-17"}, "tam_business_hours"),
        ({"tam_business_hours": "mon-fri 17:00-09:00"}, "tam_business_hours"),  # overnight
        ({"tam_business_hours": "mon-fri 09:00-17:00, xyz 10:00-14:00"}, "tam_business_hours"),
        ({"tam_business_hours": "mon-fri 09:00-25:00"}, "tam_business_hours"),
        ({"tam_business_hours": ["mon-fri 09:00-17:00"]}, "tam_business_hours"),
        # the hotline dials them and cannot dial an extension: kept without it, they rang the switchboard
        ({"contact_phone": "+1 415 555 0111 ext. 12"}, "contact_phone"),
        ({"contact_phone_alt": "+14155550111;ext=12"}, "contact_phone_alt"),
        ({"tam_phone": "(415) 555-0111 x12"}, "tam_phone"),
    ],
)
def test_invalid_field_is_422_naming_it(client, auth, hotline, change, field):
    response = _post(client, auth, TICKET | change)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid"
    assert error["field"] == field
    assert error["message"]
    assert _count(hotline, Ticket) == 0


@pytest.mark.parametrize(
    ("phone", "kind"),
    [
        ("+4970012345678", "a personal number"),
        ("+445512345678", "a UAN (universal access) number"),
        ("+19005551234", "a premium-rate number"),
    ],
)
def test_a_phone_we_do_not_dial_is_422_saying_which_kind(client, auth, hotline, phone, kind):
    response = _post(client, auth, TICKET | {"contact_phone": phone})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert (error["field"], error["message"]) == (
        "contact_phone", f"is {kind}: we call only fixed-line, mobile, toll-free and VoIP numbers")
    assert _count(hotline, Ticket) == 0


def test_toll_free_and_voip_contact_phones_are_accepted(client, admin, hotline):
    response = _post(client, admin, TICKET | {"contact_phone": "+1 800 555 0100", "tam_phone": "+44 56 1234 5678"})
    assert response.status_code == 201
    with hotline.db.session() as s:
        assert s.scalar(select(Contact.phone)) == "+18005550100"
        assert s.scalar(select(Account.tam_phone)) == "+445612345678"


def test_missing_required_field_is_422(client, auth):
    response = _post(client, auth, {"company": "Acme"})
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "number"


def test_non_object_body_is_422(client, auth):
    response = _post(client, auth, ["not", "an", "object"])
    assert response.status_code == 422


def test_non_json_is_415_json(client, auth):
    response = client.post("/api/v1/tickets", data="number=1&company=Acme", headers=auth)
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unsupported_media_type"


def test_malformed_json_is_400_json(client, auth):
    response = client.post("/api/v1/tickets", data="{nope", content_type="application/json", headers=auth)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


def test_oversized_body_is_413_json(client, auth):
    body = '{"number": "1", "company": "' + "x" * (1024 * 1024) + '"}'
    response = client.post("/api/v1/tickets", data=body, content_type="application/json", headers=auth)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


def test_wrong_method_and_unknown_path_are_json(client, auth):
    wrong = client.get("/api/v1/tickets", headers=auth)
    assert wrong.status_code == 405
    assert wrong.get_json()["error"]["code"] == "method_not_allowed"
    assert "POST" in wrong.headers["Allow"]
    missing = client.get("/api/v1/nothing-here", headers=auth)
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"
    assert not client.get("/no-such-page").is_json  # outside the API, errors are left alone


def test_html_and_sql_are_stored_verbatim(client, auth, hotline):
    hostile = "<script>alert(1)</script> Robert'); DROP TABLE tickets;--"
    subject = '<img src=x onerror="alert(2)">\nline two'
    response = _post(client, auth, {"number": "66", "company": hostile, "subject": subject})
    assert response.status_code == 201
    assert response.mimetype == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.get_json()["company"] == hostile
    with hotline.db.transaction() as session:
        ticket = session.scalar(select(Ticket))
        assert (ticket.account.name, ticket.subject) == (hostile, subject)
        assert inspect(session.connection()).has_table("tickets")


def test_unicode_company_names(client, auth, hotline):
    name = "Müller & Söhne GmbH — 株式会社メール 📧"
    assert _post(client, auth, {"number": "1", "company": name}).get_json()["company"] == name
    assert _post(client, auth, {"number": "2", "company": name}).status_code == 201
    # The decomposed spelling of the same name is the same account.
    decomposed = name.replace("ü", "u\u0308").replace("ö", "o\u0308")
    assert _post(client, auth, {"number": "3", "company": decomposed}).get_json()["company"] == name
    assert _count(hotline, Account) == 1


def test_ivr_finds_open_tickets_by_number(client, auth, hotline):
    _post(client, auth, {"number": "111", "company": "Acme", "status": "pending"})
    _post(client, auth, {"number": "222", "company": "Acme", "status": "closed"})
    with hotline.db.transaction() as session:
        assert find_open_ticket_by_number(session, "111").number == "111"
        assert find_open_ticket_by_number(session, "222") is None  # closed
        assert find_open_ticket_by_number(session, "333") is None
        assert find_open_ticket_by_number(session, "11*") is None


def test_ivr_finds_most_recent_open_ticket_by_phone(client, auth, hotline):
    base = {"company": "Acme", "contact_email": "dana@acme.example", "contact_phone": "+14155552671"}
    _post(client, auth, base | {"number": "1", "opened_at": "2026-11-20T10:00:00Z"})
    _post(client, auth, base | {"number": "2", "opened_at": "2026-11-24T10:00:00Z"})
    _post(client, auth, base | {"number": "3", "opened_at": "2026-11-25T10:00:00Z", "status": "solved"})
    _post(
        client,
        auth,
        {"number": "4", "company": "Beta", "contact_phone": "+4930901820", "contact_phone_alt": "+447911123456"},
    )
    with hotline.db.transaction() as session:
        assert find_open_ticket_by_phone(session, "+14155552671").number == "2"
        assert find_open_ticket_by_phone(session, "+447911123456").number == "4"
        assert find_open_ticket_by_phone(session, "+12125550100") is None
        assert find_open_ticket_by_phone(session, "") is None


def test_ivr_links_no_ticket_by_a_phone_that_open_tickets_of_two_accounts_list(client, auth, hotline):
    _post(client, auth, {"number": "1", "company": "Acme", "contact_phone": "+14155552671"})
    _post(client, auth, {"number": "2", "company": "Acme", "contact_phone": "+14155552671"})
    _post(client, auth, {"number": "3", "company": "Beta", "contact_phone": "+14155552671", "status": "closed"})
    with hotline.db.transaction() as session:  # one account's tickets, and a closed one of another: not ambiguous
        assert find_open_ticket_by_phone(session, "+14155552671").number == "2"
    _post(client, auth, {"number": "4", "company": "Beta", "contact_phone": "+4930901820",
                         "contact_phone_alt": "+14155552671", "opened_at": "2020-01-01T00:00:00Z"})
    with hotline.db.transaction() as session:  # an older open ticket of another account lists it too
        assert find_open_ticket_by_phone(session, "+14155552671") is None
        assert find_open_ticket_by_phone(session, "+4930901820").number == "4"


def test_ticket_moved_to_another_company_drops_old_contact(client, auth, hotline):
    _post(client, auth, TICKET)
    body = _post(client, auth, {"number": "40211", "company": "New Owner Ltd"}).get_json()
    assert (body["company"], body["contact"]) == ("New Owner Ltd", None)
    with hotline.db.transaction() as session:
        ticket = session.scalar(select(Ticket))
        assert ticket.opened_at == datetime(2026, 11, 25, 21, 10, tzinfo=UTC)


def test_same_number_twice_in_a_batch_updates_the_first(client, auth, hotline):
    batch = {"tickets": [{"number": "9", "company": "Acme"}, {"number": "9", "company": "Acme", "status": "closed"}]}
    body = _post(client, auth, batch).get_json()
    assert (body["created"], body["updated"]) == (1, 1)
    assert _count(hotline, Ticket) == 1


def test_a_non_breaking_space_and_line_breaks_in_a_subject_are_kept(client, auth):
    response = _post(client, auth, {"number": "77", "company": "Acme\u00a0Mail", "subject": "line one\n\tline\u00a0two"})
    assert response.status_code == 201
    assert response.get_json()["company"] == "Acme Mail"
    assert response.get_json()["subject"] == "line one\n\tline\u00a0two"


def test_each_answer_of_post_tickets_matches_one_documented_schema(client, auth):
    # audit F8: neither schema required anything, so every answer matched both and "oneOf" failed
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    answers = {"Ticket": _post(client, auth, TICKET).get_json(),
               "TicketBatchResult": _post(client, auth, {"tickets": [TICKET]}).get_json()}
    for name, body in answers.items():
        matching = [s for s in ("Ticket", "TicketBatchResult") if set(schemas[s]["required"]) <= body.keys()]
        assert matching == [name], (name, body)
        assert body.keys() <= schemas[name]["properties"].keys()
