"""Fixtures for the Smashrun API tests: a fresh user per test with a bearer token of chosen scopes
(a personal token, or an app's OAuth token when dedupe by app matters), an httpx client against
the real server, and a generator of Smashrun activity JSON with known, hand-checkable values."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from tests.conftest import RunningServer, make_user

ALL_SMASHRUN = "read_activity write_activity"


@dataclass
class Api:
    """One user's view of /v1 with one token."""

    http: httpx.Client
    user_id: int
    username: str
    token: str

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.get(path, **kw)

    def post_json(self, path: str, obj: Any, **kw: Any) -> httpx.Response:
        return self.http.post(path, content=json.dumps(obj), **kw)

    def put_json(self, path: str, obj: Any) -> httpx.Response:
        return self.http.put(path, content=json.dumps(obj))

    def patch_json(self, path: str, obj: Any) -> httpx.Response:
        return self.http.patch(path, content=json.dumps(obj))

    def delete(self, path: str) -> httpx.Response:
        return self.http.delete(path)

    def upload(self, run: dict[str, Any]) -> int:
        r = self.post_json("/v1/my/activities", run)
        assert r.status_code in (200, 201), r.text
        return int(r.json()["activityId"])

    def with_token(self, token: str) -> Api:
        return make_api(self.http.base_url, token, self.user_id, self.username)


def make_api(base: Any, token: str, user_id: int, username: str) -> Api:
    http = httpx.Client(base_url=str(base), headers={"Authorization": f"Bearer {token}"}, timeout=60)
    return Api(http, user_id, username, token)


def personal_token(server: RunningServer, user_id: int, scopes: str) -> str:
    from runhub.auth.tokens import mint_personal_token

    return mint_personal_token(server.db, user_id, scopes)


def app_token(server: RunningServer, user_id: int, scopes: str, client_id: str | None = None) -> str:
    """An OAuth access token issued to a registered app (activities it uploads carry its id)."""
    from runhub.auth import tokens
    from runhub.store import oauth

    with server.db.begin() as conn:
        cid = client_id or f"app{uuid.uuid4().hex[:8]}"
        if oauth.get_client(conn, cid) is None:
            oauth.create_client(conn, cid, ["http://127.0.0.1/cb"], client_id=cid, dialect="smashrun")
        client = oauth.get_client(conn, cid)
        return tokens.issue(conn, server.settings, user_id=user_id, client=client, scope=scopes, include_refresh=False)[
            "access_token"
        ]


@pytest.fixture
def new_api(server: RunningServer) -> Iterator[Any]:
    """new_api(scopes=..., app=None) -> Api for a brand-new user."""
    made: list[Api] = []

    def factory(scopes: str = ALL_SMASHRUN, app: str | None = None) -> Api:
        uid, name = make_user(server.db, "sr")
        token = app_token(server, uid, scopes, app) if app else personal_token(server, uid, scopes)
        api = make_api(server.url, token, uid, name)
        made.append(api)
        return api

    yield factory
    for api in made:
        api.http.close()


@pytest.fixture
def api(new_api: Any) -> Api:
    return new_api()


def run_json(
    start: str = "2024-05-01T07:00:00+02:00",
    *,
    n: int = 61,
    step: float = 1.0,
    metres_per_step: str = "2.5",
    pause_at: int | None = None,
    pause_seconds: float = 30.0,
    hr: bool = True,
    cadence: bool = True,
    external_id: str | None = None,
    notes: str | None = "easy run",
) -> dict[str, Any]:
    """A run at constant speed with known values: sample i at clock i*step (plus the pause after
    `pause_at`), distance i*metres_per_step metres written in km with exact decimals, heart rate
    120 + i % 40, cadence 80 + i % 10. Summary distance and duration agree with the last sample."""
    from decimal import Decimal

    clock: list[Any] = []
    t = 0.0
    for i in range(n):
        if pause_at is not None and i == pause_at:
            t += pause_seconds
        clock.append(int(t) if float(t).is_integer() else t)
        t += step
    dist = [Decimal(metres_per_step) * i / 1000 for i in range(n)]
    keys = ["clock", "distance"]
    values: list[list[Any]] = [clock, [float(d) for d in dist]]
    if hr:
        keys.append("heartRate")
        values.append([120 + i % 40 for i in range(n)])
    if cadence:
        keys.append("cadence")
        values.append([80 + i % 10 for i in range(n)])
    # Smashrun: the interval that ends at a pause index is the pause, all of it
    moving = (n - 1 - (pause_at is not None)) * step
    obj: dict[str, Any] = {
        "startDateTimeLocal": start,
        "activityType": "running",
        "distance": float(dist[-1]),
        "duration": int(moving) if float(moving).is_integer() else moving,
        "recordingKeys": keys,
        "recordingValues": values,
    }
    if pause_at is not None:
        obj["pauseIndexes"] = [pause_at]
    if notes is not None:
        obj["notes"] = notes
    if external_id is not None:
        obj["externalId"] = external_id
    return obj


def manual_run(start: str, km: float = 5.0, seconds: int = 1500, **extra: Any) -> dict[str, Any]:
    """A summary-only run (no recordings), cheap to store in numbers."""
    return {"startDateTimeLocal": start, "activityType": "running", "distance": km, "duration": seconds} | extra
