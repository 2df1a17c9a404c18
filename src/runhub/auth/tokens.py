"""Access tokens (signed JWTs checked against the database), refresh tokens and personal API
tokens (opaque, stored as hashes), and the one token response every client family accepts
(clients.md 1.1).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey
from sqlalchemy import Connection

from runhub.auth import scopes as sc
from runhub.config import Settings
from runhub.store import Database
from runhub.store import oauth as repo

PERSONAL_PREFIX = "rhp_"
ALG = "HS256"
TOUCH_EVERY = timedelta(seconds=60)  # write last_used_at at most this often per token


def _key(settings: Settings) -> OctKey:
    return OctKey.import_key(settings.signing_key.encode())


def access_lifetime(settings: Settings, client: Any | None) -> int:
    """Seconds an access token lives: the client's own setting, 12 weeks for Smashrun-style
    clients (seed: "Our access tokens last 12 weeks"), else the configured default."""
    if client is not None and client.token_seconds:
        return int(client.token_seconds)
    if client is not None and client.dialect == "smashrun":
        return settings.smashrun_access_token_seconds
    return settings.access_token_seconds


def encode_access(settings: Settings, *, jti: str, user_id: int, client_id: str | None, scope: str, exp: int) -> str:
    claims = {
        "sub": str(user_id),
        "iat": int(time.time()),
        "exp": exp,
        "jti": jti,
        "scope": scope,
        "client_id": client_id,
    }
    return jwt.encode({"alg": ALG, "typ": "JWT"}, claims, _key(settings), algorithms=[ALG])


def decode_access(settings: Settings, token: str) -> dict[str, Any] | None:
    """Claims of a JWT we signed, or None (bad signature, malformed). Expiry is checked by callers."""
    try:
        return dict(jwt.decode(token, _key(settings), algorithms=[ALG]).claims)
    except (JoseError, ValueError, TypeError):
        return None


def issue(
    conn: Connection,
    settings: Settings,
    *,
    user_id: int,
    client: Any,
    scope: str,
    include_refresh: bool,
    code_hash: str | None = None,
) -> dict[str, Any]:
    """Mint and store an access token (+ refresh token); return the token response.

    `scope` holds the names the client asked for (normalised, space-separated); the response
    echoes them exactly, which is what oauthlib compares (clients.md 1.1)."""
    canonical = sc.expand(scope)
    lifetime = access_lifetime(settings, client)
    now = int(time.time())
    exp = now + lifetime
    jti = secrets.token_hex(16)
    refresh = secrets.token_urlsafe(32) if include_refresh else None
    repo.insert_token(
        conn,
        jti=jti,
        kind="oauth",
        user_id=user_id,
        client_id=client.client_id,
        scope=scope,
        canonical=" ".join(sorted(canonical)),
        access_expires_at=datetime.fromtimestamp(exp, UTC),
        refresh_token=refresh,
        refresh_expires_at=None,  # refresh tokens live until revoked (Smashrun seed)
        code_hash=code_hash,
    )
    token: dict[str, Any] = {
        "token_type": "Bearer",
        "access_token": encode_access(
            settings, jti=jti, user_id=user_id, client_id=client.client_id, scope=scope, exp=exp
        ),
        "expires_in": lifetime,
        "expires_at": exp,
    }
    if refresh:
        token["refresh_token"] = refresh
    if scope:
        token["scope"] = scope
    return token


def create_personal_token(
    conn: Connection,
    user_id: int,
    scope: str | list[str],
    *,
    name: str = "personal token",
    expires_at: datetime | None = None,
) -> tuple[str, str]:
    """A personal API token (Runalyze's personal API): returns (token, id). Shown once."""
    names = sc.normalize(" ".join(scope) if isinstance(scope, list) else scope)
    canonical = sc.expand(names)
    if not canonical:
        raise sc.UnknownScope("a personal token needs at least one scope")
    token = PERSONAL_PREFIX + secrets.token_urlsafe(32)
    jti = secrets.token_hex(16)
    repo.insert_token(
        conn,
        jti=jti,
        kind="personal",
        user_id=user_id,
        client_id=None,
        scope=names,
        canonical=" ".join(sorted(canonical)),
        access_expires_at=expires_at,
        secret=token,
        name=name,
    )
    return token, jti


def mint_personal_token(db: Database, user_id: int, scopes: str | list[str] = "activity:read") -> str:
    """Test and script helper: one call, a usable bearer token for `user_id` with `scopes`
    (canonical or any dialect's names)."""
    with db.begin() as conn:
        return create_personal_token(conn, user_id, scopes, name="test token")[0]


@dataclass(frozen=True)
class TokenInfo:
    """A verified, live credential."""

    id: str
    kind: str
    user_id: int
    client_id: str | None
    scope: str  # names as requested
    canonical: frozenset[str]
    expires_at: datetime | None
    last_used_at: datetime | None


class TokenError(Exception):
    """Why a presented token is not accepted (401 invalid_token)."""


def authenticate(conn: Connection, settings: Settings, token: str) -> TokenInfo:
    """Check a presented access or personal token: signature, expiry, revocation."""
    now = datetime.now(UTC)
    if token.startswith(PERSONAL_PREFIX):
        row = repo.get_by_secret(conn, token)
    else:
        claims = decode_access(settings, token)
        if claims is None or not isinstance(claims.get("jti"), str):
            raise TokenError("the access token is malformed or not signed by this server")
        if not isinstance(claims.get("exp"), int) or claims["exp"] <= now.timestamp():
            raise TokenError("the access token expired")
        row = repo.get_token(conn, claims["jti"])
        if row is not None and row.kind != "oauth":
            row = None
    if row is None:
        raise TokenError("unknown token")
    if row.revoked_at is not None:
        raise TokenError("the token was revoked")
    if row.access_expires_at is not None and row.access_expires_at <= now:
        raise TokenError("the access token expired")
    return TokenInfo(
        id=row.id,
        kind=row.kind,
        user_id=int(row.user_id),
        client_id=row.client_id,
        scope=row.scope,
        canonical=frozenset(row.canonical.split()),
        expires_at=row.access_expires_at,
        last_used_at=row.last_used_at,
    )


def mark_used(conn: Connection, info: TokenInfo) -> None:
    now = datetime.now(UTC)
    if info.last_used_at is None or now - info.last_used_at > TOUCH_EVERY:
        repo.touch(conn, info.id, now)
