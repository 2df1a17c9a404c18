"""Body weight, userinfo, goals: shapes, defaults, scopes, errors."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from tests.smashrun.conftest import manual_run, run_json


def test_weight_history_latest_and_default_date(api) -> None:
    assert api.get("/v1/my/body/weight").json() == []
    assert api.get("/v1/my/body/weight/latest").json() is None
    r = api.post_json("/v1/my/body/weight", {"weightInKilograms": 90, "date": "2015-04-01"})
    assert r.status_code == 201 and r.json() == {"date": "2015-04-01", "weightInKilograms": 90}
    r = api.post_json("/v1/my/body/weight", {"weightInKilograms": 71.5})  # no date: today (user zone UTC)
    today = datetime.now(UTC).date().isoformat()
    assert r.json() == {"date": today, "weightInKilograms": 71.5}
    api.post_json("/v1/my/body/weight", {"weightInKilograms": 80.25, "date": "2016-01-01"})
    assert api.get("/v1/my/body/weight").json() == [
        {"date": "2015-04-01", "weightInKilograms": 90},
        {"date": "2016-01-01", "weightInKilograms": 80.25},
        {"date": today, "weightInKilograms": 71.5},
    ]
    assert api.get("/v1/my/body/weight/latest").json() == {"date": today, "weightInKilograms": 71.5}


def test_weight_errors_store_nothing(api) -> None:
    for body in (
        {},
        {"weightInKilograms": "heavy"},
        {"weightInKilograms": 5},
        {"weightInKilograms": 70, "date": "yesterday"},
        {"weightInKilograms": 70, "unit": "kg"},
        [70],
    ):
        r = api.post_json("/v1/my/body/weight", body)
        assert r.status_code == 400, body
        assert r.json()["message"]
    r = api.http.post("/v1/my/body/weight", content=b"{oops")
    assert r.status_code == 400
    assert api.get("/v1/my/body/weight").json() == []


def test_body_scopes(new_api) -> None:
    reader = new_api("body:read")
    assert reader.post_json("/v1/my/body/weight", {"weightInKilograms": 70}).status_code == 403
    writer = new_api("body:write")
    assert writer.post_json("/v1/my/body/weight", {"weightInKilograms": 70}).status_code == 201
    assert writer.get("/v1/my/body/weight").status_code == 403
    smashrun = new_api("read_activity write_activity")  # Smashrun's two scopes cover body and profile
    assert smashrun.get("/v1/my/body/weight").status_code == 200
    assert smashrun.get("/v1/my/userinfo").status_code == 200


def test_userinfo_fields_and_change_timestamps(api) -> None:
    info = api.get("/v1/my/userinfo").json()
    assert list(info) == [
        "id",
        "firstName",
        "lastName",
        "userName",
        "dateTimeUTCOfLastRun",
        "dateTimeUTCOfLastRunDataUpdated",
        "unitDistance",
        "unitWeight",
        "unitElevation",
        "unitTemperature",
        "languageCode",
        "hemisphere",
        "restingHeartRate",
        "maxHeartRate",
        "followerCount",
        "followingCount",
        "timeZoneOffsetMinutes",
        "timeZoneOffsetMinutesDST",
        "registrationDateUTC",
        "proBadgeDateUTC",
    ]
    assert info["id"] == api.user_id and isinstance(info["id"], int)
    assert info["userName"] == api.username
    assert info["dateTimeUTCOfLastRun"] is None and info["dateTimeUTCOfLastRunDataUpdated"] is None
    assert (info["unitDistance"], info["unitWeight"], info["unitElevation"], info["unitTemperature"]) == (
        "k",
        "k",
        "m",
        "c",
    )
    assert info["restingHeartRate"] is None and info["maxHeartRate"] is None  # not configured: null, not 0
    assert info["timeZoneOffsetMinutes"] == 0 and info["timeZoneOffsetMinutesDST"] == 0
    assert info["registrationDateUTC"][:4] == str(datetime.now(UTC).year) or info["registrationDateUTC"]

    aid = api.upload(manual_run("2024-05-01T07:00:00+02:00"))
    after_post = api.get("/v1/my/userinfo").json()
    assert after_post["dateTimeUTCOfLastRun"] == "2024-05-01T05:00:00.000"
    assert after_post["dateTimeUTCOfLastRunDataUpdated"] is not None
    time.sleep(0.01)
    api.patch_json(f"/v1/my/activities/{aid}", {"notes": "changed"})
    after_patch = api.get("/v1/my/userinfo").json()
    assert after_patch["dateTimeUTCOfLastRunDataUpdated"] > after_post["dateTimeUTCOfLastRunDataUpdated"]
    time.sleep(0.01)
    api.delete(f"/v1/my/activities/{aid}")
    after_delete = api.get("/v1/my/userinfo").json()
    assert after_delete["dateTimeUTCOfLastRunDataUpdated"] > after_patch["dateTimeUTCOfLastRunDataUpdated"]
    assert after_delete["dateTimeUTCOfLastRun"] is None


def test_userinfo_time_zone_with_and_without_dst(server, api) -> None:
    from runhub.store import users

    with server.db.begin() as conn:
        users.update_settings(conn, api.user_id, {"timezone": "Europe/Amsterdam", "max_heart_rate": 190})
    info = api.get("/v1/my/userinfo").json()
    assert info["timeZoneOffsetMinutes"] == 60  # CET, daylight saving excluded
    assert info["timeZoneOffsetMinutesDST"] in (60, 120)  # 120 in summer
    assert info["maxHeartRate"] == 190


def test_goals_null_set_progress_and_errors(api) -> None:
    assert api.get("/v1/my/goals/2024").json() is None
    assert api.get("/v1/my/goals/2024/5").json() is None
    api.upload(manual_run("2024-05-01T07:00:00+02:00", km=10.5, seconds=3000))
    api.upload(manual_run("2024-05-31T23:30:00-05:00", km=5.25, seconds=1500))  # 1 June in UTC, May locally
    api.upload(manual_run("2024-06-02T07:00:00+02:00", km=7, seconds=2000))
    api.upload(manual_run("2023-12-31T07:00:00+02:00", km=100, seconds=20000))
    r = api.put_json("/v1/my/goals/2024", {"goalText": "Improve my running economy", "goalKilometers": 1000})
    assert r.status_code == 200, r.text
    assert api.get("/v1/my/goals/2024").json() == {
        "goalText": "Improve my running economy",
        "goalKilometers": 1000,
        "kilometers": 22.75,
    }
    api.put_json("/v1/my/goals/2024/5", {"goalKilometers": 120.5})
    assert api.get("/v1/my/goals/2024/5").json() == {"goalText": None, "goalKilometers": 120.5, "kilometers": 15.75}
    assert api.get("/v1/my/goals/2024/6").json() is None
    api.put_json("/v1/my/goals/2024/5", {"goalText": None, "goalKilometers": None})  # clearing
    assert api.get("/v1/my/goals/2024/5").json() is None
    assert api.get("/v1/my/goals/2024/13").status_code == 400
    assert api.put_json("/v1/my/goals/2024", {"goalKilometers": "lots"}).status_code == 400
    assert api.put_json("/v1/my/goals/2024", {"target": 3}).status_code == 400


def test_goal_of_a_run_with_recordings(api) -> None:
    api.upload(run_json("2025-03-03T08:00:00+00:00"))  # 150 m
    api.put_json("/v1/my/goals/2025/3", {"goalKilometers": 1})
    assert api.get("/v1/my/goals/2025/3").json()["kilometers"] == 0.15
