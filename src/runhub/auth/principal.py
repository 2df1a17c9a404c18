"""Who is calling: the user, the app and the canonical scopes of the presented credential.

Every endpoint declares the canonical scope it needs with `Depends(require_scope("activity:read"))`.
The credential is an OAuth access token (a JWT we signed, checked against the database for
revocation) or a personal API token, presented as `Authorization: Bearer`, as the
`access_token` query parameter (stravalib <= 2.5, Smashrun docs) or as Runalyze's `token:`
header. No or bad credential -> 401 with `WWW-Authenticate: Bearer`; a missing scope -> 403
`insufficient_scope`; over the rate limit -> 429 with `Retry-After`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from runhub.api.errors import ApiError
from runhub.auth import ratelimit, tokens
from runhub.auth import scopes as sc


@dataclass(frozen=True)
class Principal:
    user_id: int
    client_id: str | None
    scopes: frozenset[str]  # canonical
    token_id: str | None = None

    def has(self, scope: str) -> bool:
        return sc.satisfies(self.scopes, scope)


def bearer_token(request: Request) -> str | None:
    """The presented token, from the header, the query string or Runalyze's `token` header."""
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    query = request.query_params.get("access_token")
    if query:
        return query
    return request.headers.get("token") or None


def _unauthorized(message: str, error: str | None = "invalid_token") -> ApiError:
    exc = ApiError(401, error or "unauthorized", message)
    exc.headers["WWW-Authenticate"] = (
        f'Bearer realm="runhub", error="{error}", error_description="{message}"' if error else 'Bearer realm="runhub"'
    )
    return exc


def authenticate_request(request: Request) -> tokens.TokenInfo:
    """Verify the presented credential (no scope check, no rate counting)."""
    token = bearer_token(request)
    if not token:
        raise _unauthorized("an access token is required", error=None)
    db = request.app.state.db
    with db.connect() as conn:
        try:
            return tokens.authenticate(conn, request.app.state.settings, token)
        except tokens.TokenError as exc:
            raise _unauthorized(str(exc)) from None


def get_principal(request: Request) -> Principal:
    """Authenticate, count the request against the token's and the app's rate limits."""
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    info = authenticate_request(request)
    settings = request.app.state.settings
    short, daily = settings.rate_limit_15min, settings.rate_limit_daily
    with request.app.state.db.begin() as conn:
        usage = ratelimit.hit(conn, f"token:{info.id}", short, daily)
        if info.client_id is not None:
            app_usage = ratelimit.hit(
                conn, f"client:{info.client_id}", short * ratelimit.CLIENT_FACTOR, daily * ratelimit.CLIENT_FACTOR
            )
            if app_usage.exceeded and not usage.exceeded:
                usage = app_usage
        tokens.mark_used(conn, info)
    request.state.rate_usage = usage
    if usage.exceeded:
        exc = ApiError(429, "rate_limited", "rate limit exceeded; retry later")
        exc.headers.update(usage.headers())
        exc.headers["Retry-After"] = str(usage.retry_after)
        raise exc
    principal = Principal(user_id=info.user_id, client_id=info.client_id, scopes=info.canonical, token_id=info.id)
    request.state.principal = principal
    return principal


def require_scope(scope: str) -> Callable[[Request], Principal]:
    """A dependency that yields the Principal if its token carries the canonical `scope`."""
    if scope not in sc.CANONICAL:
        raise ValueError(f"{scope!r} is not a canonical scope (runhub.auth.scopes.CANONICAL)")

    def dependency(request: Request) -> Principal:
        principal = get_principal(request)
        if not principal.has(scope):
            exc = ApiError(403, "insufficient_scope", f"this token lacks the scope {scope}", scope=scope)
            exc.headers["WWW-Authenticate"] = f'Bearer realm="runhub", error="insufficient_scope", scope="{scope}"'
            raise exc
        return principal

    dependency.__name__ = f"require_{scope.replace(':', '_')}"
    return dependency
