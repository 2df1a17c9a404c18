"""The unmodified smashrun-client 0.6.0 (pinned) against the real running server: sign-in with the
code flow (non-interactive approval, RUNHUB_TEST_APPROVAL), explicit and automatic refresh, every
method the client offers, and what comes back compared with what was uploaded (clients.md 4)."""

from __future__ import annotations

import json
import time
from importlib.metadata import version
from typing import Any

import pytest
import requests
from tests.conftest import make_user
from tests.smashrun.conftest import run_json

pytestmark = pytest.mark.skipif(version("smashrun-client") != "0.6.0", reason="pinned to smashrun-client 0.6.0")

GPX = (
    '<?xml version="1.0"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>'
    + "".join(
        f'<trkpt lat="{47.0 + i * 0.0001:.4f}" lon="{8.0 + (i % 2) * 0.0001:.4f}">'
        f"<time>2024-07-01T05:00:{i * 5:02d}Z</time></trkpt>"
        for i in range(12)
    )
    + "</trkseg></trk></gpx>"
)


@pytest.fixture
def signed_in(server, monkeypatch):
    """A smashrun-client signed in through /oauth2/authenticate + /oauth2/token (code flow)."""
    import smashrun.client as sc
    from tests.auth.helpers import approve, code_from, make_client

    from smashrun import Smashrun

    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    monkeypatch.setattr(sc, "auth_url", f"{server.url}/oauth2/authenticate")
    monkeypatch.setattr(sc, "token_url", f"{server.url}/oauth2/token")
    uid, username = make_user(server.db, "src")
    redirect = "http://127.0.0.1:9/callback"
    # refresh_without_secret: requests-oauthlib's automatic refresh sends no client credentials
    client_id, secret = make_client(server.db, [redirect], dialect="smashrun", refresh_without_secret=True)
    saved: list[dict[str, Any]] = []
    client = Smashrun(
        client_id=client_id,
        client_secret=secret,
        redirect_uri=redirect,
        scope=["read_activity", "write_activity"],
        token_updater=saved.append,
    )
    client.base_url = f"{server.url}/v1"
    url, _state = client.get_auth_url()
    code = code_from(approve(url, username))
    token = client.fetch_token(code=code)
    assert token["access_token"] and token["refresh_token"] and token["token_type"].lower() == "bearer"
    return client, saved, uid, username


def test_sign_in_refresh_and_token_check(signed_in, server) -> None:
    client, saved, uid, _ = signed_in
    assert client.get_userinfo()["id"] == uid
    first = client.session.token["access_token"]
    refreshed = client.refresh_token()  # explicit: client credentials in the body
    assert refreshed["access_token"] != first
    assert client.get_userinfo()["id"] == uid
    # automatic: an expired token is refreshed by requests-oauthlib before the call
    client.session.token = dict(client.session.token, expires_at=time.time() - 5)
    assert client.get_userinfo()["id"] == uid
    assert saved and saved[-1]["access_token"] != refreshed["access_token"]
    # token check and revocation under /v1/auth
    token = client.session.token["access_token"]
    check = requests.get(f"{server.url}/v1/auth/{token}", timeout=10).json()
    assert set(check["scopes"]) == {"read_activity", "write_activity"}
    assert 0 < check["expires_in"] <= 12 * 7 * 86400
    assert requests.delete(f"{server.url}/v1/auth/{token}", timeout=10).status_code in (200, 204)
    with pytest.raises(requests.HTTPError) as err:
        client.get_userinfo()
    assert err.value.response.status_code == 401
    assert err.value.response.json()["message"]


def test_every_method_round_trips(signed_in) -> None:
    client, _, uid, username = signed_in
    run = run_json("2024-05-01T07:00:00+02:00", n=1201, pause_at=600, external_id="client-1")
    run["laps"] = [{"lapType": "warmup", "endDuration": 300}, {"lapType": "work", "endDuration": 1199}]
    created = client.create_activity(run)  # dict -> json.dumps, no Content-Type
    aid = created.json()["activityId"]
    client.create_activity(GPX)  # a GPX string, sniffed
    for k in range(3):  # three manual runs in May 2024 for paging
        client.create_activity(
            {"startDateTimeLocal": f"2024-05-1{k}T18:00:00+02:00", "distance": 5 + k, "duration": 1500 + 60 * k}
        )

    got = client.get_activity(aid)
    assert got["recordingKeys"] == run["recordingKeys"]
    assert got["recordingValues"] == run["recordingValues"]  # sample for sample, no resampling
    assert got["pauseIndexes"] == [600] and got["laps"] == run["laps"]
    assert got["distance"] == run["distance"] and got["duration"] == run["duration"]
    assert got["startDateTimeLocal"] == run["startDateTimeLocal"] and got["externalId"] == "client-1"

    summaries = list(client.get_activities(count=2))  # pages 0, 1, 2 until an empty page
    assert len(summaries) == 5
    assert summaries[0]["startDateTimeLocal"] > summaries[-1]["startDateTimeLocal"]
    ids = list(client.get_activities(count=2, style="ids"))
    assert ids == [s["activityId"] for s in summaries]
    briefs = list(client.get_activities(count=100, style="briefs"))
    assert [set(b) for b in briefs] == [{"activityId", "startDateTimeLocal", "distance", "duration"}] * 5
    extended = list(client.get_activities(count=None, style="extended"))
    assert len(extended) == 5 and "speedVariability" in extended[0]
    assert list(client.get_activities(count=3, limit=2)) == summaries[:2]
    assert list(client.get_activities(since=int(time.time()) + 3600)) == []

    assert isinstance(client.get_notables(aid), list)
    assert [s["distance"] for s in client.get_splits(aid, unit="km")] == [1, 2, 3]  # 1200 x 2.5 m = 3 km
    assert len(client.get_splits(aid, unit="mi")) == 2  # 1 mile and 0.86 mile
    gpx_id = next(s["activityId"] for s in summaries if s["hasDetailsGPS"])
    assert client.get_polyline(gpx_id)["polyline"]
    assert client.get_polyline(gpx_id, style="geojson")["geometry"]["type"] == "LineString"
    assert client.get_polyline(gpx_id, style="svg")["polyline"].startswith("M")

    # stats count runs; the GPX has no <type>, so it is stored as a generic activity, not a run
    assert client.get_stats()["runCount"] == 4
    assert client.get_stats(2024)["runCount"] == 4
    # get_stats(2024, 5) requests /stats/2024/2024; all 2024 runs are in May: unambiguous
    assert client.get_stats(2024, 5) == client._json(f"{client.base_url}/my/stats/2024/5")
    assert client.get_stats(2024, 5)["runCount"] == 4
    assert client.get_badges() == []

    client.create_weight(72.5)
    assert client.get_current_weight()["weightInKilograms"] == 72.5
    assert [w["weightInKilograms"] for w in client.get_weight_history()] == [72.5]

    changed = dict(run, activityId=aid, notes="rewritten by the app")
    client.update_activity(aid, changed)  # PUT /my/activities with the id in the body
    assert client.get_activity(aid)["notes"] == "rewritten by the app"
    client.delete_activity(aid)
    with pytest.raises(requests.HTTPError) as err:
        client.get_activity(aid)
    assert err.value.response.status_code == 404
    assert aid not in list(client.get_activities(count=10, style="ids"))
    assert client.get_userinfo()["userName"] == username


def test_errors_surface_as_http_errors_with_json(signed_in) -> None:
    client, *_ = signed_in
    with pytest.raises(requests.HTTPError) as err:
        client.create_activity("<kml>not a run</kml>")
    body = err.value.response.json()
    assert err.value.response.status_code == 400 and body["error"] and body["message"]
    with pytest.raises(requests.HTTPError) as err:
        client.update_activity(1, json.dumps({"startDateTimeLocal": "2024-01-01T00:00:00Z"}))
    assert err.value.response.status_code == 400
