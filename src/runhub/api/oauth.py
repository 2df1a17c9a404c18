"""OAuth 2.0 endpoints at every path the client families use (clients.md section 6):

authorize  GET/POST /oauth/authorize (Strava, SweatStack), /oauth2/authenticate (Smashrun)
token      POST /oauth/token, /oauth2/token, /api/v1/oauth/token
revoke     POST /oauth/revoke, /oauth2/revoke (RFC 7009); introspect POST /oauth/introspect (RFC 7662)
metadata   GET /.well-known/oauth-authorization-server (RFC 8414)
Strava     POST /oauth/deauthorize, /api/v3/oauth/deauthorize
SweatStack GET /api/v1/oauth/userinfo
Smashrun   GET /v1/auth/{token}, DELETE /v1/auth/{token}, DELETE /v1/auth/{token}/all
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from authlib.oauth2 import OAuth2Error
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, RedirectResponse, Response

from runhub.api.errors import ApiError
from runhub.auth import scopes as sc
from runhub.auth import sessions, tokens
from runhub.auth.oauth import Incoming, RunhubServer, User, read_params
from runhub.auth.principal import Principal, authenticate_request, require_scope
from runhub.store import oauth as repo
from runhub.store import users
from runhub.store.oauth import OOB
from runhub.web import render

router = APIRouter(tags=["oauth"])


def server_of(request: Request) -> RunhubServer:
    srv = getattr(request.app.state, "oauth_server", None)
    if srv is None:
        srv = RunhubServer(request.app.state.db, request.app.state.settings)
        request.app.state.oauth_server = srv
    return srv


def _peer_is_loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _test_approval_user(request: Request) -> Any | None:
    """RUNHUB_TEST_APPROVAL=1: HTTP Basic user credentials approve at once. Otherwise (and for
    any non-loopback peer) Basic credentials on the authorize endpoints are ignored."""
    if not request.app.state.settings.test_approval or not _peer_is_loopback(request):
        return None
    return sessions.basic_user(request)


def _redirect_host(uri: str) -> str:
    if uri == OOB:
        return "a page on this server showing a code to copy"
    parts = urlsplit(uri)
    return parts.netloc or f"{parts.scheme}: app"


def _finish_authorization(request: Request, response: Response, state: str | None) -> Response:
    """Out-of-band redirect: show the code (or token) in the page title and body instead."""
    location = response.headers.get("location", "")
    if response.status_code == 302 and location.startswith(OOB):
        rest = location[len(OOB) :].lstrip("?#")
        params = dict(parse_qsl(rest))
        if "code" in params:
            value, label = params["code"], "Authorization code"
        elif "access_token" in params:
            value, label = params["access_token"], "Access token"
        else:
            value, label = params.get("error", "error"), params.get("error_description", "The request was denied")
        return render(request, "oob.html", value=value, label=label, state=params.get("state"))
    return response


def _authorize_sync(request: Request, incoming: Incoming) -> Response:
    server = server_of(request)
    data = incoming.data
    is_decision = request.method == "POST" and "decision" in data
    test_user = None if is_decision else _test_approval_user(request)
    user = test_user or sessions.session_user(request)
    try:
        grant = server.get_consent_grant(incoming, end_user=User(int(user.id)) if user else None)
    except OAuth2Error as error:
        if error.redirect_uri:  # only a redirect URI already checked against the client
            return _finish_authorization(request, server.handle_error_response(None, error), data.get("state"))
        return render(
            request,
            "error.html",
            400,
            title="This app's request cannot be accepted",
            message=f"{error.error}: {error.get_error_description() or ''}",
        )
    client = grant.request.client
    requested = sc.expand(grant.request.scope)
    if user is None:
        target = str(request.url.path) + "?" + request.url.query
        if request.method == "POST":
            from urllib.parse import urlencode

            target = str(request.url.path) + "?" + urlencode({k: v for k, v in data.items() if k != "csrf_token"})
        from urllib.parse import quote

        return RedirectResponse(f"/signin?next={quote(target, safe='')}", status_code=303)
    uid = int(user.id)
    if is_decision:
        if not sessions.check_csrf(request, data.get("csrf_token")):
            return render(request, "error.html", 403, title="Form expired", message="CSRF check failed; start again.")
        approved = data.get("decision") == "approve"
    elif test_user is not None:
        approved = True
    else:
        forced = data.get("prompt") == "consent" or data.get("approval_prompt") == "force"
        with request.app.state.db.connect() as conn:
            remembered = repo.get_consent(conn, uid, client.client_id)
        if forced or not requested <= remembered:
            params = [(k, v) for k, v in data.items() if k not in ("csrf_token", "decision")]
            return render(
                request,
                "consent.html",
                client=client,
                redirect_host=_redirect_host(grant.redirect_uri),
                scope_lines=sc.describe(requested),
                params=params,
                action=request.url.path,
            )
        approved = True
    if approved:
        with request.app.state.db.begin() as conn:
            repo.remember_consent(conn, uid, client.client_id, requested)
    response = server.create_authorization_response(incoming, grant_user=User(uid) if approved else None, grant=grant)
    return _finish_authorization(request, response, data.get("state"))


@router.api_route("/oauth/authorize", methods=["GET", "POST"], include_in_schema=False)
@router.api_route("/oauth2/authenticate", methods=["GET", "POST"], include_in_schema=False)
async def authorize(request: Request) -> Response:
    incoming = await read_params(request, authorize=True)
    return await run_in_threadpool(_authorize_sync, request, incoming)


@router.post("/oauth/token")
@router.post("/oauth2/token")
@router.post("/api/v1/oauth/token")
async def token(request: Request) -> Response:
    """The one token endpoint: any client authentication, parameters in body or query."""
    incoming = await read_params(request)
    return await run_in_threadpool(server_of(request).create_token_response, incoming)


@router.post("/oauth/revoke")
@router.post("/oauth2/revoke")
async def revoke(request: Request) -> Response:
    incoming = await read_params(request)
    return await run_in_threadpool(server_of(request).create_endpoint_response, "revocation", incoming)


@router.post("/oauth/introspect")
async def introspect(request: Request) -> Response:
    incoming = await read_params(request)
    return await run_in_threadpool(server_of(request).create_endpoint_response, "introspection", incoming)


@router.get("/.well-known/oauth-authorization-server")
def metadata(request: Request) -> JSONResponse:
    base = str(request.base_url).rstrip("/")
    return JSONResponse(server_of(request).metadata(base))


@router.post("/oauth/deauthorize")
@router.post("/api/v3/oauth/deauthorize")
def deauthorize(request: Request) -> JSONResponse:
    """Strava: the app disconnects itself from the user (every token, the consent)."""
    info = authenticate_request(request)
    if info.client_id is None:
        raise ApiError(400, "invalid_request", "personal tokens are revoked on the tokens page")
    with request.app.state.db.begin() as conn:
        repo.revoke_client_for_user(conn, info.user_id, info.client_id)
    presented = request.headers.get("authorization", "").partition(" ")[2] or request.query_params.get(
        "access_token", ""
    )
    return JSONResponse({"access_token": presented})


@router.get("/api/v1/oauth/userinfo")
def userinfo(request: Request, principal: Principal = Depends(require_scope("openid"))) -> JSONResponse:
    """SweatStack's UserInfoResponse: sub, name, registered_at required."""
    with request.app.state.db.connect() as conn:
        user = users.get(conn, principal.user_id)
    if user is None:
        raise ApiError(401, "invalid_token", "the user is gone")
    name = " ".join(p for p in (user.first_name, user.last_name) if p) or user.username
    out: dict[str, Any] = {
        "sub": str(user.id),
        "name": name,
        "preferred_username": user.username,
        "given_name": user.first_name or None,
        "family_name": user.last_name or None,
        "registered_at": user.created_at.isoformat(),
    }
    if principal.has("profile:email"):
        out["email"] = user.email
    return JSONResponse(out)


# --- Smashrun token check and revocation (seed: "Checking the access token", "Revoking access") ---


def _smashrun_token(request: Request, token: str) -> tokens.TokenInfo:
    with request.app.state.db.connect() as conn:
        try:
            return tokens.authenticate(conn, request.app.state.settings, token)
        except tokens.TokenError as exc:
            raise ApiError(401, "invalid_token", str(exc)) from None


@router.get("/v1/auth/{token}", tags=["smashrun"])
def smashrun_token_check(request: Request, token: str) -> JSONResponse:
    """{"scopes": [...], "expires_in": N}: the token authenticates itself (no header needed)."""
    info = _smashrun_token(request, token)
    expires_in = None
    if info.expires_at is not None:
        from datetime import UTC, datetime

        expires_in = max(0, int((info.expires_at - datetime.now(UTC)).total_seconds()))
    return JSONResponse({"scopes": sc.split(info.scope), "expires_in": expires_in})


@router.delete("/v1/auth/{token}", tags=["smashrun"])
def smashrun_token_revoke(request: Request, token: str) -> Response:
    info = _smashrun_token(request, token)
    with request.app.state.db.begin() as conn:
        repo.revoke(conn, info.id)
    return Response(status_code=204)


@router.delete("/v1/auth/{token}/all", tags=["smashrun"])
def smashrun_token_revoke_all(request: Request, token: str) -> Response:
    """Every token of this token's app for this user."""
    info = _smashrun_token(request, token)
    with request.app.state.db.begin() as conn:
        if info.client_id is None:
            repo.revoke(conn, info.id)
        else:
            repo.revoke_client_for_user(conn, info.user_id, info.client_id)
    return Response(status_code=204)
