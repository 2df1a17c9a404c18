"""Attacks that must fail, and the guarantees around them."""

from __future__ import annotations

import base64
import hashlib
import secrets
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
import uvicorn

from runhub.auth import tokens
from runhub.store import oauth as repo
from tests.auth.helpers import PASSWORD, approve, code_from, make_client, mint_token
from tests.conftest import free_port


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _code(server, username, cid, redirect, **extra) -> str:
    req = requests.Request(
        "GET", f"{server.url}/oauth/authorize", params={"client_id": cid, "redirect_uri": redirect, **extra}
    ).prepare()
    return code_from(approve(req.url, username))


def _exchange(server, cid, secret, code, **extra) -> requests.Response:
    data = {"grant_type": "authorization_code", "code": code, "client_id": cid, **extra}
    if secret:
        data["client_secret"] = secret
    return requests.post(f"{server.url}/oauth/token", data=data, timeout=10)


def _get(server, token, path="/v1/my/activities/999999999"):
    return requests.get(f"{server.url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_code_used_twice_revokes_both(server, alice, confidential):
    cid, secret, redirect = confidential
    code = _code(server, alice[1], cid, redirect)
    first = _exchange(server, cid, secret, code)
    assert first.status_code == 200
    token = first.json()
    assert _get(server, token["access_token"]).status_code == 404
    second = _exchange(server, cid, secret, code)
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"
    assert _get(server, token["access_token"]).status_code == 401
    refreshed = requests.post(
        f"{server.url}/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": token["refresh_token"],
            "client_id": cid,
            "client_secret": secret,
        },
        timeout=10,
    )
    assert refreshed.json()["error"] == "invalid_grant"


def test_code_for_another_client(server, db, alice, confidential):
    cid, secret, redirect = confidential
    other, other_secret = make_client(db, ["https://other.example/cb"])
    code = _code(server, alice[1], cid, redirect)
    assert _exchange(server, other, other_secret, code).json()["error"] == "invalid_grant"
    assert _exchange(server, cid, secret, code).status_code == 200  # the rightful owner still can


def test_redirect_uri_not_registered_is_never_followed(server, alice, confidential):
    cid, _, _ = confidential
    for evil in ("https://evil.example/cb", "https://app.example/callback.evil.example", "//evil.example"):
        url = (
            requests.Request("GET", f"{server.url}/oauth/authorize", params={"client_id": cid, "redirect_uri": evil})
            .prepare()
            .url
        )
        resp = approve(url, alice[1])
        assert resp.status_code == 400 and "location" not in resp.headers
    # unknown client: an error page, not a redirect
    resp = approve(f"{server.url}/oauth/authorize?client_id=nope&redirect_uri=https://evil.example/", alice[1])
    assert resp.status_code == 400 and "location" not in resp.headers


def test_loopback_any_port_but_not_other_hosts(server, alice, public):
    cid, _, _ = public
    v = secrets.token_urlsafe(32)
    ok = _code(
        server, alice[1], cid, "http://localhost:45678/", code_challenge=_challenge(v), code_challenge_method="S256"
    )
    assert ok
    url = (
        requests.Request(
            "GET",
            f"{server.url}/oauth/authorize",
            params={
                "client_id": cid,
                "redirect_uri": "http://localhost.evil.example:45678/",
                "code_challenge": _challenge(v),
                "code_challenge_method": "S256",
            },
        )
        .prepare()
        .url
    )
    assert approve(url, alice[1]).status_code == 400


def test_signin_next_is_not_an_open_redirect(server):
    s = requests.Session()
    page = s.get(f"{server.url}/signin?next=//evil.example/", timeout=10)
    assert 'value="/settings/profile"' in page.text
    assert "evil" not in page.text


def test_wrong_pkce_verifier(server, alice, public):
    cid, _, _ = public
    verifier = secrets.token_urlsafe(32)
    code = _code(
        server, alice[1], cid, "http://localhost/", code_challenge=_challenge(verifier), code_challenge_method="S256"
    )
    resp = _exchange(server, cid, None, code, code_verifier=secrets.token_urlsafe(32))
    assert resp.json()["error"] == "invalid_grant"
    missing = _code(
        server, alice[1], cid, "http://localhost/", code_challenge=_challenge(verifier), code_challenge_method="S256"
    )
    assert _exchange(server, cid, None, missing).json()["error"] == "invalid_request"


def test_plain_pkce_refused(server, alice, public):
    cid, _, _ = public
    url = (
        requests.Request(
            "GET",
            f"{server.url}/oauth/authorize",
            params={
                "client_id": cid,
                "redirect_uri": "http://localhost/",
                "code_challenge": "a" * 43,
                "code_challenge_method": "plain",
            },
        )
        .prepare()
        .url
    )
    assert "error=invalid_request" in approve(url, alice[1]).headers["location"]


def test_expired_and_revoked_tokens(server, db, alice):
    uid, _ = alice
    with db.begin() as conn:
        expired, _ = tokens.create_personal_token(
            conn, uid, "activity:read", expires_at=datetime.now(UTC) - timedelta(seconds=1)
        )
    resp = _get(server, expired)
    assert resp.status_code == 401 and 'error="invalid_token"' in resp.headers["WWW-Authenticate"]
    # an access JWT past its exp (correctly signed, row still live)
    live = mint_token(db, uid, "activity:read")
    with db.connect() as conn:
        row = repo.get_by_secret(conn, live)
    stale = tokens.encode_access(
        server.settings, jti=row.id, user_id=uid, client_id=None, scope="x", exp=int(time.time()) - 5
    )
    assert _get(server, stale).status_code == 401
    # forged signature
    forged = tokens.encode_access(
        server.settings.model_copy(update={"secret_key": "k" * 48}),
        jti=row.id,
        user_id=uid,
        client_id=None,
        scope="x",
        exp=int(time.time()) + 600,
    )
    assert _get(server, forged).status_code == 401
    assert _get(server, live).status_code == 404
    with db.begin() as conn:
        repo.revoke(conn, row.id)
    assert _get(server, live).status_code == 401


def test_refresh_token_of_another_client(server, db, alice, confidential):
    cid, secret, redirect = confidential
    other, other_secret = make_client(db, ["https://other.example/cb"])
    token = _exchange(server, cid, secret, _code(server, alice[1], cid, redirect)).json()
    resp = requests.post(
        f"{server.url}/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": token["refresh_token"],
            "client_id": other,
            "client_secret": other_secret,
        },
        timeout=10,
    )
    assert resp.json()["error"] == "invalid_grant"


def test_scope_escalation_on_refresh(server, alice, confidential):
    cid, secret, redirect = confidential
    token = _exchange(server, cid, secret, _code(server, alice[1], cid, redirect, scope="read_activity")).json()
    wider = requests.post(
        f"{server.url}/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": token["refresh_token"],
            "client_id": cid,
            "client_secret": secret,
            "scope": "read_activity write_activity",
        },
        timeout=10,
    )
    assert wider.json()["error"] == "invalid_scope"
    narrower = requests.post(
        f"{server.url}/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": token["refresh_token"],
            "client_id": cid,
            "client_secret": secret,
            "scope": "activity:read",
        },
        timeout=10,
    )
    assert narrower.status_code == 200
    assert _get(server, narrower.json()["access_token"]).status_code == 404
    assert _get(server, narrower.json()["access_token"], "/api/v1/oauth/userinfo").status_code == 403


def test_insufficient_scope(server, db, alice):
    token = mint_token(db, alice[0], "body:read")
    resp = _get(server, token)
    assert resp.status_code == 403
    assert 'error="insufficient_scope"' in resp.headers["WWW-Authenticate"]
    assert resp.headers["X-RateLimit-Usage"]


def test_user_cannot_read_another_users_activity(server, db, alice, bob):
    from runhub import demo
    from runhub.ingest import ingest_activity

    run = demo.sample_runs(1)[0]
    result = ingest_activity(db, bob[0], run, client_id="test")
    aid = result.activity_id
    assert _get(server, mint_token(db, bob[0], "read_activity"), f"/v1/my/activities/{aid}").status_code == 200
    alice_token = mint_token(db, alice[0], ["activity:read_all"])
    assert _get(server, alice_token, f"/v1/my/activities/{aid}").status_code == 404
    resp = requests.get(f"{server.url}/v1/my/activities/{aid}", params={"access_token": alice_token}, timeout=10)
    assert resp.status_code == 404


def _browser_signin(server, username) -> tuple[requests.Session, str]:
    s = requests.Session()
    page = s.get(f"{server.url}/signin", timeout=10).text
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    resp = s.post(
        f"{server.url}/signin",
        data={"csrf_token": csrf, "username": username, "password": PASSWORD, "next": "/settings/apps"},
        allow_redirects=False,
        timeout=10,
    )
    assert resp.status_code == 303 and resp.headers["location"] == "/settings/apps"
    cookie = next(c for c in s.cookies if c.name == "runhub_session")
    assert cookie.has_nonstandard_attr("HttpOnly")
    return s, csrf


def test_consent_form_csrf_and_remembered_grant(server, db, bob):
    cid, secret = make_client(db, ["https://consent.example/cb"])
    s, _ = _browser_signin(server, bob[1])
    url = f"{server.url}/oauth/authorize?client_id={cid}&redirect_uri=https://consent.example/cb&scope=read_activity&state=z"
    page = s.get(url, allow_redirects=False, timeout=10)
    assert page.status_code == 200 and "consent.example" in page.text and "Read all your activities" in page.text
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    form = {
        "client_id": cid,
        "redirect_uri": "https://consent.example/cb",
        "scope": "read_activity",
        "state": "z",
        "response_type": "code",
        "decision": "approve",
    }
    # a cross-site post: no token, or a token of another session
    assert s.post(f"{server.url}/oauth/authorize", data=form, allow_redirects=False, timeout=10).status_code == 403
    other, other_csrf = _browser_signin(server, bob[1])
    bad = s.post(
        f"{server.url}/oauth/authorize", data=form | {"csrf_token": other_csrf}, allow_redirects=False, timeout=10
    )
    assert bad.status_code == 403
    # Basic credentials never stand in for the consent click
    assert (
        requests.post(
            f"{server.url}/oauth/authorize", data=form, auth=(bob[1], PASSWORD), allow_redirects=False, timeout=10
        ).status_code
        == 303
    )
    ok = s.post(f"{server.url}/oauth/authorize", data=form | {"csrf_token": csrf}, allow_redirects=False, timeout=10)
    assert ok.status_code == 302 and "code=" in ok.headers["location"] and "state=z" in ok.headers["location"]
    # remembered: same or fewer scopes skip the page; more scopes ask again
    assert s.get(url, allow_redirects=False, timeout=10).status_code == 302
    wider = s.get(url.replace("read_activity", "read_activity%20write_activity"), allow_redirects=False, timeout=10)
    assert wider.status_code == 200 and "Upload and replace activities" in wider.text
    deny = s.post(
        f"{server.url}/oauth/authorize",
        data=form | {"csrf_token": csrf, "decision": "deny"},
        allow_redirects=False,
        timeout=10,
    )
    assert "error=access_denied" in deny.headers["location"]
    # connected apps lists it; revoking ends access
    apps = s.get(f"{server.url}/settings/apps", timeout=10).text
    assert cid in apps
    code = ok.headers["location"].split("code=")[1].split("&")[0]
    token = _exchange(server, cid, secret, code).json()["access_token"]
    assert _get(server, token).status_code == 404
    s.post(f"{server.url}/settings/apps/revoke", data={"client_id": cid, "csrf_token": csrf}, timeout=10)
    assert _get(server, token).status_code == 401


@pytest.fixture(scope="module")
def strict_server(settings, db):
    """A second real server: no test approval, tiny rate limits."""
    from runhub.api.app import create_app

    strict = settings.model_copy(update={"test_approval": False, "rate_limit_15min": 3, "rate_limit_daily": 1000})
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(strict, db), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def test_basic_credentials_ignored_without_test_approval(strict_server, alice, confidential):
    cid, _, redirect = confidential
    resp = requests.get(
        f"{strict_server}/oauth/authorize?client_id={cid}&redirect_uri={redirect}",
        auth=(alice[1], PASSWORD),
        allow_redirects=False,
        timeout=10,
    )
    assert resp.status_code == 303 and resp.headers["location"].startswith("/signin")


def test_rate_limit_headers_and_429(strict_server, db, alice):
    token = mint_token(db, alice[0], "activity:read")
    for n in range(1, 4):
        resp = requests.get(
            f"{strict_server}/v1/my/activities/1", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        assert resp.status_code == 404
        assert resp.headers["X-RateLimit-Limit"] == "3,1000"
        assert resp.headers["X-RateLimit-Usage"] == f"{n},{n}"
    resp = requests.get(f"{strict_server}/v1/my/activities/1", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert resp.status_code == 429
    assert 1 <= int(resp.headers["Retry-After"]) <= 900
    assert resp.headers["X-RateLimit-Usage"] == "4,4"


def test_serve_refuses_test_approval_off_loopback(tmp_path):
    env = {"RUNHUB_TEST_APPROVAL": "1", "RUNHUB_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-m", "runhub.cli", "serve", "--host", "0.0.0.0", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "RUNHUB_TEST_APPROVAL" in proc.stderr
