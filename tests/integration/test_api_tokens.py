"""API tokens: only hashes stored, revoked tokens refused, every API route guarded."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from app.models import ApiToken
from app.services.api_tokens import InvalidTokenName, UnknownToken, create_token, revoke_token, verify_token


def _create(hotline, clock, name: str = "helpdesk", scopes=("incidents:read",)) -> str:
    with hotline.db.transaction() as session:
        return create_token(session, name, clock.now(), scopes=scopes)


def test_only_the_hash_is_stored(hotline, clock):
    plaintext = _create(hotline, clock)
    assert plaintext.startswith("hl_") and len(plaintext) > 40
    with hotline.db.transaction() as session:
        [row] = session.scalars(select(ApiToken)).all()
    assert row.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert plaintext not in (row.name, row.token_hash)
    assert row.created_at == clock.now() and row.last_used_at is None


def test_verify_marks_use_and_refuses_unknown(hotline, clock):
    plaintext = _create(hotline, clock)
    used_at = clock.advance(minutes=5)
    with hotline.db.transaction() as session:
        assert verify_token(session, plaintext, used_at).name == "helpdesk"
        assert verify_token(session, plaintext + "x", used_at) is None
        assert verify_token(session, "", used_at) is None
    with hotline.db.transaction() as session:
        assert session.scalar(select(ApiToken.last_used_at)) == used_at


def test_revoke_by_name_and_by_id(hotline, clock):
    first, second = _create(hotline, clock, "ci"), _create(hotline, clock, "crm")
    with hotline.db.transaction() as session:
        assert [t.name for t in revoke_token(session, "ci", clock.now())] == ["ci"]
        crm_id = session.scalar(select(ApiToken.id).where(ApiToken.name == "crm"))
        revoke_token(session, crm_id, clock.now())
    with hotline.db.transaction() as session:
        assert verify_token(session, first, clock.now()) is None
        assert verify_token(session, second, clock.now()) is None
        with pytest.raises(UnknownToken):
            revoke_token(session, "ci", clock.now())


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "bad\nname"])
def test_token_names_are_checked(hotline, clock, name):
    with hotline.db.transaction() as session, pytest.raises(InvalidTokenName):
        create_token(session, name, clock.now())


@pytest.mark.parametrize("path", ["/api/v1/incidents", "/api/v1/incidents/ABC123"])
@pytest.mark.parametrize(
    ("header", "invalid"),
    [(None, False), ("Basic dXNlcjpwYXNz", False), ("Bearer ", False), ("Bearer hl_not-a-real-token", True)],
)
def test_missing_or_bad_token_is_401_json(client, path, header, invalid):
    headers = {"Authorization": header} if header is not None else {}
    response = client.get(path, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert ('error="invalid_token"' in challenge) is invalid


def test_post_tickets_needs_a_token(client):
    response = client.post("/api/v1/tickets", json={"number": "1", "company": "Acme"})
    assert response.status_code == 401
    assert response.is_json


def test_revoked_token_is_refused(client, hotline, clock):
    plaintext = _create(hotline, clock)
    headers = {"Authorization": f"Bearer {plaintext}"}
    assert client.get("/api/v1/incidents", headers=headers).status_code == 200
    with hotline.db.transaction() as session:
        revoke_token(session, "helpdesk", clock.now())
    response = client.get("/api/v1/incidents", headers=headers)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_scheme_is_case_insensitive(client, hotline, clock):
    plaintext = _create(hotline, clock)
    assert client.get("/api/v1/incidents", headers={"Authorization": f"bearer {plaintext}"}).status_code == 200


def test_openapi_needs_no_token(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.get_json()["openapi"].startswith("3.1")


def test_revoking_a_name_of_digits_leaves_the_token_with_that_id_alone(client, hotline, clock):
    helpdesk = _create(hotline, clock, "helpdesk")
    with hotline.db.transaction() as session:
        helpdesk_id = session.scalar(select(ApiToken.id).where(ApiToken.name == "helpdesk"))
        # A token named with digits only, as `api-token create` allowed before (its name reads as an id).
        session.add(ApiToken(name=str(helpdesk_id), token_hash="0" * 64, created_at=clock.now(),
                             scopes="incidents:read"))
    with hotline.db.transaction() as session:
        revoked = revoke_token(session, str(helpdesk_id), clock.now())
        assert [t.name for t in revoked] == [str(helpdesk_id)]
    response = client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {helpdesk}"})
    assert response.status_code == 200
    with hotline.db.transaction() as session:
        assert session.scalar(select(ApiToken.revoked_at).where(ApiToken.name == "helpdesk")) is None
    with hotline.db.transaction() as session:
        # Once no active token has that name, the number revokes by id, as `api-token revoke` documents.
        assert [t.name for t in revoke_token(session, str(helpdesk_id), clock.now())] == ["helpdesk"]


@pytest.mark.parametrize("name", ["7", " 12 ", "٣"])
def test_a_token_name_cannot_be_all_digits(hotline, clock, name):
    with hotline.db.transaction() as session, pytest.raises(InvalidTokenName, match="digits"):
        create_token(session, name, clock.now())


@pytest.mark.parametrize("param", ["access_token", "token"])
def test_a_token_in_the_query_string_is_refused(client, hotline, clock, param):
    plaintext = _create(hotline, clock)
    response = client.get(f"/api/v1/incidents?{param}={plaintext}")
    assert response.status_code == 401
    assert "Authorization: Bearer" in response.get_json()["error"]["message"]
    assert plaintext not in response.get_data(as_text=True)


def test_no_error_echoes_the_token(client, hotline, clock):
    plaintext = _create(hotline, clock, scopes=("tickets:write",))
    for header in (f"Bearer {plaintext}x", f"Token {plaintext}", f"Bearer {plaintext} {plaintext}",
                   f"Bearer {plaintext}"):  # the last: a good token without the scope (403)
        response = client.get("/api/v1/incidents", headers={"Authorization": header})
        assert response.status_code in (401, 403), header
        assert plaintext not in response.get_data(as_text=True)
        assert all(plaintext not in value for _, value in response.headers.items())


def test_no_other_origin_may_call_the_api_from_a_browser(client, hotline, clock):
    plaintext = _create(hotline, clock)
    origin = {"Origin": "https://evil.example"}
    preflight = client.options("/api/v1/incidents", headers=origin | {
        "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"})
    answered = client.get("/api/v1/incidents", headers=origin | {"Authorization": f"Bearer {plaintext}"})
    assert answered.status_code == 200
    for response in (preflight, answered):
        assert not [name for name in response.headers.keys() if name.lower().startswith("access-control-")]
