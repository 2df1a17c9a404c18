"""Activities: POST (JSON, GPX, TCX sniffed; FIT multipart), dedupe, GET detail and summaries,
PUT (both paths), PATCH, DELETE; errors and scopes. Expected values come from the uploaded JSON."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx
import pytest
from tests.conftest import CORPUS
from tests.smashrun.conftest import manual_run, run_json

from runhub import formats

SUMMARY_ORDER = [
    "activityId",
    "activityType",
    "duration",
    "distance",
    "calories",
    "notes",
    "startDateTimeLocal",
]


def test_post_json_without_content_type_then_get_it_back(api) -> None:
    run = run_json(pause_at=20, external_id="w-1")
    r = api.http.post("/v1/my/activities", content=json.dumps(run))  # no Content-Type, as smashrun-client
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "created" and isinstance(body["activityId"], int) and body["duplicateOf"] is None

    d = api.get(f"/v1/my/activities/{body['activityId']}").json()
    assert list(d)[: len(SUMMARY_ORDER)] == SUMMARY_ORDER
    assert d["activityId"] == body["activityId"]
    assert d["startDateTimeLocal"] == "2024-05-01T07:00:00+02:00"
    assert d["distance"] == 0.15  # 60 steps x 2.5 m
    assert d["duration"] == 59  # 60 intervals; the one ending at index 20 is the pause
    assert d["notes"] == "easy run" and d["externalId"] == "w-1"
    assert d["hasDetails"] == 1 and d["hasDetailsGPS"] == 0
    assert "startLatitude" not in d  # no GPS: omitted, not 0
    assert d["recordingKeys"] == run["recordingKeys"]
    assert d["recordingValues"] == run["recordingValues"]
    assert d["pauseIndexes"] == [20]
    assert d["heartRateMax"] == 159 and d["heartRateMin"] == 120
    for key in ("laps", "songs", "heartRateRecovery"):
        assert d[key] == []
    for key in ("speedVariability", "sunriseLocal", "elevationGain", "moonPhase", "powerMax"):
        assert key in d


def test_repeated_post_is_a_duplicate_and_stores_one(api) -> None:
    run = run_json()
    first = api.post_json("/v1/my/activities", run)
    again = api.post_json("/v1/my/activities", run)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["status"] == "duplicate"
    assert again.json()["activityId"] == first.json()["activityId"]
    assert len(api.get("/v1/my/activities").json()) == 1


def test_same_external_id_from_same_app_updates(new_api) -> None:
    api = new_api(app="watchapp")
    a = api.post_json("/v1/my/activities", run_json(external_id="e1", notes="first")).json()
    b = api.post_json("/v1/my/activities", run_json(external_id="e1", notes="second")).json()
    assert b["status"] == "updated" and b["activityId"] == a["activityId"]
    listed = api.get("/v1/my/activities").json()
    assert [x["notes"] for x in listed] == ["second"]
    assert listed[0]["source"] == "watchapp"


def test_matching_run_from_another_app_dupes(server, new_api) -> None:
    from tests.smashrun.conftest import app_token

    api = new_api(app="appA")
    first = api.post_json("/v1/my/activities", run_json(notes="from A")).json()
    other = api.with_token(app_token(server, api.user_id, "read_activity write_activity", "appB"))
    second = other.post_json("/v1/my/activities", run_json(notes="from B"))
    assert second.status_code == 201
    assert second.json()["status"] == "created"
    assert second.json()["duplicateOf"] == first["activityId"]
    assert len(api.get("/v1/my/activities").json()) == 2


def test_concurrent_posts_of_the_same_run_store_exactly_one(api) -> None:
    body = json.dumps(run_json(n=301))
    results: list[httpx.Response] = []

    def post() -> None:
        with httpx.Client(base_url=api.http.base_url, headers=api.http.headers, timeout=60) as c:
            results.append(c.post("/v1/my/activities", content=body))

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.status_code in (200, 201) for r in results), [r.text for r in results]
    assert sorted(r.json()["status"] for r in results).count("created") == 1
    assert len({r.json()["activityId"] for r in results}) == 1
    assert len(api.get("/v1/my/activities").json()) == 1


def test_list_is_newest_first_with_summary_shape(api) -> None:
    api.upload(manual_run("2024-01-01T08:00:00-05:00", 5.0, 1500))
    api.upload(manual_run("2024-03-01T08:00:00+01:00", 10.5, 3000, notes="long"))
    api.upload(manual_run("2023-12-31T23:00:00+00:00", 3.0, 900))
    rows = api.get("/v1/my/activities").json()
    assert [r["distance"] for r in rows] == [10.5, 5.0, 3.0]
    top = rows[0]
    assert top["duration"] == 3000 and top["notes"] == "long" and top["calories"] is None
    assert top["hasDetails"] == 0 and top["source"] == "manual"
    assert top["howFelt"] == "none" and top["terrain"] == "none"
    assert top["startDateTimeLocal"] == "2024-03-01T08:00:00+01:00"
    assert "recordingKeys" not in top and "heartRateAverage" not in top
    for key in ("dateCreatedUTC", "dateUpdatedUTC"):
        assert top[key][:2] == "20" and "+" not in top[key] and not top[key].endswith("Z")


def test_put_by_path_and_by_body_id_replace_the_run(api) -> None:
    aid = api.upload(run_json(notes="v1"))
    r = api.put_json(f"/v1/my/activities/{aid}", run_json(notes="v2", n=41))
    assert r.status_code == 200, r.text
    assert r.json() == {"activityId": aid, "status": "updated", "duplicateOf": None, "format": "json"}
    d = api.get(f"/v1/my/activities/{aid}").json()
    assert d["notes"] == "v2" and d["distance"] == 0.1 and len(d["recordingValues"][0]) == 41
    # smashrun-client's update_activity: PUT /my/activities with activityId in the body
    r = api.put_json("/v1/my/activities", run_json(notes="v3") | {"activityId": aid})
    assert r.status_code == 200, r.text
    assert api.get(f"/v1/my/activities/{aid}").json()["notes"] == "v3"
    assert len(api.get("/v1/my/activities").json()) == 1


def test_put_errors(api, new_api) -> None:
    aid = api.upload(run_json())
    assert api.put_json("/v1/my/activities", run_json()).status_code == 400  # no id anywhere
    r = api.put_json(f"/v1/my/activities/{aid}", run_json() | {"activityId": aid + 1})
    assert r.status_code == 400 and r.json()["field"] == "activityId"
    assert api.put_json(f"/v1/my/activities/{aid + 10**6}", run_json()).status_code == 404
    stranger = new_api()
    assert stranger.put_json(f"/v1/my/activities/{aid}", run_json()).status_code == 404
    assert api.put_json(f"/v1/my/activities/{aid}", run_json() | {"distance": "far"}).status_code == 400


def test_patch_only_the_four_fields(api) -> None:
    aid = api.upload(run_json())
    r = api.patch_json(
        f"/v1/my/activities/{aid}",
        {"notes": "felt great", "distance": 0.2, "duration": 75, "startDateTimeLocal": "2024-05-02T06:30:00-04:00"},
    )
    assert r.status_code == 200, r.text
    d = api.get(f"/v1/my/activities/{aid}").json()
    assert d["notes"] == "felt great" and d["distance"] == 0.2 and d["duration"] == 75
    assert d["startDateTimeLocal"] == "2024-05-02T06:30:00-04:00"
    assert d["recordingValues"] == run_json()["recordingValues"]  # samples untouched
    r = api.patch_json(f"/v1/my/activities/{aid}", {"heartRateAverage": 150})
    assert r.status_code == 400 and r.json()["field"] == "heartRateAverage"
    assert "PATCH changes only" in r.json()["message"]
    assert api.patch_json(f"/v1/my/activities/{aid}", {"distance": "x"}).status_code == 400
    assert api.patch_json(f"/v1/my/activities/{aid}", {"notes": "x" * 801}).status_code == 400
    assert api.patch_json(f"/v1/my/activities/{aid}", {"duration": None}).status_code == 400
    assert api.get(f"/v1/my/activities/{aid}").json()["notes"] == "felt great"  # nothing half-applied


def test_delete_flags_and_hides_but_dedupe_remembers(api) -> None:
    run = run_json()
    aid = api.upload(run)
    assert api.delete(f"/v1/my/activities/{aid}").status_code == 204
    assert api.get(f"/v1/my/activities/{aid}").status_code == 404
    assert api.get("/v1/my/activities").json() == []
    for style in ("", "/ids", "/briefs", "/extended"):
        assert api.get(f"/v1/my/activities/search{style}").json() == []
    assert api.get("/v1/my/activities/search/deleted?fromDate=0").json() == [aid]
    again = api.post_json("/v1/my/activities", run).json()
    assert again["status"] == "duplicate" and again["activityId"] == aid
    assert api.delete(f"/v1/my/activities/{aid}").status_code == 404


def test_other_users_ids_and_wrong_ids_are_404(api, new_api) -> None:
    aid = api.upload(run_json())
    other = new_api()
    for path in ("", "/splits/km", "/polyline", "/notables"):
        r = other.get(f"/v1/my/activities/{aid}{path}")
        assert r.status_code == 404, path
        assert r.json()["error"] == "not_found"
    assert other.delete(f"/v1/my/activities/{aid}").status_code == 404
    assert other.patch_json(f"/v1/my/activities/{aid}", {"notes": "mine"}).status_code == 404
    assert api.get("/v1/my/activities/999999999999").status_code == 404
    assert api.get("/v1/my/activities/99999999999999999999999").status_code == 404
    assert api.get("/v1/my/activities/abc").status_code == 404
    assert api.get(f"/v1/{other.username}/activities").status_code == 404
    assert api.get(f"/v1/{api.username}/activities/{aid}").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'{"startDateTimeLocal": "2024-05-01T07:00:00", "distance": 1, "duration": 5}',
        b'{"startDateTimeLocal": "2024-05-01T07:00:00Z", "distance": "1", "duration": 5}',
        b'{"startDateTimeLocal": "2024-05-01T07:00:00Z", "distance": 1, "duration": 5, "activityType": "skydiving"}',
        b'{"startDateTimeLocal": "2024-05-01T07:00:00Z", "recordingKeys": ["clock"], "recordingValues": [[0,1]]}',
        b"just some text",
        b"",
        # beyond a double: JSON allows the text, no number is that large (was a 400 naming no field)
        b'{"startDateTimeLocal": "2024-05-01T07:00:00Z", "distance": 1e400, "duration": 5}',
        b'{"startDateTimeLocal": "2024-05-01T07:00:00Z", "distance": 1, "duration": 5, "activityId": 1e400}',
        # absurd values, each refused naming its field (before: stored, or a 500 where PostgreSQL refused it)
        b'{"startDateTimeLocal": "2024-05-01T07:00:00Z", "distance": 1, "duration": 5, "externalId": "'
        + b"x" * 300 + b'"}',
        b'{"startDateTimeLocal": "2024-05-01T07:00:00Z", "distance": 1, "duration": 5, "calories": 1e300}',
        b'{"startDateTimeLocal": "2024-05-01T07:00:00Z", "distance": 1, "duration": 5, '
        b'"laps": [{"lapType": "work", "endDistance": 1e300}]}',
        b'{"startDateTimeLocal": "2024-05-01T07:00:00Z", "distance": 1, "duration": 5, '
        b'"songs": [{"song": "s", "BPM": 1e300, "startClock": 0, "endClock": 60}]}',
        b'{"startDateTimeLocal": "2024-05-01T07:00:00Z", "distance": 1, "duration": 5, "externalId": "a\\u0000b"}',
        # a lone surrogate: no character (stored, it made every export of the run fail to encode)
        b'{"startDateTimeLocal": "2024-05-01T07:00:00Z", "distance": 1, "duration": 5, "notes": "a\\ud800b"}',
    ],
)
def test_bad_input_is_a_clear_400_and_stores_nothing(api, body: bytes) -> None:
    r = api.http.post("/v1/my/activities", content=body)
    assert r.status_code == 400, r.text
    assert r.json()["error"] in ("invalid_activity", "invalid_request") and r.json()["message"]
    if b"1e400" in body:
        assert "expected a finite number" in r.json()["message"], r.json()
    for field in (b"externalId", b"calories", b"laps", b"BPM", b"notes"):
        if b'"' + field + b'"' in body:
            said = r.json()
            assert field.decode() in f"{said.get('location')} {said.get('field')} {said['message']}", said
    assert api.get("/v1/my/activities").json() == []


def test_oversized_upload_is_413_and_stores_nothing(small_server, api) -> None:
    big = run_json(n=2000)
    with httpx.Client(base_url=small_server.url, headers=api.http.headers) as c:
        r = c.post("/v1/my/activities", content=json.dumps(big))
        assert r.status_code == 413 and r.json()["error"] == "too_large"
        r = c.post("/v1/my/activities", files={"file": ("run.json", json.dumps(big).encode())})
        assert r.status_code == 413
    assert api.get("/v1/my/activities").json() == []


@pytest.fixture(scope="module")
def small_server(server, db):
    """A second real server on the same database with a 10 kB upload limit."""
    import time

    import uvicorn
    from tests.conftest import RunningServer, free_port

    from runhub.api.app import create_app

    settings = server.settings.model_copy(update={"max_upload_bytes": 10_000})
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(settings, db), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.02)
    yield RunningServer(f"http://127.0.0.1:{port}", db, settings)
    srv.should_exit = True
    thread.join(timeout=10)


def test_scopes(new_api) -> None:
    reader = new_api("read_activity")
    writer = new_api("write_activity")
    aid = writer.upload(run_json())
    r = reader.post_json("/v1/my/activities", run_json())
    assert r.status_code == 403 and r.json()["error"] == "insufficient_scope"
    assert reader.get("/v1/my/activities").status_code == 200
    assert writer.get("/v1/my/activities").status_code == 403
    assert writer.patch_json(f"/v1/my/activities/{aid}", {"notes": "ok"}).status_code == 200
    assert writer.delete(f"/v1/my/activities/{aid}").status_code == 204
    body_only = new_api("body:read")
    assert body_only.get("/v1/my/body/weight").status_code == 200
    assert body_only.get("/v1/my/activities").status_code == 403
    assert body_only.get("/v1/my/userinfo").status_code == 403
    anon = httpx.get(str(reader.http.base_url.join("/v1/my/activities")))
    assert anon.status_code == 401 and anon.json()["message"]


def _gpx() -> bytes:
    pts = "".join(
        f'<trkpt lat="{52.0 + i * 0.0001:.4f}" lon="4.5"><ele>{10 + i}</ele>'
        f"<time>2024-06-01T06:00:{i * 5:02d}Z</time></trkpt>"
        for i in range(10)
    )
    return (
        '<?xml version="1.0"?><gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">'
        f"<trk><type>running</type><trkseg>{pts}</trkseg></trk></gpx>"
    ).encode()


@pytest.mark.skipif("gpx" not in formats.DECODERS, reason="waiting for formats.gpx")
def test_post_gpx_without_content_type(api) -> None:
    r = api.http.post("/v1/my/activities", content=_gpx())
    assert r.status_code == 201, r.text
    assert r.json()["format"] == "gpx"
    d = api.get(f"/v1/my/activities/{r.json()['activityId']}").json()
    assert d["hasDetailsGPS"] == 1 and d["startLatitude"] == 52.0 and d["startLongitude"] == 4.5
    assert d["recordingValues"][d["recordingKeys"].index("latitude")][:2] == [52.0, 52.0001]


@pytest.mark.skipif("tcx" not in formats.DECODERS, reason="waiting for formats.tcx")
def test_post_tcx_file_from_corpus(api) -> None:
    path = CORPUS / "tcx" / "elevate_20181021_run_3106033902.tcx"
    if not path.is_file():
        pytest.skip(f"activity corpus not found at {CORPUS} (set RUNHUB_CORPUS)")
    r = api.http.post("/v1/my/activities", content=path.read_bytes())
    assert r.status_code == 201, r.text
    assert r.json()["format"] == "tcx"


def _fit_run() -> Path | None:
    for name in ("fitparse_activity-small-fenix2-run.fit", "fitparse_Activity.fit"):
        p = CORPUS / "fit" / name
        if p.exists():
            return p
    return None


@pytest.mark.skipif("fit" not in formats.DECODERS or _fit_run() is None, reason="needs formats.fit and the corpus")
def test_post_fit_as_multipart(api) -> None:
    data = _fit_run().read_bytes()
    r = api.http.post("/v1/my/activities", files={"file": ("run.fit", data, "application/octet-stream")})
    assert r.status_code in (200, 201), r.text
    result = r.json()
    first = result[0] if isinstance(result, list) else result
    assert first["format"] == "fit"
    d = api.get(f"/v1/my/activities/{first['activityId']}").json()
    assert d["hasDetails"] == 1 and len(d["recordingValues"][0]) > 10
    # the same file again: a duplicate, nothing new stored
    again = api.http.post("/v1/my/activities", files={"file": ("run.fit", data)}).json()
    again = again[0] if isinstance(again, list) else again
    assert again["status"] == "duplicate"


def test_a_parquet_export_posted_back_is_a_400_naming_it(api) -> None:
    """runhub's Parquet export is for analysis, not read back: posted, a 400 that says what it is and
    what to post instead; nothing stored."""
    from datetime import UTC, datetime

    from runhub import demo

    data = formats.encode(demo.make_run(4, datetime(2024, 5, 2, 7, tzinfo=UTC), minutes=5.0), "parquet")
    for r in (api.http.post("/v1/my/activities", content=data),
              api.http.post("/v1/my/activities", files={"file": ("run.parquet", data)})):
        assert r.status_code == 400, r.text
        assert "a Parquet table" in r.json()["message"] and "FIT, TCX, GPX, CSV or JSON" in r.json()["message"]
    assert api.get("/v1/my/activities").json() == []


def test_post_apple_health_export_zip_gives_its_workouts(api, tmp_path) -> None:
    """The Health app's export.zip posted as a body: one result per workout, created, and the route
    file of workout-routes/ skipped with the reason (it is read with its workout); the run's heart
    rate and positions come back in its recording."""
    from tests.core.test_import_apple_health import RUN, TREADMILL, export_folder, zipped

    data = zipped(export_folder(tmp_path / "x", [RUN, TREADMILL]), tmp_path / "export.zip").read_bytes()
    r = api.http.post("/v1/my/activities", content=data)
    assert r.status_code == 201, r.text
    run, treadmill, route = r.json()
    assert (run["status"], treadmill["status"], run["format"]) == ("created", "created", "xml")
    assert route["status"] == "skipped" and "imported with its workout" in route["error"]
    d = api.get(f"/v1/my/activities/{run['activityId']}").json()
    assert d["activityType"] == "running" and d["heartRateMax"] == 140 and d["hasDetailsGPS"] == 1
    assert d["startDateTimeLocal"] == "2024-04-04T06:30:00+02:00"


@pytest.mark.parametrize("name,status", [(b"a\x00b.fit", 201), (b"caf\xe9\xff.fit", 201), (b"x" * 5000 + b".fit", 400)])
def test_a_multipart_file_name_no_column_can_hold_is_no_server_error(api, name: bytes, status: int) -> None:
    """The file name is the client's to write: a NUL byte (PostgreSQL's text holds none: it was a
    server error there), bytes that are not UTF-8 (read as Latin-1): the run is stored, the name
    only its label; a part header of 5,000 characters makes the multipart body unreadable: a
    clear 400, nothing stored."""
    from datetime import UTC, datetime

    from runhub import demo

    run = demo.make_run(len(name) % 1000, datetime(2024, 3, 1, 6, 0, tzinfo=UTC), minutes=2.0)
    body = formats.encode(run, "fit")
    boundary = "runhubboundary"
    payload = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"".encode() + name
               + b"\"\r\nContent-Type: application/octet-stream\r\n\r\n" + body + f"\r\n--{boundary}--\r\n".encode())
    r = api.http.post("/v1/my/activities", content=payload,
                      headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert r.status_code == status, r.text
    stored = api.get("/v1/my/activities").json()
    assert len(stored) == (1 if status == 201 else 0)
    if status == 400:
        assert "multipart" in r.json()["message"]


@pytest.mark.parametrize(("rr", "location", "said"), [
    ([0.8, -0.2], "runhub.rrIntervals[1]", "not an interval between heartbeats"),
    ([0.8, 70], "runhub.rrIntervals[1]", "not an interval between heartbeats"),
    ([0.8, "0.9"], "runhub.rrIntervals[1]", "expected a number"),
    (0.8, "runhub.rrIntervals", "expected an array"),
])
def test_rr_intervals_that_are_none_are_a_400_naming_the_beat(api, db, rr, location, said) -> None:
    """runhub's own field (Smashrun has none; runhub's JSON export writes it): heartbeats in seconds.
    A good list is kept beside the samples; a bad one is refused where it is bad, storing nothing."""
    from runhub.store import activities as repo

    r = api.post_json("/v1/my/activities", run_json() | {"runhub": {"rrIntervals": rr}})
    assert r.status_code == 400, r.text
    assert r.json()["location"] == location and said in r.json()["message"], r.json()
    no_samples = {"startDateTimeLocal": "2024-05-01T07:00:00Z", "distance": 1, "duration": 300,
                  "runhub": {"rrIntervals": [0.8]}}
    r = api.post_json("/v1/my/activities", no_samples)
    assert r.status_code == 400 and r.json()["location"] == "runhub.rrIntervals" and "no samples" in r.json()["message"]
    assert api.get("/v1/my/activities").json() == []
    aid = api.upload(run_json() | {"runhub": {"rrIntervals": [0.8, 0.75, 1 / 3]}})
    with db.connect() as conn:
        assert repo.load_activity(conn, aid).rr_intervals.tolist() == [0.8, 0.75, 1 / 3]


@pytest.mark.parametrize(("own", "location", "said"), [
    ({"poolLengths": {"start": [0, 30], "active": [1, 2]}}, "runhub.poolLengths.active[1]", "2.0 is outside 0.0..1.0"),
    ({"poolLengths": {"start": [0, "30"]}}, "runhub.poolLengths.start[1]", "expected a number"),
    ({"poolLengths": [0, 30]}, "runhub.poolLengths", "expected an object of arrays"),
    ({"poolLengths": {"start": [0, 30], "strokes": [12]}}, "runhub.poolLengths.strokes", "one number per length"),
    ({"title": 5}, "runhub.title", "expected a string"),
    ({"sport": "quidditch"}, "runhub.sport", "no sport runhub knows"),
    ({"commute": "yes"}, "runhub.commute", "expected true or false"),
    ({"appMetadata": {"strava": 5}}, "runhub.appMetadata", "an object of objects"),
    ({"appMetadata": {"strava": {"gear": 1e400}}}, "runhub.appMetadata", "beyond a double"),
    ({"appMetadata": {"strava": {"gear": "\ud800"}}}, "runhub.appMetadata", "lone surrogate"),
    ({"heartRate": [1]}, "runhub.heartRate", "unknown field(s) heartRate"),
    ([], "runhub", "expected an object"),
])
def test_runhubs_own_fields_that_cannot_be_are_a_400_naming_them(api, own, location, said) -> None:
    """runhub's own object: what Smashrun's activity has no field for (a title, pool lengths ...)."""
    r = api.post_json("/v1/my/activities", run_json() | {"runhub": own})
    assert r.status_code == 400, r.text
    assert r.json()["location"] == location and said in r.json()["message"], r.json()
    assert api.get("/v1/my/activities").json() == []


def test_runhubs_own_fields_are_kept_and_the_api_object_leaves_them_out(api, db) -> None:
    from runhub.activity import NAME_FULL
    from runhub.store import activities as repo

    own = {"title": "x" * 300, "sport": "running.trail", "commute": True, "private": True, "deviceName": "Forerunner",
           "appMetadata": {"strava": {"gear": "Pegasus 40", "id": 12}}}
    aid = api.upload(run_json() | {"runhub": own})
    with db.connect() as conn:
        a = repo.load_activity(conn, aid)
    assert (a.name, a.extras[NAME_FULL]) == ("x" * 255, "x" * 300)  # a title is cut to 255, the whole kept
    assert (a.sport, a.commute, a.private, a.device_name) == ("running.trail", True, True, "Forerunner")
    assert a.app_metadata == {"strava": {"gear": "Pegasus 40", "id": 12}}
    assert "runhub" not in api.get(f"/v1/my/activities/{aid}").json()
