"""Bearer-token authentication of API views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, current_app, g, request

from app.api.errors import json_error
from app.services.api_tokens import verify_token

REALM = "hotline-api"


def require_token(view: Callable[..., Any]) -> Callable[..., Any]:
    """Let the view run only with ``Authorization: Bearer <active token>``; else 401 JSON."""

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
        if token_name is None:
            return _unauthorized("the API token is unknown or revoked", invalid=True)
        g.api_token_name = token_name
        return view(*args, **kwargs)

    return guarded


def _unauthorized(message: str, *, invalid: bool) -> Response:
    challenge = f'Bearer realm="{REALM}"'
    if invalid:
        challenge += ', error="invalid_token"'
    return json_error(401, message, headers={"WWW-Authenticate": challenge})
