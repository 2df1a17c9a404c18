"""A parameter no database can take (a NUL character: PostgreSQL's text holds none; a number past
any integer column) is the request's fault: a clear 4xx on SQLite and PostgreSQL alike, never a
server error. Before, on PostgreSQL an OAuth client id holding a NUL was a 500 at /oauth/authorize
and /oauth2/token, and on both databases a page number of 23 digits was a 500."""

from __future__ import annotations

import httpx
import pytest

HUGE = "9" * 23


@pytest.mark.parametrize("path", [
    "/v1/a%00b/activities",
    "/oauth/authorize?client_id=a%00b&response_type=code&redirect_uri=http://127.0.0.1/cb",
    f"/v1/my/activities/{HUGE}",
    f"/v1/my/activities/{HUGE}/polyline",
    f"/v1/my/activities/search?fromDate={HUGE}",
    f"/v1/my/activities/search?count={HUGE}",
    f"/v1/my/activities/search?page={HUGE}",
    f"/v1/my/activities/search/ids?page={HUGE}&count=10",
])
def test_a_hostile_query_is_a_4xx(api, path: str) -> None:
    r = api.http.get(path)
    assert 400 <= r.status_code < 500, (path, r.status_code, r.text[:300])


@pytest.mark.parametrize("form", [
    {"grant_type": "authorization_code", "code": "a\x00", "client_id": "x\x00", "redirect_uri": "http://127.0.0.1/cb"},
    {"grant_type": "refresh_token", "refresh_token": "a\x00", "client_id": "x\x00"},
])
def test_a_hostile_token_request_is_an_oauth_error(api, form: dict[str, str]) -> None:
    r = httpx.post(str(api.http.base_url) + "/oauth2/token", data=form)
    assert r.status_code == 400, r.text[:300]
    body = r.json()
    assert body["error"] in ("invalid_request", "invalid_client", "invalid_grant") and body.get("error_description")
