"""API token scopes (issue 9, row 2): every endpoint checks one, and a ticket-sync token cannot add a rep."""

from __future__ import annotations

import re
import uuid

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select, text

from app.cli import main
from app.migrate import upgrade
from app.models import Account, ApiToken, Rep, Ticket
from app.services.api_tokens import (
    DEFAULT_SCOPES,
    IMPLIED,
    SCOPES,
    InvalidScope,
    create_token,
    grants,
    verify_token,
)
from app.services.support_pin import set_pin
from tests.conftest import REDIS_URL

EVE = {"name": "Eve", "phone": "+14155550199"}


def _headers(hotline, clock, *scopes: str) -> dict[str, str]:
    with hotline.db.transaction() as session:
        token = create_token(session, f"t-{'-'.join(scopes) or 'none'}-{uuid.uuid4().hex[:6]}", clock.now(),
                             scopes=scopes)  # active tokens' names are unique
    return {"Authorization": f"Bearer {token}"}


def _api_routes(app) -> list[tuple[str, str, str]]:
    """(method, url, scope) for every guarded API route; fails if a route has no scope."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint == "api.openapi.document":
            continue
        view = app.view_functions[rule.endpoint]
        scope = getattr(view, "required_scope", None)
        assert scope in SCOPES, f"{rule.rule} checks no API scope"
        url = re.sub(r"<(?:[^:>]+:)?[^>]+>", "1", rule.rule)
        routes += [(method, url, scope) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return routes


def test_every_api_route_refuses_a_token_without_its_scope(app, client, hotline, clock):
    routes = _api_routes(app)
    assert len(routes) >= 18
    for scope in SCOPES:
        # A token holding every scope except those that would grant this one.
        others = [s for s in SCOPES if not grants([s], scope)]
        headers = _headers(hotline, clock, *others) if others else None
        for method, url, needed in routes:
            if needed != scope or headers is None:
                continue
            response = client.open(url, method=method, json={}, headers=headers)
            assert response.status_code == 403, (method, url)
            error = response.get_json()["error"]
            assert error["code"] == "insufficient_scope" and error["required_scope"] == scope
            assert scope in error["message"]
            assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


def test_every_api_route_lets_its_scope_through(app, client, hotline, clock):
    for method, url, scope in _api_routes(app):
        response = client.open(url, method=method, json={}, headers=_headers(hotline, clock, scope))
        assert response.status_code not in (401, 403), (method, url, response.get_json())


def test_a_ticket_sync_token_cannot_add_a_rep(client, hotline, clock):
    sync = _headers(hotline, clock, *DEFAULT_SCOPES)
    refused = client.post("/api/v1/reps", json=EVE, headers=sync)
    assert refused.status_code == 403
    assert refused.get_json()["error"]["required_scope"] == "oncall:admin"
    with hotline.db.transaction() as session:
        assert session.scalars(select(Rep)).all() == []
    assert client.post("/api/v1/tickets", json={"number": "4521", "company": "Acme"}, headers=sync).status_code == 201
    admin = _headers(hotline, clock, "oncall:admin")
    assert client.post("/api/v1/reps", json=EVE, headers=admin).status_code == 201
    assert client.get("/api/v1/reps", headers=admin).status_code == 200  # admin includes read


def _account(hotline, name: str = "Acme") -> tuple[str, ...] | None:
    with hotline.db.session() as session:
        account = session.scalar(select(Account).where(Account.name == name))
        return None if account is None else (account.tam_name, account.tam_email, account.tam_phone,
                                             account.tam_time_zone, account.tam_business_hours,
                                             account.support_pin_hash)


# what a holder of the helpdesk's token would set to have Sev-1 pages about the account sent to their phone, or to
# pass the IVR's PIN check as that account's caller
ACCOUNT_SETTINGS = [("tam_phone", "+14155550199"), ("tam_name", "Mallory"), ("tam_email", "m@evil.example"),
                    ("support_pin", "1234"), ("support_pin", "-"),
                    # the TAM's clock and hours decide whether they are texted at night
                    ("tam_time_zone", "America/Los_Angeles"), ("tam_business_hours", "mon-sun 00:00-24:00")]


@pytest.mark.parametrize(("field", "value"), ACCOUNT_SETTINGS)
def test_a_ticket_sync_token_cannot_change_an_accounts_tam_or_support_pin(client, hotline, clock, field, value):
    sync = _headers(hotline, clock, *DEFAULT_SCOPES)
    ticket = {"number": "4521", "company": "Acme", "contact_name": "Dana", "contact_phone": "+14155550100"}
    assert client.post("/api/v1/tickets", json=ticket, headers=sync).status_code == 201  # ticket fields: as before
    with hotline.db.transaction() as session:  # the account as its admin set it up (the CSV import, say)
        account = session.scalar(select(Account).where(Account.name == "Acme"))
        account.tam_name, account.tam_email, account.tam_phone = "Terry TAM", "terry@hotline.example", "+14155550177"
        set_pin(account, "2468")
    before = _account(hotline)
    refused = client.post("/api/v1/tickets", json=ticket | {"subject": "changed", field: value}, headers=sync)
    assert refused.status_code == 403
    error = refused.get_json()["error"]
    assert (error["code"], error["required_scope"], error["field"]) == ("insufficient_scope", "accounts:admin", field)
    assert "accounts:admin" in error["message"] and field in error["message"]
    batch = {"tickets": [{"number": "4522", "company": "Acme"}, {"number": "4523", "company": "Acme", field: value}]}
    refused = client.post("/api/v1/tickets", json=batch, headers=sync)
    assert refused.status_code == 403 and refused.get_json()["error"]["field"] == f"tickets[1].{field}"
    assert _account(hotline) == before  # nothing of either request was stored
    with hotline.db.session() as session:
        assert session.scalars(select(Ticket.number).order_by(Ticket.number)).all() == ["4521"]
        assert session.scalar(select(Ticket.subject)) == ""
    admin = _headers(hotline, clock, "tickets:write", "accounts:admin")
    assert client.post("/api/v1/tickets", json=ticket | {field: value}, headers=admin).status_code == 200
    assert _account(hotline) != before


def test_accounts_admin_alone_posts_no_ticket(client, hotline, clock):
    alone = _headers(hotline, clock, "accounts:admin")
    refused = client.post("/api/v1/tickets", json={"number": "4521", "company": "Acme"}, headers=alone)
    assert refused.status_code == 403 and refused.get_json()["error"]["required_scope"] == "tickets:write"


def test_scopes_are_checked_and_stored_sorted(hotline, clock):
    with hotline.db.transaction() as session:
        plain = create_token(session, "a", clock.now(), scopes=["oncall:admin", "incidents:read"])
        with pytest.raises(InvalidScope):
            create_token(session, "b", clock.now(), scopes=["tickets:delete"])
        with pytest.raises(InvalidScope):
            create_token(session, "c", clock.now(), scopes=[])
    with hotline.db.transaction() as session:
        assert verify_token(session, plain, clock.now()).scopes == "incidents:read oncall:admin"
    assert IMPLIED["oncall:admin"] == {"oncall:read"}
    assert not grants(["oncall:read"], "oncall:admin")


def test_cli_defaults_to_the_ticket_sync_scope(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {"HOTLINE_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": db_url, "REDIS_URL": REDIS_URL,
           "TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": ""}
    runner = CliRunner()
    assert runner.invoke(main, ["api-token", "create", "helpdesk"], env=env).exit_code == 0
    made = runner.invoke(main, ["api-token", "create", "ops", "--scope", "oncall:admin", "--scope", "incidents:read"],
                         env=env)
    assert made.exit_code == 0
    bad = runner.invoke(main, ["api-token", "create", "x", "--scope", "everything"], env=env)
    assert bad.exit_code != 0 and "unknown scope everything" in bad.output
    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT name, scopes FROM api_tokens ORDER BY id")).all())
    engine.dispose()
    assert rows == {"helpdesk": "tickets:write", "ops": "incidents:read oncall:admin"}
    listed = runner.invoke(main, ["api-token", "list"], env=env).output.splitlines()
    assert listed == ["1\thelpdesk\ttickets:write\tactive", "2\tops\tincidents:read oncall:admin\tactive"]


def test_migration_gives_existing_tokens_what_they_need_but_not_oncall_admin(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "4c2effe9f953")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO api_tokens (name, token_hash, created_at) VALUES ('sync', 'h', '2026-01-01')"))
    upgrade(url)
    with engine.connect() as conn:
        scopes = conn.execute(text("SELECT scopes FROM api_tokens")).scalar_one()
    engine.dispose()
    token = ApiToken(scopes=scopes)
    assert token.scope_set == {"tickets:write", "incidents:read", "oncall:read"}
    assert not grants(token.scope_set, "oncall:admin")


def test_the_openapi_document_names_each_operations_scope(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["paths"]["/api/v1/reps"]["post"]["x-required-scope"] == "oncall:admin"
    assert doc["paths"]["/api/v1/reps"]["get"]["security"] == [{"bearerAuth": ["oncall:read"]}]
    assert doc["paths"]["/api/v1/tickets"]["post"]["x-required-scope"] == "tickets:write"
    ticket = doc["components"]["schemas"]["TicketInput"]["properties"]
    assert {name for name, field in ticket.items() if field.get("x-required-scope") == "accounts:admin"} == {
        "tam_name", "tam_email", "tam_phone", "tam_time_zone", "tam_business_hours", "support_pin"}
    assert "accounts:admin" in doc["components"]["securitySchemes"]["bearerAuth"]["description"]
    assert "403" in doc["paths"]["/api/v1/incidents"]["get"]["responses"]
    assert "security" not in doc["paths"]["/api/v1/openapi.json"]["get"] or \
        doc["paths"]["/api/v1/openapi.json"]["get"]["security"] == []
