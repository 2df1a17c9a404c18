"""Registered apps as Authlib sees them (ClientMixin), and the redirect-URI rules.

Loopback redirect URIs match on any port (RFC 8252 section 7.3): native apps such as
sweatstack's `authenticate()` listen on a random port of `http://localhost`.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import ClientMixin

from runhub.auth import scopes as sc
from runhub.store.oauth import OOB, sha256

LOOPBACK_HOSTS = {"127.0.0.1", "::1", "localhost"}
DIALECTS = {"generic", "smashrun", "strava", "sweatstack", "runalyze"}
_UNRESERVED = re.compile(r"^[A-Za-z0-9._~-]{1,128}$")
_BAD_SCHEMES = {"javascript", "data", "vbscript", "file", "about", "blob"}


class ClientError(ValueError):
    """An app registration that cannot be accepted."""


def validate_redirect_uri(uri: str) -> None:
    if uri == OOB:
        return
    parts = urlsplit(uri)
    if not parts.scheme or parts.scheme.lower() in _BAD_SCHEMES:
        raise ClientError(f"redirect URI {uri!r} needs a safe scheme (https, http or an app's own)")
    if parts.fragment:
        raise ClientError(f"redirect URI {uri!r} must not have a fragment")
    if parts.scheme in ("http", "https") and not parts.hostname:
        raise ClientError(f"redirect URI {uri!r} has no host")


def validate_client_fields(
    redirect_uris: list[str], client_id: str | None, client_secret: str | None, public: bool, dialect: str
) -> None:
    if not redirect_uris:
        raise ClientError("give at least one redirect URI")
    for uri in redirect_uris:
        validate_redirect_uri(uri)
    # unreserved characters only: requests' Basic auth does not form-encode them (clients.md 1.2)
    if client_id is not None and not _UNRESERVED.match(client_id):
        raise ClientError("a client id may hold only letters, digits and . _ ~ -")
    if client_secret is not None:
        if public:
            raise ClientError("a public client has no secret")
        if not _UNRESERVED.match(client_secret) or len(client_secret) < 16:
            raise ClientError("a client secret needs 16+ characters from letters, digits and . _ ~ -")
    if dialect not in DIALECTS:
        raise ClientError(f"dialect must be one of {', '.join(sorted(DIALECTS))}")


def _loopback_key(uri: str) -> tuple[str, str, str, str] | None:
    parts = urlsplit(uri)
    if parts.scheme != "http" or (parts.hostname or "") not in LOOPBACK_HOSTS:
        return None
    try:
        parts.port  # noqa: B018 -- raises on a malformed port
    except ValueError:
        return None
    if parts.username or parts.password:
        return None
    return (parts.scheme, parts.hostname or "", parts.path or "/", parts.query)


def redirect_uri_allowed(registered: list[str], uri: str) -> bool:
    if uri in registered:
        return True
    key = _loopback_key(uri)
    if key is None:
        return False
    return any(_loopback_key(r) == key for r in registered)


@dataclass
class Client(ClientMixin):
    """A row of oauth_clients, for Authlib."""

    client_id: str
    name: str
    secret_hash: str | None
    is_public: bool
    redirect_uris: list[str]
    dialect: str
    default_scope: str | None
    token_seconds: int | None
    refresh_without_secret: bool
    owner_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: Any) -> Client:
        return cls(
            client_id=row.client_id,
            name=row.name,
            secret_hash=row.secret_hash,
            is_public=bool(row.is_public),
            redirect_uris=list(row.redirect_uris or []),
            dialect=row.dialect,
            default_scope=row.default_scope,
            token_seconds=row.token_seconds,
            refresh_without_secret=bool(row.refresh_without_secret),
            owner_id=row.owner_id,
        )

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope: str | None) -> str:
        """Every known name is allowed; a blank request gets the default (Smashrun: everything)."""
        return sc.normalize(scope) or sc.normalize(self.default_scope or sc.DEFAULT_SCOPE)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri_allowed(self.redirect_uris, redirect_uri)

    def check_client_secret(self, client_secret: str) -> bool:
        if not self.secret_hash or not client_secret:
            return False
        return hmac.compare_digest(self.secret_hash, sha256(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if method == "none":
            return self.is_public
        if method in ("client_secret_basic", "client_secret_post"):
            return not self.is_public
        if method == "refresh_token_only":
            return self.refresh_without_secret
        return False

    def check_response_type(self, response_type: str) -> bool:
        if response_type == "token":  # implicit: public clients only (no secret to protect)
            return self.is_public
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token", "implicit")
