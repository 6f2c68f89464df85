"""The logged-in user and the role check every dashboard view makes on the server."""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Callable

from flask import abort, current_app, g, redirect, request, session, url_for

from app.models.user import Role, User
from app.services.user_sessions import session_is_live


def current_user() -> User | None:
    """The active user of this request's session, or None."""
    if "user" not in g:
        g.user = None
        user_id = session.get("user_id")
        if user_id is not None:
            hotline = current_app.extensions["hotline"]
            with hotline.db.session() as db:
                user = db.get(User, user_id)
                # The server-side row makes logout and password changes end copies of the cookie too.
                if user is not None and user.active and session.get("pw") == password_fingerprint(user) and \
                        session_is_live(db, user.id, session.get("sid"), hotline.clock.now()):
                    db.expunge(user)
                    g.user = user
    return g.user


def password_fingerprint(user: User) -> str:
    """What a session keeps of the password, so a password change ends every other session.

    A keyed hash of the password hash: the session cookie is signed, not encrypted, and whoever
    decodes it must learn nothing derived from the password itself."""
    key = current_app.secret_key
    key = key.encode() if isinstance(key, str) else key
    return hmac.new(key, user.password_hash.encode(), hashlib.sha256).hexdigest()[:32]


def requires(role: Role) -> Callable:
    """Only users whose role includes ``role``; others get the login page or 403."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            user = current_user()
            if user is None:
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if not Role(user.role).includes(role):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator
