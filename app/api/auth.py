"""Bearer-token authentication and scope checks of API views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, current_app, g, request

from app.api.errors import json_error
from app.services.api_tokens import SCOPES, grants, verify_token

REALM = "hotline-api"


def require_scope(scope: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Let the view run only with ``Authorization: Bearer <active token>`` carrying ``scope``.

    No or a bad token: 401 JSON; a good token without the scope: 403 JSON naming the scope.
    """
    if scope not in SCOPES:
        raise ValueError(f"unknown API scope {scope!r}")

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
            credential = credential.strip()
            if scheme.lower() != "bearer" or not credential:
                return _unauthorized("send an API token: Authorization: Bearer <token>", invalid=False)
            hotline = current_app.extensions["hotline"]
            with hotline.db.transaction() as session:
                token = verify_token(session, credential, hotline.clock.now())
                token_name = token.name if token is not None else None
                token_scopes = token.scope_set if token is not None else frozenset()
            if token_name is None:
                return _unauthorized("the API token is unknown or revoked", invalid=True)
            if not grants(token_scopes, scope):
                return insufficient_scope(scope, token_scopes)
            g.api_token_name = token_name
            g.api_token_scopes = token_scopes
            return view(*args, **kwargs)

        guarded.required_scope = scope  # type: ignore[attr-defined]  # read by tests and the OpenAPI doc
        return guarded

    return decorator


def _unauthorized(message: str, *, invalid: bool) -> Response:
    challenge = f'Bearer realm="{REALM}"'
    if invalid:
        challenge += ', error="invalid_token"'
    return json_error(401, message, headers={"WWW-Authenticate": challenge})


def insufficient_scope(scope: str, have: frozenset[str], field: str | None = None,
                       endpoint_scope: str | None = None) -> Response:
    """403 for a token without ``scope``; ``field``: the part of the request that needs it, on an endpoint that
    needs ``endpoint_scope`` too."""
    # RFC 6750 section 3.1: a valid token without the needed scope is 403 insufficient_scope.
    challenge = f'Bearer realm="{REALM}", error="insufficient_scope", scope="{scope}"'
    needed = f" to change {field}" if field else ""
    options = "".join(f" --scope {s}" for s in (endpoint_scope, scope) if s)
    return json_error(403, f"this API token lacks the scope {scope}{needed}; make one with "
                           f"`hotline api-token create NAME{options}`",
                      code="insufficient_scope", field=field, headers={"WWW-Authenticate": challenge},
                      required_scope=scope, token_scopes=sorted(have))
