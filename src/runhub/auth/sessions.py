"""Browser sessions and CSRF protection for the server-rendered pages.

The session cookie holds a random id (HttpOnly, SameSite=Lax, Secure over https); the database
keeps only its hash, so signing out really ends it. Every form carries a CSRF token: an HMAC of
the session id (or, before sign-in, of a random pre-session cookie) under the server key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from starlette.requests import Request
from starlette.responses import Response

from runhub.auth.passwords import verify_password
from runhub.store import users
from runhub.store.oauth import sha256
from runhub.store.tables import web_sessions

SESSION_COOKIE = "runhub_session"
ANON_COOKIE = "runhub_anon"
SESSION_DAYS = 30


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def start_session(request: Request, response: Response, user_id: int) -> None:
    raw = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with request.app.state.db.begin() as conn:
        conn.execute(
            insert(web_sessions).values(
                id_hash=sha256(raw), user_id=user_id, created_at=now, expires_at=now + timedelta(days=SESSION_DAYS)
            )
        )
    response.set_cookie(
        SESSION_COOKIE,
        raw,
        max_age=SESSION_DAYS * 86400,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )


def end_session(request: Request, response: Response) -> None:
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        with request.app.state.db.begin() as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.id_hash == sha256(raw)))
    response.delete_cookie(SESSION_COOKIE, path="/")


def session_user(request: Request) -> Any | None:
    """The signed-in user's row, or None."""
    if hasattr(request.state, "session_user"):
        return request.state.session_user
    user = None
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        with request.app.state.db.connect() as conn:
            row = conn.execute(select(web_sessions).where(web_sessions.c.id_hash == sha256(raw))).first()
            if row is not None and row.expires_at > datetime.now(UTC):
                user = users.get(conn, int(row.user_id))
    request.state.session_user = user
    return user


def basic_user(request: Request) -> Any | None:
    """A user from HTTP Basic credentials (only used under RUNHUB_TEST_APPROVAL)."""
    import base64

    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        username, _, password = base64.b64decode(value).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    with request.app.state.db.connect() as conn:
        row = users.get_by_username(conn, username)
    if row is None or not verify_password(row.password_hash, password):
        return None
    return row


def _csrf_basis(request: Request) -> str | None:
    return (
        request.cookies.get(SESSION_COOKIE)
        or request.cookies.get(ANON_COOKIE)
        or getattr(request.state, "new_anon", None)
    )


def csrf_token(request: Request) -> str:
    """The token to embed in a form; makes a pre-session cookie if there is nothing to bind to."""
    basis = _csrf_basis(request)
    if basis is None:
        basis = secrets.token_urlsafe(24)
        request.state.new_anon = basis
    key = request.app.state.settings.signing_key.encode()
    return hmac.new(key, b"csrf:" + basis.encode(), hashlib.sha256).hexdigest()


def finish(request: Request, response: Response) -> Response:
    """Set the pre-session cookie if csrf_token() made one for this page."""
    anon = getattr(request.state, "new_anon", None)
    if anon:
        response.set_cookie(ANON_COOKIE, anon, httponly=True, samesite="lax", secure=_secure(request), path="/")
    return response


def check_csrf(request: Request, submitted: str | None) -> bool:
    basis = request.cookies.get(SESSION_COOKIE) or request.cookies.get(ANON_COOKIE)
    if not basis or not submitted:
        return False
    key = request.app.state.settings.signing_key.encode()
    expected = hmac.new(key, b"csrf:" + basis.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, submitted)
