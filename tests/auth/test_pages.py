"""The account pages through the real server: sign-up, profile, personal tokens, developer apps."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import requests

from tests.conftest import CLI_TIMEOUT


def _csrf(html: str) -> str:
    return html.split('name="csrf_token" value="')[1].split('"')[0]


def test_signup_profile_tokens_developer_signout(server):
    s = requests.Session()
    name = f"page-{uuid.uuid4().hex[:6]}"
    page = s.get(f"{server.url}/signup", timeout=10)
    assert (
        s.post(f"{server.url}/signup", data={"username": name, "password": "long enough pw"}, timeout=10).status_code
        == 403
    )  # no CSRF token
    resp = s.post(
        f"{server.url}/signup",
        data={"csrf_token": _csrf(page.text), "username": name, "password": "long enough pw"},
        allow_redirects=False,
        timeout=10,
    )
    assert resp.status_code == 303
    page = s.get(f"{server.url}/settings/profile", timeout=10)
    csrf = _csrf(page.text)
    saved = s.post(
        f"{server.url}/settings/profile",
        data={
            "csrf_token": csrf,
            "username": name,
            "first_name": "Ada",
            "last_name": "L",
            "unit_distance": "m",
            "unit_weight": "p",
            "unit_elevation": "f",
            "unit_temperature": "f",
            "hemisphere": "s",
            "language": "de",
            "timezone": "Europe/Oslo",
            "resting_heart_rate": "48",
            "max_heart_rate": "188",
            "ftp": "250",
        },
        timeout=10,
    )
    assert saved.status_code == 200 and 'value="Ada"' in saved.text
    from runhub.store import users

    with server.db.connect() as conn:
        row = users.get_by_username(conn, name)
    settings = users.settings_of(row)
    assert (settings["unit_distance"], settings["timezone"], settings["max_heart_rate"], settings["ftp"]) == (
        "m",
        "Europe/Oslo",
        188,
        250,
    )

    # a name that names no zone: a folder of the zone database ("Europe" made zoneinfo raise
    # IsADirectoryError, a server error) and 300 characters (OSError) are refused like a typo
    for bad in ("Europe", "x" * 300, "Europe/Osloo"):
        refused = s.post(f"{server.url}/settings/profile",
                         data={"csrf_token": csrf, "username": name, "timezone": bad}, timeout=10)
        assert refused.status_code == 400 and "Unknown time zone" in refused.text, (bad, refused.status_code)
    with server.db.connect() as conn:
        assert users.settings_of(users.get_by_username(conn, name))["timezone"] == "Europe/Oslo"

    made = s.post(
        f"{server.url}/settings/tokens",
        data={"csrf_token": csrf, "name": "script", "scope": ["activity:read", "profile:read"]},
        timeout=10,
    )
    token = made.text.split('<p class="secret">')[1].split("</p>")[0]
    api = requests.get(
        f"{server.url}/v1/my/activities/999999999", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert api.status_code == 404
    runalyze = requests.get(f"{server.url}/v1/my/activities/999999999", headers={"token": token}, timeout=10)
    assert runalyze.status_code == 404
    listed = s.get(f"{server.url}/settings/tokens", timeout=10).text
    assert "script" in listed and token not in listed  # shown once
    token_id = listed.split('name="token_id" value="')[1].split('"')[0]
    s.post(f"{server.url}/settings/tokens/revoke", data={"csrf_token": csrf, "token_id": token_id}, timeout=10)
    assert (
        requests.get(
            f"{server.url}/v1/my/activities/1", headers={"Authorization": f"Bearer {token}"}, timeout=10
        ).status_code
        == 401
    )

    dev = s.post(
        f"{server.url}/settings/developer",
        data={
            "csrf_token": csrf,
            "name": "My app",
            "redirect_uris": "https://my.example/cb\nhttp://127.0.0.1/cb",
            "kind": "confidential",
        },
        timeout=10,
    )
    assert dev.status_code == 200 and "My app" in dev.text
    secret = dev.text.split('<p class="secret">')[1].split("</p>")[0]
    cid = dev.text.split("client id ")[1].split("<")[0].strip()
    rotated = s.post(f"{server.url}/settings/developer/rotate", data={"csrf_token": csrf, "client_id": cid}, timeout=10)
    new_secret = rotated.text.split('<p class="secret">')[1].split("</p>")[0]
    assert new_secret != secret
    bad = s.post(
        f"{server.url}/settings/developer",
        data={"csrf_token": csrf, "name": "x", "redirect_uris": "javascript:alert(1)", "kind": "public"},
        timeout=10,
    )
    assert bad.status_code == 400

    out = s.post(f"{server.url}/signout", data={"csrf_token": csrf}, allow_redirects=False, timeout=10)
    assert out.status_code == 303
    assert s.get(f"{server.url}/settings/profile", allow_redirects=False, timeout=10).status_code == 303


def test_cli_client_and_token(server, tmp_path, alice):
    env = {
        "RUNHUB_DATABASE_URL": server.settings.db_url,
        "RUNHUB_DATA_DIR": str(tmp_path),
        "RUNHUB_SECRET_KEY": server.settings.secret_key or "",
        "PATH": "/usr/bin:/bin",
    }

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "runhub.cli", *args], env=env, capture_output=True, text=True, timeout=CLI_TIMEOUT
        )

    cid = f"5382f68b{uuid.uuid4().hex[:8]}"
    made = cli(
        "client", "create", "SweatStack", "--redirect-uri", "http://localhost", "--public", "--client-id", cid, "--json"
    )
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout) == {"client_id": cid, "client_secret": None, "name": "SweatStack", "public": True}
    assert cli("client", "create", "dup", "--redirect-uri", "http://localhost", "--client-id", cid).returncode == 1
    strava = cli(
        "client",
        "create",
        "Strava app",
        "--redirect-uri",
        "https://s.example/cb",
        "--client-id",
        str(uuid.uuid4().int % 10**8),
        "--client-secret",
        "0123456789abcdef0123",
        "--json",
    )
    assert json.loads(strava.stdout)["client_secret"] == "0123456789abcdef0123"
    tok = cli("token", "create", alice[1], "--scope", "read_activity", "--scope", "body:read", "--json")
    assert tok.returncode == 0, tok.stderr
    body = json.loads(tok.stdout)
    assert body["scope"] == "read_activity body:read"
    check = requests.get(f"{server.url}/v1/auth/{body['token']}", timeout=10).json()
    assert check == {"scopes": ["read_activity", "body:read"], "expires_in": None}
    assert cli("token", "create", alice[1], "--scope", "nonsense").returncode == 2
