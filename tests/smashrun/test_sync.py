"""The sync scenario: a watch app pushes a run the moment it ends, as Smashrun activity JSON with
pauses, laps, heart rate, cadence, songs and heart-rate recovery at irregular sample times, then
reads it back: every sample, pause and lap exactly as sent (no resampling), and it shows up in
the change feed (`fromDate`) a syncing reader polls."""

from __future__ import annotations

import time


def watch_run() -> dict:
    # irregular clock with milliseconds, two pauses (after index 4 and 9), 1-leg cadence, HR
    clock = [0, 1.013, 2.5, 4, 5.25, 65.25, 66, 67.75, 69, 70.5, 190.5, 191.5, 193, 194.125]
    dist = [0, 0.0031, 0.0072, 0.0111, 0.0149, 0.0149, 0.0172, 0.0221, 0.0258, 0.0301, 0.0301, 0.0332, 0.0379, 0.0412]
    hr = [98, 101, 104, None, 110, 112, 115, 119, 121, 124, 120, 122, 125, 127]  # one dropout
    cadence = [0, 78, 80, 81, 82, 80, 83, 84, 85, 85, 80, 86, 87, 88]
    return {
        "startDateTimeLocal": "2025-09-14T06:45:12.250-07:00",
        "activityType": "running",
        "distance": 0.0412,
        "duration": 14.125,  # clock end minus the two pauses (60 s and 120 s intervals)
        "externalId": "watch-2025-09-14-0645",
        "appVersion": "3.1.4",
        "deviceType": "Apple",
        "howFelt": "great",
        "terrain": "trail",
        "notes": "tempo with two stops at lights",
        "recordingKeys": ["clock", "distance", "heartRate", "cadence"],
        "recordingValues": [clock, dist, hr, cadence],
        "pauseIndexes": [5, 10],
        "laps": [
            {"lapType": "warmup", "endDuration": 4},
            {"lapType": "work", "endDuration": 9.5},
            {"lapType": "cooldown", "endDuration": 14.125},
        ],
        "songs": [
            {
                "album": "13 Songs",
                "artist": "Fugazi",
                "song": "Waiting Room",
                "BPM": 155,
                "startClock": 0,
                "endClock": 150,
            }
        ],
        "heartRateRecovery": [{"duration": 0, "heartRate": 127}, {"duration": 30, "heartRate": 104}],
    }


def test_push_then_read_back_sample_for_sample(new_api) -> None:
    app = new_api(app="watch")
    before = int(time.time()) - 1
    run = watch_run()
    r = app.post_json("/v1/my/activities", run)
    assert r.status_code == 201, r.text
    aid = r.json()["activityId"]

    changed = app.get("/v1/my/activities/search/briefs", params={"fromDate": before}).json()
    assert changed == [
        {
            "activityId": aid,
            "startDateTimeLocal": "2025-09-14T06:45:12.250-07:00",
            "distance": 0.0412,
            "duration": 14.125,
        }
    ]
    got = app.get(f"/v1/my/activities/{aid}").json()
    assert got["recordingKeys"] == run["recordingKeys"]
    for key, sent, back in zip(run["recordingKeys"], run["recordingValues"], got["recordingValues"], strict=True):
        assert back == sent, key  # same length, same numbers, the dropout still null
    assert got["pauseIndexes"] == [5, 10]
    assert got["laps"] == run["laps"]
    assert got["songs"] == run["songs"] and got["heartRateRecovery"] == run["heartRateRecovery"]
    assert got["duration"] == 14.125 and got["distance"] == 0.0412
    assert (got["howFelt"], got["terrain"], got["deviceType"], got["appVersion"]) == (
        "great",
        "trail",
        "Apple",
        "3.1.4",
    )
    assert got["heartRateMax"] == 127 and got["heartRateMin"] == 98
    assert got["cadenceMax"] == 88
    assert got["source"] == "watch"

    # the app sends the same run again (retry after a timeout): nothing new
    again = app.post_json("/v1/my/activities", run).json()
    assert again["status"] == "duplicate" and again["activityId"] == aid
    # and an edited version with the same externalId: updated in place
    edited = dict(run, notes="tempo, edited on the phone")
    assert app.post_json("/v1/my/activities", edited).json() == {
        "activityId": aid,
        "status": "updated",
        "duplicateOf": None,
        "format": "json",
    }
    assert app.get("/v1/my/activities/search/ids", params={"fromDate": before}).json() == [aid]
