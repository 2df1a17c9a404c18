"""OAuth clients, authorization codes, tokens and remembered consents.

Secrets (client secrets, codes, refresh tokens, personal tokens) are stored only as SHA-256
hashes: they are random and long, so a fast hash is enough and lookups stay indexable.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, delete, insert, or_, select, update

from runhub.store.tables import oauth_clients, oauth_codes, oauth_consents, oauth_tokens

OOB = "urn:ietf:wg:oauth:2.0:oob"


def now() -> datetime:
    return datetime.now(UTC)


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_secret() -> str:
    # unreserved characters only: requests' Basic auth does not form-encode (clients.md 1.2)
    return secrets.token_urlsafe(32)


class ClientExists(ValueError):
    """That client id is taken."""


# --- clients ---


def create_client(
    conn: Connection,
    name: str,
    redirect_uris: list[str],
    *,
    is_public: bool = False,
    client_id: str | None = None,
    client_secret: str | None = None,
    dialect: str = "generic",
    default_scope: str | None = None,
    token_seconds: int | None = None,
    refresh_without_secret: bool = False,
    owner_id: int | None = None,
) -> tuple[str, str | None]:
    """Register an app; returns (client_id, secret or None). The secret is never stored."""
    client_id = client_id or secrets.token_hex(8)
    if get_client(conn, client_id) is not None:
        raise ClientExists(f"client {client_id!r} already exists")
    secret = None if is_public else (client_secret or new_secret())
    conn.execute(
        insert(oauth_clients).values(
            client_id=client_id,
            name=name,
            secret_hash=sha256(secret) if secret else None,
            is_public=is_public,
            redirect_uris=list(redirect_uris),
            dialect=dialect,
            default_scope=default_scope,
            token_seconds=token_seconds,
            refresh_without_secret=refresh_without_secret,
            owner_id=owner_id,
            created_at=now(),
        )
    )
    return client_id, secret


def get_client(conn: Connection, client_id: str) -> Row[Any] | None:
    return conn.execute(select(oauth_clients).where(oauth_clients.c.client_id == client_id)).first()


def list_clients(conn: Connection, owner_id: int | None = None) -> list[Row[Any]]:
    q = select(oauth_clients).order_by(oauth_clients.c.created_at)
    if owner_id is not None:
        q = q.where(oauth_clients.c.owner_id == owner_id)
    return list(conn.execute(q).all())


def rotate_secret(conn: Connection, client_id: str) -> str:
    secret = new_secret()
    conn.execute(
        update(oauth_clients)
        .where(oauth_clients.c.client_id == client_id)
        .values(secret_hash=sha256(secret), is_public=False)
    )
    return secret


def delete_client(conn: Connection, client_id: str) -> None:
    conn.execute(delete(oauth_clients).where(oauth_clients.c.client_id == client_id))


# --- authorization codes ---


def save_code(
    conn: Connection,
    code: str,
    *,
    client_id: str,
    user_id: int,
    redirect_uri: str | None,
    scope: str,
    code_challenge: str | None,
    code_challenge_method: str | None,
    expires_at: datetime,
) -> None:
    conn.execute(
        insert(oauth_codes).values(
            code_hash=sha256(code),
            client_id=client_id,
            user_id=user_id,
            redirect_uri=redirect_uri,
            scope=scope,
            code_challenge=code_challenge,
            code_challenge_method=code_challenge_method,
            created_at=now(),
            expires_at=expires_at,
        )
    )


def get_code(conn: Connection, code: str) -> Row[Any] | None:
    return conn.execute(select(oauth_codes).where(oauth_codes.c.code_hash == sha256(code))).first()


def mark_code_used(conn: Connection, code_hash: str) -> bool:
    """Atomically claim a code; False when someone used it first."""
    res = conn.execute(
        update(oauth_codes)
        .where(oauth_codes.c.code_hash == code_hash, oauth_codes.c.used_at.is_(None))
        .values(used_at=now())
    )
    return res.rowcount == 1


# --- tokens ---


def insert_token(
    conn: Connection,
    *,
    jti: str,
    kind: str,
    user_id: int,
    client_id: str | None,
    scope: str,
    canonical: str,
    access_expires_at: datetime | None,
    refresh_token: str | None = None,
    refresh_expires_at: datetime | None = None,
    secret: str | None = None,
    code_hash: str | None = None,
    name: str | None = None,
) -> None:
    conn.execute(
        insert(oauth_tokens).values(
            id=jti,
            kind=kind,
            user_id=user_id,
            client_id=client_id,
            name=name,
            scope=scope,
            canonical=canonical,
            access_expires_at=access_expires_at,
            refresh_hash=sha256(refresh_token) if refresh_token else None,
            refresh_expires_at=refresh_expires_at,
            secret_hash=sha256(secret) if secret else None,
            code_hash=code_hash,
            created_at=now(),
        )
    )


def get_token(conn: Connection, jti: str) -> Row[Any] | None:
    return conn.execute(select(oauth_tokens).where(oauth_tokens.c.id == jti)).first()


def get_by_refresh(conn: Connection, refresh_token: str) -> Row[Any] | None:
    return conn.execute(select(oauth_tokens).where(oauth_tokens.c.refresh_hash == sha256(refresh_token))).first()


def get_by_secret(conn: Connection, secret: str) -> Row[Any] | None:
    return conn.execute(select(oauth_tokens).where(oauth_tokens.c.secret_hash == sha256(secret))).first()


def revoke(conn: Connection, jti: str) -> None:
    conn.execute(
        update(oauth_tokens)
        .where(oauth_tokens.c.id == jti, oauth_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now())
    )


def revoke_from_code(conn: Connection, code_hash: str) -> int:
    """Revoke every token that came from this code (and their refreshed successors' family
    via the same code hash, which refresh carries over)."""
    res = conn.execute(
        update(oauth_tokens)
        .where(oauth_tokens.c.code_hash == code_hash, oauth_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now())
    )
    return res.rowcount


def revoke_client_for_user(conn: Connection, user_id: int, client_id: str) -> int:
    """Disconnect an app: every token of it for this user, and the remembered consent."""
    res = conn.execute(
        update(oauth_tokens)
        .where(
            oauth_tokens.c.user_id == user_id,
            oauth_tokens.c.client_id == client_id,
            oauth_tokens.c.revoked_at.is_(None),
        )
        .values(revoked_at=now())
    )
    conn.execute(
        delete(oauth_consents).where(oauth_consents.c.user_id == user_id, oauth_consents.c.client_id == client_id)
    )
    return res.rowcount


def touch(conn: Connection, jti: str, at: datetime) -> None:
    conn.execute(update(oauth_tokens).where(oauth_tokens.c.id == jti).values(last_used_at=at))


def personal_tokens(conn: Connection, user_id: int) -> list[Row[Any]]:
    return list(
        conn.execute(
            select(oauth_tokens)
            .where(oauth_tokens.c.user_id == user_id, oauth_tokens.c.kind == "personal")
            .order_by(oauth_tokens.c.created_at.desc())
        ).all()
    )


# --- consents ---


def get_consent(conn: Connection, user_id: int, client_id: str) -> frozenset[str]:
    row = conn.execute(
        select(oauth_consents.c.canonical).where(
            oauth_consents.c.user_id == user_id, oauth_consents.c.client_id == client_id
        )
    ).first()
    return frozenset(row.canonical.split()) if row else frozenset()


def remember_consent(conn: Connection, user_id: int, client_id: str, canonical: frozenset[str]) -> None:
    old = get_consent(conn, user_id, client_id)
    value = " ".join(sorted(old | canonical))
    if old:
        conn.execute(
            update(oauth_consents)
            .where(oauth_consents.c.user_id == user_id, oauth_consents.c.client_id == client_id)
            .values(canonical=value, updated_at=now())
        )
    else:
        conn.execute(
            insert(oauth_consents).values(
                user_id=user_id, client_id=client_id, canonical=value, created_at=now(), updated_at=now()
            )
        )


def connected_apps(conn: Connection, user_id: int) -> list[dict[str, Any]]:
    """Apps with a remembered consent or a live token: name, scopes, last use."""
    t = oauth_tokens
    live = and_(
        t.c.user_id == user_id,
        t.c.kind == "oauth",
        t.c.revoked_at.is_(None),
        or_(t.c.refresh_hash.is_not(None), t.c.access_expires_at > now()),
    )
    apps: dict[str, dict[str, Any]] = {}
    for row in conn.execute(select(t.c.client_id, t.c.canonical, t.c.last_used_at, t.c.created_at).where(live)):
        app = apps.setdefault(row.client_id, {"client_id": row.client_id, "canonical": set(), "last_used_at": None})
        app["canonical"] |= set(row.canonical.split())
        seen = row.last_used_at or row.created_at
        if app["last_used_at"] is None or (seen and seen > app["last_used_at"]):
            app["last_used_at"] = seen
    for row in conn.execute(select(oauth_consents).where(oauth_consents.c.user_id == user_id)):
        app = apps.setdefault(row.client_id, {"client_id": row.client_id, "canonical": set(), "last_used_at": None})
        app["canonical"] |= set(row.canonical.split())
    for app in apps.values():
        client = get_client(conn, app["client_id"])
        app["name"] = client.name if client else app["client_id"]
    return sorted(apps.values(), key=lambda a: a["name"].lower())
