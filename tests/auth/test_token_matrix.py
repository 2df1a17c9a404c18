"""clients.md 1.2, row by row: what each client sends to the token endpoint."""

from __future__ import annotations

import base64
import hashlib
import secrets

import pytest
import requests

from tests.auth.helpers import approve, code_from, make_client


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def strava(db):
    cid, secret = make_client(db, ["http://127.0.0.1/strava"], client_id=str(secrets.randbelow(10**9) + 10**5))
    return cid, secret, "http://127.0.0.1/strava"


@pytest.fixture(scope="module")
def smashrun(db):
    cid, secret = make_client(db, ["https://sr.example/cb"], dialect="smashrun", refresh_without_secret=True)
    return cid, secret, "https://sr.example/cb"


@pytest.fixture(scope="module")
def sweatstack(db):
    cid, _ = make_client(db, ["http://localhost"], public=True, client_id=f"ss{secrets.token_hex(6)}")
    return cid, None, "http://localhost"


def _code(server, username, cid, redirect, **extra) -> str:
    params = {"client_id": cid, "redirect_uri": redirect, **extra}
    req = requests.Request("GET", f"{server.url}/oauth/authorize", params=params).prepare()
    return code_from(approve(req.url, username))


def _ok(resp: requests.Response) -> dict:
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["token_type"] == "Bearer"
    assert isinstance(body["expires_in"], int) and isinstance(body["expires_at"], int)
    assert body["refresh_token"]
    return body


def test_stravalib_26_form_body_without_redirect_uri(server, alice, strava):
    cid, secret, redirect = strava
    code = _code(
        server, alice[1], cid, redirect, scope="read,activity:read", approval_prompt="auto", response_type="code"
    )
    body = _ok(
        requests.post(
            f"{server.url}/oauth/token",
            data={"client_id": cid, "client_secret": secret, "code": code, "grant_type": "authorization_code"},
            timeout=10,
        )
    )
    assert body["scope"] == "read activity:read"
    again = _ok(
        requests.post(
            f"{server.url}/oauth/token",
            data={
                "client_id": cid,
                "client_secret": secret,
                "refresh_token": body["refresh_token"],
                "grant_type": "refresh_token",
            },
            timeout=10,
        )
    )
    assert again["access_token"] != body["access_token"]


def test_stravalib_25_query_string_and_empty_body(server, alice, strava):
    cid, secret, redirect = strava
    code = _code(server, alice[1], cid, redirect, scope="activity:read_all")
    body = _ok(
        requests.post(
            f"{server.url}/oauth/token",
            params={"client_id": cid, "client_secret": secret, "code": code, "grant_type": "authorization_code"},
            timeout=10,
        )
    )
    _ok(
        requests.post(
            f"{server.url}/oauth/token",
            params={
                "client_id": cid,
                "client_secret": secret,
                "refresh_token": body["refresh_token"],
                "grant_type": "refresh_token",
                "access_token": body["access_token"],
            },
            timeout=10,
        )
    )


def test_smashrun_fetch_token_basic_auth(server, alice, smashrun):
    cid, secret, redirect = smashrun
    code = _code(
        server, alice[1], cid, redirect, scope="read_activity write_activity", state="x", client_secret=secret
    )  # smashrun-client leaks the secret into the URL
    body = _ok(
        requests.post(
            f"{server.url}/oauth2/token",
            auth=(cid, secret),
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect},
            timeout=10,
        )
    )
    # explicit refresh_token(): credentials in the body, the session scope sent along
    body = _ok(
        requests.post(
            f"{server.url}/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "client_id": cid,
                "client_secret": secret,
                "scope": "read_activity write_activity",
                "refresh_token": body["refresh_token"],
            },
            timeout=10,
        )
    )
    assert body["scope"] == "read_activity write_activity"
    # automatic refresh: no client credentials at all, a junk field (opt-in per client)
    _ok(
        requests.post(
            f"{server.url}/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "scope": "read_activity write_activity",
                "refresh_token": body["refresh_token"],
                "allow_redirects": "True",
            },
            timeout=10,
        )
    )


def test_refresh_without_credentials_needs_the_opt_in(server, alice, strava):
    cid, secret, redirect = strava
    code = _code(server, alice[1], cid, redirect)
    body = _ok(
        requests.post(
            f"{server.url}/oauth/token",
            data={"client_id": cid, "client_secret": secret, "code": code, "grant_type": "authorization_code"},
            timeout=10,
        )
    )
    resp = requests.post(
        f"{server.url}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
        timeout=10,
    )
    assert resp.status_code in (400, 401) and resp.json()["error"] == "invalid_client"
    assert resp.json()["message"]


def test_sweatstack_public_pkce_then_refresh_with_stale_bearer(server, alice, sweatstack):
    cid, _, redirect = sweatstack
    verifier = secrets.token_urlsafe(32)
    code = _code(
        server,
        alice[1],
        cid,
        "http://localhost:8123",
        scope="openid profile email activities:read offline_access",
        code_challenge=_challenge(verifier),
        code_challenge_method="S256",
    )  # no response_type
    body = _ok(
        requests.post(
            f"{server.url}/api/v1/oauth/token",
            data={"grant_type": "authorization_code", "client_id": cid, "code": code, "code_verifier": verifier},
            timeout=10,
        )
    )
    again = _ok(
        requests.post(
            f"{server.url}/api/v1/oauth/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": body["refresh_token"],
                "client_id": cid,
                "client_secret": "",
            },
            headers={"Authorization": f"Bearer {body['access_token']}"},
            timeout=10,
        )
    )
    info = requests.get(
        f"{server.url}/api/v1/oauth/userinfo", headers={"Authorization": f"Bearer {again['access_token']}"}, timeout=10
    )
    assert info.status_code == 200 and info.json()["sub"] == str(alice[0])
    assert "email" in info.json()


def test_sweatstack_fastapi_callback_confidential(server, alice, db):
    cid, secret = make_client(db, ["https://ss-app.example/callback"])
    code = _code(server, alice[1], cid, "https://ss-app.example/callback", scope="data:read")
    _ok(
        requests.post(
            f"{server.url}/api/v1/oauth/token",
            data={
                "grant_type": "authorization_code",
                "client_id": cid,
                "client_secret": secret,
                "code": code,
                "redirect_uri": "https://ss-app.example/callback",
            },
            timeout=10,
        )
    )


def test_errors_carry_error_description_and_message(server):
    resp = requests.post(f"{server.url}/oauth/token", data={"grant_type": "password"}, timeout=10)
    body = resp.json()
    assert resp.status_code == 400 and body["error"] == "unsupported_grant_type" and body["message"]
