"""The OAuth 2.0 authorization server: Authlib's server core, adapted to Starlette/FastAPI.

Grants: authorization code (+PKCE S256, required for public clients), implicit (public clients,
e.g. Smashrun's built-in `client`), refresh token (rotated; refresh tokens live until revoked).
Endpoints: RFC 7009 revocation, RFC 7662 introspection. Deviations that the unmodified clients
need (clients.md 1.2) are made here, in one place:

- parameters from the query string and the form body alike, empty values treated as absent,
  scopes space- or comma-separated, `response_type` defaulting to `code` at authorize;
- `redirect_uri` may be omitted at the token step (stravalib, sweatstack); if sent it must match;
- a per-client opt-in to refresh without client credentials (smashrun-client's auto-refresh).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Payload,
    OAuth2Request,
    grants,
)
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from runhub.auth import scopes as sc
from runhub.auth import tokens
from runhub.auth.clients import Client
from runhub.config import Settings
from runhub.store import Database
from runhub.store import oauth as repo

CODE_SECONDS = 600


@dataclass(frozen=True)
class User:
    id: int

    def get_user_id(self) -> int:
        return self.id


@dataclass
class Incoming:
    """A Starlette request with its parameters already read (query + form, form wins)."""

    request: Request
    data: dict[str, str]
    datalist: dict[str, list[str]]


async def read_params(request: Request, *, authorize: bool = False) -> Incoming:
    datalist: dict[str, list[str]] = defaultdict(list)
    for k, v in request.query_params.multi_items():
        datalist[k].append(v)
    ctype = request.headers.get("content-type", "")
    if request.method == "POST" and (
        ctype.startswith("application/x-www-form-urlencoded") or ctype.startswith("multipart/form-data")
    ):
        form = await request.form()
        for k, v in form.multi_items():
            if isinstance(v, str):
                datalist[k].append(v)
    data: dict[str, str] = {}
    for k, values in datalist.items():
        value = values[-1]
        if value != "":  # httpx2 sends None as an empty value (client_secret=)
            data[k] = value
    if "scope" in data:
        data["scope"] = sc.normalize(data["scope"])  # Strava joins with commas
        datalist["scope"] = [data["scope"]]
    if authorize:
        data.setdefault("response_type", "code")  # sweatstack sends none
        data.pop("client_secret", None)  # smashrun-client leaks it into the URL; never use it there
    return Incoming(request, data, dict(datalist))


class _Payload(OAuth2Payload):
    def __init__(self, data: dict[str, str], datalist: dict[str, list[str]]) -> None:
        self._data = data
        self._datalist = datalist

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> dict[str, list[str]]:  # type: ignore[override]
        return self._datalist


class StarletteOAuth2Request(OAuth2Request):
    def __init__(self, incoming: Incoming) -> None:
        req = incoming.request
        # TLS is the deployment's job (a proxy in front); Authlib only sees our own URL here.
        uri = str(req.url.replace(scheme="https"))
        super().__init__(method=req.method, uri=uri, headers=req.headers)
        self.payload = _Payload(incoming.data, incoming.datalist)
        self._args = dict(req.query_params)
        self._form = incoming.data
        self.starlette = req

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


# --- models Authlib works with ---


@dataclass
class AuthorizationCode:
    row: Any
    check_redirect: bool  # the token request sent a redirect_uri, so it must match

    def get_redirect_uri(self) -> str | None:
        return self.row.redirect_uri if self.check_redirect else None

    def get_scope(self) -> str:
        return self.row.scope

    @property
    def code_challenge(self) -> str | None:
        return self.row.code_challenge

    @property
    def code_challenge_method(self) -> str | None:
        return self.row.code_challenge_method


@dataclass
class StoredToken:
    row: Any
    presented: str  # access_token | refresh_token

    def check_client(self, client: Client) -> bool:
        return self.row.client_id is not None and self.row.client_id == client.client_id

    def get_scope(self) -> str:
        return self.row.scope

    def get_expires_in(self) -> int:
        exp = self.row.access_expires_at
        return max(0, int((exp - datetime.now(UTC)).total_seconds())) if exp else 0

    def is_expired(self) -> bool:
        if self.presented == "refresh_token":
            exp = self.row.refresh_expires_at
        else:
            exp = self.row.access_expires_at
        return exp is not None and exp <= datetime.now(UTC)

    def is_revoked(self) -> bool:
        return self.row.revoked_at is not None

    def get_user(self) -> User:
        return User(int(self.row.user_id))

    def get_client(self) -> None:
        return None


# --- grants ---


class S256Challenge(CodeChallenge):
    """PKCE with S256 only: `plain` (or an omitted method, which means plain) is refused."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if data.get("code_challenge") and data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256")
        super().validate_code_challenge(grant, redirect_uri)
        if grant.request.client.is_public and not data.get("code_challenge"):
            raise InvalidRequestError("public clients must use PKCE (code_challenge, S256)")


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def save_authorization_code(self, code: str, request: Any) -> None:
        data = request.payload.data
        with self.server.db.begin() as conn:
            repo.save_code(
                conn,
                code,
                client_id=request.client.client_id,
                user_id=request.user.id,
                redirect_uri=data.get("redirect_uri"),
                scope=request.scope,
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
                expires_at=datetime.now(UTC) + timedelta(seconds=CODE_SECONDS),
            )

    def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
        with self.server.db.begin() as conn:
            row = repo.get_code(conn, code)
            if row is None or row.client_id != client.client_id:
                return None
            if row.used_at is not None or not repo.mark_code_used(conn, row.code_hash):
                # replay: RFC 6749 4.1.2 -- revoke what the first use obtained
                repo.revoke_from_code(conn, row.code_hash)
                replay = True
            else:
                replay = False
        if replay:
            raise InvalidGrantError("this code was already used; the tokens issued for it are revoked")
        if row.expires_at <= datetime.now(UTC):
            raise InvalidGrantError("the code expired")
        return AuthorizationCode(row, check_redirect="redirect_uri" in self.request.payload.data)

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        """Codes are marked used when redeemed (kept to detect replays)."""

    def authenticate_user(self, authorization_code: AuthorizationCode) -> User:
        return User(int(authorization_code.row.user_id))


class TokenGrant(grants.ImplicitGrant):
    """response_type=token: a public client gets an access token in the redirect fragment."""


class RefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none", "refresh_token_only"]
    INCLUDE_NEW_REFRESH_TOKEN = True  # stravalib needs refresh_token in every refresh response

    def authenticate_refresh_token(self, refresh_token: str) -> StoredToken | None:
        with self.server.db.connect() as conn:
            row = repo.get_by_refresh(conn, refresh_token)
        if row is None or row.revoked_at is not None or row.kind != "oauth":
            return None
        token = StoredToken(row, "refresh_token")
        return None if token.is_expired() else token

    def _validate_token_scope(self, token: StoredToken) -> None:
        """No escalation: the requested scope must expand to a subset of the original grant."""
        scope = self.request.payload.scope
        if not scope:
            return
        try:
            wanted = sc.expand(scope)
        except sc.UnknownScope as exc:
            raise InvalidScopeError(f"unknown scope {exc}") from None
        if not wanted <= frozenset(token.row.canonical.split()):
            raise InvalidScopeError("a refresh cannot widen the scope of the original grant")

    def authenticate_user(self, refresh_token: StoredToken) -> User:
        return refresh_token.get_user()

    def revoke_old_credential(self, refresh_token: StoredToken) -> None:
        with self.server.db.begin() as conn:
            repo.revoke(conn, refresh_token.row.id)


# --- revocation and introspection ---


def _query_token(server: RunhubServer, token_string: str, hint: str | None) -> StoredToken | None:
    if token_string.startswith(tokens.PERSONAL_PREFIX):
        return None  # personal tokens are the user's, not an app's
    with server.db.connect() as conn:
        if hint != "access_token":
            row = repo.get_by_refresh(conn, token_string)
            if row is not None:
                return StoredToken(row, "refresh_token")
        claims = tokens.decode_access(server.settings, token_string)
        if claims and isinstance(claims.get("jti"), str):
            row = repo.get_token(conn, claims["jti"])
            if row is not None and row.kind == "oauth":
                return StoredToken(row, "access_token")
    return None


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def query_token(self, token_string: str, token_type_hint: str | None) -> StoredToken | None:
        return _query_token(self.server, token_string, token_type_hint)

    def revoke_token(self, token: StoredToken, request: Any) -> None:
        with self.server.db.begin() as conn:
            repo.revoke(conn, token.row.id)


class Introspection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def query_token(self, token_string: str, token_type_hint: str | None) -> StoredToken | None:
        return _query_token(self.server, token_string, token_type_hint)

    def check_permission(self, token: StoredToken, client: Client, request: Any) -> bool:
        return token.check_client(client)  # an app may inspect only its own tokens

    def introspect_token(self, token: StoredToken) -> dict[str, Any]:
        row = token.row
        out: dict[str, Any] = {
            "active": True,
            "scope": row.scope,
            "client_id": row.client_id,
            "sub": str(row.user_id),
            "token_type": "Bearer" if token.presented == "access_token" else "refresh_token",
            "iat": int(row.created_at.timestamp()),
            "jti": row.id,
        }
        exp = row.access_expires_at if token.presented == "access_token" else row.refresh_expires_at
        if exp is not None:
            out["exp"] = int(exp.timestamp())
        with self.server.db.connect() as conn:
            from runhub.store import users

            user = users.get(conn, int(row.user_id))
        if user is not None:
            out["username"] = user.username
        return out


# --- the server ---


class RunhubServer(AuthorizationServer):
    def __init__(self, db: Database, settings: Settings) -> None:
        super().__init__(scopes_supported=sc.supported())
        self.db = db
        self.settings = settings
        self.register_token_generator("default", self._generate)
        self.register_grant(CodeGrant, [S256Challenge(required=True)])
        self.register_grant(TokenGrant)
        self.register_grant(RefreshGrant)
        self.register_endpoint(Revocation)
        self.register_endpoint(Introspection)
        self.register_client_auth_method("refresh_token_only", self._auth_by_refresh_token)

    def query_client(self, client_id: str) -> Client | None:
        with self.db.connect() as conn:
            row = repo.get_client(conn, client_id)
        return Client.from_row(row) if row is not None else None

    def validate_requested_scope(self, scope: str | None) -> None:
        try:
            sc.expand(scope)
        except sc.UnknownScope as exc:
            raise InvalidScopeError(f"unknown scope {exc}") from None

    def _generate(
        self,
        grant_type: str,
        client: Client,
        user: User | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        assert user is not None
        return {"_pending": (user.id, client, sc.normalize(scope), include_refresh_token)}

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        """Store and fill in the token that _generate planned (so the code that produced it is
        known: a replayed code revokes everything issued from it)."""
        user_id, client, scope, include_refresh = token.pop("_pending")
        code_hash = None
        if request.authorization_code is not None:
            code_hash = request.authorization_code.row.code_hash
        elif request.refresh_token is not None:
            code_hash = request.refresh_token.row.code_hash
        with self.db.begin() as conn:
            token.update(
                tokens.issue(
                    conn,
                    self.settings,
                    user_id=user_id,
                    client=client,
                    scope=scope,
                    include_refresh=include_refresh,
                    code_hash=code_hash,
                )
            )

    def _auth_by_refresh_token(self, query_client: Any, request: OAuth2Request) -> Client | None:
        """smashrun-client's automatic refresh sends no client credentials at all; clients that
        opted in (refresh_without_secret) are identified by the refresh token itself."""
        if request.payload.grant_type != "refresh_token" or request.payload.data.get("client_secret"):
            return None
        if extract_basic_authorization(request.headers)[0]:
            return None
        refresh = request.form.get("refresh_token")
        if not refresh:
            return None
        with self.db.connect() as conn:
            row = repo.get_by_refresh(conn, refresh)
        if row is None or row.client_id is None:
            return None
        client = query_client(row.client_id)
        if client is None or not client.refresh_without_secret:
            return None
        claimed = request.payload.client_id
        return client if claimed in (None, client.client_id) else None

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        if isinstance(request, OAuth2Request):
            return request
        assert isinstance(request, Incoming)
        return StarletteOAuth2Request(request)

    def create_json_request(self, request: Any) -> Any:
        raise NotImplementedError

    def handle_response(self, status: int, body: Any, headers: Any) -> Response:
        headers = dict(headers or [])
        if isinstance(body, list):
            body = dict(body)
        if isinstance(body, dict):
            if "error" in body:
                # oauthlib reads error, stravalib message; both render it (clients.md 1.1)
                body.setdefault("message", body.get("error_description") or body["error"])
            headers.pop("Content-Type", None)
            return JSONResponse(body, status_code=status, headers=headers)
        return Response(body or b"", status_code=status, headers=headers)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No signal system; nothing listens."""

    def metadata(self, base: str) -> dict[str, Any]:
        """RFC 8414 server metadata."""
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/oauth/authorize",
            "token_endpoint": f"{base}/oauth/token",
            "revocation_endpoint": f"{base}/oauth/revoke",
            "introspection_endpoint": f"{base}/oauth/introspect",
            "userinfo_endpoint": f"{base}/api/v1/oauth/userinfo",
            "scopes_supported": sc.supported(),
            "response_types_supported": ["code", "token"],
            "response_modes_supported": ["query", "fragment"],
            "grant_types_supported": ["authorization_code", "implicit", "refresh_token"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "code_challenge_methods_supported": ["S256"],
        }
