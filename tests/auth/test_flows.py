"""Every flow end to end through the real server, with requests-oauthlib as the client."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import requests
from requests_oauthlib import OAuth2Session

from tests.auth.helpers import PASSWORD, approve


def _jwt_claims(token: str) -> dict:
    import base64
    import json

    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def test_code_flow_with_pkce_then_api_then_refresh(server, alice, confidential):
    cid, secret, redirect = confidential
    uid, username = alice
    sess = OAuth2Session(cid, redirect_uri=redirect, scope=["read_activity", "write_activity"], pkce="S256")
    url, state = sess.authorization_url(f"{server.url}/oauth2/authenticate")
    resp = approve(url, username)
    assert resp.status_code == 302
    location = resp.headers["location"]
    assert location.startswith(redirect)
    assert parse_qs(urlsplit(location).query)["state"] == [state]
    token = sess.fetch_token(f"{server.url}/oauth2/token", authorization_response=location, client_secret=secret)
    assert token["token_type"] == "Bearer"
    assert isinstance(token["expires_in"], int) and isinstance(token["expires_at"], int)
    assert token["expires_in"] == 12 * 7 * 86400  # Smashrun-style client
    assert token["refresh_token"]
    assert token["scope"] == ["read_activity", "write_activity"]
    claims = _jwt_claims(token["access_token"])
    assert {"sub", "exp", "iat", "jti", "scope", "client_id"} <= set(claims)
    assert claims["sub"] == str(uid) and claims["client_id"] == cid

    api = sess.get(f"{server.url}/v1/my/activities/999999999")
    assert api.status_code == 404  # authenticated; no such activity
    assert api.headers["X-RateLimit-Limit"].count(",") == 1

    new = sess.refresh_token(f"{server.url}/oauth2/token", client_id=cid, client_secret=secret)
    assert new["access_token"] != token["access_token"] and new["refresh_token"]
    assert sess.get(f"{server.url}/v1/my/activities/999999999").status_code == 404
    # the rotated-out token pair no longer works
    old = requests.get(
        f"{server.url}/v1/my/activities/1", headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=10
    )
    assert old.status_code == 401 and old.headers["WWW-Authenticate"].startswith("Bearer")


def test_public_client_code_flow_requires_pkce(server, alice, public):
    cid, _, redirect = public
    _, username = alice
    port_redirect = "http://localhost:8765"  # loopback: any port (RFC 8252)
    sess = OAuth2Session(cid, redirect_uri=port_redirect, scope=["openid", "profile", "activities:read"], pkce="S256")
    url, _ = sess.authorization_url(f"{server.url}/oauth/authorize")
    location = approve(url, username).headers["location"]
    assert location.startswith(port_redirect + "?") or location.startswith(port_redirect + "/?")
    token = sess.fetch_token(
        f"{server.url}/api/v1/oauth/token", authorization_response=location, include_client_id=True
    )
    info = sess.get(f"{server.url}/api/v1/oauth/userinfo")
    assert info.status_code == 200, info.text
    assert info.json()["sub"] == str(alice[0])
    assert token["refresh_token"]

    # without PKCE a public client is turned away (error redirected to the registered URI)
    plain = OAuth2Session(cid, redirect_uri=port_redirect, scope=["openid"])
    url, _ = plain.authorization_url(f"{server.url}/oauth/authorize")
    resp = approve(url, username)
    assert resp.status_code == 302 and "error=invalid_request" in resp.headers["location"]


def test_implicit_flow_builtin_client(server, alice):
    _, username = alice
    url = f"{server.url}/oauth2/authenticate?client_id=client&response_type=token&redirect_uri=http://127.0.0.1:9999/&state=s1"
    resp = approve(url, username)
    assert resp.status_code == 302
    fragment = parse_qs(urlsplit(resp.headers["location"]).fragment)
    assert fragment["state"] == ["s1"] and fragment["token_type"] == ["Bearer"]
    assert int(fragment["expires_in"][0]) == 12 * 7 * 86400
    assert "refresh_token" not in fragment
    token = fragment["access_token"][0]
    check = requests.get(f"{server.url}/v1/auth/{token}", timeout=10).json()
    assert check["scopes"] == ["read_activity", "write_activity"]  # blank scope: everything
    assert 0 < check["expires_in"] <= 12 * 7 * 86400


def test_out_of_band_code_in_title(server, alice, confidential):
    cid, secret, _ = confidential
    _, username = alice
    oob = "urn:ietf:wg:oauth:2.0:oob"
    sess = OAuth2Session(cid, redirect_uri=oob, scope=["read_activity"])
    url, _ = sess.authorization_url(f"{server.url}/oauth2/authenticate")
    resp = approve(url, username)
    assert resp.status_code == 200
    code = resp.text.split("<title>")[1].split("</title>")[0]
    assert code and code in resp.text.split("</title>")[1]
    token = sess.fetch_token(f"{server.url}/oauth2/token", code=code, client_secret=secret)
    assert token["scope"] == ["read_activity"]


def test_revoke_and_introspect(server, alice, confidential):
    cid, secret, redirect = confidential
    _, username = alice
    sess = OAuth2Session(cid, redirect_uri=redirect, scope=["read_activity"])
    url, _ = sess.authorization_url(f"{server.url}/oauth/authorize")
    token = sess.fetch_token(
        f"{server.url}/oauth/token",
        authorization_response=approve(url, username).headers["location"],
        client_secret=secret,
    )
    auth = (cid, secret)
    intro = requests.post(
        f"{server.url}/oauth/introspect", data={"token": token["access_token"]}, auth=auth, timeout=10
    )
    body = intro.json()
    assert body["active"] is True and body["client_id"] == cid and body["scope"] == "read_activity"
    assert body["username"] == username
    assert (
        requests.post(
            f"{server.url}/oauth/introspect", data={"token": token["refresh_token"]}, auth=auth, timeout=10
        ).json()["active"]
        is True
    )
    # revoking the refresh token ends the access token too
    rev = requests.post(
        f"{server.url}/oauth/revoke",
        data={"token": token["refresh_token"], "token_type_hint": "refresh_token"},
        auth=auth,
        timeout=10,
    )
    assert rev.status_code == 200
    assert requests.post(
        f"{server.url}/oauth/introspect", data={"token": token["access_token"]}, auth=auth, timeout=10
    ).json() == {"active": False}
    assert sess.get(f"{server.url}/v1/my/activities/1").status_code == 401


def test_metadata(server):
    meta = requests.get(f"{server.url}/.well-known/oauth-authorization-server", timeout=10).json()
    assert meta["issuer"] == server.url
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert {"authorization_code", "implicit", "refresh_token"} <= set(meta["grant_types_supported"])
    assert "read_activity" in meta["scopes_supported"] and "activity:read" in meta["scopes_supported"]


def test_smashrun_revoke_one_and_all(server, db, alice, confidential):
    cid, secret, redirect = confidential
    _, username = alice
    got = []
    for _ in range(2):
        sess = OAuth2Session(cid, redirect_uri=redirect, scope=["read_activity"])
        url, _ = sess.authorization_url(f"{server.url}/oauth2/authenticate")
        got.append(
            sess.fetch_token(
                f"{server.url}/oauth2/token",
                authorization_response=approve(url, username).headers["location"],
                client_secret=secret,
            )["access_token"]
        )
    assert requests.delete(f"{server.url}/v1/auth/{got[0]}", timeout=10).status_code == 204
    assert requests.get(f"{server.url}/v1/auth/{got[0]}", timeout=10).status_code == 401
    assert requests.get(f"{server.url}/v1/auth/{got[1]}", timeout=10).status_code == 200
    assert requests.delete(f"{server.url}/v1/auth/{got[1]}/all", timeout=10).status_code == 204
    assert requests.get(f"{server.url}/v1/auth/{got[1]}", timeout=10).status_code == 401


def test_password_is_checked_for_test_approval(server, alice, confidential):
    cid, _, redirect = confidential
    url = f"{server.url}/oauth/authorize?client_id={cid}&redirect_uri={redirect}&scope=read_activity"
    resp = requests.get(url, auth=(alice[1], PASSWORD + "x"), allow_redirects=False, timeout=10)
    assert resp.status_code == 303 and resp.headers["location"].startswith("/signin")
    time.sleep(0)
