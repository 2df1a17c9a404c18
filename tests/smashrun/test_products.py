"""Per-run products through the Smashrun paths: splits per km and mile, polyline (Google, SVG,
GeoJSON), extended fields, badges. The run is built so every expected number is hand-computable:
2.5 m/s for 2000 s at 1 Hz = 5000 m (distance channel), northwards from 52 N 4.5 E."""

from __future__ import annotations

import polyline as polyline_codec
import pytest

N = 2001  # samples, clock 0..2000 s
LAT = [round(52.0 + i * 0.00002, 5) for i in range(N)]
LON = [4.5 + (i % 2) * 0.00005 for i in range(N)]  # a 3.4 m zigzag: every point is a vertex


def gps_run() -> dict:
    return {
        "startDateTimeLocal": "2024-05-01T07:00:00+02:00",
        "activityType": "running",
        "recordingKeys": ["clock", "distance", "latitude", "longitude", "heartRate", "elevation"],
        "recordingValues": [
            list(range(N)),
            [i * 25 / 10000 for i in range(N)],  # 2.5 m per second, in km
            LAT,
            LON,
            [150] * N,
            [10.0 + (i % 200) / 20 for i in range(N)],
        ],
    }


@pytest.fixture
def gps(api) -> tuple:
    return api, api.upload(gps_run())


def test_km_splits(gps) -> None:
    api, aid = gps
    splits = api.get(f"/v1/my/activities/{aid}/splits/km").json()
    assert [s["distance"] for s in splits] == [1, 2, 3, 4, 5]
    assert [s["seconds"] for s in splits] == [400, 800, 1200, 1600, 2000]
    assert all(s["speed"] == 9 for s in splits)  # 2.5 m/s = 9 km/h
    assert all(s["heartRate"] == 150 for s in splits)


def test_mile_splits(gps) -> None:
    api, aid = gps
    splits = api.get(f"/v1/my/activities/{aid}/splits/mi").json()
    assert len(splits) == 4  # 5000 m = 3.107 mi: three full miles and the rest
    for k in range(3):
        assert splits[k]["distance"] == pytest.approx(k + 1)
        assert splits[k]["seconds"] == pytest.approx((k + 1) * 1609.344 / 2.5, abs=1e-6)
    assert splits[3]["distance"] == pytest.approx(5000 / 1609.344)
    assert splits[3]["seconds"] == pytest.approx(2000)
    assert api.get(f"/v1/my/activities/{aid}/splits/furlong").status_code == 404


def test_polylines(gps) -> None:
    api, aid = gps
    line = api.get(f"/v1/my/activities/{aid}/polyline").json()
    assert polyline_codec.decode(line["polyline"]) == list(zip(LAT, LON, strict=True))
    geo = api.get(f"/v1/my/activities/{aid}/polyline/geojson").json()
    assert geo["type"] == "Feature" and geo["geometry"]["type"] == "LineString"
    assert geo["geometry"]["coordinates"][:2] == [[4.5, 52.0], [4.50005, 52.00002]]
    assert len(geo["geometry"]["coordinates"]) == N
    svg = api.get(f"/v1/my/activities/{aid}/polyline/svg").json()
    assert svg["polyline"].startswith("M") and svg["viewBox"].startswith("0 0 ")


def test_extended_fields_on_detail_and_search(gps) -> None:
    api, aid = gps
    d = api.get(f"/v1/my/activities/{aid}").json()
    ext = api.get("/v1/my/activities/search/extended").json()[0]
    for key in ("speedVariability", "sunriseLocal", "moonPhase", "elevationGain", "elevationMax"):
        assert ext[key] == d[key]
    assert d["speedVariability"] == pytest.approx(0, abs=1e-9)  # constant speed
    assert d["isCooperTest"] == 0
    # 52 N 4.5 E on 1 May: sunrise about 06:10 CEST, sunset about 21:05 CEST
    assert d["sunriseLocal"].startswith("2024-05-01T06:") and d["sunriseLocal"].endswith("+02:00")
    assert d["sunsetLocal"].startswith("2024-05-01T21:")
    assert 0 <= d["moonPhase"] <= 1
    assert d["elevationMax"] == pytest.approx(19.95) and d["elevationMin"] == pytest.approx(10.0)
    assert d["country"] is None and d["city"] is None  # runhub does no reverse geocoding
    assert d["startLatitude"] == 52.0 and d["startLongitude"] == 4.5 and d["hasDetailsGPS"] == 1


def test_treadmill_run_has_no_polyline(api) -> None:
    run = gps_run()
    run["recordingKeys"] = ["clock", "distance"]
    run["recordingValues"] = run["recordingValues"][:2]
    aid = api.upload(run)
    assert api.get(f"/v1/my/activities/{aid}/polyline").json() == {"polyline": None}
    assert api.get(f"/v1/my/activities/{aid}/polyline/geojson").json() is None
    assert len(api.get(f"/v1/my/activities/{aid}/splits/km").json()) == 5


def test_badges_is_an_empty_list(api) -> None:
    assert api.get("/v1/my/badges").json() == []
